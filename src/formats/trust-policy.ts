/**
 * A C2SP tlog-policy file (c2sp.org/tlog-policy): which logs and witnesses
 * are known, and the quorum of witnesses a checkpoint needs.
 *
 *   log <vkey> [<url>]
 *   witness <name> <vkey> [<url>]
 *   group <name> all|any|<k> <member>...
 *   quorum <name>|none
 *
 * Items are separated by spaces or tabs; blank lines and "#" comments are
 * ignored; a group or the quorum may only name what earlier lines defined.
 * Pure: parse and evaluate.
 */
import { parseVerifierKey, SignatureType, type VerifierKey } from './note.js';

export interface PolicyWitness {
  name: string;
  key: VerifierKey;
}

export interface PolicyGroup {
  name: string;
  threshold: number;
  members: string[];
}

export interface TrustPolicy {
  logs: VerifierKey[];
  witnesses: PolicyWitness[];
  groups: PolicyGroup[];
  /** A witness or group name, or "none" (no cosignature needed). */
  quorum: string;
}

export type PolicyParse = { ok: true; policy: TrustPolicy } | { ok: false; problem: string };

export const QUORUM_NONE = 'none';
const ALLOWED_OCTETS = /^[\t\n\u0020-\u007e\u0080-\uffff]*$/u;

export function parseTrustPolicy(text: string): PolicyParse {
  if (!ALLOWED_OCTETS.test(text)) return { ok: false, problem: 'contains a control character (only tab and newline are allowed)' };
  const policy: TrustPolicy = { logs: [], witnesses: [], groups: [], quorum: '' };
  const defined = new Set<string>([QUORUM_NONE]);
  const keysSeen = new Set<string>();
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/[ \t]+/);
    const at = `line ${i + 1}`;
    const problem = applyLine(policy, fields, defined, keysSeen);
    if (problem !== null) return { ok: false, problem: `${at}: ${problem}` };
  }
  if (policy.quorum === '') return { ok: false, problem: 'no quorum line (write "quorum none" to require no witnesses)' };
  return { ok: true, policy };
}

function newKey(text: string | undefined, type: number, keysSeen: Set<string>, role: string): VerifierKey | string {
  const key = text === undefined ? null : parseVerifierKey(text);
  if (key === null) return `the ${role} key is not a valid vkey (<name>+<key id hex>+<base64 of type byte and public key>)`;
  if (key.type !== type) return `the ${role} key has signature type 0x0${key.type.toString(16)}, expected 0x0${type.toString(16)}`;
  const material = Buffer.from(key.publicKey).toString('hex');
  if (keysSeen.has(material)) return 'this public key is listed twice';
  keysSeen.add(material);
  return key;
}

function applyLine(policy: TrustPolicy, fields: string[], defined: Set<string>, keysSeen: Set<string>): string | null {
  const [keyword, ...args] = fields;
  switch (keyword) {
    case 'log': {
      if (args.length < 1 || args.length > 2) return 'expected "log <vkey> [<url>]"';
      const key = newKey(args[0], SignatureType.ed25519, keysSeen, 'log');
      if (typeof key === 'string') return key;
      policy.logs.push(key);
      return null;
    }
    case 'witness': {
      if (args.length < 2 || args.length > 3) return 'expected "witness <name> <vkey> [<url>]"';
      const name = args[0]!;
      if (defined.has(name)) return `the name ${JSON.stringify(name)} is already defined`;
      const key = newKey(args[1], SignatureType.cosignatureV1, keysSeen, 'witness');
      if (typeof key === 'string') return key;
      policy.witnesses.push({ name, key });
      defined.add(name);
      return null;
    }
    case 'group': {
      if (args.length < 3) return 'expected "group <name> all|any|<k> <member>..."';
      const [name, rule, ...members] = args as [string, string, ...string[]];
      if (defined.has(name)) return `the name ${JSON.stringify(name)} is already defined`;
      const unknown = members.find((m) => !defined.has(m) || m === QUORUM_NONE);
      if (unknown !== undefined) return `group member ${JSON.stringify(unknown)} is not a witness or group defined above`;
      if (new Set(members).size !== members.length) return 'a group lists the same member twice';
      const threshold = rule === 'all' ? members.length : rule === 'any' ? 1 : /^[1-9][0-9]*$/.test(rule) ? Number(rule) : NaN;
      if (!(threshold >= 1 && threshold <= members.length)) return `the threshold must be all, any or 1..${members.length}, got ${JSON.stringify(rule)}`;
      policy.groups.push({ name, threshold, members });
      defined.add(name);
      return null;
    }
    case 'quorum': {
      if (args.length !== 1) return 'expected "quorum <name>"';
      if (policy.quorum !== '') return 'a policy has exactly one quorum line';
      if (!defined.has(args[0]!)) return `the quorum ${JSON.stringify(args[0])} is not a witness or group defined above`;
      policy.quorum = args[0]!;
      return null;
    }
    default:
      return `unknown keyword ${JSON.stringify(keyword)} (log, witness, group, quorum)`;
  }
}

/** Does the set of witnesses that validly cosigned satisfy the quorum? */
export function quorumMet(policy: TrustPolicy, cosigned: ReadonlySet<string>): boolean {
  if (policy.quorum === QUORUM_NONE) return true;
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  const witnessed = (name: string): boolean => {
    const group = groups.get(name);
    if (group === undefined) return cosigned.has(name);
    return group.members.filter(witnessed).length >= group.threshold;
  };
  return witnessed(policy.quorum);
}

/** A one-line description of what the quorum asks for, for messages. */
export function describeQuorum(policy: TrustPolicy): string {
  if (policy.quorum === QUORUM_NONE) return 'no cosignatures';
  const group = policy.groups.find((g) => g.name === policy.quorum);
  return group === undefined ? `a cosignature by ${policy.quorum}` : `${group.threshold} of ${group.members.join(', ')}`;
}

/** The policy text for one log and k-of-n witnesses, as `ledger policy` writes it. */
export function formatTrustPolicy(logVkey: string, witnesses: readonly { name: string; vkey: string }[], quorum: number): string {
  const lines = ['# blux-reg transparency trust policy (C2SP tlog-policy)', `log ${logVkey}`];
  for (const w of witnesses) lines.push(`witness ${w.name} ${w.vkey}`);
  if (witnesses.length === 0 || quorum === 0) lines.push('quorum none');
  else {
    lines.push(`group witnesses ${quorum} ${witnesses.map((w) => w.name).join(' ')}`);
    lines.push('quorum witnesses');
  }
  return `${lines.join('\n')}\n`;
}

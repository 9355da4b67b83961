// Generated ledgers for the ledger audit tests: canonical lines as blux-reg
// writes them, optionally signed (`sig` over ledgerSignedBytes) by test keys.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

import { canonicalPython } from '../src/formats/canonical/python.js';
import { fromPlain, type JsonObject } from '../src/formats/canonical/json-value.js';
import { ledgerSignedBytes, type PlainJson } from '../src/formats/ledger-entry.js';
import type { AuditSignerKey } from '../src/audit/signature-policy.js';
import { mulberry32 } from './helpers/random.js';

export interface TestSigner {
  fingerprint: string;
  publicKey: Uint8Array;
  privateKey: KeyObject;
  /** SPKI PEM, as `--trusted-keys` reads it. */
  publicKeyPem: string;
}

export function makeSigner(): TestSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // SPKI DER of an Ed25519 key: a 12-byte header, then the raw 32-byte key.
  const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return { fingerprint: createHash('sha256').update(raw).digest('hex'), publicKey: raw, privateKey, publicKeyPem };
}

export function trustOf(signers: readonly TestSigner[]): AuditSignerKey[] {
  return signers.map((s) => ({ fingerprint: s.fingerprint, publicKey: s.publicKey }));
}

const ACTIONS = ['keygen', 'sign', 'verify', 'event', 'revoke', 'token-issue'];

/** The canonical line of `fields` chained on `prev`, signed by `signer` when given; returns the line and its hash. */
export function entryLine(fields: Record<string, PlainJson>, prev: string | null, signer?: TestSigner): { line: string; hash: string } {
  const entry = fromPlain({ ...fields, prev_hash: prev }) as JsonObject;
  if (signer !== undefined) {
    entry.set('actor', signer.fingerprint);
    const sig = sign(null, ledgerSignedBytes(entry), signer.privateKey).toString('base64');
    entry.set('sig', sig);
  }
  const hash = createHash('sha256').update(canonicalPython(entry)).digest('hex');
  entry.set('entry_hash', hash);
  return { line: canonicalPython(entry), hash };
}

export interface GenerateOptions {
  seed?: number;
  signers?: readonly TestSigner[];
  /** Extra fields per entry, e.g. nested objects or non-ASCII text. */
  extra?: (i: number) => Record<string, PlainJson>;
}

/** `count` chained canonical lines (no "\n"), ~300-400 bytes each like the original's. */
export function generateLedgerLines(count: number, opts: GenerateOptions = {}): string[] {
  const random = mulberry32(opts.seed ?? 1);
  const lines: string[] = [];
  let prev: string | null = null;
  const day0 = Date.UTC(2026, 0, 20);
  for (let i = 0; i < count; i++) {
    const hex = (): string => createHash('sha256').update(String(random())).digest('hex');
    const signer = opts.signers?.length ? opts.signers[i % opts.signers.length] : undefined;
    const fields: Record<string, PlainJson> = {
      ts: `${new Date(day0 + i * 3_600_000 * 7).toISOString().slice(0, 19)}+00:00`,
      action: ACTIONS[Math.floor(random() * ACTIONS.length)]!,
      actor: hex(),
      payload_summary: `event ${i}`,
      artifact_hash: random() < 0.5 ? hex() : null,
      manifest_hash: random() < 0.5 ? hex() : null,
      ...(opts.extra?.(i) ?? {}),
    };
    const { line, hash } = entryLine(fields, prev, signer);
    lines.push(line);
    prev = hash;
  }
  return lines;
}

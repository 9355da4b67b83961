/**
 * One line of the hash-chained ledger (`trust/ledger.jsonl`), in the format of
 * the Python blux-reg 0.2: a Python-canonical JSON object
 *
 *   {ts, action, actor, payload_summary, artifact_hash, manifest_hash, prev_hash, entry_hash, ...extra}
 *
 * where `entry_hash` is the SHA-256 (hex) of the canonical JSON of the entry
 * without `entry_hash`, and `prev_hash` is the previous line's `entry_hash`
 * (`null` on the first line). Pure functions only: reading and writing the
 * file is `store/ledger-file.ts`, walking the chain is `audit/verify-chain.ts`.
 */
import { BluxError } from '../errors.js';
import { sha256Hex, type EngineOptions } from '../engine/index.js';
import { encodeBase64 } from './base64.js';
import { fromPlain, parseJson, type JsonObject, type JsonValue } from './canonical/json-value.js';
import { canonicalPython } from './canonical/python.js';
import { prevMismatchDetail } from './ledger-wording.js';

/** Keys the writer sets itself; callers cannot pass them as extras. */
export const LEDGER_CORE_KEYS: readonly string[] = Object.freeze([
  'ts',
  'action',
  'actor',
  'payload_summary',
  'artifact_hash',
  'manifest_hash',
  'prev_hash',
  'entry_hash',
]);

/** A JSON value as plain JavaScript (what callers hand in as extras). */
export type PlainJson = null | boolean | number | string | PlainJson[] | { [key: string]: PlainJson };

/** What the caller of an append decides; the writer adds ts, prev_hash and entry_hash. */
export interface LedgerEntryFields {
  action: string;
  actor: string;
  payload_summary: string | null;
  artifact_hash?: string | null;
  manifest_hash?: string | null;
  /** Extra keys stored (and hashed) beside the core ones, e.g. `token_hash`, `reason`. */
  extra?: Readonly<Record<string, PlainJson>>;
}

/** A complete entry as written to the ledger. */
export interface LedgerEntry {
  ts: string;
  action: string;
  actor: string;
  payload_summary: string | null;
  artifact_hash: string | null;
  manifest_hash: string | null;
  prev_hash: string | null;
  entry_hash: string;
  [extra: string]: PlainJson;
}

/**
 * Python's `datetime.now(timezone.utc).isoformat(timespec="seconds")`, e.g.
 * `2026-01-20T14:00:44+00:00`, so entries we write look like the original's.
 */
export function formatLedgerTimestamp(instant: Date): string {
  return `${instant.toISOString().slice(0, 19)}+00:00`;
}

/**
 * Signed entries (issue 5): `sig` is the base64 Ed25519 signature, by the key
 * whose fingerprint is the entry's `actor`, over these bytes: the canonical
 * JSON (Python scheme, as for `entry_hash`) of the entry without `entry_hash`
 * and without `sig`. `entry_hash` covers `sig`, so a signed ledger stays a
 * plain, valid chain for readers that know nothing of signatures (blux-reg 0.2).
 */
export const LEDGER_SIG_KEY = 'sig';

/** The bytes an entry's `sig` signs. */
export function ledgerSignedBytes(entry: JsonObject): Uint8Array {
  const unsigned: JsonObject = new Map(entry);
  unsigned.delete('entry_hash');
  unsigned.delete(LEDGER_SIG_KEY);
  return new TextEncoder().encode(canonicalPython(unsigned));
}

/** SHA-256 hex of the canonical JSON of `entry` minus its `entry_hash`: what `entry_hash` must be. */
export function computeEntryHash(entry: JsonObject, engine: EngineOptions = {}): string {
  const withoutHash: JsonObject = new Map(entry);
  withoutHash.delete('entry_hash');
  return sha256Hex(canonicalPython(withoutHash), engine);
}

function requireStringOrNull(value: unknown, name: string): string | null {
  if (value === null || typeof value === 'string') return value;
  throw new BluxError('invalid-argument', `ledger field ${name} must be a string or null`);
}

/** An Ed25519 signature is always this long; anything else means the signing callback is broken. */
const ED25519_SIGNATURE_BYTES = 64;

/**
 * Signs an entry's `ledgerSignedBytes` with the private key of the entry's
 * actor and returns the raw 64-byte Ed25519 signature. A callback rather than
 * a key: the entry's `prev_hash` and `ts` are known only inside the ledger
 * lock, and the store never sees key files or passphrases.
 */
export type LedgerSignFunction = (signedBytes: Uint8Array) => Uint8Array;

/**
 * Builds the entry that follows `prevHash` (null for the first entry), with
 * its `entry_hash`. With `sign`, the entry also carries `sig` (see
 * `ledgerSignedBytes`); the caller must have set `actor` to the fingerprint of
 * the signing key, since that is the key a verifier checks `sig` against.
 */
export function buildLedgerEntry(
  fields: LedgerEntryFields,
  prevHash: string | null,
  ts: string,
  sign?: LedgerSignFunction,
): LedgerEntry {
  if (typeof fields.action !== 'string' || fields.action === '') {
    throw new BluxError('invalid-argument', 'ledger field action must be a non-empty string');
  }
  if (typeof fields.actor !== 'string') throw new BluxError('invalid-argument', 'ledger field actor must be a string');
  const extra = fields.extra ?? {};
  for (const key of Object.keys(extra)) {
    if (LEDGER_CORE_KEYS.includes(key)) {
      throw new BluxError('invalid-argument', `ledger extra field ${JSON.stringify(key)} would overwrite a core field`);
    }
    if (key === LEDGER_SIG_KEY) {
      // A sig handed in as data would claim a signature the writer never made.
      throw new BluxError('invalid-argument', `ledger extra field "${LEDGER_SIG_KEY}" is reserved: the writer sets it when it signs the entry`);
    }
  }
  // Extras first, core keys last: the spread can never shadow a core field.
  const unsigned = {
    ...extra,
    ts,
    action: fields.action,
    actor: fields.actor,
    payload_summary: requireStringOrNull(fields.payload_summary, 'payload_summary'),
    artifact_hash: requireStringOrNull(fields.artifact_hash ?? null, 'artifact_hash'),
    manifest_hash: requireStringOrNull(fields.manifest_hash ?? null, 'manifest_hash'),
    prev_hash: prevHash,
  };
  // sig is made before entry_hash and is covered by it (readers without signature support still see a plain chain).
  const unhashed = sign === undefined ? unsigned : { ...unsigned, [LEDGER_SIG_KEY]: signatureOf(unsigned, sign) };
  const entryHash = sha256Hex(canonicalPython(fromPlain(unhashed)));
  return { ...unhashed, entry_hash: entryHash };
}

function signatureOf(unsigned: Record<string, PlainJson>, sign: LedgerSignFunction): string {
  const signature = sign(ledgerSignedBytes(fromPlain(unsigned) as JsonObject));
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) {
    throw new BluxError('internal', `a ledger entry signature must be ${ED25519_SIGNATURE_BYTES} bytes (Ed25519)`);
  }
  return encodeBase64(signature);
}

/** The exact bytes of the entry's line: canonical JSON plus the terminating newline. */
export function serializeLedgerLine(entry: LedgerEntry): string {
  return `${canonicalPython(fromPlain(entry))}\n`;
}

/** Python's `line.strip()` being empty: such lines are skipped by every reader. */
export function isBlankLedgerLine(lineText: string): boolean {
  return lineText.trim() === '';
}

/** The line as a JSON object, or null when it is not one (torn, hand-edited, garbage). */
export function parseLedgerObject(lineText: string): JsonObject | null {
  let value: JsonValue;
  try {
    value = parseJson(lineText);
  } catch {
    return null;
  }
  return value instanceof Map ? value : null;
}

export type LedgerLineProblem = 'malformed-line' | 'entry-hash-mismatch' | 'prev-hash-mismatch';

/** What one line says about the chain. */
export type LedgerLineVerdict =
  | { kind: 'blank' }
  | { kind: 'entry'; entry: JsonObject; entryHash: string }
  | { kind: 'bad'; reason: LedgerLineProblem; detail: string };

/**
 * Judges one line given the hash the chain expects it to link to (`null` for
 * the first entry). The hash is taken over the canonical re-serialization of
 * the parsed entry, not the raw bytes, so a line re-formatted by hand (spaces,
 * raw UTF-8) still verifies, as it does in the original.
 *
 * Stricter than the original on one point: a missing `prev_hash` key is a
 * broken link even on the first line, since every writer sets it.
 */
export function checkLedgerLine(lineText: string, expectedPrev: string | null, engine: EngineOptions = {}): LedgerLineVerdict {
  if (isBlankLedgerLine(lineText)) return { kind: 'blank' };

  let value: JsonValue;
  try {
    value = parseJson(lineText);
  } catch (e) {
    return { kind: 'bad', reason: 'malformed-line', detail: e instanceof Error ? e.message : String(e) };
  }
  if (!(value instanceof Map)) return { kind: 'bad', reason: 'malformed-line', detail: 'line is not a JSON object' };
  const claimed = value.get('entry_hash');
  if (typeof claimed !== 'string') {
    return { kind: 'bad', reason: 'malformed-line', detail: 'entry has no string entry_hash' };
  }

  let actual: string;
  try {
    actual = computeEntryHash(value, engine);
  } catch (e) {
    // A value the canonical form cannot express can never have been hashed by a writer.
    return { kind: 'bad', reason: 'malformed-line', detail: e instanceof Error ? e.message : String(e) };
  }
  if (actual !== claimed) {
    return { kind: 'bad', reason: 'entry-hash-mismatch', detail: `entry_hash is ${claimed} but the entry hashes to ${actual}` };
  }

  if (!value.has('prev_hash')) return { kind: 'bad', reason: 'prev-hash-mismatch', detail: 'entry has no prev_hash' };
  const prev = value.get('prev_hash');
  if (prev !== expectedPrev) {
    return { kind: 'bad', reason: 'prev-hash-mismatch', detail: prevMismatchDetail(describe(prev), expectedPrev) };
  }
  return { kind: 'entry', entry: value, entryHash: claimed };
}

function describe(value: JsonValue | undefined): string {
  if (typeof value === 'string') return value;
  return canonicalPython(value ?? null).slice(0, 80);
}

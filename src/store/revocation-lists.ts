/**
 * The two append-only revocation lists, one canonical JSON object a line (as
 * the original writes them):
 *
 *   trust/token_revocations.jsonl  {schema_version, token_hash, revoked_at, reason, revoker}
 *   trust/key_revocations.jsonl    {schema_version, fingerprint, revoked_at, reason, revoker, replaced_by?}
 *
 * Each list is read once into a Map, so checking many tokens costs one file
 * read, not one per token (the original rescanned the file for every token).
 *
 * Lines are read with the strict parser (a duplicate key is refused, never
 * resolved by "last one wins") and checked against the JSON Schemas in
 * `schemas/`. Appends hold an exclusive lock on `<list>.lock` from the
 * duplicate check to the fsync, so concurrent revokes cannot both add the
 * same id.
 *
 * Torn tail: a crash mid-append can leave an unterminated last line. That
 * append never reported success (it returns only after fsync), so a last line
 * without "\n" that does not parse is ignored by readers, and the next append
 * cuts it off before writing. An unterminated last line that parses is a whole
 * record missing only its newline (a hand edit): it counts, and the next
 * append adds the newline.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BluxError } from '../errors.js';
import { fromPlain, parseJson, toPlain, JsonParseError, type JsonValue } from '../formats/canonical/json-value.js';
import { canonicalPython } from '../formats/canonical/python.js';
import { checkSchema, type SchemaName } from '../formats/schema.js';
import { withExclusiveLock } from './file-lock.js';

export const REVOCATION_SCHEMA_VERSION = '1.0';

export interface TokenRevocation {
  schema_version: string;
  /** SHA-256 of the token's canonical JSON, lowercase hex. */
  token_hash: string;
  revoked_at: string;
  reason: string;
  revoker: string;
}

export interface KeyRevocation {
  schema_version: string;
  /** Key fingerprint, lowercase hex. */
  fingerprint: string;
  revoked_at: string;
  reason: string;
  revoker: string;
  /** Fingerprint of the key that takes over, when there is one. */
  replaced_by?: string;
}

/** How one kind of list is shaped: its schema, which field is its key, which fields a record keeps. */
interface ListKind {
  schema: SchemaName;
  idField: string;
  /** Known fields; any others on a line are allowed by the schema but not kept. */
  fields: readonly string[];
}

const TOKEN_LIST: ListKind = {
  schema: 'token-revocation-1.0',
  idField: 'token_hash',
  fields: ['schema_version', 'token_hash', 'revoked_at', 'reason', 'revoker'],
};

const KEY_LIST: ListKind = {
  schema: 'key-revocation-1.0',
  idField: 'fingerprint',
  fields: ['schema_version', 'fingerprint', 'revoked_at', 'reason', 'revoker', 'replaced_by'],
};

/** The lock file beside a list. Never deleted: deleting a lock file others may hold open breaks the lock. */
export function revocationLockPath(listPath: string): string {
  return `${listPath}.lock`;
}

// ---------------------------------------------------------------------------
// Reading

/** token_hash -> record. A missing file is an empty list. */
export function loadTokenRevocations(file: string): Map<string, TokenRevocation> {
  return loadList<TokenRevocation>(file, TOKEN_LIST);
}

/** fingerprint -> record. A missing file is an empty list. */
export function loadKeyRevocations(file: string): Map<string, KeyRevocation> {
  return loadList<KeyRevocation>(file, KEY_LIST);
}

function loadList<R>(file: string, kind: ListKind): Map<string, R> {
  const bytes = readIfExists(file);
  return bytes === null ? new Map() : readList<R>(bytes, kind, file).records;
}

interface ListContents<R> {
  /** id -> the first record for it (its date and reason are the ones that count). */
  records: Map<string, R>;
  /** Where a torn (unterminated, unparsable) last line starts; null when there is none. */
  tornFrom: number | null;
  /** The file ends in an unterminated line that is kept: an append must start with "\n". */
  needsNewline: boolean;
}

function readList<R>(bytes: Buffer, kind: ListKind, file: string): ListContents<R> {
  const records = new Map<string, R>();
  const tailStart = bytes.lastIndexOf(0x0a) + 1; // 0 when there is no "\n" at all
  const lines = bytes.subarray(0, tailStart).toString('utf8').split('\n');
  lines.pop(); // the empty string after the final "\n"
  const keep = (record: R): void => {
    const id = (record as Record<string, string>)[kind.idField] ?? '';
    if (!records.has(id)) records.set(id, record);
  };
  lines.forEach((line, index) => {
    const record = readLine<R>(line, index + 1, kind, file);
    if (record !== null) keep(record);
  });

  const tail = withoutCarriageReturn(bytes.subarray(tailStart).toString('utf8'));
  if (tail.trim() === '') return { records, tornFrom: null, needsNewline: tailStart < bytes.length };
  let parsed: JsonValue;
  try {
    parsed = parseJson(tail);
  } catch {
    return { records, tornFrom: tailStart, needsNewline: false }; // an append cut short by a crash
  }
  keep(checkedLine<R>(parsed, lines.length + 1, kind, file));
  return { records, tornFrom: null, needsNewline: true };
}

/** A JSON string literal (escapes allowed, nothing else). */
const JSON_STRING = String.raw`"(?:[^"\\\u0000-\u001f]|\\.)*"`;
/**
 * A token revocation line exactly as every writer writes it: canonical JSON,
 * its five keys once each in sorted order, `schema_version` "1.0" and a hex
 * `token_hash`. Such a line has no duplicate key and fits the schema by
 * construction, so `JSON.parse` reads it safely; lists of thousands of lines
 * load several times faster than through the strict parser and the schema
 * (a one-shot `verify <token>` pays this load). Any other line takes the full path.
 */
const CANONICAL_TOKEN_LINE = new RegExp(
  `^\\{"reason":${JSON_STRING},"revoked_at":${JSON_STRING},"revoker":${JSON_STRING},"schema_version":"1\\.0","token_hash":"[0-9a-f]{64}"\\}$`,
);

/** The record on a complete line; null for a blank line. */
function readLine<R>(rawLine: string, lineNumber: number, kind: ListKind, file: string): R | null {
  const line = withoutCarriageReturn(rawLine);
  if (line.trim() === '') return null;
  if (kind === TOKEN_LIST && CANONICAL_TOKEN_LINE.test(line)) {
    try {
      const { reason, revoked_at, revoker, schema_version, token_hash } = JSON.parse(line) as Record<string, string>;
      return { schema_version, token_hash, revoked_at, reason, revoker } as R;
    } catch {
      // An invalid escape inside a string: the full path below reports it with its line number.
    }
  }
  let value: JsonValue;
  try {
    value = parseJson(line);
  } catch (e) {
    throw new BluxError('malformed', `line ${lineNumber}: ${describeParseError(e)}`, { file, cause: e });
  }
  return checkedLine<R>(value, lineNumber, kind, file);
}

function checkedLine<R>(value: JsonValue, lineNumber: number, kind: ListKind, file: string): R {
  const checked = checkRecord<R>(value, kind);
  if ('record' in checked) return checked.record;
  throw new BluxError(checked.code, `line ${lineNumber}: ${checked.problem}`, { file });
}

type Checked<R> = { record: R } | { problem: string; code: 'malformed' | 'schema-invalid' | 'unsupported-version' };

/** The record's known fields, or what is wrong with it. */
function checkRecord<R>(value: JsonValue, kind: ListKind): Checked<R> {
  if (!(value instanceof Map)) return { problem: 'not a JSON object', code: 'malformed' };
  const plain = toPlain(value) as Record<string, unknown>;
  // Checked before the schema so that a newer format is called that, not "invalid".
  const version = plain['schema_version'];
  if (typeof version === 'string' && version !== REVOCATION_SCHEMA_VERSION) {
    return { problem: `schema_version ${JSON.stringify(version)} is not supported`, code: 'unsupported-version' };
  }
  const problem = checkSchema(kind.schema, plain);
  if (problem !== null) return { problem, code: 'schema-invalid' };
  const record: Record<string, string> = {};
  for (const field of kind.fields) {
    const member = plain[field];
    if (typeof member === 'string') record[field] = member; // the schema has made every known field a string
  }
  return { record: record as R };
}

/** "invalid JSON: duplicate key "reason" (column 40)": the line number is the list's, not the parser's. */
function describeParseError(e: unknown): string {
  if (!(e instanceof JsonParseError)) return `invalid JSON: ${(e as Error).message}`;
  const what = e.message.replace(/ at line \d+, column \d+$/, '');
  return `${what} (column ${e.column})`;
}

function withoutCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

// ---------------------------------------------------------------------------
// Appending

/** Add a token revocation. False (and nothing written) when the hash is already revoked. */
export async function appendTokenRevocation(file: string, record: TokenRevocation): Promise<boolean> {
  return appendRecord(file, record, TOKEN_LIST);
}

/** Add a key revocation. False (and nothing written) when the fingerprint is already revoked. */
export async function appendKeyRevocation(file: string, record: KeyRevocation): Promise<boolean> {
  return appendRecord(file, record, KEY_LIST);
}

async function appendRecord(file: string, record: object, kind: ListKind): Promise<boolean> {
  // Checked by the same rules the reader applies, so we never write a line we would refuse to read.
  const line = canonicalJsonLine(record);
  const checked = checkRecord<Record<string, string>>(parseJson(line), kind);
  if (!('record' in checked)) throw new BluxError('invalid-argument', `revocation record: ${checked.problem}`, { file });
  const id = checked.record[kind.idField] ?? '';

  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  } catch (e) {
    throw cannotAppend(file, e);
  }
  return withExclusiveLock(revocationLockPath(file), async () => appendLocked(file, line, id, kind));
}

/** Check and append, under the list's lock. */
function appendLocked(file: string, line: string, id: string, kind: ListKind): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'a+', 0o644); // readable too: the whole list is read for the duplicate check
  } catch (e) {
    throw cannotAppend(file, e);
  }
  try {
    const contents = readList(readAll(fd, file), kind, file);
    if (contents.records.has(id)) return false;
    try {
      // O_APPEND writes land at the (new) end, so cutting the torn tail first is all it takes.
      if (contents.tornFrom !== null) fs.ftruncateSync(fd, contents.tornFrom);
      const bytes = Buffer.from((contents.needsNewline ? '\n' : '') + line + '\n', 'utf8');
      // One write: a reader without the lock sees the whole line or an unterminated tail it ignores.
      const written = fs.writeSync(fd, bytes);
      if (written !== bytes.length) throw new Error(`short write (${written} of ${bytes.length} bytes)`);
      fs.fsyncSync(fd);
    } catch (e) {
      throw cannotAppend(file, e);
    }
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

function readAll(fd: number, file: string): Buffer {
  try {
    const size = fs.fstatSync(fd).size;
    const bytes = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const read = fs.readSync(fd, bytes, filled, size - filled, filled);
      if (read === 0) break; // cannot happen under the lock, but never loop forever
      filled += read;
    }
    return bytes.subarray(0, filled);
  } catch (e) {
    throw new BluxError('file-unreadable', `cannot read: ${(e as Error).message}`, { file, cause: e });
  }
}

/**
 * A line as the original writes it: Python's
 * `json.dumps(obj, sort_keys=True, separators=(",", ":"))` (ensure_ascii).
 * Fields set to undefined are left out, as optional fields are.
 */
export function canonicalJsonLine(record: object): string {
  const present = Object.entries(record).filter(([, value]) => value !== undefined);
  return canonicalPython(fromPlain(Object.fromEntries(present)));
}

// ---------------------------------------------------------------------------
// Small helpers

function readIfExists(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new BluxError('file-unreadable', `cannot read: ${(e as Error).message}`, { file, cause: e });
  }
}

function cannotAppend(file: string, e: unknown): BluxError {
  if (e instanceof BluxError) return e;
  return new BluxError('file-unwritable', `cannot append: ${(e as Error).message}`, { file, cause: e });
}

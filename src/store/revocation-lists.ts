/**
 * The two append-only revocation lists, one canonical JSON object a line (as
 * the original writes them):
 *
 *   trust/token_revocations.jsonl  {schema_version, token_hash, revoked_at, reason, revoker}
 *   trust/key_revocations.jsonl    {schema_version, fingerprint, revoked_at, reason, revoker, replaced_by?}
 *
 * Each list is read once into a Map, so checking many tokens costs one file
 * read, not one per token (the original rescanned the file for every token).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BluxError } from '../errors.js';

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

/** How one kind of list is shaped: which field is its key, which fields it has. */
interface ListShape<R> {
  idField: string;
  required: readonly string[];
  optional: readonly string[];
  build(fields: Record<string, string>): R;
}

const TOKEN_SHAPE: ListShape<TokenRevocation> = {
  idField: 'token_hash',
  required: ['schema_version', 'token_hash', 'revoked_at', 'reason', 'revoker'],
  optional: [],
  build: (f) => ({
    schema_version: f['schema_version'] ?? '',
    token_hash: f['token_hash'] ?? '',
    revoked_at: f['revoked_at'] ?? '',
    reason: f['reason'] ?? '',
    revoker: f['revoker'] ?? '',
  }),
};

const KEY_SHAPE: ListShape<KeyRevocation> = {
  idField: 'fingerprint',
  required: ['schema_version', 'fingerprint', 'revoked_at', 'reason', 'revoker'],
  optional: ['replaced_by'],
  build: (f) => ({
    schema_version: f['schema_version'] ?? '',
    fingerprint: f['fingerprint'] ?? '',
    revoked_at: f['revoked_at'] ?? '',
    reason: f['reason'] ?? '',
    revoker: f['revoker'] ?? '',
    ...(f['replaced_by'] !== undefined ? { replaced_by: f['replaced_by'] } : {}),
  }),
};

const SHA256_HEX = /^[0-9a-f]{64}$/;

// ---------------------------------------------------------------------------
// Reading

/** token_hash -> record. A missing file is an empty list. */
export function loadTokenRevocations(file: string): Map<string, TokenRevocation> {
  return loadList(file, TOKEN_SHAPE);
}

/** fingerprint -> record. A missing file is an empty list. */
export function loadKeyRevocations(file: string): Map<string, KeyRevocation> {
  return loadList(file, KEY_SHAPE);
}

function loadList<R>(file: string, shape: ListShape<R>): Map<string, R> {
  const text = readIfExists(file);
  const records = new Map<string, R>();
  if (text === null) return records;
  const lines = text.split('\n');
  lines.forEach((rawLine, index) => {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '') return;
    const fields = parseLine(line, index + 1, shape, file);
    const id = fields[shape.idField] ?? '';
    // The first revocation of an id is the one that counts (its date and reason).
    if (!records.has(id)) records.set(id, shape.build(fields));
  });
  return records;
}

function parseLine(line: string, lineNumber: number, shape: ListShape<unknown>, file: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new BluxError('malformed', `line ${lineNumber}: not valid JSON`, { file });
  }
  const checked = checkRecord(value, shape);
  if ('fields' in checked) return checked.fields;
  throw new BluxError(checked.code, `line ${lineNumber}: ${checked.problem}`, { file });
}

type Checked = { fields: Record<string, string> } | { problem: string; code: 'malformed' | 'unsupported-version' };

/** The record's known fields, or what is wrong with it. Unknown extra fields are tolerated. */
function checkRecord(value: unknown, shape: ListShape<unknown>): Checked {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { problem: 'not a JSON object', code: 'malformed' };
  }
  const record = value as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const key of [...shape.required, ...shape.optional]) {
    const field = record[key];
    if (field === undefined && shape.optional.includes(key)) continue;
    if (typeof field !== 'string') return { problem: `"${key}" must be a string`, code: 'malformed' };
    fields[key] = field;
  }
  if (fields['schema_version'] !== REVOCATION_SCHEMA_VERSION) {
    return {
      problem: `schema_version ${JSON.stringify(fields['schema_version'])} is not supported`,
      code: 'unsupported-version',
    };
  }
  const id = fields[shape.idField] ?? '';
  if (!SHA256_HEX.test(id)) return { problem: `"${shape.idField}" must be 64 lowercase hex digits`, code: 'malformed' };
  const replacedBy = fields['replaced_by'];
  if (replacedBy !== undefined && !SHA256_HEX.test(replacedBy)) {
    return { problem: '"replaced_by" must be 64 lowercase hex digits', code: 'malformed' };
  }
  return { fields };
}

// ---------------------------------------------------------------------------
// Appending

/** Add a token revocation. False (and nothing written) when the hash is already revoked. */
export function appendTokenRevocation(file: string, record: TokenRevocation): boolean {
  return appendRecord(file, record, TOKEN_SHAPE, record.token_hash);
}

/** Add a key revocation. False (and nothing written) when the fingerprint is already revoked. */
export function appendKeyRevocation(file: string, record: KeyRevocation): boolean {
  return appendRecord(file, record, KEY_SHAPE, record.fingerprint);
}

function appendRecord<R extends object>(file: string, record: R, shape: ListShape<R>, id: string): boolean {
  // Checked by the same rules the reader applies, so we never write a line we would refuse to read.
  const line = canonicalJsonLine(record);
  const checked = checkRecord(JSON.parse(line), shape);
  if (!('fields' in checked)) throw new BluxError('invalid-argument', `revocation record: ${checked.problem}`, { file });
  if (loadList(file, shape).has(id)) return false;

  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, 'a+', 0o644); // readable too: the last byte is checked below
    try {
      // A hand-edited file may lack its final newline; do not glue our line onto the last one.
      const size = fs.fstatSync(fd).size;
      const prefix = size > 0 && !endsWithNewline(fd, size) ? '\n' : '';
      const bytes = Buffer.from(prefix + line + '\n', 'utf8');
      // One write on an O_APPEND descriptor: concurrent appenders cannot interleave inside a line.
      const written = fs.writeSync(fd, bytes);
      if (written !== bytes.length) throw new Error(`short write (${written} of ${bytes.length} bytes)`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw new BluxError('file-unreadable', `cannot append: ${(e as Error).message}`, { file, cause: e });
  }
  return true;
}

function endsWithNewline(fd: number, size: number): boolean {
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

/**
 * Python's `json.dumps(obj, sort_keys=True, separators=(",", ":"))` for a flat
 * object of strings: sorted keys, and every character from U+007F up escaped
 * as lowercase `\uXXXX` (ensure_ascii), which JSON.stringify does not do.
 */
export function canonicalJsonLine(record: object): string {
  const entries = Object.entries(record)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${asciiJson(k)}:${asciiJson(v)}`).join(',')}}`;
}

function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function readIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new BluxError('file-unreadable', `cannot read: ${(e as Error).message}`, { file, cause: e });
  }
}

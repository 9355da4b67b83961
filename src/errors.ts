/**
 * One error class for the whole library. The `code` is the same vocabulary the
 * reports use as `reason`, so a thrown error and a returned verdict speak alike.
 *
 * Convention: a cryptographically invalid input is a *verdict* (returned), a
 * broken input or misuse is an *error* (thrown). The CLI maps verdict `invalid`
 * to exit 1 and a thrown BluxError to exit 2.
 */

/** Reasons a verification can fail: they end up as `reason` in `--json` output. */
export type VerdictReason =
  | 'ok'
  | 'artifact-hash-mismatch'
  | 'artifact-size-mismatch'
  | 'bad-signature'
  | 'unknown-key'
  | 'key-revoked'
  | 'path-traversal'
  | 'artifact-missing'
  | 'malformed'
  | 'malformed-signature'
  | 'revoked'
  | 'expired'
  | 'not-yet-valid'
  | 'audience-mismatch'
  | 'issuer-key-mismatch'
  | 'untrusted-issuer'
  | 'entry-hash-mismatch'
  | 'prev-hash-mismatch'
  | 'malformed-line'
  | 'torn-last-line';

/** Errors that stop a command before any verdict (exit 2). */
export type ErrorCode =
  | 'malformed'
  | 'schema-invalid'
  | 'file-not-found'
  | 'file-unreadable'
  | 'file-unwritable'
  | 'file-exists'
  | 'invalid-argument'
  | 'invalid-key-name'
  | 'key-not-found'
  | 'key-exists'
  | 'wrong-passphrase'
  | 'passphrase-required'
  | 'ledger-corrupt'
  | 'ledger-torn'
  | 'unsupported-version'
  | 'path-traversal'
  | 'key-revoked'
  | 'manifest-exists'
  | 'internal';

export class BluxError extends Error {
  readonly code: ErrorCode;
  /** The file the error is about, when there is one: every message names it. */
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(options.file !== undefined ? `${options.file}: ${message}` : message, { cause: options.cause });
    this.name = 'BluxError';
    this.code = code;
    this.file = options.file;
  }
}

export function isBluxError(e: unknown): e is BluxError {
  return e instanceof BluxError;
}

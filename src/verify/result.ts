/**
 * Verdicts are data. `valid` and `invalid` are answers about the input;
 * `error` means no answer could be given (missing or unreadable input, bad
 * JSON). The CLI maps them to exit codes 0, 1 and 2.
 */
import type { ErrorCode, VerdictReason } from '../errors.js';

export type VerdictStatus = 'valid' | 'invalid' | 'error';

/** Reasons beyond the base vocabulary that only some verifiers give. */
export type ExtraReason = 'insufficient-signers' | 'artifact-unreadable';

export interface Verdict {
  readonly status: VerdictStatus;
  readonly reason: VerdictReason | ExtraReason | ErrorCode;
  readonly file: string;
  readonly kind: 'manifest' | 'token';
  /** One human sentence: what was checked or what failed. */
  readonly message: string;
  readonly [detail: string]: unknown;
}

export function exitCodeFor(status: VerdictStatus): 0 | 1 | 2 {
  return status === 'valid' ? 0 : status === 'invalid' ? 1 : 2;
}

/**
 * Everything the CLI prints goes through here: human lines on stdout, errors
 * as one line on stderr naming the file and the reason, `--json` as one JSON
 * document on stdout. Exit codes: 0 ok, 1 verification failed, 2 usage or
 * input error.
 */
import { BluxError, isBluxError } from '../errors.js';

/** Usage or input error; 0 is ok and 1 is a failed verification (see verify/result.ts). */
export const EXIT_USAGE = 2;

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, jsonReplacer, 2) + '\n');
}

/** Uint8Arrays print as hex, bigints as numbers-in-strings: JSON.stringify handles neither. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}

export function say(line: string): void {
  process.stdout.write(line + '\n');
}

/** A one-line diagnostic on stderr (`blux-reg: <file>: <problem>`). */
export function complain(line: string): void {
  process.stderr.write(`blux-reg: ${line}\n`);
}

/** Prints a thrown error (one line, plus the code in --json mode) and returns the exit code. */
export function reportError(error: unknown, json: boolean): number {
  if (isBluxError(error)) {
    if (json) printJson({ status: 'error', reason: error.code, file: error.file ?? null, message: error.message });
    complain(`${error.message} [${error.code}]`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  complain(`internal error: ${message}`);
  return EXIT_USAGE;
}

export function usageError(message: string): BluxError {
  return new BluxError('invalid-argument', message);
}

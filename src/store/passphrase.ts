/**
 * Where a passphrase comes from, in order:
 *
 *   1. `--passphrase-file` (its first line): for scripts, and never visible in `ps`;
 *   2. `BLUX_REG_PASSPHRASE`: for CI, where a secret arrives as a variable;
 *   3. a hidden prompt, only when the caller is interactive and stdin is a TTY.
 *
 * Null means "none available": whether that is an error (decrypting) or a
 * choice (generating an unencrypted key) is the caller's call.
 */
import fs from 'node:fs';
import { BluxError } from '../errors.js';

export const PASSPHRASE_ENV = 'BLUX_REG_PASSPHRASE';

/** The terminal side of a prompt; injectable so the prompt can be tested without a TTY. */
export interface PromptStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(mode: boolean): unknown; isRaw?: boolean };
  output: NodeJS.WritableStream;
}

export interface ResolvePassphraseOptions {
  passphraseFile?: string | null;
  env?: NodeJS.ProcessEnv;
  interactive: boolean;
  /** Shown before the hidden input, e.g. `Passphrase for "alice": `. */
  prompt: string;
  /** Ask twice and refuse a mismatch (for setting a new passphrase). */
  confirm?: boolean;
  /** Defaults to process.stdin / process.stderr (stderr keeps stdout clean for --json). */
  streams?: PromptStreams;
}

export async function resolvePassphrase(options: ResolvePassphraseOptions): Promise<string | null> {
  if (options.passphraseFile !== undefined && options.passphraseFile !== null) {
    return readPassphraseFile(options.passphraseFile);
  }
  const fromEnv = (options.env ?? process.env)[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;

  const streams = options.streams ?? { input: process.stdin, output: process.stderr };
  if (!options.interactive || streams.input.isTTY !== true) return null;

  const first = await promptHidden(options.prompt, streams);
  if (options.confirm === true) {
    const second = await promptHidden('Repeat passphrase: ', streams);
    if (first !== second) throw new BluxError('invalid-argument', 'the two passphrases do not match');
  }
  return first;
}

/** The first line of the file, without its line ending (LF or CRLF). */
export function readPassphraseFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BluxError('file-not-found', 'passphrase file not found', { file, cause: e });
    throw new BluxError('file-unreadable', `cannot read passphrase file: ${(e as Error).message}`, { file, cause: e });
  }
  const firstLine = text.split('\n', 1)[0] ?? '';
  const passphrase = firstLine.endsWith('\r') ? firstLine.slice(0, -1) : firstLine;
  // An empty passphrase would silently mean "no protection" or a baffling
  // "wrong passphrase"; an empty file is far more likely a mistake.
  if (passphrase === '') throw new BluxError('malformed', 'passphrase file is empty (its first line is blank)', { file });
  return passphrase;
}

const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const BACKSPACE = '\u007f';
const CTRL_H = '\b';
const ESCAPE = '\u001b';

/**
 * Read one line from a TTY in raw mode: nothing is echoed, Ctrl-C or Ctrl-D
 * abort, backspace works. The terminal is restored whatever happens.
 */
function promptHidden(prompt: string, { input, output }: PromptStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    const wasRaw = input.isRaw === true;
    let typed: string[] = []; // code points, so backspace removes a whole character

    const finish = (outcome: () => void): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(wasRaw);
      input.pause();
      output.write('\n');
      outcome();
    };

    const onData = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      // An escape sequence (arrow keys, function keys) arrives as one chunk; it is not passphrase text.
      if (text.startsWith(ESCAPE)) return;
      for (const ch of text) {
        if (ch === '\r' || ch === '\n') {
          const passphrase = typed.join('');
          typed = [];
          finish(() => resolve(passphrase));
          return;
        }
        if (ch === CTRL_C || (ch === CTRL_D && typed.length === 0)) {
          typed = [];
          finish(() => reject(new BluxError('passphrase-required', 'passphrase entry aborted')));
          return;
        }
        if (ch === BACKSPACE || ch === CTRL_H) typed.pop();
        else if (ch >= ' ') typed.push(ch);
      }
    };

    output.write(prompt);
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}

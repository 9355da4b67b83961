/**
 * Reads a JSON document the user named on the command line: strict UTF-8,
 * the number-preserving parser, and errors that name the file.
 */
import fs from 'node:fs/promises';
import { BluxError } from '../errors.js';
import { parseJson, type JsonValue } from '../formats/canonical/json-value.js';

/** Documents are small; refuse anything huge before reading it into memory. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export async function readFileForInput(file: string): Promise<Buffer> {
  try {
    const stat = await fs.stat(file);
    if (stat.isDirectory()) throw new BluxError('file-unreadable', 'is a directory, not a file', { file });
    if (stat.size > MAX_DOCUMENT_BYTES) {
      throw new BluxError('malformed', `is ${stat.size} bytes; documents larger than 16 MiB are refused`, { file });
    }
    return await fs.readFile(file);
  } catch (e) {
    throw toInputError(e, file);
  }
}

/** Maps an fs error to a BluxError that names the file. */
export function toInputError(e: unknown, file: string): BluxError {
  if (e instanceof BluxError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new BluxError('file-not-found', 'no such file', { file, cause: e });
  const reason = e instanceof Error ? e.message : String(e);
  return new BluxError('file-unreadable', `cannot read (${code ?? reason})`, { file, cause: e });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return utf8.decode(bytes);
  } catch (e) {
    throw new BluxError('malformed', 'is not valid UTF-8', { file, cause: e });
  }
}

export async function readJsonDocument(file: string): Promise<JsonValue> {
  const bytes = await readFileForInput(file);
  return parseJson(decodeUtf8(bytes, file), { file });
}

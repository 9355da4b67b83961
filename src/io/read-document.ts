/**
 * Reads a JSON document the user named on the command line: strict UTF-8,
 * the number-preserving parser, and errors that name the file.
 */
import fs from 'node:fs';
import { BluxError } from '../errors.js';
import { parseJson, type JsonValue } from '../formats/canonical/json-value.js';

/** Documents are small; refuse anything huge before reading it into memory. */
const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/**
 * Reads a small input document. Synchronous on purpose: for a file of a few
 * hundred bytes the async fs path costs 10-30x more (a thread-pool round trip
 * per call), which dominated token verification. One descriptor is opened and
 * checked with fstat, so the file read is the file checked (no stat/open race),
 * and a FIFO or device is refused instead of blocking.
 */
export async function readFileForInput(file: string): Promise<Buffer> {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new BluxError('file-unreadable', 'is a directory, not a file', { file });
    if (!stat.isFile()) throw new BluxError('file-unreadable', 'is not a regular file', { file });
    if (stat.size > MAX_DOCUMENT_BYTES) {
      throw new BluxError('malformed', `is ${stat.size} bytes; documents larger than 16 MiB are refused`, { file });
    }
    return readWhole(fd, stat.size, file);
  } catch (e) {
    throw toInputError(e, file);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * The whole file, by reads into one buffer sized from fstat: for a document
 * of a few hundred bytes that is one read() (readFileSync(fd) stats the file
 * again and reads until a read returns nothing: two more system calls, ~8 %
 * of verify-batch's own thread on a tree of 20,000 manifests). The buffer
 * has a byte to spare, so a file that grew since fstat is seen and read on;
 * a read that fills less ends the file (a short read of a regular file is
 * its end). `size` is only where to start: the file's bytes decide.
 */
export function readWhole(fd: number, size: number, file: string): Buffer {
  let buffer = Buffer.allocUnsafe(size + 1);
  let length = 0;
  for (;;) {
    const wanted = buffer.length - length;
    const read = fs.readSync(fd, buffer, length, wanted, null);
    length += read;
    if (read < wanted) return buffer.subarray(0, length);
    if (buffer.length > MAX_DOCUMENT_BYTES) {
      throw new BluxError('malformed', `grew past 16 MiB while being read; documents larger than 16 MiB are refused`, { file });
    }
    const grown = Buffer.allocUnsafe(Math.min(buffer.length * 2, MAX_DOCUMENT_BYTES + 1));
    buffer.copy(grown, 0, 0, length);
    buffer = grown;
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

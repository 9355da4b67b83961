/**
 * The leaves of the ledger's Merkle tree are its lines as raw bytes, without
 * the "\n" (blank lines included: every byte of the file is committed to).
 * An unterminated last line (a torn write) is not a leaf yet.
 *
 * This reads a line-aligned byte range of the ledger with synchronous reads
 * through one reused buffer, handing out lines in batches (one batch per
 * read): the same code runs on the main thread and in a worker, and batches
 * are what the engine's sha256Many wants. A line is a view into the buffer,
 * valid only during the callback.
 */
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { BluxError } from '../errors.js';
import { toInputError } from '../io/read-document.js';

const NEWLINE = 0x0a;
export const DEFAULT_LEAF_CHUNK_BYTES = 1024 * 1024;

export interface LeafBatch {
  /** The lines (without "\n") in file order. */
  lines: Uint8Array[];
  /** Byte offset of each line's first byte. */
  offsets: number[];
}

export interface LeafScan {
  /** Complete lines read. */
  leaves: number;
  /** Bytes read from the file. */
  bytesRead: number;
  /** Bytes after the last "\n" of the range (a torn tail when the range ends the file). */
  unterminatedBytes: number;
}

export interface LeafScanOptions {
  /** First byte (0 or just after a "\n"). */
  start?: number;
  /** Byte to stop at (exclusive); the file's size unless given. */
  end?: number;
  /** Stop after this many lines. */
  maxLeaves?: number;
  chunkBytes?: number;
}

/** Size of a file, read through the same error vocabulary as everything else. */
export function fileSize(file: string): number {
  const fd = openLedger(file);
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function openLedger(file: string): number {
  try {
    return openSync(file, 'r');
  } catch (e) {
    throw toInputError(e, file);
  }
}

/** readSync of at least one byte, with the file named in errors (a read of 0 before `end` means the file shrank). */
function readChunk(fd: number, file: string, buffer: Uint8Array, offset: number, length: number, position: number): number {
  let read: number;
  try {
    read = readSync(fd, buffer, offset, length, position);
  } catch (e) {
    throw toInputError(e, file);
  }
  if (read === 0) throw new BluxError('file-unreadable', `the file shrank while being read (at byte ${position})`, { file });
  return read;
}

/**
 * Complete lines in [start, end): a read loop and a newline search, nothing
 * per line (scanLeafSpans costs about 3x more when only the count is wanted:
 * the line count pass of a parallel tree).
 */
export function countLines(file: string, opts: Pick<LeafScanOptions, 'start' | 'end'> = {}): number {
  const fd = openLedger(file);
  try {
    const end = opts.end ?? fstatSync(fd).size;
    const buffer = Buffer.allocUnsafe(DEFAULT_LEAF_CHUNK_BYTES);
    let lines = 0;
    for (let position = opts.start ?? 0; position < end; ) {
      const read = readChunk(fd, file, buffer, 0, Math.min(buffer.length, end - position), position);
      position += read;
      const view = buffer.subarray(0, read);
      for (let nl = view.indexOf(NEWLINE); nl !== -1; nl = view.indexOf(NEWLINE, nl + 1)) lines++;
    }
    return lines;
  } finally {
    closeSync(fd);
  }
}

/** Bytes [from, to) of the file (for short backward looks; errors name the file). */
export function readBytes(file: string, from: number, to: number): Buffer {
  const fd = openLedger(file);
  try {
    const out = Buffer.alloc(to - from);
    for (let done = 0; done < out.length; ) {
      done += readChunk(fd, file, out, done, out.length - done, from + done);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/**
 * A batch of lines as spans of the read buffer, for the hashing hot path (no
 * view object per line). Line i is `buffer[starts[i], ends[i])`, at file
 * offset `fileOffset + starts[i]`. Every line has one writable byte before it
 * (the previous line's "\n" or a spare byte at the buffer's head), so a hasher
 * may put a domain prefix there for the length of one call and restore it:
 * RFC 6962's 0x00 || line without copying the line.
 */
export interface SpanBatch {
  buffer: Buffer;
  starts: Int32Array;
  ends: Int32Array;
  count: number;
  /** File offset of `buffer[0]`. */
  fileOffset: number;
}

/** The spare byte at the head of the read buffer (see SpanBatch). */
const PREFIX_ROOM = 1;

function grown(column: Int32Array, needed: number): Int32Array {
  if (needed <= column.length) return column;
  return new Int32Array(Math.max(needed, column.length * 2));
}

/**
 * Calls `onBatch` with the complete lines of [start, end), in order, one
 * batch per read, then returns counts. Lines longer than the chunk grow the
 * buffer (the ledger's entries are small; this keeps a long one from being
 * cut). The batch and its buffer are reused: valid only during the callback.
 */
export function scanLeafSpans(file: string, onBatch: (batch: SpanBatch) => void, opts: LeafScanOptions = {}): LeafScan {
  const fd = openLedger(file);
  try {
    const end = opts.end ?? fstatSync(fd).size;
    const maxLeaves = opts.maxLeaves ?? Number.POSITIVE_INFINITY;
    let buffer = Buffer.allocUnsafe(PREFIX_ROOM + (opts.chunkBytes ?? DEFAULT_LEAF_CHUNK_BYTES));
    const batch: SpanBatch = { buffer, starts: new Int32Array(4096), ends: new Int32Array(4096), count: 0, fileOffset: 0 };
    let position = opts.start ?? 0;
    let leaves = 0;
    let bytesRead = 0;
    let filled = PREFIX_ROOM; // buffer[PREFIX_ROOM, filled) holds an unfinished line carried over
    while (position < end && leaves < maxLeaves) {
      if (filled === buffer.length) {
        const bigger = Buffer.allocUnsafe(PREFIX_ROOM + (buffer.length - PREFIX_ROOM) * 2);
        buffer.copy(bigger, 0, 0, filled);
        buffer = bigger;
      }
      const read = readChunk(fd, file, buffer, filled, Math.min(buffer.length - filled, end - position), position);
      batch.fileOffset = position - filled;
      position += read;
      bytesRead += read;
      filled += read;
      // A read of r bytes holds at most r line ends, and no more than the lines still wanted are taken.
      const mostLines = Math.min(read, maxLeaves - leaves) + 1;
      batch.starts = grown(batch.starts, mostLines);
      batch.ends = grown(batch.ends, mostLines);
      batch.buffer = buffer;
      const view = buffer.subarray(0, filled);
      let count = 0;
      let lineStart = PREFIX_ROOM;
      for (let nl = view.indexOf(NEWLINE, lineStart); nl !== -1 && leaves < maxLeaves; nl = view.indexOf(NEWLINE, nl + 1)) {
        batch.starts[count] = lineStart;
        batch.ends[count] = nl;
        count++;
        leaves++;
        lineStart = nl + 1;
      }
      batch.count = count;
      if (count > 0) onBatch(batch);
      if (leaves >= maxLeaves) return { leaves, bytesRead, unterminatedBytes: 0 };
      buffer.copy(buffer, PREFIX_ROOM, lineStart, filled);
      filled = PREFIX_ROOM + filled - lineStart;
    }
    return { leaves, bytesRead, unterminatedBytes: filled - PREFIX_ROOM };
  } finally {
    closeSync(fd);
  }
}

/**
 * scanLeafSpans with each line as a view (valid only during the callback)
 * and its file offset: for the callers that pick a few lines out.
 */
export function scanLeaves(file: string, onBatch: (batch: LeafBatch) => void, opts: LeafScanOptions = {}): LeafScan {
  return scanLeafSpans(
    file,
    (spans) => {
      const lines: Uint8Array[] = new Array(spans.count);
      const offsets: number[] = new Array(spans.count);
      for (let i = 0; i < spans.count; i++) {
        lines[i] = spans.buffer.subarray(spans.starts[i], spans.ends[i]);
        offsets[i] = spans.fileOffset + spans.starts[i]!;
      }
      onBatch({ lines, offsets });
    },
    opts,
  );
}

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

/**
 * Calls `onBatch` with the complete lines of [start, end), in order, then
 * returns counts. Lines longer than the chunk grow the buffer (the ledger's
 * entries are small; this keeps a long one from being cut).
 */
export function scanLeaves(file: string, onBatch: (batch: LeafBatch) => void, opts: LeafScanOptions = {}): LeafScan {
  const fd = openLedger(file);
  try {
    const end = opts.end ?? fstatSync(fd).size;
    const maxLeaves = opts.maxLeaves ?? Number.POSITIVE_INFINITY;
    let buffer = Buffer.allocUnsafe(opts.chunkBytes ?? DEFAULT_LEAF_CHUNK_BYTES);
    let position = opts.start ?? 0;
    let leaves = 0;
    let bytesRead = 0;
    let carried = 0; // bytes of an unfinished line at the start of `buffer`
    while (position < end && leaves < maxLeaves) {
      if (carried === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, carried);
        buffer = bigger;
      }
      let read: number;
      try {
        read = readSync(fd, buffer, carried, Math.min(buffer.length - carried, end - position), position);
      } catch (e) {
        throw toInputError(e, file);
      }
      if (read === 0) throw new BluxError('file-unreadable', `the file shrank while being read (at byte ${position})`, { file });
      const lineStartOffset = position - carried;
      position += read;
      bytesRead += read;
      const filled = carried + read;
      const view = buffer.subarray(0, filled);
      const batch: LeafBatch = { lines: [], offsets: [] };
      let lineStart = 0;
      for (let nl = view.indexOf(NEWLINE, 0); nl !== -1 && leaves < maxLeaves; nl = view.indexOf(NEWLINE, nl + 1)) {
        batch.lines.push(view.subarray(lineStart, nl));
        batch.offsets.push(lineStartOffset + lineStart);
        leaves++;
        lineStart = nl + 1;
      }
      if (batch.lines.length > 0) onBatch(batch);
      if (leaves >= maxLeaves) return { leaves, bytesRead, unterminatedBytes: 0 };
      carried = filled - lineStart;
      buffer.copy(buffer, 0, lineStart, filled);
    }
    return { leaves, bytesRead, unterminatedBytes: carried };
  } finally {
    closeSync(fd);
  }
}

/**
 * Splits a line-oriented file (the ledger) into byte ranges that start and
 * end on line boundaries, so each range can be checked on its own thread and
 * the results stitched back together in order. Used by the ledger audit and
 * reusable by anything else that walks ledger lines in parallel (Merkle
 * trees over the lines).
 *
 * A boundary is the byte just after a "\n", so every line (blank ones
 * included) lies in exactly one range, and a torn last line (no "\n") is the
 * tail of the last range.
 */
import { closeSync, openSync, readSync } from 'node:fs';

import { BluxError } from '../errors.js';

export interface ByteRange {
  /** Offset of the range's first byte (0 or just after a "\n"). */
  start: number;
  /** Offset just past its last byte (just after a "\n", or the file's end). */
  end: number;
}

/** How far ahead of a tentative split point we look for a "\n" per read. */
const BOUNDARY_PROBE_BYTES = 64 * 1024;

/**
 * Offset just after the first "\n" at or after `from`, or `limit` when there
 * is none before it. Reads forward in small probes, so a split costs about one
 * line's worth of I/O, not a scan of the file.
 */
function nextLineStart(fd: number, from: number, limit: number, probe: Buffer): number {
  for (let at = from; at < limit; ) {
    const length = Math.min(probe.length, limit - at);
    const read = readSync(fd, probe, 0, length, at);
    if (read === 0) return limit;
    const newline = probe.subarray(0, read).indexOf(0x0a);
    if (newline !== -1) return at + newline + 1;
    at += read;
  }
  return limit;
}

/**
 * Cuts `[0, size)` of the open file `fd` into line-aligned ranges that end
 * at the first line end at or after each of `targets` (increasing offsets;
 * the last range always ends at `size`), in file order. Fewer ranges come
 * back when lines are long (a range is never empty); an empty file gives none.
 */
function splitAtTargets(fd: number, size: number, targets: readonly number[]): ByteRange[] {
  const ranges: ByteRange[] = [];
  const probe = Buffer.allocUnsafe(Math.min(BOUNDARY_PROBE_BYTES, Math.max(size, 1)));
  let start = 0;
  for (let i = 0; i < targets.length && start < size; i++) {
    const target = targets[i]!;
    // The tentative point may be inside a line: the range ends after that line.
    const end = i === targets.length - 1 || target >= size ? size : nextLineStart(fd, Math.max(target - 1, start), size, probe);
    if (end > start) {
      ranges.push({ start, end });
      start = end;
    }
  }
  return ranges;
}

/**
 * Cuts `[0, size)` of the open file `fd` into about `parts` line-aligned
 * ranges of similar size, in file order. Fewer ranges come back when lines
 * are long (a range is never empty); an empty file gives none.
 */
export function splitIntoLineRanges(fd: number, size: number, parts: number): ByteRange[] {
  if (!Number.isSafeInteger(parts) || parts < 1) {
    throw new BluxError('invalid-argument', `range count must be a positive integer, got ${parts}`);
  }
  return splitAtTargets(fd, size, Array.from({ length: parts }, (_, i) => Math.floor((size * (i + 1)) / parts)));
}

/** splitIntoLineRanges on a file by name. */
export function splitFileIntoLineRanges(file: string, size: number, parts: number): ByteRange[] {
  return withFile(file, (fd) => splitIntoLineRanges(fd, size, parts));
}

/**
 * Ranges shrink toward the end of the file once less than this many of
 * them per thread are left (guided scheduling): threads that take ranges as
 * they come then finish within about one small range of each other. The
 * ledger audit keeps up to 3 ranges queued on each pool thread, so with
 * equal ranges the calling thread could wait up to 3 ranges' time at the end.
 */
const TAPER_RANGES_PER_THREAD = 4;

/**
 * Tentative end offsets for `threads` threads taking ranges in file order:
 * ranges of `rangeBytes` while plenty is left, then each a share of what is
 * left (`left / (4 x threads)`), down to `smallestBytes`.
 */
export function taperedRangeTargets(size: number, threads: number, rangeBytes: number, smallestBytes: number): number[] {
  if (!(threads >= 1 && rangeBytes >= 1 && smallestBytes >= 1)) {
    throw new BluxError('invalid-argument', `tapered ranges need positive threads and sizes, got ${threads}, ${rangeBytes}, ${smallestBytes}`);
  }
  const targets: number[] = [];
  for (let at = 0; at < size; ) {
    const share = Math.ceil((size - at) / (TAPER_RANGES_PER_THREAD * threads));
    at = Math.min(size, at + Math.min(rangeBytes, Math.max(smallestBytes, share)));
    targets.push(at);
  }
  return targets;
}

/** Line-aligned ranges of a file by name at taperedRangeTargets. */
export function splitFileIntoTaperedRanges(file: string, size: number, threads: number, rangeBytes: number, smallestBytes: number): ByteRange[] {
  const targets = taperedRangeTargets(size, threads, rangeBytes, smallestBytes);
  return withFile(file, (fd) => splitAtTargets(fd, size, targets));
}

function withFile<T>(file: string, use: (fd: number) => T): T {
  const fd = openSync(file, 'r');
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * How many ranges to cut a file of `size` bytes into for `jobs` threads:
 * ranges of about `targetBytes` (so progress advances and threads finish
 * close together), never fewer than `jobs` when the file allows it.
 */
export function rangeCountFor(size: number, jobs: number, targetBytes: number): number {
  return Math.max(jobs, Math.ceil(size / targetBytes), 1);
}

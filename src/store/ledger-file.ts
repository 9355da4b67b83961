/**
 * The ledger file (`trust/ledger.jsonl`): locked append, tail, repair of a
 * torn last line, and a streaming line reader for the audit.
 *
 * Cost model: append and tail read the file backwards from its end, so they
 * cost the same on a 10-line and a 10-million-line ledger; only the audit
 * reads everything, and it streams through one reused buffer.
 *
 * Concurrency: every writer (append, repair) holds an exclusive lock on the
 * persistent file `<ledger>.lock` for the whole read-tail/write/fsync cycle,
 * so two processes can never both chain onto the same `prev_hash`. Readers
 * take a shared lock, so an unterminated last line they see is a real crash,
 * never an append in progress: the tail holds it while it reads; the audit
 * only while it notes the file size, then reads up to that size unlocked
 * (appends only add bytes after it, and it must not stall writers for the
 * length of a full audit). Readers never create the lock file.
 */
import { Buffer } from 'node:buffer';
import { constants as fsConstants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { BluxError } from '../errors.js';
import type { JsonObject } from '../formats/canonical/json-value.js';
import {
  buildLedgerEntry,
  formatLedgerTimestamp,
  isBlankLedgerLine,
  parseLedgerObject,
  serializeLedgerLine,
  type LedgerEntry,
  type LedgerEntryFields,
  type LedgerSignFunction,
} from '../formats/ledger-entry.js';
import { toInputError } from '../io/read-document.js';
import { ledgerLockPath, withExclusiveLock, withSharedLock } from './file-lock.js';

// ---------------------------------------------------------------------------
// Locking (see file-lock.ts)
// ---------------------------------------------------------------------------

export { ledgerLockPath };

// ---------------------------------------------------------------------------
// Reading from the end
// ---------------------------------------------------------------------------

/** How much is read per step when walking backwards: a few typical lines. */
const BACKWARD_CHUNK_BYTES = 16 * 1024;

/** No real entry comes close; the limit keeps a corrupt file without newlines from filling memory. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

async function readExactly(handle: FileHandle, target: Buffer, position: number, file: string): Promise<void> {
  let filled = 0;
  while (filled < target.length) {
    const { bytesRead } = await handle.read(target, filled, target.length - filled, position + filled);
    if (bytesRead === 0) throw new BluxError('file-unreadable', 'file shrank while being read', { file });
    filled += bytesRead;
  }
}

/** Offset just past the last "\n" in the first `size` bytes (0 when there is none): where a torn fragment would start. */
async function endOfLastCompleteLine(handle: FileHandle, size: number, file: string): Promise<number> {
  const chunk = Buffer.allocUnsafe(BACKWARD_CHUNK_BYTES);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - BACKWARD_CHUNK_BYTES);
    const view = chunk.subarray(0, end - start);
    await readExactly(handle, view, start, file);
    const newline = view.lastIndexOf(0x0a);
    if (newline !== -1) return start + newline + 1;
    end = start;
  }
  return 0;
}

interface BackwardLine {
  /** Byte offset of the line's first byte. */
  start: number;
  text: string;
}

/**
 * The complete lines of `[0, end)` (which must end with "\n" or be empty),
 * last line first. Reads only as far back as the caller keeps iterating.
 */
async function* completeLinesBackward(handle: FileHandle, end: number, file: string): AsyncGenerator<BackwardLine> {
  if (end === 0) return;
  let unread = end - 1; // the final "\n" ends the first line we yield
  let carry: Buffer = Buffer.alloc(0); // bytes of the current line already read, up to its "\n"
  while (unread > 0) {
    const chunkStart = Math.max(0, unread - BACKWARD_CHUNK_BYTES);
    const chunk = Buffer.allocUnsafe(unread - chunkStart);
    await readExactly(handle, chunk, chunkStart, file);
    let cut = chunk.length; // chunk[0, cut) is not yet part of a yielded line
    while (cut > 0) {
      // (Guarded by cut > 0: a negative offset would make lastIndexOf search from the end again.)
      const newline = chunk.lastIndexOf(0x0a, cut - 1);
      if (newline === -1) break;
      const line = carry.length === 0 ? chunk.subarray(newline + 1, cut) : Buffer.concat([chunk.subarray(newline + 1, cut), carry]);
      yield { start: chunkStart + newline + 1, text: line.toString('utf8') };
      carry = Buffer.alloc(0);
      cut = newline;
    }
    carry = cut === 0 ? carry : Buffer.concat([chunk.subarray(0, cut), carry]);
    if (carry.length > MAX_LINE_BYTES) {
      throw new BluxError('ledger-corrupt', `a line longer than ${MAX_LINE_BYTES} bytes ends at byte ${chunkStart + chunk.length}`, { file });
    }
    unread = chunkStart;
  }
  yield { start: 0, text: carry.toString('utf8') };
}

/** The bytes after the last "\n", or null when there are too many to be a torn entry worth reading. */
async function readFinalFragment(handle: FileHandle, start: number, size: number, file: string): Promise<string | null> {
  if (size - start > MAX_LINE_BYTES) return null;
  const bytes = Buffer.allocUnsafe(size - start);
  await readExactly(handle, bytes, start, file);
  return bytes.toString('utf8');
}

/** Torn = something other than whitespace follows the last newline (whitespace is a blank line, harmless). */
function isTornFragment(fragment: string | null): boolean {
  return fragment === null || !isBlankLedgerLine(fragment);
}

function tornError(file: string): BluxError {
  return new BluxError(
    'ledger-torn',
    'the last line is incomplete (a crash mid-write?); run `blux-reg audit repair`',
    { file },
  );
}

/** The `entry_hash` of the last entry, null for an empty ledger. Refuses a torn or unparseable tail. */
async function readLastEntryHash(handle: FileHandle, size: number, file: string): Promise<string | null> {
  const completeEnd = await endOfLastCompleteLine(handle, size, file);
  if (completeEnd < size && isTornFragment(await readFinalFragment(handle, completeEnd, size, file))) {
    throw tornError(file);
  }
  for await (const line of completeLinesBackward(handle, completeEnd, file)) {
    if (isBlankLedgerLine(line.text)) continue;
    const entry = parseLedgerObject(line.text);
    const hash = entry?.get('entry_hash');
    if (typeof hash !== 'string') {
      const problem = entry === null ? 'is not a JSON object' : 'has no string entry_hash';
      throw new BluxError(
        'ledger-corrupt',
        `the last entry (at byte ${line.start}) ${problem}, so nothing can be chained onto it; run \`blux-reg audit verify\``,
        { file },
      );
    }
    return hash;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Append
// ---------------------------------------------------------------------------

export interface AppendLedgerOptions {
  /** The entry's `ts`; now unless given (tests pin it). */
  now?: Date;
  /**
   * Signs the entry (adds `sig`): called inside the lock, once `prev_hash` and
   * `ts` are known. `fields.actor` must be the signing key's fingerprint.
   */
  sign?: LedgerSignFunction;
}

async function fileExists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw toInputError(e, file);
  }
}

/** A new file's name is only durable once its folder is synced too. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function writeError(file: string, what: string, cause?: unknown): BluxError {
  return new BluxError('internal', `cannot append to the ledger: ${what}`, { file, cause });
}

/** One write of the whole line, so a concurrent reader or a crash sees all of it or a torn tail, never an interleaving. */
async function writeWholeLine(handle: FileHandle, bytes: Buffer, sizeBefore: number, file: string): Promise<void> {
  let written = 0;
  let failure: unknown;
  try {
    // No position: the fd is O_APPEND, so the kernel puts the bytes at the end.
    ({ bytesWritten: written } = await handle.write(bytes, 0, bytes.length));
  } catch (e) {
    failure = e;
  }
  if (failure === undefined && written === bytes.length) return;
  // We hold the lock and know where the line began: take the partial line back rather than leave a torn tail.
  await handle.truncate(sizeBefore).catch(() => undefined);
  throw writeError(file, failure === undefined ? `short write (${written} of ${bytes.length} bytes)` : String(failure), failure);
}

/**
 * Appends one entry chained onto the current last one and returns it. Creates
 * the ledger (and its folder) when missing. Returns only once the line is on
 * disk (fdatasync). Throws `ledger-torn` when the file ends in an incomplete
 * line and `ledger-corrupt` when the last line has no usable `entry_hash`;
 * nothing is written then. With `opts.sign` the entry is signed (`sig`).
 */
export async function appendLedgerEntry(
  ledgerPath: string,
  fields: LedgerEntryFields,
  opts: AppendLedgerOptions = {},
): Promise<LedgerEntry> {
  const dir = path.dirname(ledgerPath);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw writeError(dir, 'cannot create the ledger folder', e);
  }
  return withExclusiveLock(ledgerLockPath(ledgerPath), async () => {
    const created = !(await fileExists(ledgerPath));
    let handle: FileHandle;
    try {
      handle = await fs.open(ledgerPath, 'a+'); // O_APPEND | O_CREAT, readable for the tail
    } catch (e) {
      throw toInputError(e, ledgerPath);
    }
    let entry: LedgerEntry;
    try {
      const { size } = await handle.stat();
      const prevHash = await readLastEntryHash(handle, size, ledgerPath);
      entry = buildLedgerEntry(fields, prevHash, formatLedgerTimestamp(opts.now ?? new Date()), opts.sign);
      await writeWholeLine(handle, Buffer.from(serializeLedgerLine(entry), 'utf8'), size, ledgerPath);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    if (created) await syncDirectory(dir);
    return entry;
  });
}

// ---------------------------------------------------------------------------
// Tail
// ---------------------------------------------------------------------------

/**
 * The last `count` complete entries, oldest first, read from the end of the
 * file (cost grows with `count`, not with the ledger). An unterminated last
 * line is left out. A complete line that is not a JSON object throws
 * `ledger-corrupt`; hashes are not checked here (that is the audit's job).
 */
export async function readLedgerTail(ledgerPath: string, count: number): Promise<JsonObject[]> {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new BluxError('invalid-argument', `tail count must be a non-negative integer, got ${count}`);
  }
  // Opened first: a missing ledger is reported as such and no lock is asked for.
  const handle = await openForReading(ledgerPath);
  try {
    // Shared: waits for an append in progress, so the last line is whole unless a writer crashed.
    return await withSharedLock(ledgerLockPath(ledgerPath), async () => {
      const { size } = await handle.stat();
      const newestFirst: JsonObject[] = [];
      if (count === 0) return newestFirst;
      const completeEnd = await endOfLastCompleteLine(handle, size, ledgerPath);
      for await (const line of completeLinesBackward(handle, completeEnd, ledgerPath)) {
        if (isBlankLedgerLine(line.text)) continue;
        const entry = parseLedgerObject(line.text);
        if (entry === null) {
          throw new BluxError('ledger-corrupt', `the line at byte ${line.start} is not a JSON object`, { file: ledgerPath });
        }
        newestFirst.push(entry);
        if (newestFirst.length === count) break;
      }
      return newestFirst.reverse();
    });
  } finally {
    await handle.close();
  }
}

async function openForReading(file: string): Promise<FileHandle> {
  try {
    return await fs.open(file, 'r');
  } catch (e) {
    throw toInputError(e, file);
  }
}

// ---------------------------------------------------------------------------
// Repair
// ---------------------------------------------------------------------------

export interface LedgerRepairResult {
  /** True when the file was changed. */
  repaired: boolean;
  /** Bytes cut from the end (the torn fragment). */
  removedBytes: number;
  /** True when the last line was a whole entry missing only its "\n", which was added instead of cutting the entry. */
  newlineAdded: boolean;
  /** Copy of the ledger as it was before bytes were removed; null when nothing was removed. */
  backup: string | null;
}

/** `20260120T140044Z`: sortable and safe in any file system. */
function backupStamp(instant: Date): string {
  return instant.toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

/** Copies the ledger to `<ledger>.bak-<UTC stamp>[-n]` (never overwriting) and makes the copy durable. */
async function backupLedger(ledgerPath: string): Promise<string> {
  const base = `${ledgerPath}.bak-${backupStamp(new Date())}`;
  for (let attempt = 0; ; attempt++) {
    const candidate = attempt === 0 ? base : `${base}-${attempt}`;
    try {
      await fs.copyFile(ledgerPath, candidate, fsConstants.COPYFILE_EXCL);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw writeError(candidate, 'cannot write the backup', e);
    }
    const copy = await fs.open(candidate, 'r');
    try {
      await copy.sync();
    } finally {
      await copy.close();
    }
    await syncDirectory(path.dirname(candidate));
    return candidate;
  }
}

/**
 * Makes an append possible again after a crash mid-write. When the file ends
 * in an incomplete line, the ledger is first copied to a backup, then cut
 * back to the end of its last complete line. When the last line is a whole
 * JSON object that only lacks its newline, the newline is added instead: no
 * entry is ever dropped. Anything else is left alone (chain problems are the
 * audit's to report, not repair's to hide).
 */
export async function repairLedger(ledgerPath: string): Promise<LedgerRepairResult> {
  const unchanged: LedgerRepairResult = { repaired: false, removedBytes: 0, newlineAdded: false, backup: null };
  // Checked before locking so a wrong path does not leave a stray lock file behind.
  if (!(await fileExists(ledgerPath))) throw new BluxError('file-not-found', 'no such file', { file: ledgerPath });
  return withExclusiveLock(ledgerLockPath(ledgerPath), async () => {
    let handle: FileHandle;
    try {
      handle = await fs.open(ledgerPath, 'r+');
    } catch (e) {
      throw toInputError(e, ledgerPath);
    }
    try {
      const { size } = await handle.stat();
      const completeEnd = await endOfLastCompleteLine(handle, size, ledgerPath);
      if (completeEnd === size) return unchanged;
      const fragment = await readFinalFragment(handle, completeEnd, size, ledgerPath);
      if (!isTornFragment(fragment)) return unchanged;

      if (fragment !== null && parseLedgerObject(fragment) !== null) {
        await handle.write(Buffer.from('\n'), 0, 1, size);
        await handle.datasync();
        return { repaired: true, removedBytes: 0, newlineAdded: true, backup: null };
      }

      const backup = await backupLedger(ledgerPath);
      await handle.truncate(completeEnd);
      await handle.sync();
      return { repaired: true, removedBytes: size - completeEnd, newlineAdded: false, backup };
    } finally {
      await handle.close();
    }
  });
}

// ---------------------------------------------------------------------------
// Streaming reader
// ---------------------------------------------------------------------------

export interface LedgerLine {
  /** 1-based; blank lines count. */
  lineNumber: number;
  /** The line without its "\n" (invalid UTF-8 shows as U+FFFD, see `validUtf8`). */
  text: string;
  /** False only for a last line that has no "\n" after it. */
  terminated: boolean;
  validUtf8: boolean;
}

export interface LedgerReadOptions {
  /** Size of the one reused read buffer; 1 MiB unless given. */
  chunkSize?: number;
  /** Called after each chunk. `totalBytes` is the size when reading began. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function decodeLine(bytes: Uint8Array): { text: string; validUtf8: boolean } {
  try {
    return { text: strictUtf8.decode(bytes), validUtf8: true };
  } catch {
    return { text: lenientUtf8.decode(bytes), validUtf8: false };
  }
}

/**
 * Every line of the ledger, first to last, including blank ones. Memory stays
 * at one chunk plus the longest line. Reads the file as it was when reading
 * began (see settledSize): bytes appended meanwhile are not seen. A missing
 * file throws `file-not-found` on the first iteration.
 */
export async function* openLedgerLines(ledgerPath: string, opts: LedgerReadOptions = {}): AsyncGenerator<LedgerLine> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    throw new BluxError('invalid-argument', `chunk size must be a positive integer, got ${chunkSize}`);
  }
  const handle = await openForReading(ledgerPath);
  try {
    const totalBytes = await settledSize(handle, ledgerPath);
    const chunk = Buffer.allocUnsafe(chunkSize);
    // The start of a line that spans chunks; grown by doubling, reused across lines.
    let carry: Buffer = Buffer.allocUnsafe(0);
    let carried = 0;
    let lineNumber = 0;
    let position = 0;

    while (position < totalBytes) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(chunk, 0, Math.min(chunkSize, totalBytes - position), position));
      } catch (e) {
        throw toInputError(e, ledgerPath);
      }
      if (bytesRead === 0) break; // truncated meanwhile: what was read is all there is
      position += bytesRead;
      const view = chunk.subarray(0, bytesRead);

      let lineStart = 0;
      for (let newline = view.indexOf(0x0a); newline !== -1; newline = view.indexOf(0x0a, lineStart)) {
        let bytes: Uint8Array = view.subarray(lineStart, newline);
        if (carried > 0) {
          carry = appendTo(carry, carried, bytes);
          bytes = carry.subarray(0, carried + bytes.length);
          carried = 0;
        }
        lineNumber++;
        yield { lineNumber, ...decodeLine(bytes), terminated: true };
        lineStart = newline + 1;
      }
      if (lineStart < view.length) {
        carry = appendTo(carry, carried, view.subarray(lineStart));
        carried += view.length - lineStart;
        if (carried > MAX_LINE_BYTES) {
          throw new BluxError('ledger-corrupt', `line ${lineNumber + 1} is longer than ${MAX_LINE_BYTES} bytes`, { file: ledgerPath });
        }
      }
      opts.onProgress?.(position, totalBytes);
    }
    if (carried > 0) {
      lineNumber++;
      yield { lineNumber, ...decodeLine(carry.subarray(0, carried)), terminated: false };
    }
  } finally {
    await handle.close();
  }
}

/**
 * The ledger's size once no append is in progress: taken under the shared
 * lock, which is released at once. Everything before it is whole lines (or a
 * crash's torn tail); bytes after it belong to appends that began later, and
 * the reader leaves them alone, so a long audit never holds writers up.
 */
async function settledSize(handle: FileHandle, ledgerPath: string): Promise<number> {
  return withSharedLock(ledgerLockPath(ledgerPath), async () => (await handle.stat()).size);
}

/** `buffer[0, used)` followed by `bytes`, reusing `buffer` when it has room. */
function appendTo(buffer: Buffer, used: number, bytes: Uint8Array): Buffer {
  const needed = used + bytes.length;
  let target: Buffer = buffer;
  if (needed > buffer.length) {
    target = Buffer.allocUnsafe(Math.max(needed, buffer.length * 2));
    buffer.copy(target, 0, 0, used);
  }
  target.set(bytes, used);
  return target;
}

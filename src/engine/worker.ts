/**
 * The engine's worker tasks, run on the threads of the engine pool (pool.ts).
 * Each task is a plain exported function; the pool picks one by name
 * (`hashFiles`, `verifyEd25519`). This module also defines the wire formats
 * those tasks speak, so the packing (main thread, parallel.ts) and the
 * unpacking (here) cannot drift apart.
 *
 * Data crosses threads as ArrayBuffers that are transferred, not copied;
 * the only shared memory is the small progress/cancel counter of a hashing
 * run. (sodium-native refuses views of a SharedArrayBuffer, so signature data
 * is never put in one.)
 *
 * Per thread there is one read buffer, reused by every file, and one backend
 * instance (getBackend caches it): memory is bounded by jobs x buffer size.
 */
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

import { BluxError } from '../errors.js';
import { getBackend } from './index.js';
import { describeFileError } from './file-errors.js';
import { alignedBuffer } from '../io/aligned-buffer.js';
import { nativeAddon, type NativeAddon } from '../native/addon.js';
import type { BackendName, Ed25519VerifyItem } from './types.js';
import type { RangeCheckReply, RangeCheckTask } from '../audit/range-check.js';
import type { MerkleCountTask } from '../transparency/worker-tasks.js';
import type { ManifestReading } from '../batch/manifest-reading.js';

type PiscinaExports = typeof import('piscina');
type SharedHashAddon = Pick<NativeAddon, 'sha256StreamBytes' | 'sha256StreamInit' | 'sha256StreamUpdate' | 'sha256StreamDigest'>;

let piscinaExports: PiscinaExports | undefined;

/**
 * piscina's `move` and symbols, loaded by a worker's first task: the main
 * thread imports this module too (for the wire formats) and should not load
 * piscina just for that (see pool.ts).
 */
function piscinaApi(): PiscinaExports {
  piscinaExports ??= createRequire(import.meta.url)('piscina') as PiscinaExports;
  return piscinaExports;
}

const SHA256_LENGTH = 32;
const PUBLIC_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;
const FLOAT64_BYTES = 8;

/** Worker task that does nothing: running it makes the pool start a thread (see prestartEnginePool). */
export function ping(): number {
  return 0;
}

// ---------------------------------------------------------------------------
// Hashing: progress and cancellation shared with the main thread
// ---------------------------------------------------------------------------

/** Cells of the shared control array of one hashing run. */
export const HashControlCell = {
  /** Bytes read and hashed so far, across all workers (byte-granular progress). */
  bytesDone: 0,
  /** Files finished so far, failed ones included. */
  filesDone: 1,
  /** Non-zero once the run is cancelled: workers stop at their next chunk. */
  cancelled: 2,
} as const;
const HASH_CONTROL_CELLS = 3;

/**
 * BigInt64 cells because Atomics works only on integer arrays, and a byte
 * count passes 2^32 on big trees.
 */
export function createHashControl(): BigInt64Array {
  return new BigInt64Array(new SharedArrayBuffer(HASH_CONTROL_CELLS * BigInt64Array.BYTES_PER_ELEMENT));
}

export interface HashFilesTask {
  paths: readonly string[];
  backend: BackendName;
  bufferSize: number;
  /** From createHashControl(); posting it shares the memory, it is not copied. */
  control: BigInt64Array;
}

export type FileFailureCode = 'file-not-found' | 'file-unreadable';

export interface FileFailure {
  /** Index into the task's `paths`. */
  index: number;
  code: FileFailureCode;
  message: string;
}

/**
 * One reply per task: for file i, its digest at bytes [32 i, 32 i + 32) of
 * `packed` and its size at Float64 index i after the digests (offset 32 n is a
 * multiple of 8). A failed file's slots are left zero; it is in `failures`.
 */
export interface HashFilesReply {
  packed: ArrayBuffer;
  failures: FileFailure[];
}

export interface HashedFile {
  sha256: string;
  size: number;
}

/** Reads file i of a reply (not a failed one). */
export function hashedFileAt(reply: HashFilesReply, fileCount: number, index: number): HashedFile {
  const digest = new Uint8Array(reply.packed, index * SHA256_LENGTH, SHA256_LENGTH);
  const sizes = new Float64Array(reply.packed, fileCount * SHA256_LENGTH, fileCount);
  return { sha256: Buffer.from(digest).toString('hex'), size: sizes[index]! };
}

/** Thrown inside a worker when the run was cancelled; the main thread has stopped listening. */
class HashRunCancelled extends Error {
  constructor() {
    super('hashing cancelled');
    this.name = 'HashRunCancelled';
  }
}

/** Same wording as the engine's sha256File (file-errors.ts), so a file error reads alike on both paths. */
function failureOf(index: number, error: unknown): FileFailure {
  return { index, ...describeFileError(error) };
}

/** The thread's read buffers: one per file being hashed at once (hashFilesTwoAtATime uses two). */
const readBuffers: Array<Buffer | undefined> = [];

/** Read buffer `lane` of this thread, replaced only when a run asks for another size. */
export function readBufferOfSize(size: number, lane = 0): Buffer {
  let buffer = readBuffers[lane];
  if (buffer?.length !== size) readBuffers[lane] = buffer = alignedBuffer(size);
  return buffer;
}

/**
 * Hashes one open file front to back. Synchronous reads on purpose: this
 * thread has nothing else to do, and a blocking read skips the libuv
 * thread-pool hop and the promise per chunk that async reads cost.
 */
function hashOpenFile(fd: number, task: HashFilesTask, buffer: Buffer): { digest: Uint8Array; size: number } {
  const { control } = task;
  const hasher = getBackend(task.backend).createSha256();
  let size = 0;
  for (;;) {
    if (Atomics.load(control, HashControlCell.cancelled) !== 0n) throw new HashRunCancelled();
    const bytesRead = readSync(fd, buffer, 0, buffer.length, size);
    if (bytesRead === 0) break;
    hasher.update(buffer.subarray(0, bytesRead));
    size += bytesRead;
    Atomics.add(control, HashControlCell.bytesDone, BigInt(bytesRead));
  }
  return { digest: hasher.digest(), size };
}

/** Where a task's digests, sizes and failures go. */
interface HashFilesOutput {
  digests: Uint8Array;
  sizes: Float64Array;
  failures: FileFailure[];
}

/** One file being hashed by a lane of hashFilesTwoAtATime. */
interface HashLane {
  /** The task's index of the file, or -1 when the lane has no file left. */
  index: number;
  fd: number;
  size: number;
  readonly state: Uint8Array;
  readonly buffer: Buffer;
}

/**
 * The files of a task two at a time on this one thread: each lane reads its
 * file front to back into its own buffer, and both buffers go to the addon
 * in one call, which interleaves the two SHA-256 streams (the x86 SHA
 * extensions: one stream runs at the latency of its round instructions, two
 * nearly twice as fast). A lane whose file ends takes the task's next file.
 * Same results and failures as hashing one file at a time.
 */
function hashFilesTwoAtATime(task: HashFilesTask, addon: SharedHashAddon, output: HashFilesOutput): void {
  const { paths, control } = task;
  const lanes: HashLane[] = [readBufferOfSize(task.bufferSize, 0), readBufferOfSize(task.bufferSize, 1)].map((buffer) => ({
    index: -1, fd: -1, size: 0, state: new Uint8Array(addon.sha256StreamBytes), buffer,
  }));
  let next = 0;
  const fileDone = (): void => void Atomics.add(control, HashControlCell.filesDone, 1n);
  const close = (lane: HashLane): void => {
    if (lane.fd !== -1) closeSync(lane.fd);
    lane.fd = -1;
    lane.index = -1;
  };
  /** The lane's next file, or none left; a file that cannot be opened is a failure and the next one is tried. */
  const takeNextFile = (lane: HashLane): void => {
    close(lane);
    while (next < paths.length) {
      const index = next++;
      try {
        lane.fd = openSync(paths[index]!, 'r');
        lane.index = index;
        lane.size = 0;
        addon.sha256StreamInit(lane.state);
        return;
      } catch (error) {
        output.failures.push(failureOf(index, error));
        fileDone();
      }
    }
  };
  /** The next piece of the lane's file into its buffer (0: no file left); a finished or failed file is settled on the way. */
  const fill = (lane: HashLane): number => {
    while (lane.index !== -1) {
      let bytesRead: number;
      try {
        // Opening a directory succeeds on Linux; the first read fails (EISDIR).
        bytesRead = readSync(lane.fd, lane.buffer, 0, lane.buffer.length, lane.size);
      } catch (error) {
        output.failures.push(failureOf(lane.index, error));
        fileDone();
        takeNextFile(lane);
        continue;
      }
      if (bytesRead > 0) return bytesRead;
      addon.sha256StreamDigest(lane.state, output.digests.subarray(lane.index * SHA256_LENGTH, (lane.index + 1) * SHA256_LENGTH));
      output.sizes[lane.index] = lane.size;
      fileDone();
      takeNextFile(lane);
    }
    return 0;
  };

  try {
    for (const lane of lanes) takeNextFile(lane);
    const [a, b] = lanes as [HashLane, HashLane];
    for (;;) {
      if (Atomics.load(control, HashControlCell.cancelled) !== 0n) throw new HashRunCancelled();
      const filledA = fill(a);
      const filledB = fill(b);
      if (filledA === 0 && filledB === 0) break;
      if (filledA > 0 && filledB > 0) addon.sha256StreamUpdate(a.state, a.buffer.subarray(0, filledA), b.state, b.buffer.subarray(0, filledB));
      else if (filledA > 0) addon.sha256StreamUpdate(a.state, a.buffer.subarray(0, filledA));
      else addon.sha256StreamUpdate(b.state, b.buffer.subarray(0, filledB));
      a.size += filledA;
      b.size += filledB;
      Atomics.add(control, HashControlCell.bytesDone, BigInt(filledA + filledB));
    }
  } finally {
    for (const lane of lanes) close(lane);
  }
}

/**
 * The addon's file hashing, when `backend` may use it: native or auto, on a
 * CPU with the SHA extensions. The main thread asks too, to plan the tasks
 * (parallel.ts pairs big files when the workers hash two at a time).
 */
export function twoFileHasher(backend: BackendName): SharedHashAddon | null {
  if (backend !== 'native' && backend !== 'auto') return null;
  const addon = nativeAddon();
  return addon !== null && addon.hashImplementation() === 'sha-ni' ? addon : null;
}

/** Worker task: SHA-256 of whole files. A file that cannot be read is a failure entry, never an exception. */
export function hashFiles(task: HashFilesTask): unknown {
  const count = task.paths.length;
  const packed = new ArrayBuffer(count * (SHA256_LENGTH + FLOAT64_BYTES));
  const digests = new Uint8Array(packed, 0, count * SHA256_LENGTH);
  const sizes = new Float64Array(packed, count * SHA256_LENGTH, count);
  const failures: FileFailure[] = [];
  const buffer = readBufferOfSize(task.bufferSize);

  const addon = count >= 2 ? twoFileHasher(task.backend) : null;
  if (addon !== null) hashFilesTwoAtATime(task, addon, { digests, sizes, failures });
  else task.paths.forEach((path, index) => {
    try {
      const fd = openSync(path, 'r');
      try {
        // Opening a directory succeeds on Linux; the first read fails (EISDIR).
        const { digest, size } = hashOpenFile(fd, task, buffer);
        digests.set(digest, index * SHA256_LENGTH);
        sizes[index] = size;
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if (error instanceof HashRunCancelled) throw error;
      failures.push(failureOf(index, error));
    }
    Atomics.add(task.control, HashControlCell.filesDone, 1n);
  });

  const reply: HashFilesReply = { packed, failures };
  // Transfer `packed` back instead of cloning it; the failures list is small and cloned.
  const api = piscinaApi();
  return api.move({ [api.transferableSymbol]: packed, [api.valueSymbol]: reply });
}

// ---------------------------------------------------------------------------
// Ed25519: one packed ArrayBuffer per batch
// ---------------------------------------------------------------------------

/**
 * Batch layout, n items:
 *   Float64 [n, offset_0, ..., offset_n]   message i is bytes [offset_i, offset_i+1) of the message area
 *   n x 32 bytes public keys
 *   n x 64 bytes signatures
 *   message area
 * Float64 first, so the header is aligned at offset 0 and offsets have no 4 GiB limit.
 */
function batchRegions(count: number): { keysAt: number; signaturesAt: number; messagesAt: number } {
  const keysAt = (count + 2) * FLOAT64_BYTES;
  const signaturesAt = keysAt + count * PUBLIC_KEY_LENGTH;
  const messagesAt = signaturesAt + count * SIGNATURE_LENGTH;
  return { keysAt, signaturesAt, messagesAt };
}

/**
 * Packs items whose key and signature lengths are right (the caller screens
 * the rest out: they are a `false` verdict in every backend): all of `items`,
 * or the ones at `indexes`, in that order. One copy of each byte, straight
 * into the buffer that is then transferred to a worker; no list of the
 * batch's items is built first. Plain loops: this runs on the main thread,
 * whose every microsecond is taken from a worker when the workers fill all
 * cores.
 */
export function packEd25519Batch(items: readonly Ed25519VerifyItem[], indexes?: readonly number[]): ArrayBuffer {
  const count = indexes === undefined ? items.length : indexes.length;
  const itemAt = (i: number): Ed25519VerifyItem => items[indexes === undefined ? i : indexes[i]!]!;
  let messageBytes = 0;
  for (let i = 0; i < count; i++) messageBytes += itemAt(i).message.length;
  const { keysAt, signaturesAt, messagesAt } = batchRegions(count);
  const batch = new ArrayBuffer(messagesAt + messageBytes);
  const header = new Float64Array(batch, 0, count + 2);
  const bytes = new Uint8Array(batch);

  header[0] = count;
  let messageOffset = 0;
  for (let i = 0; i < count; i++) {
    const item = itemAt(i);
    if (item.publicKey.length !== PUBLIC_KEY_LENGTH || item.signature.length !== SIGNATURE_LENGTH) {
      throw new BluxError('internal', 'packEd25519Batch got an item with a wrong key or signature length');
    }
    bytes.set(item.publicKey, keysAt + i * PUBLIC_KEY_LENGTH);
    bytes.set(item.signature, signaturesAt + i * SIGNATURE_LENGTH);
    header[1 + i] = messageOffset;
    bytes.set(item.message, messagesAt + messageOffset);
    messageOffset += item.message.length;
  }
  header[1 + count] = messageOffset;
  return batch;
}

/** Views into the batch, no copies. */
export function unpackEd25519Batch(batch: ArrayBuffer): Ed25519VerifyItem[] {
  const count = new Float64Array(batch, 0, 1)[0]!;
  const header = new Float64Array(batch, 0, count + 2);
  const { keysAt, signaturesAt, messagesAt } = batchRegions(count);
  const items: Ed25519VerifyItem[] = [];
  for (let i = 0; i < count; i++) {
    items.push({
      publicKey: new Uint8Array(batch, keysAt + i * PUBLIC_KEY_LENGTH, PUBLIC_KEY_LENGTH),
      signature: new Uint8Array(batch, signaturesAt + i * SIGNATURE_LENGTH, SIGNATURE_LENGTH),
      message: new Uint8Array(batch, messagesAt + header[1 + i]!, header[2 + i]! - header[1 + i]!),
    });
  }
  return items;
}

/**
 * The items a worker hands to its backend, kept from one batch to the next.
 *
 * Unpacking a batch makes an object and three views per signature, and they
 * live as long as the batch is verified: in a batch of thousands, the
 * young-generation collections that run meanwhile copy and promote them, and
 * the old generation then needs marking, on V8's helper threads. With 2
 * workers on 2 cores, those helpers take their time from the workers (with
 * one worker they had a core to themselves). Reusing the items across batches
 * (a per-thread arena, one copy of the batch's bytes into it) cut the helper
 * threads' CPU from 1.08-1.14 to 0.49-0.72 us per signature, wasm batches of
 * 16,384 with 16 keys, alternating in one run at load ~3.7.
 *
 * Layout by capacity, not by count, so an item's key and signature views
 * stay valid whatever the next batch's size: keys at [0, 32 C), signatures at
 * [32 C, 96 C), messages from 96 C. A message view is replaced only when its
 * place or length changed.
 */
interface ItemArena {
  /** Items it holds at most (C). */
  readonly capacity: number;
  /** Bytes of messages it holds at most. */
  readonly messageCapacity: number;
  readonly bytes: Uint8Array;
  /** `capacity` items over `bytes`; the first `count` are the current batch. */
  readonly items: Ed25519VerifyItem[];
}

/** Batches larger than this are unpacked in place: an arena that big would stay allocated for the thread's life. */
const MAX_ARENA_BYTES = 8 * 1024 * 1024;
const ARENA_ITEM_BYTES = PUBLIC_KEY_LENGTH + SIGNATURE_LENGTH;

let itemArena: ItemArena | undefined;
/** True while a backend call reads the arena: a second task then unpacks in place instead. */
let itemArenaInUse = false;

function powerOfTwoAtLeast(value: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, value)));
}

/** The thread's arena, replaced by a larger one when `count` items or `messageBytes` do not fit. */
function itemArenaFor(count: number, messageBytes: number): ItemArena {
  if (itemArena !== undefined && itemArena.capacity >= count && itemArena.messageCapacity >= messageBytes) return itemArena;
  const capacity = powerOfTwoAtLeast(Math.max(count, itemArena?.capacity ?? 0));
  const messageCapacity = powerOfTwoAtLeast(Math.max(messageBytes, itemArena?.messageCapacity ?? 0));
  const buffer = new ArrayBuffer(capacity * ARENA_ITEM_BYTES + messageCapacity);
  const messagesAt = capacity * ARENA_ITEM_BYTES;
  const items = Array.from({ length: capacity }, (_, i) => ({
    publicKey: new Uint8Array(buffer, i * PUBLIC_KEY_LENGTH, PUBLIC_KEY_LENGTH),
    signature: new Uint8Array(buffer, capacity * PUBLIC_KEY_LENGTH + i * SIGNATURE_LENGTH, SIGNATURE_LENGTH),
    message: new Uint8Array(buffer, messagesAt, 0),
  }));
  itemArena = { capacity, messageCapacity, bytes: new Uint8Array(buffer), items };
  return itemArena;
}

/**
 * The items of a packed batch (equal to unpackEd25519Batch's), as views into
 * this thread's arena: the batch's bytes are copied in (three copies of whole
 * regions) and the views of the previous batch are reused. Valid until the
 * next call; backends keep nothing of the items after they return.
 */
export function unpackEd25519BatchIntoArena(batch: ArrayBuffer): Ed25519VerifyItem[] {
  const count = new Float64Array(batch, 0, 1)[0]!;
  const header = new Float64Array(batch, 0, count + 2);
  const { keysAt, signaturesAt, messagesAt } = batchRegions(count);
  const messageBytes = header[1 + count]!;
  const arena = itemArenaFor(count, messageBytes);
  const source = new Uint8Array(batch);
  const arenaMessagesAt = arena.capacity * ARENA_ITEM_BYTES;
  arena.bytes.set(source.subarray(keysAt, signaturesAt), 0);
  arena.bytes.set(source.subarray(signaturesAt, messagesAt), arena.capacity * PUBLIC_KEY_LENGTH);
  arena.bytes.set(source.subarray(messagesAt, messagesAt + messageBytes), arenaMessagesAt);
  for (let i = 0; i < count; i++) {
    const item = arena.items[i]!;
    const offset = arenaMessagesAt + header[1 + i]!;
    const length = header[2 + i]! - header[1 + i]!;
    if (item.message.byteOffset !== offset || item.message.length !== length) {
      item.message = new Uint8Array(arena.bytes.buffer, offset, length);
    }
  }
  return count === arena.capacity ? arena.items : arena.items.slice(0, count);
}

export interface VerifyEd25519Task {
  /** From packEd25519Batch; in the transfer list. */
  batch: ArrayBuffer;
  backend: BackendName;
}

/** Worker task: one verdict byte (1 valid, 0 not) per item, transferred back. */
export async function verifyEd25519(task: VerifyEd25519Task): Promise<unknown> {
  const backend = getBackend(task.backend);
  let verdicts: boolean[];
  // Every backend verifies synchronously today, so two tasks never overlap in
  // a thread; should one ever await, the second task must not overwrite the
  // arena under it.
  if (itemArenaInUse || task.batch.byteLength > MAX_ARENA_BYTES) {
    verdicts = await backend.verifyEd25519Batch(unpackEd25519Batch(task.batch));
  } else {
    itemArenaInUse = true;
    try {
      verdicts = await backend.verifyEd25519Batch(unpackEd25519BatchIntoArena(task.batch));
    } finally {
      itemArenaInUse = false;
    }
  }
  return piscinaApi().move(Uint8Array.from(verdicts, (valid) => (valid ? 1 : 0)));
}

// ---------------------------------------------------------------------------
// Tasks of other modules: loaded by their first task, not when the thread starts
// ---------------------------------------------------------------------------

// Static re-exports made every thread load the ledger audit and the Merkle
// code at start-up, also the threads verify-batch starts for hashing only: the
// worker's module graph went from ~18 to ~30 ms. A dynamic import costs one
// resolved promise per task after the first (tasks are megabyte ranges).

/** The range checks of this thread, one after another (see auditLedgerRange). */
let rangesBefore: Promise<unknown> = Promise.resolve();

/**
 * Worker task: the ledger audit of one line-aligned byte range
 * (audit/range-check.ts). Ranges wait in this thread's queue (pool.ts lets
 * them), and piscina starts a waiting task as soon as the running one awaits:
 * run at once, two or three checks would take turns chunk by chunk, each with
 * its own scratch (a read buffer, line columns and a name table) that the
 * thread keeps or drops afterwards: on a 10M-entry ledger that was 137 MB
 * peak RSS with 2 jobs against 63 MB with 1. So each starts when the one
 * before has ended.
 */
export async function auditLedgerRange(task: RangeCheckTask): Promise<RangeCheckReply> {
  const turn = rangesBefore.then(async () => (await import('../audit/range-check.js')).checkLedgerRange(task));
  rangesBefore = turn.catch(() => undefined);
  return turn;
}

/** Worker task: readies this thread for ledger range checks (audit/prestart.ts); returns 0. */
export async function warmLedgerAudit(chunkSize: number): Promise<number> {
  (await import('../audit/range-check.js')).prepareRangeChecks(chunkSize);
  return 0;
}

/** Worker task: reads and checks verify-batch's manifests, in order (batch/manifest-reading.ts). */
export async function readManifests(files: string[]): Promise<ManifestReading[]> {
  return (await import('../batch/manifest-reading.js')).readManifestFiles(files);
}

/** Worker task: the lines of a byte range of a ledger (transparency/worker-tasks.ts). */
export async function merkleCountLines(task: MerkleCountTask): Promise<number> {
  return (await import('../transparency/worker-tasks.js')).merkleCountLines(task);
}

export { merkleLeafHashes, merkleRangeOfLeafHashes } from '../transparency/worker-entry.js';

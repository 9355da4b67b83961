/**
 * Parallel engine calls: many files hashed, many signatures verified, on all
 * cores through the engine pool (pool.ts, tasks in worker.ts). Same backends,
 * same verdicts as the in-thread engine calls; only where the work runs differs.
 */
import { resolveBackendName } from './backend-name.js';
import { getBackend } from './index.js';
import { AUTO_WASM_MIN_BATCH } from './backends/auto.js';
import { checkJobs, defaultJobs, getEnginePool, isEnginePoolWarm } from './pool.js';
import { ed25519ShapeFailure } from './precheck.js';
import type { BackendName, Ed25519VerifyItem } from './types.js';
import {
  createHashControl,
  HashControlCell,
  hashedFileAt,
  packEd25519Batch,
  twoFileHasher,
  type HashFilesReply,
  type HashFilesTask,
  type VerifyEd25519Task,
} from './worker.js';
import { BluxError } from '../errors.js';

/** Stops the engine's worker threads; optional, the pool never keeps the process alive. */
export { closeEnginePool } from './pool.js';

export interface FileToHash {
  path: string;
  /** From stat: used to schedule (big files first) only; the result has the size actually read. */
  size: number;
}

export type FileHashResult =
  | { path: string; ok: true; sha256: string; size: number }
  | { path: string; ok: false; code: 'file-not-found' | 'file-unreadable'; message: string };

export interface ParallelOptions {
  backend?: BackendName | string;
  /** Threads to use; `os.availableParallelism()` unless given. */
  jobs?: number;
  /** Size of each worker's one read buffer; 1 MiB unless given. */
  bufferSize?: number;
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface HashProgress {
  /** Bytes hashed so far, counted while files are read (not only when they finish). */
  bytesDone: number;
  filesDone: number;
}

export interface ParallelHashOptions extends ParallelOptions {
  /** Called every PROGRESS_INTERVAL_MS while something changed, and once at the end. */
  onProgress?: (progress: HashProgress) => void;
}

const MIB = 1024 * 1024;
/**
 * Each worker's read buffer. 1 MiB hashes ~7-10 % faster than 4 MiB here
 * (it stays in the core's L2 between the read and the hash): 2.80 vs 2.54 GB/s
 * on 2 workers, 1.51 vs 1.41 GB/s on one (warm cache, 2.5 GiB tree).
 */
const DEFAULT_BUFFER_SIZE = MIB;

/**
 * Small files go to workers in groups, so the fixed cost of a task (a message
 * each way) stays small next to hashing 1-16 KiB files. A file of
 * MAX_TASK_BYTES or more is always a task by itself, and never split: its
 * result is the plain SHA-256 of the whole file.
 */
const MAX_TASK_BYTES = 8 * MIB;
const MAX_TASK_FILES = 256;
/** Enough tasks per worker that they finish near together even when file sizes vary. */
const TASKS_PER_WORKER = 4;
/** Tasks handed to the pool ahead of the results: each worker has its next task queued, no more. */
const TASKS_IN_FLIGHT_PER_WORKER = 2;
const PROGRESS_INTERVAL_MS = 100;

/**
 * How signature checks are cut into worker batches depends on how the
 * backend verifies:
 * - one signature at a time (native, js): the cost is per item, so a worker
 *   batch may be small;
 * - a whole batch as one multi-scalar multiplication (wasm, and auto from
 *   AUTO_WASM_MIN_BATCH signatures): a worker batch is never cut below that
 *   size, where auto would go back to one at a time and wasm loses its edge.
 * Either way batches stay at most MAX_VERIFY_BATCH_ITEMS, several per worker
 * (wasm itself got slower per item on single batches much larger than that:
 * 50,000 signatures with distinct keys, 2 workers: ~40k/s in 4,096-item
 * batches, ~24k/s in 16,384-item ones).
 *
 * A call goes to the pool only when it makes at least two worker batches
 * and, when no thread is running yet, when it is big enough to pay for
 * starting them (~100 ms on 2 cores). Measured with bench/pool.mjs and
 * ad-hoc runs, 2 cores, 100-byte messages:
 * - native, threads running: 64 items take 4 ms against 5.5 ms in-thread;
 * - native, threads started by the call: 2,048 items 171 ms against 120 ms
 *   in-thread, 4,096 items 237 ms against 254 ms;
 * - auto (wasm), distinct keys, threads started by the call: 8,192 items
 *   419 ms against 369 ms in-thread, 16,384 items 705 ms against 844 ms.
 */
interface VerifySizing {
  /** Smallest worker batch. */
  readonly minBatch: number;
  /** With no thread running, smaller calls stay in this thread. */
  readonly coldPoolFrom: number;
}

const ONE_AT_A_TIME: VerifySizing = { minBatch: 32, coldPoolFrom: 2048 };
const WHOLE_BATCH: VerifySizing = { minBatch: AUTO_WASM_MIN_BATCH, coldPoolFrom: 16_384 };
const MAX_VERIFY_BATCH_ITEMS = 4096;
const VERIFY_BATCHES_PER_WORKER = 4;

function verifySizing(backend: BackendName): VerifySizing {
  return backend === 'wasm' || backend === 'auto' ? WHOLE_BATCH : ONE_AT_A_TIME;
}

/** Keeps a batch buffer bounded when messages are large. */
const MAX_VERIFY_BATCH_MESSAGE_BYTES = 16 * MIB;

function checkBufferSize(bufferSize: number): void {
  if (!Number.isSafeInteger(bufferSize) || bufferSize <= 0) {
    throw new BluxError('invalid-argument', `bufferSize must be a positive integer, got ${bufferSize}`);
  }
}

/** Scheduling only: a missing or odd size counts as 0 rather than breaking the sort. */
function schedulingSize(file: FileToHash): number {
  return Number.isFinite(file.size) && file.size > 0 ? file.size : 0;
}

/**
 * Groups files into tasks, biggest first: the long tasks start early and the
 * run ends on small ones, instead of one core hashing a big file alone at the end.
 * With `bigFilesInPairs` (the worker hashes two files at a time, worker.ts's
 * hashFilesTwoAtATime) a big file shares its task with the next one, of
 * about its size: alone, it would hash at half the speed.
 */
export function planHashTasks(files: readonly FileToHash[], jobs: number, bigFilesInPairs = false): FileToHash[][] {
  const bySizeDescending = [...files].sort((a, b) => schedulingSize(b) - schedulingSize(a));
  const filesPerTask = Math.min(MAX_TASK_FILES, Math.max(bigFilesInPairs ? 2 : 1, Math.ceil(files.length / (jobs * TASKS_PER_WORKER))));
  const taskBytes = bigFilesInPairs ? 2 * MAX_TASK_BYTES : MAX_TASK_BYTES;
  const tasks: FileToHash[][] = [];
  let current: FileToHash[] = [];
  let currentBytes = 0;
  for (const file of bySizeDescending) {
    const size = schedulingSize(file);
    const pairs = bigFilesInPairs && current.length === 1 && currentBytes >= MAX_TASK_BYTES;
    if (current.length > 0 && !pairs && (current.length >= filesPerTask || currentBytes + size > taskBytes)) {
      tasks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(file);
    currentBytes += size;
  }
  if (current.length > 0) tasks.push(current);
  return tasks;
}

/** A worker that threw or died: not something the caller did, so an internal error naming the cause. */
function workerFailure(cause: unknown): BluxError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new BluxError('internal', `engine worker failed: ${reason}`, { cause });
}

/** A promise that rejects with the signal's reason when it aborts; `dispose` removes the listener. */
function abortRejection(signal: AbortSignal | undefined): { promise: Promise<never>; dispose: () => void } {
  if (signal === undefined) return { promise: new Promise<never>(() => undefined), dispose: () => undefined };
  let onAbort = (): void => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  // Nobody may be racing it when it fires; that is not an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * Starts `run` on the inputs, at most `window` at a time, and yields each
 * output as soon as it is ready (not in input order).
 */
async function* settleWindowed<I, O>(
  inputs: readonly I[],
  window: number,
  run: (input: I) => Promise<O>,
  stop: Promise<never>,
): AsyncGenerator<{ input: I; output: O }> {
  const running = new Map<number, Promise<[number, O]>>();
  let next = 0;
  const launch = (): void => {
    const index = next++;
    const settled = run(inputs[index]!).then((output): [number, O] => [index, output]);
    // If the caller stops early, later failures have no listener; they are expected then.
    settled.catch(() => undefined);
    running.set(index, settled);
  };
  while (next < inputs.length && running.size < window) launch();
  while (running.size > 0) {
    const [index, output] = await Promise.race([...running.values(), stop]);
    running.delete(index);
    if (next < inputs.length) launch();
    yield { input: inputs[index]!, output };
  }
}

/** Polls the shared counters on an interval; the timer never keeps the process alive. */
function pollProgress(control: BigInt64Array, onProgress: ((progress: HashProgress) => void) | undefined) {
  let reportedBytes = -1;
  let reportedFiles = -1;
  const report = (): void => {
    const bytesDone = Number(Atomics.load(control, HashControlCell.bytesDone));
    const filesDone = Number(Atomics.load(control, HashControlCell.filesDone));
    if (bytesDone === reportedBytes && filesDone === reportedFiles) return;
    reportedBytes = bytesDone;
    reportedFiles = filesDone;
    onProgress?.({ bytesDone, filesDone });
  };
  const timer = onProgress === undefined ? undefined : setInterval(report, PROGRESS_INTERVAL_MS).unref();
  return {
    /** Last report, with the final counts. */
    finish: report,
    stop: () => clearInterval(timer),
  };
}

function resultsOfTask(files: readonly FileToHash[], reply: HashFilesReply): FileHashResult[] {
  const failures = new Map(reply.failures.map((failure) => [failure.index, failure]));
  return files.map((file, index): FileHashResult => {
    const failure = failures.get(index);
    if (failure !== undefined) return { path: file.path, ok: false, code: failure.code, message: failure.message };
    return { path: file.path, ok: true, ...hashedFileAt(reply, files.length, index) };
  });
}

async function* hashInPool(
  files: readonly FileToHash[],
  opts: { backend: BackendName; jobs: number; bufferSize: number; signal: AbortSignal | undefined },
  onProgress: ((progress: HashProgress) => void) | undefined,
): AsyncGenerator<FileHashResult> {
  opts.signal?.throwIfAborted();
  const control = createHashControl();
  const progress = pollProgress(control, onProgress);
  const aborted = abortRejection(opts.signal);
  try {
    if (files.length > 0) {
      const pool = getEnginePool(opts.jobs);
      const runTask = (paths: FileToHash[]): Promise<HashFilesReply> => {
        const task: HashFilesTask = {
          paths: paths.map((file) => file.path),
          backend: opts.backend,
          bufferSize: opts.bufferSize,
          control,
        };
        return (pool.run(task, { name: 'hashFiles' }) as Promise<HashFilesReply>).catch((cause: unknown) => {
          throw workerFailure(cause);
        });
      };
      const tasks = planHashTasks(files, opts.jobs, twoFileHasher(opts.backend) !== null);
      const window = opts.jobs * TASKS_IN_FLIGHT_PER_WORKER;
      for await (const { input, output } of settleWindowed(tasks, window, runTask, aborted.promise)) {
        yield* resultsOfTask(input, output);
      }
    }
    progress.finish();
  } finally {
    // Reached also when the caller stops iterating or the run fails: tasks
    // still running stop at their next chunk instead of hashing for nobody.
    Atomics.store(control, HashControlCell.cancelled, 1n);
    progress.stop();
    aborted.dispose();
  }
}

/**
 * SHA-256 of many files on all cores. Results come as they complete, in any
 * order, one per file: a missing or unreadable file is an `ok: false` result,
 * never an exception, and the others go on.
 */
export function sha256Files(
  files: readonly FileToHash[],
  opts: ParallelHashOptions = {},
): AsyncIterable<FileHashResult> {
  // Checked now, so a bad option throws at the call, not at the first iteration.
  const backend = resolveBackendName(opts.backend);
  const jobs = opts.jobs ?? defaultJobs();
  checkJobs(jobs);
  const bufferSize = opts.bufferSize ?? DEFAULT_BUFFER_SIZE;
  checkBufferSize(bufferSize);
  return hashInPool(files, { backend, jobs, bufferSize, signal: opts.signal }, opts.onProgress);
}

/**
 * How many worker batches `count` checks make: several per worker, each of
 * `minBatch` to MAX_VERIFY_BATCH_ITEMS items. 0 or 1 means
 * the pool would not run anything side by side.
 */
function verifyBatchCount(count: number, jobs: number, sizing: VerifySizing): number {
  const wanted = Math.min(jobs * VERIFY_BATCHES_PER_WORKER, Math.floor(count / sizing.minBatch));
  return Math.max(wanted, Math.ceil(count / MAX_VERIFY_BATCH_ITEMS));
}

/**
 * Indexes of the items with the right types and lengths. The others are
 * `false` in every backend (the shared pre-check runs first); deciding them
 * here keeps the packed layout fixed-size. Nothing is allocated per item:
 * this runs on the main thread, which shares the cores with the workers.
 */
function packableIndexes(items: readonly Ed25519VerifyItem[]): number[] {
  const packable: number[] = [];
  for (let index = 0; index < items.length; index++) {
    if (ed25519ShapeFailure(items[index]!) === undefined) packable.push(index);
  }
  return packable;
}

/** Item indexes in `batchCount` batches of near-equal size, also bounded in message bytes. */
function planVerifyBatches(items: readonly Ed25519VerifyItem[], indexes: readonly number[], batchCount: number): number[][] {
  const itemsPerBatch = Math.ceil(indexes.length / Math.max(1, batchCount));
  const batches: number[][] = [];
  let current: number[] = [];
  let currentBytes = 0;
  for (const index of indexes) {
    const messageBytes = items[index]!.message.length;
    if (
      current.length > 0 &&
      (current.length >= itemsPerBatch || currentBytes + messageBytes > MAX_VERIFY_BATCH_MESSAGE_BYTES)
    ) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(index);
    currentBytes += messageBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * One verdict per item, in order, equal to `verifyEd25519Batch` on the same
 * backend. Large batches are split over the pool's workers; small ones run
 * in this thread.
 */
export async function verifyEd25519Parallel(
  items: readonly Ed25519VerifyItem[],
  opts: ParallelOptions = {},
): Promise<boolean[]> {
  const backend = resolveBackendName(opts.backend);
  const jobs = opts.jobs ?? defaultJobs();
  checkJobs(jobs);
  const { signal } = opts;
  signal?.throwIfAborted();
  const packable = packableIndexes(items);
  const sizing = verifySizing(backend);
  const batchCount = verifyBatchCount(packable.length, jobs, sizing);
  const poolPays = batchCount >= 2 && (isEnginePoolWarm(jobs) || packable.length >= sizing.coldPoolFrom);
  if (!poolPays) {
    const verdicts = await getBackend(backend).verifyEd25519Batch(items);
    // The checks ran to the end in one go; an abort meanwhile still rejects, as on the pool.
    signal?.throwIfAborted();
    return verdicts;
  }

  const verdicts = new Array<boolean>(items.length).fill(false);
  const pool = getEnginePool(jobs);
  const verifyBatch = async (indexes: readonly number[]): Promise<Uint8Array> => {
    // Packed when the window lets the batch start, so only the batches in flight are in memory.
    const batch = packEd25519Batch(items, indexes);
    const task: VerifyEd25519Task = { batch, backend };
    try {
      return (await pool.run(task, { name: 'verifyEd25519', transferList: [batch] })) as Uint8Array;
    } catch (cause) {
      throw workerFailure(cause);
    }
  };

  // The signal is not given to piscina, which would stop the thread running a
  // batch (and start a new one later), and would keep a worker from taking a
  // second batch into its queue (pool.ts). An abort rejects at once instead;
  // batches already handed to a worker (running, or queued behind the one
  // running) finish on their own and are dropped, and no new one starts.
  // closeEnginePool waits for them (see pool.ts).
  const aborted = abortRejection(signal);
  try {
    const batches = planVerifyBatches(items, packable, batchCount);
    const window = jobs * TASKS_IN_FLIGHT_PER_WORKER;
    for await (const { input, output } of settleWindowed(batches, window, verifyBatch, aborted.promise)) {
      for (let k = 0; k < input.length; k++) verdicts[input[k]!] = output[k] === 1;
    }
  } finally {
    aborted.dispose();
  }
  return verdicts;
}

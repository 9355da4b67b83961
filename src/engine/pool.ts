/**
 * The engine's worker pool: one piscina pool of `jobs` threads, shared by
 * every parallel engine call (see parallel.ts), created on first use.
 *
 * Lifetime: the pool never keeps the process alive. piscina unrefs a worker
 * whenever it has no task, and its idle-timeout timers are unref'd too, so a
 * script that used the pool exits by itself; `closeEnginePool()` is for
 * callers who want the threads gone now (tests, long-running hosts).
 * Workers that sit idle for `IDLE_TIMEOUT_MS` are stopped (minThreads is 0),
 * so a host that hashed once does not keep `jobs` threads and their read
 * buffers around forever; the next call starts them again.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

import { Piscina } from 'piscina';

import { BluxError } from '../errors.js';

/** Long enough that back-to-back calls (a CLI run, a batch job) reuse warm threads. */
const IDLE_TIMEOUT_MS = 10_000;

export interface EnginePoolInfo {
  /** Number of threads the pool runs at most. */
  readonly jobs: number;
  /** How many pools this process has created so far, this one included. */
  readonly generation: number;
  /** `threadId`s of the pool's live workers. */
  readonly threadIds: readonly number[];
}

let currentPool: { pool: Piscina; jobs: number } | undefined;
let poolsCreated = 0;
/** Pools being closed (replaced by one of another size, or by closeEnginePool). */
const closingPools = new Set<Promise<void>>();

/**
 * Where the worker tasks live. The compiled package has `worker.js` right
 * beside this module (dist/engine/). When this module runs from its
 * TypeScript source (vitest imports src/engine/pool.ts), there is no
 * runnable worker beside it: worker threads load plain JavaScript, not the
 * test runner's transformed TypeScript. So from a `.ts` module the compiled
 * `<repo>/dist/engine/worker.js` is used; `npm test` builds before running
 * vitest, so it matches the sources.
 */
export function workerFilePath(): string {
  const here = new URL(import.meta.url);
  const workerUrl = here.pathname.endsWith('.ts')
    ? new URL('../../dist/engine/worker.js', here)
    : new URL('./worker.js', here);
  return fileURLToPath(workerUrl);
}

/** Default pool size: one thread per core the process may use. */
export function defaultJobs(): number {
  return availableParallelism();
}

export function checkJobs(jobs: number): void {
  if (!Number.isSafeInteger(jobs) || jobs <= 0) {
    throw new BluxError('invalid-argument', `jobs must be a positive integer, got ${jobs}`);
  }
}

function createPool(jobs: number): Piscina {
  const filename = workerFilePath();
  if (!existsSync(filename)) {
    throw new BluxError('internal', `the engine worker ${filename} is missing (run npm run build)`);
  }
  poolsCreated += 1;
  return new Piscina({
    filename,
    minThreads: 0,
    maxThreads: jobs,
    idleTimeout: IDLE_TIMEOUT_MS,
    // Our tasks are the only users of these threads; no timing histograms needed.
    recordTiming: false,
  });
}

function retire(pool: Piscina): void {
  // close() lets tasks already handed to the old pool finish (another call may
  // still be using it); it is awaited by closeEnginePool.
  const closing = pool.close().catch(() => undefined);
  closingPools.add(closing);
  void closing.finally(() => closingPools.delete(closing));
}

/**
 * The shared pool with `jobs` threads (default: `availableParallelism()`),
 * created on first use. Asking for another size replaces the pool.
 */
export function getEnginePool(jobs: number = defaultJobs()): Piscina {
  checkJobs(jobs);
  if (currentPool !== undefined && currentPool.jobs === jobs) return currentPool.pool;
  if (currentPool !== undefined) retire(currentPool.pool);
  const pool = createPool(jobs);
  currentPool = { pool, jobs };
  return pool;
}

/** Stops the pool's threads (after their current tasks). The next parallel call creates a new pool. */
export async function closeEnginePool(): Promise<void> {
  if (currentPool !== undefined) {
    retire(currentPool.pool);
    currentPool = undefined;
  }
  await Promise.all(closingPools);
}

/** The live pool's size, generation and threads, or undefined when there is none. */
export function enginePoolInfo(): EnginePoolInfo | undefined {
  if (currentPool === undefined) return undefined;
  return {
    jobs: currentPool.jobs,
    generation: poolsCreated,
    threadIds: currentPool.pool.threads.map((worker) => worker.threadId),
  };
}

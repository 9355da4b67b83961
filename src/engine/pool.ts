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
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';

import type { Piscina } from 'piscina';

import { BluxError } from '../errors.js';
import { packageFile, runningFromBundle } from '../io/package-files.js';

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

type RunOptions = NonNullable<Parameters<Piscina['run']>[1]>;
type LoadBalancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;
/** What a load balancer sees of a worker and of a task (piscina's PiscinaWorker and PiscinaTask). */
type BalancedWorker = Parameters<LoadBalancer>[1][number];
type BalancedTask = Parameters<LoadBalancer>[0];

/**
 * Worker tasks that may be handed to a busy worker, to wait in that worker's
 * own queue: when its current task ends, the worker starts the next one at
 * once instead of waiting for the main thread to hear of the result and post
 * another. With every core running a worker, the main thread has no core of
 * its own, so that round trip waits for the scheduler to take one from a
 * worker (~6 % of the workers' time in a profile of 2 workers verifying wasm
 * batches of 1,024, against ~0 with one worker and a core to spare).
 *
 * The ledger audit needs it most: its calling thread checks ranges too
 * (audit-ledger.ts), ~10 ms at a time without looking at the pool, and a
 * worker whose next range waited in the pool's queue sat idle that long
 * (its ranges took ~20 ms against ~10 ms in this thread).
 *
 * Only tasks of near-equal length qualify: a task queued behind a long one
 * would wait while another worker has nothing to do. Signature batches are
 * cut to equal counts (parallel.ts) and ledger ranges to equal byte sizes
 * (audit/ranges.ts); file hashing tasks are not listed, their length
 * follows the files' sizes.
 */
const TASKS_QUEUED_ON_BUSY_WORKERS: ReadonlyMap<string, number> = new Map([
  // The running task and one waiting: enough that the worker never waits, few enough to stay balanced.
  ['verifyEd25519', 2],
  // The running range and two waiting: the calling thread may not look at the pool for a range's time.
  ['auditLedgerRange', 3],
  // Never waits on a busy worker itself (each warm-up must make the pool start a thread of its own),
  // but ranges may wait behind it: it takes ~3 ms. Else a thread's first ranges, queued while it
  // started, would be handed over only once the calling thread heard the warm-up had ended
  // (10-15 ms later, as that thread checks a range meanwhile).
  ['warmLedgerAudit', 1],
]);
/** The most tasks any worker holds (piscina's cap; the balancer keeps each kind to its own). */
const MAX_TASKS_PER_WORKER = Math.max(...TASKS_QUEUED_ON_BUSY_WORKERS.values());

/**
 * Picks the worker for `task`: an idle one when there is one; otherwise,
 * for a task in TASKS_QUEUED_ON_BUSY_WORKERS and only once all `jobs`
 * threads exist (else piscina starts the missing thread instead), the least
 * busy worker with room in its queue; otherwise none, and the task waits in
 * the pool's queue for the next worker to finish.
 *
 * `otherTasksRunning` counts the pool's running tasks that are not of that
 * kind (hashing a file, a ledger range): while any runs, nothing is queued on
 * a busy worker, since the busy one may be in the middle of a long file while
 * the other is about to be free (verify-batch checks signatures while the pool
 * hashes).
 */
export function engineLoadBalancer(
  jobs: number,
  otherTasksRunning: () => number = () => 0,
): (task: BalancedTask, workers: readonly BalancedWorker[]) => BalancedWorker | null {
  return (task, workers) => {
    let leastBusy: BalancedWorker | null = null;
    for (const worker of workers) {
      if (worker.currentUsage === 0) return worker;
      // piscina's own rule: a worker running an abortable task runs nothing else.
      if (worker.isRunningAbortableTask) continue;
      if (leastBusy === null || worker.currentUsage < leastBusy.currentUsage) leastBusy = worker;
    }
    const depth = TASKS_QUEUED_ON_BUSY_WORKERS.get(task.name) ?? 0;
    const mayQueue = depth > 0 && !task.isAbortable && workers.length >= jobs && otherTasksRunning() === 0;
    return mayQueue && leastBusy !== null && leastBusy.currentUsage < depth ? leastBusy : null;
  };
}

/**
 * piscina is loaded with the first pool, not with the engine: importing it
 * takes ~15 ms from node_modules, which one-shot commands that never use
 * the pool (verifying one token) should not pay.
 *
 * The bundled command line has piscina bundled in (scripts/build-bundle.mjs),
 * reached through the plain require() below, which only the bundler sees
 * (this ES module never runs it): no package to resolve and compile at run
 * time, so the threads start ~10 ms sooner. Everywhere else, the installed
 * package.
 */
function loadPiscina(): typeof Piscina {
  const loaded = runningFromBundle() ? require('piscina') : createRequire(import.meta.url)('piscina');
  return (loaded as typeof import('piscina')).Piscina;
}

/**
 * A piscina pool that knows which of its tasks are still running, so that it
 * is closed only once they are done. piscina's own close() can stop a thread
 * whose reply is on its way (it then throws "Unexpected message from
 * Worker" from an event); a task left running is normal here (an aborted
 * run, or a caller that stopped iterating), so we wait for those first.
 */
class EnginePool {
  readonly #piscina: Piscina;
  readonly #running = new Set<Promise<unknown>>();
  /** Running tasks not in TASKS_QUEUED_ON_BUSY_WORKERS (see engineLoadBalancer). */
  #otherTasksRunning = 0;

  constructor(
    readonly jobs: number,
    filename: string,
  ) {
    const PiscinaPool = loadPiscina();
    this.#piscina = new PiscinaPool({
      filename,
      minThreads: 0,
      maxThreads: jobs,
      idleTimeout: IDLE_TIMEOUT_MS,
      // The balancer decides which tasks may wait on a busy worker; this is only the cap.
      concurrentTasksPerWorker: MAX_TASKS_PER_WORKER,
      loadBalancer: engineLoadBalancer(jobs, () => this.#otherTasksRunning) as LoadBalancer,
      // Our tasks are the only users of these threads; no timing histograms needed.
      recordTiming: false,
    });
  }

  /** Runs the worker task named `options.name` (an export of worker.ts). */
  run(task: unknown, options: RunOptions & { name: string }): Promise<unknown> {
    const other = !TASKS_QUEUED_ON_BUSY_WORKERS.has(options.name);
    if (other) this.#otherTasksRunning++;
    const result = this.#piscina.run(task, options);
    // The handlers below also mark every task's rejection as handled: a caller may start
    // tasks ahead and await them in order, and one that fails meanwhile must not end the
    // process as an unhandled rejection (the caller still gets it when it awaits).
    this.#running.add(result);
    const forget = (): void => {
      this.#running.delete(result);
      if (other) this.#otherTasksRunning--;
    };
    result.then(forget, forget);
    return result;
  }

  /** Tasks waiting in the pool's own queue, not yet handed to any worker. */
  get queuedTasks(): number {
    return this.#piscina.queueSize;
  }

  /** Threads started or starting. */
  get threadIds(): number[] {
    return this.#piscina.threads.map((worker) => worker.threadId);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#running]);
    await this.#piscina.close();
  }
}

export type { EnginePool };

let currentPool: EnginePool | undefined;
let poolsCreated = 0;
/** Pools being closed (replaced by one of another size, or by closeEnginePool). */
const closingPools = new Set<Promise<void>>();

/**
 * Where the worker tasks live: the bundled worker (loaded with its code cache
 * by worker-entry.cjs, scripts/build-bundle.mjs) for the bundled command
 * line, else the compiled `dist/engine/worker.js`.
 * Also when this module runs from its TypeScript source (vitest): worker
 * threads load plain JavaScript, not the test runner's transformed
 * TypeScript, and `npm test` builds before running vitest, so it matches
 * the sources.
 */
export function workerFilePath(): string {
  return packageFile(runningFromBundle() ? 'dist/bundle/worker-entry.cjs' : 'dist/engine/worker.js');
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

function createPool(jobs: number): EnginePool {
  const filename = workerFilePath();
  if (!existsSync(filename)) {
    throw new BluxError('internal', `the engine worker ${filename} is missing (run npm run build)`);
  }
  poolsCreated += 1;
  return new EnginePool(jobs, filename);
}

function retire(pool: EnginePool): void {
  // Another call may still be using the old pool: its tasks finish first.
  const closing = pool.close().catch(() => undefined);
  closingPools.add(closing);
  void closing.finally(() => closingPools.delete(closing));
}

/**
 * The shared pool with `jobs` threads (default: `availableParallelism()`),
 * created on first use. Asking for another size replaces the pool.
 */
export function getEnginePool(jobs: number = defaultJobs()): EnginePool {
  checkJobs(jobs);
  if (currentPool !== undefined && currentPool.jobs === jobs) return currentPool;
  if (currentPool !== undefined) retire(currentPool);
  currentPool = createPool(jobs);
  return currentPool;
}

/**
 * Starts the pool's `jobs` threads now, without waiting for them. A thread
 * takes ~70-120 ms here to start and load the worker module; a command that
 * will need the pool in a moment (verify-batch, after loading its modules and
 * walking the tree) calls this first, so that start-up overlaps its own work
 * instead of preceding the first task. Each thread runs one no-op task, which
 * is what makes piscina start it.
 */
export function prestartEnginePool(jobs: number = defaultJobs()): void {
  const pool = getEnginePool(jobs);
  for (let i = 0; i < jobs; i++) void pool.run(undefined, { name: 'ping' }).catch(() => undefined);
}

/** Stops the pool's threads once their tasks are done. The next parallel call creates a new pool. */
export async function closeEnginePool(): Promise<void> {
  if (currentPool !== undefined) {
    retire(currentPool);
    currentPool = undefined;
  }
  await Promise.all(closingPools);
}

/**
 * True when a call with `jobs` would find threads already running: no pool
 * to create, no thread start-up to wait for (~100 ms here, mostly loading the
 * worker's modules and the backend).
 */
export function isEnginePoolWarm(jobs: number = defaultJobs()): boolean {
  return currentPool !== undefined && currentPool.jobs === jobs && currentPool.threadIds.length > 0;
}

/** The live pool's size, generation and threads, or undefined when there is none. */
export function enginePoolInfo(): EnginePoolInfo | undefined {
  if (currentPool === undefined) return undefined;
  return {
    jobs: currentPool.jobs,
    generation: poolsCreated,
    threadIds: currentPool.threadIds,
  };
}

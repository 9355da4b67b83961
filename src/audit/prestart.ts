/**
 * The head start of a ledger audit, kept apart from audit-ledger.ts so that
 * the CLI's early start (cli/early-start.ts) can use it before loading the
 * audit itself (~30 ms of modules on the main thread, which would delay the
 * threads' start by as much).
 */
import { statSync } from 'node:fs';

import { defaultJobs, getEnginePool, type EnginePool } from '../engine/pool.js';

const MIB = 1024 * 1024;
/** Each range task reads through one buffer of this size (audit-ledger.ts's default chunk). */
export const DEFAULT_CHUNK_BYTES = MIB;
/** Below this, starting worker threads (~100 ms on 2 cores) costs more than checking in-thread. */
export const DEFAULT_POOL_FROM_BYTES = 4 * MIB;

/**
 * Pool threads of an audit with `jobs` jobs: the calling thread checks
 * ranges too (audit-ledger.ts), so one fewer.
 */
export function auditPoolThreads(jobs: number): number {
  return jobs - 1;
}

/**
 * Starts the engine pool's threads now when an audit of `file` with `jobs`
 * will use them (more than one job, a ledger of at least `poolFromBytes`), and
 * has each ready itself for range checks (its scanner's WebAssembly instance
 * and chunk memory, the entry-hash kernel): that start-up (~100 ms a thread,
 * more on a loaded machine, then ~25 ms of first-task set-up) overlaps the
 * caller's own (loading the command line, keys and revocations) instead of
 * preceding the first range. Only a hint: a file it cannot stat is left to
 * the audit to report, and a thread whose warm-up failed meets the failure
 * again, reported, in its first range. Returns whether the pool was started.
 */
export function prestartLedgerAudit(file: string, jobs: number = defaultJobs(), poolFromBytes: number = DEFAULT_POOL_FROM_BYTES): boolean {
  if (jobs <= 1) return false;
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size < poolFromBytes) return false;
  const threads = auditPoolThreads(jobs);
  const pool = getEnginePool(threads);
  // Once per pool: the CLI calls this from its early start and again from the command.
  if (warmedPools.has(pool)) return true;
  warmedPools.add(pool);
  // As many as threads: a warm-up task is never queued on a busy thread (engineLoadBalancer), so the
  // pool starts a thread for each; a thread that is quick may still take two (the second is a no-op).
  for (let i = 0; i < threads; i++) void pool.run(DEFAULT_CHUNK_BYTES, { name: 'warmLedgerAudit' }).catch(() => undefined);
  return true;
}

const warmedPools = new WeakSet<EnginePool>();

// Where a process's threads spent a stretch of wall time, from Linux's
// per-thread scheduler counters (/proc/self/task/<tid>/schedstat: nanoseconds
// running, nanoseconds runnable but waiting for a core). Used by the pool
// benchmarks to show what a speed-up ratio alone hides: how much CPU the main
// thread and the other threads (V8's garbage collection and compiler helpers)
// take, and how long the workers sat idle waiting for their next task.
//
// Counters are per thread, so they hold up on a loaded machine better than
// wall times do: a worker that was preempted shows as "runnable", one that
// had nothing to do as "idle".
import fs from 'node:fs';

const TASKS_DIR = '/proc/self/task';

/** tid -> { runNs, runnableNs } for every thread of this process; undefined where /proc has no schedstat. */
export function threadTimes() {
  let tids;
  try {
    tids = fs.readdirSync(TASKS_DIR);
  } catch {
    return undefined;
  }
  const times = new Map();
  for (const tid of tids) {
    try {
      const [runNs, runnableNs] = fs.readFileSync(`${TASKS_DIR}/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      times.set(Number(tid), { runNs, runnableNs });
    } catch {
      // The thread ended between the listing and the read, or no schedstat: not counted.
    }
  }
  return times.size > 0 ? times : undefined;
}

/**
 * Shares of `wallMs` between two threadTimes() snapshots, each as a fraction
 * of one core. The main thread is the one whose tid is the process id; the
 * `workerCount` busiest other threads are taken as the pool's workers (their
 * tids are not visible from JavaScript), the rest are "others". A worker's
 * idle share is what it neither ran nor waited for a core: blocked, which
 * for a pool worker means waiting for a task.
 */
export function threadShares(before, after, wallMs, workerCount) {
  if (before === undefined || after === undefined || !(wallMs > 0)) return undefined;
  const wallNs = wallMs * 1e6;
  const deltas = [];
  for (const [tid, end] of after) {
    const start = before.get(tid) ?? { runNs: 0, runnableNs: 0 };
    deltas.push({ tid, run: (end.runNs - start.runNs) / wallNs, runnable: (end.runnableNs - start.runnableNs) / wallNs });
  }
  const main = deltas.find((d) => d.tid === process.pid);
  const others = deltas.filter((d) => d.tid !== process.pid).sort((a, b) => b.run - a.run);
  const workers = others.slice(0, workerCount).map(({ run, runnable }) => ({ run, runnable, idle: Math.max(0, 1 - run - runnable) }));
  return {
    main: main?.run ?? 0,
    workers,
    /** Mean idle share of the workers. */
    workersIdle: workers.reduce((sum, w) => sum + w.idle, 0) / Math.max(1, workers.length),
    others: others.slice(workerCount).reduce((sum, d) => sum + d.run, 0),
  };
}

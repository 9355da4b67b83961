/**
 * Runs the benchmark: prepares each suite's data in one temp folder, measures
 * every case (reference and backends back to back) and assembles the report.
 * The temp folder is removed at the end, also when a suite fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BluxError } from '../errors.js';
import { closeEnginePool, resolveBackendName } from '../engine/index.js';
import { budgetFor, caseEntries, tinybenchTimer, type Timer } from './measure.js';
import { describeMachine, packageVersions } from './machine.js';
import { BENCH_SUITES } from './registry.js';
import { findTools } from './tools.js';
import type { BenchEntry, BenchProgressEvent, BenchReport, BenchSettings, BenchSuite, BenchTools, BenchVariant } from './types.js';

export interface RunBenchOptions extends BenchSettings {
  onProgress?: (event: BenchProgressEvent) => void;
  /** Tests replace the suites and the timer (no real timing in unit tests). */
  suitesToRun?: readonly BenchSuite[];
  timer?: Timer;
  tools?: BenchTools;
}

export function selectSuites(all: readonly BenchSuite[], ids: readonly string[] | undefined): BenchSuite[] {
  if (ids === undefined || ids.length === 0) return [...all];
  const unknown = ids.filter((id) => !all.some((s) => s.id === id));
  if (unknown.length > 0) {
    throw new BluxError('invalid-argument', `unknown bench suite ${unknown.map((id) => JSON.stringify(id)).join(', ')} (expected ${all.map((s) => s.id).join(', ')})`);
  }
  return all.filter((s) => ids.includes(s.id));
}

const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Removes the run's temp folder (up to 2 GiB of generated data with --size
 * large) also when the run is interrupted (then the signal ends the process
 * as it would have) or the process dies of an uncaught error (a worker
 * thread's, say: no `finally` runs then, but 'exit' listeners do).
 */
function removeOnInterrupt(workDir: string): () => void {
  const remove = (): void => fs.rmSync(workDir, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals): void => {
    remove();
    release();
    process.kill(process.pid, signal);
  };
  const release = (): void => {
    for (const signal of INTERRUPTS) process.off(signal, onSignal);
    process.off('exit', remove);
  };
  for (const signal of INTERRUPTS) process.on(signal, onSignal);
  process.on('exit', remove);
  return release;
}

export async function runBench(options: RunBenchOptions): Promise<BenchReport> {
  const started = performance.now();
  const suites = selectSuites(options.suitesToRun ?? BENCH_SUITES, options.suites);
  const timer = options.timer ?? tinybenchTimer;
  const tools = options.tools ?? findTools();
  const notify = options.onProgress ?? (() => undefined);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-reg-bench-'));
  const releaseSignals = removeOnInterrupt(workDir);
  const entries: BenchEntry[] = [];
  const perPrimitive: Record<string, string> = {};
  try {
    for (const [index, suite] of suites.entries()) {
      notify({ kind: 'suite', suite: suite.id, index, total: suites.length });
      const prepared = await suite.prepare({ settings: options, workDir, tools });
      try {
        Object.assign(perPrimitive, prepared.autoChoices ?? {});
        for (const benchCase of prepared.cases) {
          const onVariant = (variant: BenchVariant): void =>
            notify({ kind: 'variant', suite: suite.id, title: benchCase.title, backend: variant.label });
          const timings = await timer([benchCase.reference, ...benchCase.variants], budgetFor(options, benchCase.heavy === true), onVariant);
          entries.push(...caseEntries(suite.id, benchCase, timings));
        }
      } finally {
        await prepared.dispose?.();
      }
    }
  } finally {
    notify({ kind: 'done' });
    await closeEnginePool();
    fs.rmSync(workDir, { recursive: true, force: true });
    releaseSignals();
  }
  return {
    format: 'blux-reg/bench-report@1',
    created_at: new Date().toISOString(),
    settings: { quick: options.quick, size: options.size, suites: suites.map((s) => s.id) },
    machine: describeMachine(),
    versions: packageVersions(),
    backends: { default: resolveBackendName(), per_primitive: perPrimitive },
    tools: { sha256sum: tools.sha256sum, openssl: tools.openssl },
    duration_seconds: (performance.now() - started) / 1000,
    entries,
  };
}

/**
 * Measures one case with tinybench: the reference and every backend in one
 * Bench, back to back, so the ratios compare work done under the same load.
 */
import { Bench } from 'tinybench';

import { BluxError } from '../errors.js';
import type { BenchCase, BenchEntry, BenchSettings, BenchVariant } from './types.js';

/** Per round and variant: time budget (milliseconds) and minimum iterations; warm-up runs in the first round only. */
interface RoundBudget {
  time: number;
  iterations: number;
  warmupTime: number;
  warmupIterations: number;
}

export interface Budget {
  /** Rounds over all variants of a case, in rotated order, so load that comes and goes hits them alike. */
  rounds: number;
  round: RoundBudget;
}

/**
 * Many short rounds rather than one long one per variant: on a shared machine
 * load comes in bursts, and a burst that lands on one variant's only turn
 * skews its ratio by 2x (seen with 3 rounds of 50 ms on a loaded 2-core machine).
 * Quick mode keeps the whole run under two minutes on a loaded 2-core machine;
 * heavy cases (whole trees, 64 MiB hashes, pure-JS signature batches) take
 * 0.1-2 s per operation, so they get one operation per round (plus as many
 * as fit in 150 ms in quick mode, so the faster backends of a heavy case get
 * more samples than its slowest), and in quick mode no warm-up (one such
 * operation warms the JIT by itself; the median keeps a cold first one out).
 */
const BUDGETS: Readonly<Record<'quick' | 'full', Readonly<Record<'light' | 'heavy', Budget>>>> = {
  quick: {
    light: { rounds: 6, round: { time: 25, iterations: 2, warmupTime: 60, warmupIterations: 3 } },
    heavy: { rounds: 3, round: { time: 150, iterations: 1, warmupTime: 0, warmupIterations: 0 } },
  },
  full: {
    light: { rounds: 10, round: { time: 150, iterations: 3, warmupTime: 200, warmupIterations: 5 } },
    heavy: { rounds: 5, round: { time: 0, iterations: 2, warmupTime: 0, warmupIterations: 2 } },
  },
};

export function budgetFor(settings: Pick<BenchSettings, 'quick'>, heavy: boolean): Budget {
  return BUDGETS[settings.quick ? 'quick' : 'full'][heavy ? 'heavy' : 'light'];
}

/** A variant's timing before ratios: median and spread of one operation. */
export interface Timing {
  median_ms: number;
  mad_ms: number;
  samples: number;
}

/** Times every variant of a case; tests pass a fake one (no real timing in unit tests). */
export type Timer = (
  variants: readonly BenchVariant[],
  budget: Budget,
  /** Called as each variant starts a round (the progress line names its backend). */
  onVariant?: (variant: BenchVariant) => void,
) => Promise<Map<BenchVariant, Timing>>;

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median and median absolute deviation of the samples (milliseconds). */
export function summarizeSamples(samples: readonly number[]): Timing {
  if (samples.length === 0) throw new BluxError('internal', 'bench: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = median(sorted);
  const deviations = sorted.map((x) => Math.abs(x - mid)).sort((a, b) => a - b);
  return { median_ms: mid, mad_ms: median(deviations), samples: sorted.length };
}

/** The real timer: tinybench rounds over all variants (rotated order), samples pooled per variant. */
export const tinybenchTimer: Timer = async (variants, budget, onVariant) => {
  const samples = new Map<BenchVariant, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < budget.rounds; round++) {
    const bench = new Bench({ ...budget.round, warmup: round === 0 && budget.round.warmupIterations > 0, throws: true, retainSamples: true });
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const [i, variant] of order.entries()) {
      bench.add(String(i), variant.fn);
      bench.getTask(String(i))!.addEventListener('start', () => onVariant?.(variant));
    }
    await bench.run();
    for (const [i, variant] of order.entries()) {
      const result = bench.tasks[i]!.result;
      if (result.state !== 'completed' || result.latency.samples === undefined) {
        throw new BluxError('internal', `benchmark ${variant.label} did not complete (${result.state})`);
      }
      // A loop, not push(...samples): a fast operation yields more samples than a call takes arguments.
      const pooled = samples.get(variant)!;
      for (const sample of result.latency.samples) pooled.push(sample);
    }
  }
  return new Map([...samples].map(([variant, s]) => [variant, summarizeSamples(s)]));
};

/** Turns the timings of one case into report entries, each with its ratio to the case's reference. */
export function caseEntries(suite: string, benchCase: BenchCase, timings: ReadonlyMap<BenchVariant, Timing>): BenchEntry[] {
  const referenceId = `${benchCase.id}/${benchCase.reference.backend}`;
  const throughputOf = (timing: Timing): number => benchCase.unitsPerOp / (timing.median_ms / 1000);
  const referenceTiming = timings.get(benchCase.reference);
  if (referenceTiming === undefined) throw new BluxError('internal', `case ${benchCase.id} has no reference timing`);
  const referenceThroughput = throughputOf(referenceTiming);
  return [benchCase.reference, ...benchCase.variants].flatMap((variant) => {
    const timing = timings.get(variant);
    if (timing === undefined) return [];
    const throughput = throughputOf(timing);
    return [{
      id: `${benchCase.id}/${variant.backend}`,
      suite,
      case: benchCase.id,
      title: benchCase.title,
      backend: variant.backend,
      label: variant.label,
      unit: benchCase.unit,
      units_per_op: benchCase.unitsPerOp,
      median_ms: timing.median_ms,
      mad_ms: timing.mad_ms,
      spread_percent: timing.median_ms > 0 ? (100 * timing.mad_ms) / timing.median_ms : 0,
      samples: timing.samples,
      throughput,
      reference: referenceId,
      ratio: throughput / referenceThroughput,
    }];
  });
}

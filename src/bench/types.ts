/**
 * The benchmark harness's vocabulary: suites prepare cases, a case is one
 * primitive measured on several backends plus a reference, and every
 * measurement becomes a report entry with its median, spread and ratio to the
 * reference measured in the same run (ratios are what compare across machines).
 */

/** `tiny` exists for tests and smoke runs; the others scale the end-to-end scenarios' data. */
export type BenchSize = 'tiny' | 'small' | 'medium' | 'large';
export const BENCH_SIZES: readonly BenchSize[] = Object.freeze(['tiny', 'small', 'medium', 'large'] as const);

export interface BenchSettings {
  /** CI mode: short time budgets, fewest iterations (whole run <= 2 minutes). */
  readonly quick: boolean;
  readonly size: BenchSize;
  /** Only suites whose id is listed (all when absent). */
  readonly suites?: readonly string[];
}

/** External tools found on PATH, used as references by the end-to-end scenarios. */
export interface BenchTools {
  readonly sha256sum: string | null;
  readonly openssl: string | null;
}

export interface SuiteContext {
  readonly settings: BenchSettings;
  /** A temp folder of the run, deleted at its end: suites put generated data under it. */
  readonly workDir: string;
  readonly tools: BenchTools;
}

/** One way of doing a case's work: a backend, or the reference everything is compared with. */
export interface BenchVariant {
  /** `native` | `wasm` | `js` | `auto`, or `reference`. */
  readonly backend: string;
  /** What runs, e.g. `node:crypto createHash` for a reference; the backend name otherwise. */
  readonly label: string;
  readonly fn: () => unknown;
}

/** One primitive at one size: the reference first, then every backend. */
export interface BenchCase {
  /** Stable key of the case, e.g. `sha256/1MiB`; entry ids are `<case id>/<backend>`. */
  readonly id: string;
  /** Row label in tables and the chart, e.g. `SHA-256 1 MiB`. */
  readonly title: string;
  /** Throughput unit: `B` (bytes), `sig`, `doc`, `line`, `file`. */
  readonly unit: string;
  /** Units of work one call of `fn` does (bytes hashed, signatures checked, ...). */
  readonly unitsPerOp: number;
  /** Seconds-long operations: fewer iterations, so the quick run stays short. */
  readonly heavy?: boolean;
  readonly reference: BenchVariant;
  readonly variants: readonly BenchVariant[];
}

export interface PreparedSuite {
  readonly cases: readonly BenchCase[];
  /** Facts the report records, e.g. which backend `auto` picks per case. */
  readonly autoChoices?: Readonly<Record<string, string>>;
  dispose?(): Promise<void>;
}

/** A suite: one small module under `src/bench/suites/`, listed in `registry.ts`. */
export interface BenchSuite {
  readonly id: string;
  readonly title: string;
  prepare(ctx: SuiteContext): Promise<PreparedSuite>;
}

/** One measured variant of one case, as the report stores it. */
export interface BenchEntry {
  /** `<case id>/<backend>`: the key `--compare` matches entries by. */
  readonly id: string;
  readonly suite: string;
  readonly case: string;
  readonly title: string;
  readonly backend: string;
  readonly label: string;
  readonly unit: string;
  readonly units_per_op: number;
  /** Median time of one operation, milliseconds. */
  readonly median_ms: number;
  /** Median absolute deviation of the operation times, milliseconds. */
  readonly mad_ms: number;
  /** `mad_ms / median_ms` in percent. */
  readonly spread_percent: number;
  readonly samples: number;
  /** Units per second at the median time. */
  readonly throughput: number;
  /** Id of the reference entry of the same case (its own id for the reference). */
  readonly reference: string;
  /** Throughput divided by the reference's: above 1 is faster than the reference. */
  readonly ratio: number;
}

export interface MachineDescription {
  readonly cpu_model: string;
  readonly cores: number;
  readonly memory_bytes: number;
  readonly os: string;
  readonly arch: string;
  readonly node: string;
}

export interface BenchReport {
  readonly format: 'blux-reg/bench-report@1';
  readonly created_at: string;
  readonly settings: { readonly quick: boolean; readonly size: BenchSize; readonly suites: readonly string[] };
  readonly machine: MachineDescription;
  /** blux-reg and the libraries doing the work, name -> version. */
  readonly versions: Readonly<Record<string, string>>;
  /** What the default backend is, and what `auto` uses per primitive and case. */
  readonly backends: { readonly default: string; readonly per_primitive: Readonly<Record<string, string>> };
  readonly tools: { readonly sha256sum: string | null; readonly openssl: string | null };
  readonly duration_seconds: number;
  readonly entries: readonly BenchEntry[];
}

/** Progress events for the terminal: which suite, which case, which backend. */
export type BenchProgressEvent =
  | { readonly kind: 'suite'; readonly suite: string; readonly index: number; readonly total: number }
  | { readonly kind: 'variant'; readonly suite: string; readonly title: string; readonly backend: string }
  | { readonly kind: 'done' };

/**
 * The verify-batch report: one object per artifact, totals, timings. Pure
 * functions: building totals, sorting, and merging shard reports.
 * JSON Schema: schemas/verify-batch-report.schema.json.
 */
import { BluxError } from '../errors.js';
import type { Shard } from './shard.js';

export const REPORT_FORMAT = 'blux-reg/verify-batch-report@1';

export type ArtifactVerdict = 'verified' | 'failed' | 'unsigned';

export interface SignerResult {
  readonly fingerprint: string;
  readonly name: string | null;
  readonly status: 'ok' | 'malformed-signature' | 'unknown-key' | 'key-revoked' | 'bad-signature';
  /** The manifest holding this signature. */
  readonly manifest: string;
}

export interface ArtifactResult {
  /** As shown to people: the path as given on the command line plus the path below it. */
  readonly path: string;
  readonly size: number | null;
  readonly sha256: string | null;
  /** Manifests that name this artifact (or the manifest itself, for a manifest that could not be paired). */
  readonly manifests: readonly string[];
  readonly signers: readonly SignerResult[];
  readonly verdict: ArtifactVerdict;
  /** `ok`, `unsigned`, or the reason vocabulary of `verify` plus the discovery reasons (`symlink-loop`, ...). */
  readonly reason: string;
  readonly message: string;
}

export interface BatchTotals {
  readonly artifacts: number;
  readonly verified: number;
  readonly failed: number;
  readonly unsigned: number;
  /** Bytes hashed. */
  readonly bytes: number;
}

export interface BatchReport {
  readonly format: typeof REPORT_FORMAT;
  readonly tool: { readonly name: 'blux-reg'; readonly version: string };
  /** The paths as given; with `tree`, what shards must share to be merged. */
  readonly roots: readonly string[];
  /** SHA-256 over every path discovered (before sharding): shards of one tree share it. */
  readonly tree: string;
  /** The shards this report covers (one for a shard run; several after a merge; [] when not sharded). */
  readonly shards: readonly Shard[];
  readonly shard_count: number | null;
  readonly options: { readonly recursive: boolean; readonly require_signers: number; readonly require_signed: boolean; readonly fail_fast: boolean };
  readonly backend: string;
  readonly jobs: number;
  readonly status: 'ok' | 'failed';
  /** True when --fail-fast stopped the run before every artifact was checked. */
  readonly stopped_early: boolean;
  readonly totals: BatchTotals;
  readonly timings: { readonly wall_seconds: number; readonly gb_per_second: number };
  readonly results: readonly ArtifactResult[];
}

/** A failure for the exit code: failed artifacts, and unsigned ones when --require-signed. */
export function isFailure(result: ArtifactResult, requireSigned: boolean): boolean {
  return result.verdict === 'failed' || (requireSigned && result.verdict === 'unsigned');
}

export function computeTotals(results: readonly ArtifactResult[]): BatchTotals {
  let verified = 0;
  let failed = 0;
  let unsigned = 0;
  let bytes = 0;
  for (const r of results) {
    if (r.verdict === 'verified') verified++;
    else if (r.verdict === 'failed') failed++;
    else unsigned++;
    if (r.sha256 !== null && r.size !== null) bytes += r.size;
  }
  return { artifacts: results.length, verified, failed, unsigned, bytes };
}

/** Code-unit order: stable across machines and locales, so reports diff well. */
export function byPath(a: ArtifactResult, b: ArtifactResult): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

export function reportStatus(results: readonly ArtifactResult[], requireSigned: boolean, stoppedEarly: boolean): 'ok' | 'failed' {
  return stoppedEarly || results.some((r) => isFailure(r, requireSigned)) ? 'failed' : 'ok';
}

/**
 * Combines shard reports of one tree into one report. Refuses reports of
 * different trees, different options or shard counts, and overlapping
 * shards; a merge that lacks some shards is refused unless `allowPartial`.
 */
export function mergeReports(reports: readonly BatchReport[], options: { allowPartial?: boolean } = {}): BatchReport {
  if (reports.length === 0) throw new BluxError('invalid-argument', 'report merge needs at least one report');
  const first = reports[0]!;
  const shards: Shard[] = [];
  for (const r of reports) {
    if (r.format !== REPORT_FORMAT) throw new BluxError('malformed', `not a verify-batch report (format ${JSON.stringify(r.format)})`);
    if (r.tree !== first.tree || JSON.stringify(r.roots) !== JSON.stringify(first.roots)) {
      throw new BluxError('invalid-argument', 'the reports are of different trees (their `tree` or `roots` differ): run every shard with the same paths');
    }
    if (JSON.stringify(r.options) !== JSON.stringify(first.options)) {
      throw new BluxError('invalid-argument', 'the reports were made with different options (recursive / require-signers / require-signed / fail-fast)');
    }
    if (r.shard_count !== first.shard_count) {
      throw new BluxError('invalid-argument', `the reports split the tree differently (${String(r.shard_count)} vs ${String(first.shard_count)} shards)`);
    }
    for (const s of r.shards) {
      if (shards.some((t) => t.index === s.index)) throw new BluxError('invalid-argument', `shard ${s.index}/${s.count} appears in more than one report`);
      shards.push(s);
    }
  }
  if (first.shard_count === null && reports.length > 1) {
    throw new BluxError('invalid-argument', 'only shard reports (--shard K/N) can be merged');
  }
  const missing = first.shard_count === null ? [] :
    Array.from({ length: first.shard_count }, (_, i) => i + 1).filter((i) => !shards.some((s) => s.index === i));
  if (missing.length > 0 && options.allowPartial !== true) {
    throw new BluxError('invalid-argument', `shard(s) ${missing.join(', ')} of ${String(first.shard_count)} missing (use --partial to merge anyway)`);
  }

  const results = reports.flatMap((r) => r.results).sort(byPath);
  for (let i = 1; i < results.length; i++) {
    if (results[i]!.path === results[i - 1]!.path) {
      throw new BluxError('invalid-argument', `${results[i]!.path} appears in more than one report: overlapping shards`);
    }
  }
  const totals = computeTotals(results);
  const wall = Math.max(...reports.map((r) => r.timings.wall_seconds));
  const stoppedEarly = reports.some((r) => r.stopped_early);
  return {
    ...first,
    shards: shards.sort((a, b) => a.index - b.index),
    status: missing.length > 0 ? 'failed' : reportStatus(results, first.options.require_signed, stoppedEarly),
    stopped_early: stoppedEarly,
    jobs: Math.max(...reports.map((r) => r.jobs)),
    totals,
    timings: { wall_seconds: wall, gb_per_second: wall > 0 ? totals.bytes / 1e9 / wall : 0 },
    results,
  };
}

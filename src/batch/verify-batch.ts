/**
 * `verifyBatch(paths, options)`: verifies every manifest under the given
 * paths against its artifact, with the same policy as `verify` (the steps of
 * verify/manifest.ts), but hashing on every core and checking signatures in
 * large parallel batches. Results stream out as artifacts complete; the
 * report (sorted by path) is available at the end.
 *
 * Pairing: a manifest names its artifact by path; artifacts are identified by
 * real path, so several manifests for one artifact (separate manifests, or
 * co-signatures of a 2.0 manifest) add up their distinct trusted signers, and
 * every file that no manifest names is listed as `unsigned`.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { BluxError } from '../errors.js';
import { resolveBackendName } from '../engine/backend-name.js';
import type { BackendName } from '../engine/types.js';
import { sha256Files, type FileHashResult, type FileToHash } from '../engine/index.js';
import { defaultJobs, getEnginePool } from '../engine/pool.js';
import type { TrustContext } from '../trust/context.js';
import {
  checkArtifactDigest, isPrepared, judgeSigners, locateManifestArtifact,
  type ArtifactLocator, type ManifestVerdict, type PreparedManifest,
} from '../verify/manifest.js';
import { beside, lexicalTraversalProblem, locateArtifact } from '../verify/artifact-path.js';
import { discover, type DiscoveredArtifact, type DiscoveredFile, type Discovery } from './discover.js';
import { readManifestFiles, type ManifestReading } from './manifest-reading.js';
import {
  byPath, computeTotals, isFailure, REPORT_FORMAT, reportStatus,
  type ArtifactResult, type BatchReport, type SignerResult,
} from './report.js';
import { inShard, type Shard } from './shard.js';
import { startSignatureChecks, type GroupChecks } from './signature-checks.js';
import { packageVersion } from '../io/package-files.js';

export interface BatchProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface VerifyBatchOptions {
  readonly trust: TrustContext;
  readonly recursive?: boolean;
  /** Distinct trusted, non-revoked signers required per artifact (default 1). */
  readonly requireSigners?: number;
  /** Unsigned files count as failures. */
  readonly requireSigned?: boolean;
  /** Stop at the first failure. */
  readonly failFast?: boolean;
  readonly backend?: string;
  /** Worker threads (default: available cores). */
  readonly jobs?: number;
  readonly shard?: Shard | null;
  readonly onProgress?: (progress: BatchProgress) => void;
  /** From this many manifests, the pool's threads read and check them (default 512; below, this thread does). */
  readonly manifestPoolFrom?: number;
}

export interface BatchRun extends AsyncIterable<ArtifactResult> {
  /** Resolves when the run has finished (iterate first, or it runs to the end by itself). */
  report(): Promise<BatchReport>;
}

/** Manifests are read and prepared this many at a time. */
const MANIFEST_CONCURRENCY = 64;
/** From this many manifests, the pool's threads read and check them (manifestReadings). */
const MANIFEST_POOL_FROM = 512;
/** Manifests per pool task: small enough that pairing starts soon, large enough that a task's round trip is noise. */
const MANIFESTS_PER_TASK = 128;
/** Tasks of manifests in flight per pool thread, so that a thread never waits for the next. */
const MANIFEST_TASKS_IN_FLIGHT_PER_JOB = 2;

const toolVersion = (() => {
  try {
    return packageVersion();
  } catch {
    return 'unknown';
  }
})();

/** One artifact and everything said about it. */
interface ArtifactGroup {
  readonly display: string;
  readonly real: string;
  readonly size: number;
  readonly manifests: PreparedManifest[];
  readonly manifestDisplays: string[];
  /** Failures found before hashing (e.g. a manifest's malformed signature): the artifact fails without being hashed. */
  readonly early: { verdict: ManifestVerdict; manifest: string }[];
}

/**
 * Digests as they arrive from the pool, for consumers that ask by path (the
 * pairing, done meanwhile, decides who asks for what) or in arrival order.
 */
class DigestBoard {
  readonly #done = new Map<string, FileHashResult>();
  readonly #waiting = new Map<string, ((result: FileHashResult) => void)[]>();
  readonly #arrivals: string[] = [];
  #wake: (() => void) | null = null;
  #error: unknown = null;

  put(result: FileHashResult): void {
    this.#done.set(result.path, result);
    this.#arrivals.push(result.path);
    for (const resolve of this.#waiting.get(result.path) ?? []) resolve(result);
    this.#waiting.delete(result.path);
    this.#wake?.();
  }

  fail(error: unknown): void {
    this.#error ??= error;
    this.#wake?.();
    for (const [path] of this.#waiting) {
      for (const resolve of this.#waiting.get(path) ?? []) resolve({ path, ok: false, code: 'file-unreadable', message: String(error) });
    }
    this.#waiting.clear();
  }

  get(path: string): Promise<FileHashResult> {
    const done = this.#done.get(path);
    if (done !== undefined) return Promise.resolve(done);
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve) => {
      const list = this.#waiting.get(path) ?? [];
      list.push(resolve);
      this.#waiting.set(path, list);
    });
  }

  /** The items, each as soon as its digest is there: those already hashed first, then in arrival order. */
  async *inArrivalOrder<T>(items: readonly T[], keyOf: (item: T) => string): AsyncGenerator<T> {
    const byKey = new Map<string, T[]>();
    for (const item of items) {
      const list = byKey.get(keyOf(item)) ?? [];
      list.push(item);
      byKey.set(keyOf(item), list);
    }
    let cursor = 0;
    while (byKey.size > 0) {
      if (this.#error !== null) throw this.#error;
      if (cursor < this.#arrivals.length) {
        const key = this.#arrivals[cursor++]!;
        const ready = byKey.get(key);
        if (ready !== undefined) {
          byKey.delete(key);
          yield* ready;
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = null;
    }
  }
}

function treeId(roots: readonly string[], displays: string[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(roots));
  for (const d of displays.sort()) hash.update(`\n${d}`);
  return hash.digest('hex');
}

function failed(pathShown: string, manifests: string[], reason: string, message: string, extra: Partial<ArtifactResult> = {}): ArtifactResult {
  return { path: pathShown, size: null, sha256: null, manifests, signers: [], verdict: 'failed', reason, message, ...extra };
}

function displayFor(manifest: DiscoveredFile, artifactRel: string): string {
  const dir = path.posix.dirname(manifest.display);
  return dir === '.' ? artifactRel : `${dir}/${artifactRel}`;
}

/**
 * What the steps of one run share. The run is cut into steps, each its own
 * function, for reading and for speed: as one ~170-line async generator it
 * was optimised by V8 near the end of a run, and a process cannot exit
 * before its compile jobs end (~60 ms for that function here).
 */
interface RunStep {
  readonly options: VerifyBatchOptions;
  readonly backend: BackendName;
  readonly shard: Shard | null;
  readonly signal: AbortSignal;
  /** Records a result, and aborts the run at a failure under --fail-fast. */
  readonly emit: (result: ArtifactResult) => ArtifactResult;
  readonly digests: DigestBoard;
}

/** Hashing on the pool, started in lots as the run learns which files need it; digests land on the step's board. */
class PoolHashing {
  readonly #step: RunStep;
  readonly #runs: Promise<void>[] = [];
  readonly #progress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };

  constructor(step: RunStep) {
    this.#step = step;
  }

  start(files: FileToHash[]): void {
    if (files.length === 0) return;
    const { options, backend, signal, digests } = this.#step;
    const progress = this.#progress;
    progress.filesTotal += files.length;
    progress.bytesTotal += files.reduce((sum, f) => sum + f.size, 0);
    const base = { filesDone: progress.filesDone, bytesDone: progress.bytesDone };
    const run = (async () => {
      for await (const hash of sha256Files(files, {
        backend,
        signal,
        ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
        onProgress: (p) => {
          progress.filesDone = base.filesDone + p.filesDone;
          progress.bytesDone = base.bytesDone + p.bytesDone;
          options.onProgress?.({ ...progress });
        },
      })) {
        digests.put(hash);
      }
    })();
    run.catch((e: unknown) => digests.fail(e));
    this.#runs.push(run);
  }

  /** Once every lot has ended, however. */
  settled(): Promise<unknown> {
    return Promise.allSettled(this.#runs);
  }
}

/** Artifacts by real path, with every manifest that names each; and every real path a manifest names. */
interface Pairing {
  readonly groups: Map<string, ArtifactGroup>;
  readonly referenced: Set<string>;
}

/**
 * Reads and prepares the manifests, a slice at a time, and pairs each with
 * its artifact; yields the manifests that fail on their own (unreadable,
 * malformed, or naming no artifact). Stops early when the run is aborted.
 */
async function* pairManifests(step: RunStep, found: Discovery, artifactsByReal: ReadonlyMap<string, DiscoveredArtifact>): AsyncGenerator<ArtifactResult, Pairing> {
  const { shard, signal, emit } = step;
  // The walk already knows every file's real path, so an artifact is located
  // by a lookup; only a name the walk did not see (a symlinked artifact, a
  // file outside the walked folders) goes through the full check with realpath().
  const realByAbs = new Map(found.files.map((f) => [f.abs, f.real]));
  const locate: ArtifactLocator = async (manifestFile, artifactPath) => {
    if (lexicalTraversalProblem(artifactPath) === null) {
      const manifestReal = realByAbs.get(manifestFile);
      if (manifestReal !== undefined) {
        const candidate = beside(path.dirname(manifestReal), artifactPath);
        // A real path has no symlink in it, so a candidate equal to one names exactly that file.
        const known = artifactsByReal.get(candidate);
        if (known !== undefined) return { ok: true, path: known.real, size: known.size };
      }
    }
    return locateArtifact(manifestFile, artifactPath);
  };
  const groups = new Map<string, ArtifactGroup>();
  const referenced = new Set<string>();
  const groupFor = (real: string, display: string, size: number): ArtifactGroup => {
    let group = groups.get(real);
    if (group === undefined) {
      group = { display, real, size, manifests: [], manifestDisplays: [], early: [] };
      groups.set(real, group);
    }
    return group;
  };
  const manifestFiles = found.files.filter((f) => f.kind === 'manifest');
  for await (const slice of manifestReadings(step, manifestFiles)) {
    const prepared = await Promise.all(slice.map(async ({ m, reading }) => {
      if (reading.kind === 'unreadable') return { m, outcome: null, error: { reason: reading.reason, message: reading.message } };
      if (reading.kind === 'verdict') return { m, outcome: reading.verdict };
      try {
        return { m, outcome: await locateManifestArtifact(m.abs, reading.checked, locate) };
      } catch (e) {
        return { m, outcome: null, error: { reason: 'unreadable', message: e instanceof Error ? e.message : String(e) } };
      }
    }));
    for (const { m, outcome, error } of prepared as { m: DiscoveredFile; outcome: PreparedManifest | ManifestVerdict | null; error?: { reason: string; message: string } }[]) {
      if (outcome === null) {
        if (inShard(m.display, shard)) yield emit(failed(m.display, [m.display], error!.reason, error!.message));
      } else if (isPrepared(outcome)) {
        referenced.add(outcome.artifactPath);
        const known = artifactsByReal.get(outcome.artifactPath);
        const display = known?.display ?? displayFor(m, outcome.manifest.artifactPath);
        if (!inShard(display, shard)) continue;
        const group = groupFor(outcome.artifactPath, display, outcome.artifactSize);
        group.manifests.push(outcome);
        group.manifestDisplays.push(m.display);
      } else if (typeof outcome.artifact === 'string') {
        // The artifact is known but this manifest already fails (bad signature encoding, wrong size).
        referenced.add(outcome.artifact);
        const known = artifactsByReal.get(outcome.artifact);
        const display = known?.display ?? m.display;
        if (!inShard(display, shard)) continue;
        const group = groupFor(outcome.artifact, display, outcome.artifact_size ?? 0);
        group.early.push({ verdict: outcome, manifest: m.display });
        group.manifestDisplays.push(m.display);
      } else if (inShard(m.display, shard)) {
        yield emit(failed(m.display, [m.display], outcome.reason, outcome.message));
      }
      if (signal.aborted) return { groups, referenced };
    }
    // Let the pool's completions and new task dispatches through between slices.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { groups, referenced };
}

/**
 * The manifests read and checked (batch/manifest-reading.ts), in their
 * order, a slice at a time: in the pool's threads when there are at least
 * `manifestPoolFrom`, a task of MANIFESTS_PER_TASK each with a few tasks in
 * flight per thread, else in this thread.
 */
async function* manifestReadings(step: RunStep, manifests: readonly DiscoveredFile[]): AsyncGenerator<{ m: DiscoveredFile; reading: ManifestReading }[]> {
  const { options, signal } = step;
  const pairsOf = (slice: readonly DiscoveredFile[], readings: readonly ManifestReading[]) => slice.map((m, i) => ({ m, reading: readings[i]! }));
  if (manifests.length < (options.manifestPoolFrom ?? MANIFEST_POOL_FROM)) {
    for (let i = 0; i < manifests.length && !signal.aborted; i += MANIFEST_CONCURRENCY) {
      const slice = manifests.slice(i, i + MANIFEST_CONCURRENCY);
      yield pairsOf(slice, await readManifestFiles(slice.map((m) => m.abs)));
    }
    return;
  }
  const pool = getEnginePool(options.jobs ?? defaultJobs());
  const slices: DiscoveredFile[][] = [];
  for (let i = 0; i < manifests.length; i += MANIFESTS_PER_TASK) slices.push(manifests.slice(i, i + MANIFESTS_PER_TASK));
  const inFlight: Promise<unknown>[] = [];
  const send = (index: number): void => {
    if (index >= slices.length) return;
    const task = pool.run(slices[index]!.map((m) => m.abs), { name: 'readManifests' });
    // A task still in flight when the run stops (aborted, or its consumer gone) is never awaited:
    // its failure must not surface as an unhandled rejection. An awaited one still throws.
    task.catch(() => undefined);
    inFlight.push(task);
  };
  for (let i = 0; i < pool.jobs * MANIFEST_TASKS_IN_FLIGHT_PER_JOB; i++) send(i);
  for (let index = 0; index < slices.length && !signal.aborted; index++) {
    const readings = (await inFlight[index]) as ManifestReading[];
    send(index + pool.jobs * MANIFEST_TASKS_IN_FLIGHT_PER_JOB);
    yield pairsOf(slices[index]!, readings);
  }
}

/** Files no manifest names, with their digests. */
async function* unsignedArtifacts(step: RunStep, artifacts: readonly DiscoveredArtifact[]): AsyncGenerator<ArtifactResult> {
  for (const artifact of artifacts) {
    const hash = await step.digests.get(artifact.real);
    yield step.emit({
      path: artifact.display, size: artifact.size, sha256: hash.ok ? hash.sha256 : null, manifests: [], signers: [],
      verdict: 'unsigned', reason: 'unsigned', message: 'no manifest names this file',
    });
    if (step.signal.aborted) return;
  }
}

/**
 * The verdict on each paired artifact: at once for those a manifest already
 * failed, else as its digest arrives, with its signature checks (started
 * here for every artifact still pending, in slices on two lanes: they do not
 * depend on the digests).
 */
async function* judgedGroups(step: RunStep, groups: readonly ArtifactGroup[], requireSigners: number): AsyncGenerator<ArtifactResult> {
  const { options, backend, signal, emit, digests } = step;
  const pendingGroups: ArtifactGroup[] = [];
  for (const group of groups) {
    const early = group.early[0];
    if (early !== undefined) {
      yield emit(failed(group.display, group.manifestDisplays, early.verdict.reason, early.verdict.message, { size: group.size }));
      if (signal.aborted) return;
    } else {
      pendingGroups.push(group);
    }
  }
  const signatures = startSignatureChecks(pendingGroups, {
    trust: options.trust, backend, signal, ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
  });
  try {
    for await (const group of digests.inArrivalOrder(pendingGroups, (g) => g.real)) {
      const hash = await digests.get(group.real);
      if (!hash.ok) {
        yield emit(failed(group.display, group.manifestDisplays, 'artifact-unreadable', hash.message, { size: group.size }));
      } else {
        // A digest that does not match fails without waiting for the signature checks.
        yield emit(digestMismatch(group, hash.sha256) ?? judgeGroup(group, hash.sha256, await signatures.checksOf(group), requireSigners));
      }
      if (signal.aborted) return;
    }
  } catch (e) {
    if (!signal.aborted) throw e;
  } finally {
    signatures.stop();
  }
}

/** The failure of an artifact whose digest does not match one of its manifests, or null. */
function digestMismatch(group: ArtifactGroup, digest: string): ArtifactResult | null {
  const mismatch = group.manifests.map((m) => checkArtifactDigest(m, digest)).find((v) => v !== null);
  if (mismatch === undefined || mismatch === null) return null;
  return failed(group.display, group.manifestDisplays, mismatch.reason, mismatch.message, { size: group.size, sha256: digest });
}

/** The verdict on an artifact whose digest matches its manifests, from its signature checks. */
function judgeGroup(group: ArtifactGroup, digest: string, checks: GroupChecks, requireSigners: number): ArtifactResult {
  const signers: SignerResult[] = [];
  checks.forEach((manifestChecks, i) => {
    for (const c of manifestChecks) signers.push({ fingerprint: c.keyFingerprint, name: c.keyName, status: c.status, manifest: group.manifestDisplays[i]! });
  });
  const verdict = judgeSigners(group.manifests[0]!, digest, checks.flat(), requireSigners);
  return {
    path: group.display, size: group.size, sha256: digest, manifests: group.manifestDisplays,
    signers, verdict: verdict.status === 'valid' ? 'verified' : 'failed', reason: verdict.reason, message: verdict.message,
  };
}

export function verifyBatch(paths: readonly string[], options: VerifyBatchOptions): BatchRun {
  if (paths.length === 0) throw new BluxError('invalid-argument', 'verify-batch needs at least one path');
  const backend = resolveBackendName(options.backend);
  const requireSigners = options.requireSigners ?? 1;
  const requireSigned = options.requireSigned === true;
  const shard = options.shard ?? null;
  const started = performance.now();
  const results: ArtifactResult[] = [];
  let stoppedEarly = false;
  let tree = '';
  const jobsUsed = options.jobs ?? os.availableParallelism();
  const abort = new AbortController();

  const emit = (result: ArtifactResult): ArtifactResult => {
    results.push(result);
    if (options.failFast === true && isFailure(result, requireSigned)) {
      stoppedEarly = true;
      abort.abort();
    }
    return result;
  };

  async function* run(): AsyncGenerator<ArtifactResult> {
    const found = await discover(paths, { recursive: options.recursive === true });
    tree = treeId(paths, [...found.files.map((f) => f.display), ...found.problems.map((p) => p.display)]);
    const step: RunStep = { options, backend, shard, signal: abort.signal, emit, digests: new DigestBoard() };

    for (const problem of found.problems) {
      if (!inShard(problem.display, shard)) continue;
      yield emit(failed(problem.display, [], problem.reason, problem.message));
      if (abort.signal.aborted) return;
    }

    // Hash every artifact the walk found right away, on the pool, while this
    // thread reads and pairs the manifests: hashing is most of the work, and
    // it need not wait for the pairing. (Files no manifest names are hashed
    // too; their digest is reported, and such files are rare in a release.)
    const artifactsByReal = new Map(found.files.filter((f): f is DiscoveredArtifact => f.kind === 'artifact').map((f) => [f.real, f]));
    const speculative = [...artifactsByReal.values()].filter((f) => inShard(f.display, shard));
    const hashing = new PoolHashing(step);
    hashing.start(speculative.map((f) => ({ path: f.real, size: f.size })));

    const { groups, referenced } = yield* pairManifests(step, found, artifactsByReal);
    if (abort.signal.aborted) return;

    // Artifacts named by a manifest but not found by the walk (outside the walked folders, or through a link) are hashed now.
    const hashedAlready = new Set(speculative.map((f) => f.real));
    hashing.start([...groups.values()].filter((g) => g.early.length === 0 && !hashedAlready.has(g.real)).map((g) => ({ path: g.real, size: g.size })));

    try {
      yield* unsignedArtifacts(step, speculative.filter((artifact) => !referenced.has(artifact.real)));
      if (!abort.signal.aborted) yield* judgedGroups(step, [...groups.values()], requireSigners);
    } finally {
      // Stopped early or failed: hashing still running ends with the abort.
      if (abort.signal.aborted) await hashing.settled();
    }
  }

  let finished: Promise<BatchReport> | null = null;
  let iterating = false;

  const finish = (): BatchReport => {
    const wall = (performance.now() - started) / 1000;
    const sorted = [...results].sort(byPath);
    const totals = computeTotals(sorted);
    return {
      format: REPORT_FORMAT,
      tool: { name: 'blux-reg', version: toolVersion },
      roots: [...paths],
      tree,
      shards: shard === null ? [] : [shard],
      shard_count: shard?.count ?? null,
      options: { recursive: options.recursive === true, require_signers: requireSigners, require_signed: requireSigned, fail_fast: options.failFast === true },
      backend,
      jobs: jobsUsed,
      status: reportStatus(sorted, requireSigned, stoppedEarly),
      stopped_early: stoppedEarly,
      totals,
      timings: { wall_seconds: Number(wall.toFixed(3)), gb_per_second: wall > 0 ? Number((totals.bytes / 1e9 / wall).toFixed(3)) : 0 },
      results: sorted,
    };
  };

  let resolveDone!: (report: BatchReport) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<BatchReport>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  // Unhandled if nobody asks for the report: that is fine, iteration rethrows.
  done.catch(() => {});

  const iterate = async function* (): AsyncGenerator<ArtifactResult> {
    try {
      yield* run();
      resolveDone(finish());
    } catch (e) {
      rejectDone(e);
      throw e;
    }
  };

  return {
    [Symbol.asyncIterator]() {
      if (iterating) throw new BluxError('internal', 'a verify-batch run can be iterated once');
      iterating = true;
      return iterate();
    },
    report() {
      if (!iterating) {
        iterating = true;
        finished ??= (async () => {
          for await (const _ of iterate()) {
            // Drain: the caller only wants the report.
          }
          return done;
        })();
        return finished;
      }
      return done;
    },
  };
}

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
import { sha256Files, type FileHashResult, type FileToHash } from '../engine/index.js';
import { readJsonDocument } from '../io/read-document.js';
import type { TrustContext } from '../trust/context.js';
import {
  checkArtifactDigest, isPrepared, judgeSigners, prepareManifest,
  type ArtifactLocator, type ManifestVerdict, type PreparedManifest,
} from '../verify/manifest.js';
import { lexicalTraversalProblem, locateArtifact } from '../verify/artifact-path.js';
import { discover, type DiscoveredFile } from './discover.js';
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
}

export interface BatchRun extends AsyncIterable<ArtifactResult> {
  /** Resolves when the run has finished (iterate first, or it runs to the end by itself). */
  report(): Promise<BatchReport>;
}

/** Manifests are read and prepared this many at a time. */
const MANIFEST_CONCURRENCY = 64;

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

  /** The verdict of an artifact whose digest matches its manifests, from its signature checks. */
  const judgeGroup = (group: ArtifactGroup, digest: string, checks: GroupChecks): ArtifactResult => {
    const signers: SignerResult[] = [];
    checks.forEach((manifestChecks, i) => {
      for (const c of manifestChecks) signers.push({ fingerprint: c.keyFingerprint, name: c.keyName, status: c.status, manifest: group.manifestDisplays[i]! });
    });
    const verdict = judgeSigners(group.manifests[0]!, digest, checks.flat(), requireSigners);
    return {
      path: group.display, size: group.size, sha256: digest, manifests: group.manifestDisplays,
      signers, verdict: verdict.status === 'valid' ? 'verified' : 'failed', reason: verdict.reason, message: verdict.message,
    };
  };

  async function* run(): AsyncGenerator<ArtifactResult> {
    const found = await discover(paths, { recursive: options.recursive === true });
    tree = treeId(paths, [...found.files.map((f) => f.display), ...found.problems.map((p) => p.display)]);

    const emit = (result: ArtifactResult): ArtifactResult => {
      results.push(result);
      if (options.failFast === true && isFailure(result, requireSigned)) {
        stoppedEarly = true;
        abort.abort();
      }
      return result;
    };

    for (const problem of found.problems) {
      if (!inShard(problem.display, shard)) continue;
      yield emit(failed(problem.display, [], problem.reason, problem.message));
      if (abort.signal.aborted) return;
    }

    // Hash every artifact the walk found right away, on the pool, while this
    // thread reads and pairs the manifests: hashing is most of the work, and
    // it need not wait for the pairing. (Files no manifest names are hashed
    // too; their digest is reported, and such files are rare in a release.)
    const artifactsByReal = new Map(found.files.filter((f) => f.kind === 'artifact').map((f) => [f.real, f]));
    const speculative = [...artifactsByReal.values()].filter((f) => inShard(f.display, shard));
    const digests = new DigestBoard();
    const hashing: Promise<void>[] = [];
    const progress = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0 };
    const startHashing = (files: FileToHash[]): void => {
      if (files.length === 0) return;
      const bytes = files.reduce((sum, f) => sum + f.size, 0);
      progress.filesTotal += files.length;
      progress.bytesTotal += bytes;
      const run = (async () => {
        const base = { filesDone: progress.filesDone, bytesDone: progress.bytesDone };
        for await (const hash of sha256Files(files, {
          backend,
          signal: abort.signal,
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
      hashing.push(run);
    };
    startHashing(speculative.map((f) => ({ path: f.real, size: f.size })));

    // Pair manifests with artifacts. The walk already knows every file's real
    // path, so an artifact is located by a lookup; only a name the walk did
    // not see (a symlinked artifact, a file outside the walked folders) goes
    // through the full check with realpath().
    const realByAbs = new Map(found.files.map((f) => [f.abs, f.real]));
    const locate: ArtifactLocator = async (manifestFile, artifactPath) => {
      if (lexicalTraversalProblem(artifactPath) === null) {
        const manifestReal = realByAbs.get(manifestFile);
        if (manifestReal !== undefined) {
          const candidate = path.join(path.dirname(manifestReal), ...artifactPath.split('/'));
          // A real path has no symlink in it, so a candidate equal to one names exactly that file.
          const known = artifactsByReal.get(candidate);
          if (known !== undefined) return { ok: true, path: known.real, size: known.size };
        }
      }
      return locateArtifact(manifestFile, artifactPath);
    };
    const groups = new Map<string, ArtifactGroup>();
    const groupFor = (real: string, display: string, size: number): ArtifactGroup => {
      let group = groups.get(real);
      if (group === undefined) {
        group = { display, real, size, manifests: [], manifestDisplays: [], early: [] };
        groups.set(real, group);
      }
      return group;
    };
    const manifestFiles = found.files.filter((f) => f.kind === 'manifest');
    const referenced = new Set<string>();
    for (let i = 0; i < manifestFiles.length; i += MANIFEST_CONCURRENCY) {
      const slice = manifestFiles.slice(i, i + MANIFEST_CONCURRENCY);
      const prepared = await Promise.all(slice.map(async (m) => {
        try {
          return { m, outcome: await prepareManifest(m.abs, await readJsonDocument(m.abs), { backend }, locate) };
        } catch (e) {
          const reason = e instanceof BluxError ? (e.code === 'malformed' ? 'malformed' : 'unreadable') : 'unreadable';
          return { m, outcome: null, error: { reason, message: e instanceof Error ? e.message : String(e) } };
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
        if (abort.signal.aborted) return;
      }
      // Let the pool's completions and new task dispatches through between slices.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }

    // Artifacts named by a manifest but not found by the walk (outside the walked folders, or through a link) are hashed now.
    const hashedAlready = new Set(speculative.map((f) => f.real));
    startHashing([...groups.values()].filter((g) => g.early.length === 0 && !hashedAlready.has(g.real)).map((g) => ({ path: g.real, size: g.size })));

    for (const artifact of speculative) {
      if (referenced.has(artifact.real)) continue;
      const hash = await digests.get(artifact.real);
      yield emit({
        path: artifact.display, size: artifact.size, sha256: hash.ok ? hash.sha256 : null, manifests: [], signers: [],
        verdict: 'unsigned', reason: 'unsigned', message: 'no manifest names this file',
      });
      if (abort.signal.aborted) return;
    }

    // Groups that already fail need no digest.
    const pendingGroups: ArtifactGroup[] = [];
    for (const group of groups.values()) {
      const early = group.early[0];
      if (early !== undefined) {
        yield emit(failed(group.display, group.manifestDisplays, early.verdict.reason, early.verdict.message, { size: group.size }));
        if (abort.signal.aborted) return;
      } else {
        pendingGroups.push(group);
      }
    }

    // The signatures are checked meanwhile (they do not depend on the digests); each verdict needs both.
    const signatures = startSignatureChecks(pendingGroups, {
      trust: options.trust, backend, signal: abort.signal, ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
    });
    try {
      for await (const group of digests.inArrivalOrder(pendingGroups, (g) => g.real)) {
        const hash = await digests.get(group.real);
        if (!hash.ok) {
          yield emit(failed(group.display, group.manifestDisplays, 'artifact-unreadable', hash.message, { size: group.size }));
        } else {
          const mismatch = group.manifests.map((m) => checkArtifactDigest(m, hash.sha256)).find((v) => v !== null);
          if (mismatch !== undefined && mismatch !== null) {
            yield emit(failed(group.display, group.manifestDisplays, mismatch.reason, mismatch.message, { size: hash.size, sha256: hash.sha256 }));
          } else {
            yield emit(judgeGroup(group, hash.sha256, await signatures.checksOf(group)));
          }
        }
        if (abort.signal.aborted) return;
      }
    } catch (e) {
      if (!abort.signal.aborted) throw e;
      return;
    } finally {
      signatures.stop();
      // Stopped early or failed: hashing still running ends with the abort.
      if (abort.signal.aborted) await Promise.allSettled(hashing);
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

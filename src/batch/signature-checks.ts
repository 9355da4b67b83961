/**
 * verify-batch's signature checks, run while the pool hashes.
 *
 * A manifest's signers signed the manifest, which names the artifact's
 * digest: whether the signatures hold does not depend on the bytes of the
 * artifact. So the checks need not wait for hashing. They start as soon as
 * the manifests are read, in engine calls over slices of about
 * SIGNATURE_SLICE_ITEMS signatures (each call is itself spread over the
 * pool), and each artifact's verdict takes its checks when its digest
 * arrives. Before, the checks ran after the digests, so the last artifacts'
 * signatures were a tail on an otherwise idle machine.
 *
 * At most SLICES_IN_FLIGHT slices' engine batches are in memory at a time: a
 * tree of a million manifests does not build a million signed messages at once.
 */
import { BluxError } from '../errors.js';
import { verifyEd25519Parallel } from '../engine/index.js';
import type { BackendName, Ed25519VerifyItem } from '../engine/types.js';
import type { TrustContext } from '../trust/context.js';
import { preparedSignedBytes, type PreparedManifest } from '../verify/manifest.js';
import { finishSignatureChecks, planSignatureChecks, type SignatureCheck, type SignaturePlan } from '../verify/signers.js';

/** Signatures per engine call: large enough for the pool, small enough that results keep streaming. */
export const SIGNATURE_SLICE_ITEMS = 2048;

/** The artifacts whose manifests are checked: anything with a list of prepared manifests. */
export interface SignedGroup {
  readonly manifests: readonly PreparedManifest[];
}

/** Per manifest of a group (same order), the checks of its signatures. */
export type GroupChecks = SignatureCheck[][];

export interface SignatureCheckOptions {
  readonly trust: TrustContext;
  readonly backend: BackendName;
  readonly jobs?: number;
  readonly signal: AbortSignal;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may ask for a group's checks (the run stopped, or its digest
  // failed): a rejection then must not surface as an unhandled one. A caller
  // that awaits the promise still sees it.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Slices checked at once: one verifying on the pool while the next is planned; at most two slices' messages in memory. */
const SLICES_IN_FLIGHT = 2;

/** Consecutive runs of groups holding about `maxItems` signatures each (a group is never split). */
function slices<G extends SignedGroup>(groups: readonly G[], maxItems: number): G[][] {
  const result: G[][] = [];
  let current: G[] = [];
  let items = 0;
  for (const group of groups) {
    current.push(group);
    for (const manifest of group.manifests) items += manifest.manifest.signatures.length;
    if (items >= maxItems) {
      result.push(current);
      current = [];
      items = 0;
    }
  }
  if (current.length > 0) result.push(current);
  return result;
}

/**
 * Starts checking every group's signatures, in the groups' order, and returns
 * at once. `checksOf(group)` resolves when that group's slice is done; it
 * rejects if the engine failed, the signal aborted the run, or `stop()` was
 * called first. Call `stop()` when the run ends, so that no slice is checked
 * for nobody (a run that stopped early, groups that failed on their digest).
 */
export function startSignatureChecks<G extends SignedGroup>(
  groups: readonly G[],
  options: SignatureCheckOptions,
): { checksOf(group: G): Promise<GroupChecks>; stop(): void } {
  const pending = new Map<G, Deferred<GroupChecks>>(groups.map((g) => [g, deferred<GroupChecks>()]));
  const results = new Map<G, Promise<GroupChecks>>([...pending].map(([g, d]) => [g, d.promise]));
  const { trust, backend } = options;
  // stop(): the run ended (or gave up) before every group was asked for; slices not checked yet are dropped.
  const stopper = new AbortController();
  const signal = AbortSignal.any([options.signal, stopper.signal]);

  const checkSlice = async (slice: readonly G[]): Promise<void> => {
    const plans: SignaturePlan[][] = slice.map((group) =>
      group.manifests.map((m) => planSignatureChecks(m.manifest.signatures, preparedSignedBytes(m), trust)));
    const items: Ed25519VerifyItem[] = plans.flatMap((groupPlans) => groupPlans.flatMap((plan) => plan.items));
    const verdicts = await verifyEd25519Parallel(items, { backend, signal, ...(options.jobs !== undefined ? { jobs: options.jobs } : {}) });
    let offset = 0;
    slice.forEach((group, g) => {
      const checks = plans[g]!.map((plan) => {
        const done = finishSignatureChecks(plan, verdicts.slice(offset, offset + plan.items.length), trust);
        offset += plan.items.length;
        return done;
      });
      // Absent when another slice failed meanwhile (its group was rejected then).
      pending.get(group)?.resolve(checks);
      pending.delete(group);
    });
  };

  // Slice i runs on lane i % SLICES_IN_FLIGHT, after that lane's previous slice: one slice verifies on
  // the pool while this thread plans the next, instead of each waiting for the other.
  const lanes: Promise<void>[] = Array.from({ length: SLICES_IN_FLIGHT }, () => Promise.resolve());
  let failure: { error: unknown } | null = null;
  slices(groups, SIGNATURE_SLICE_ITEMS).forEach((slice, i) => {
    const lane = i % SLICES_IN_FLIGHT;
    lanes[lane] = lanes[lane]!.then(async () => {
      if (failure !== null) return;
      try {
        signal.throwIfAborted();
        await checkSlice(slice);
      } catch (error) {
        // The first failure fails every group still waiting, as the engine or the abort would.
        failure ??= { error };
        for (const d of pending.values()) d.reject(error);
        pending.clear();
      }
    });
  });

  return {
    stop(): void {
      stopper.abort();
    },
    checksOf(group: G): Promise<GroupChecks> {
      const result = results.get(group);
      if (result !== undefined) return result;
      return Promise.reject(new BluxError('internal', 'signature checks asked for a group that was not given'));
    },
  };
}

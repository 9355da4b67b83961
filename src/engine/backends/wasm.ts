/**
 * The `wasm` backend: Ed25519 from blux-reg's own WebAssembly module
 * (assembly/ed25519, built to dist/wasm/ed25519.wasm), which verifies a whole
 * batch with one multi-scalar multiplication; SHA-256 from hash-wasm (its
 * WebAssembly SHA-256, loaded once per thread when the backend is created).
 *
 * Verdicts follow the "strict, cofactored" rule (issue 4): the shared
 * pre-check first (lengths, S < L, canonical encodings), then in WebAssembly
 * A and R must decode and not be of small order, and the item is valid iff
 * [8]([S]B - R - [k]A) is the identity.
 *
 * What this side does, and why:
 * - SHA-512(R || A || M) is computed here with node:crypto and passed in: it
 *   costs about a microsecond per signature next to tens of microseconds of
 *   point arithmetic, and it keeps a SHA-512 implementation out of the module;
 * - the 128-bit batch coefficients z_i come from crypto.getRandomValues, with
 *   the low bit set so that z_i != 0 and a batch of one is an exact check;
 * - decoded public keys are cached by their bytes (x and y, or "invalid"), so
 *   a signer seen in an earlier batch is not decoded again;
 * - inputs go into WebAssembly memory as one block per batch; when a batch
 *   fails, group testing (validItemsOf: groups sized from the invalid rate,
 *   then one by one) names exactly the invalid signatures.
 *
 * The module is compiled and instantiated once per thread (each worker of the
 * engine pool gets its own through getBackend).
 */
import { createHash, getRandomValues } from 'node:crypto';
import { createRequire } from 'node:module';

import { BluxError } from '../../errors.js';
import { passesEd25519Precheck } from '../precheck.js';
import type { Backend, Ed25519VerifyItem, Sha256Hasher } from '../types.js';
import { createNodeSha256Hasher, nodeSha256 } from './node-sha256.js';
import { SingleUseHasher } from './single-use-hasher.js';
import { readBuiltFile } from '../../io/package-files.js';

/**
 * The part of the WebAssembly JS API used here: the project compiles with
 * lib ES2022 and no DOM types, and @types/node 20 declares no WebAssembly.
 */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

/** The exports of assembly/ed25519/index.ts. */
interface Ed25519Module {
  readonly memory: { readonly buffer: ArrayBuffer };
  batch_input(bytes: number): number;
  batch_prepare(keys: number, keyCount: number, items: number, itemCount: number): void;
  batch_check(indices: number, count: number): number;
  batch_set_msm(method: number): number;
}

/**
 * The multi-scalar multiplication of each batch check: `auto` (the default)
 * picks by the cost models in assembly/ed25519 (Straus for a few points,
 * Pippenger for many); the others force one, for benchmarks and tests.
 */
export const MSM_METHODS = ['auto', 'pippenger', 'straus', 'bos-coster'] as const;
export type MsmMethod = (typeof MSM_METHODS)[number];

export interface WasmBackendOptions {
  msm?: MsmMethod;
}

// Record layouts, as in assembly/ed25519/batch.ts.
const KEY_RECORD_BYTES = 128;
const KEY_X = 32; // x then y, 64 bytes: the decoded key
const AFFINE_BYTES = 64;
const KEY_STATUS = 96;
const KEY_UNKNOWN = 0;
const KEY_VALID = 1;
const KEY_INVALID = 2;

const ITEM_RECORD_BYTES = 160;
const ITEM_R = 0;
const ITEM_S = 32;
const ITEM_DIGEST = 64;
/** SHA-512's output: the 64 bytes from ITEM_DIGEST to ITEM_Z. */
const SHA512_BYTES = 64;
const ITEM_Z = 128;
const ITEM_KEY = 144;
const ITEM_STATUS = 148;
const ITEM_MAY_BE_VALID = 1;

const POINT_BYTES = 32;
const Z_BYTES = 16;
const INDEX_BYTES = 4;

/**
 * Largest batch given to one multi-scalar multiplication: memory stays in
 * the tens of MiB, and larger batches gain little (the cost per signature
 * flattens out past a few thousand).
 */
const MAX_CHUNK_ITEMS = 32_768;
/** Decoded keys kept per thread (about 100 bytes each); the oldest go first. */
const MAX_CACHED_KEYS = 4_096;

function instantiate(): Ed25519Module {
  const bytes = readBuiltFile('dist/wasm/ed25519.wasm', 'the wasm backend');
  // Synchronous on purpose: a ~10 KiB module compiles in well under a millisecond.
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  return instance.exports as unknown as Ed25519Module;
}

/** x || y of a decoded key, or false for a key that does not decode or has small order. */
type CachedKey = Uint8Array | false;

const keyId = (publicKey: Uint8Array): string =>
  Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1');

/**
 * k's hash input, SHA-512(R || A || M), as a latin1 ('binary') string (one char per
 * byte). Not a Buffer: in batches of thousands, allocating and later freeing
 * one Buffer per signature was ~10 % of a worker's time and most of V8's
 * helper-thread time (profiles, bench/wasm-ed25519.mjs pool section).
 */
function digestLatin1Of(item: Ed25519VerifyItem): string {
  return createHash('sha512').update(item.signature.subarray(0, POINT_BYTES)).update(item.publicKey).update(item.message).digest('binary');
}

/** getRandomValues fills at most this many bytes per call (Web Crypto's limit). */
const MAX_RANDOM_BYTES_PER_CALL = 65_536;

/** n random 128-bit batch coefficients, 16 bytes each. */
function randomCoefficients(n: number): Uint8Array {
  const z = new Uint8Array(n * Z_BYTES);
  for (let start = 0; start < z.length; start += MAX_RANDOM_BYTES_PER_CALL) {
    getRandomValues(z.subarray(start, start + MAX_RANDOM_BYTES_PER_CALL));
  }
  return z;
}

/**
 * The fixed cost of one batch check (the 253 doublings and the bucket sums of
 * its multi-scalar multiplication), in units of what one more item adds to a
 * large check: a check of one item costs about as much as 10 items in a batch
 * of 1,024 (bench/wasm-ed25519.mjs: 2.7k/s checked one by one, 22k/s in
 * batches of 1,024, both including decoding, which every item pays once).
 */
const CHECK_OVERHEAD_ITEMS = 10;

/**
 * The group size that costs least per item when a fraction `invalidRate` of
 * the items is invalid (Dorfman's group testing): a group of g costs
 * (overhead + g), and with probability ~ g * rate it fails and its items are
 * checked again one by one, at (overhead + 1) each; minimising
 * overhead / g + g * rate * (overhead + 1) gives g = sqrt(overhead / (rate (overhead + 1))).
 */
function groupSizeFor(invalidRate: number): number {
  return Math.max(1, Math.floor(Math.sqrt(CHECK_OVERHEAD_ITEMS / (invalidRate * (CHECK_OVERHEAD_ITEMS + 1)))));
}

/** `list` cut into consecutive parts of `size` items (the last may be shorter). */
function partsOf<T>(list: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let start = 0; start < list.length; start += size) parts.push(list.slice(start, start + size));
  return parts;
}

/**
 * The items of `list` that pass `check` one by one, found with few checks.
 * `check(group)` is true iff every item of the group is valid (a batch check:
 * exact for one item, false with overwhelming probability when any is invalid).
 *
 * One check of the whole list first: in the common case, everything valid,
 * that is all. When it fails, plain bisection costs about log2(n) checks per
 * invalid item, which with many invalid items (10 % of a batch of 1,024) is
 * slower than checking every item alone. Instead, rounds of group testing:
 * the groups known to fail are cut into parts of the size that costs least
 * at the invalid rate estimated from the previous round (groupSizeFor); a
 * part that passes settles its items as valid; the last part of a group need
 * not be checked when all its siblings passed (the group failed, so it
 * fails). When the estimated rate makes parts of one item cheapest, the
 * remaining items are checked one by one. Verdicts stay exact either way.
 *
 * `priorInvalidRate`: the invalid rate of the caller's previous batch. It is
 * used only once this list has failed, for the first group size: a stream of
 * batches with many invalid items (the differential run: 27 %) then goes
 * straight to one by one instead of first paying a round of groups that all
 * fail (bench/differential-1m.mjs: wasm batch mode took 655 thread-s against
 * 482 one by one before). A list that passes costs one check whatever it is.
 */
export function validItemsOf<T>(list: readonly T[], check: (group: readonly T[]) => boolean, priorInvalidRate = 0): T[] {
  if (list.length === 0) return [];
  if (check(list)) return [...list];
  const valid: T[] = [];
  /** Groups each known to hold at least one invalid item. */
  let failing: T[][] = [[...list]];
  // The whole list failed: at least one invalid item in it.
  let invalidRate = Math.max(1 / list.length, priorInvalidRate);
  while (failing.length > 0) {
    const size = groupSizeFor(invalidRate);
    if (size === 1) {
      for (const group of failing) valid.push(...validOneByOne(group, check));
      return valid;
    }
    const next: T[][] = [];
    let checked = 0;
    let failed = 0;
    let checkedItems = 0;
    for (const group of failing) {
      if (group.length === 1) continue; // known to fail: that one item is invalid
      const parts = partsOf(group, Math.min(size, Math.ceil(group.length / 2)));
      let siblingFailed = false;
      parts.forEach((part, p) => {
        if (p === parts.length - 1 && !siblingFailed) {
          next.push(part);
          return;
        }
        checked++;
        checkedItems += part.length;
        if (check(part)) {
          valid.push(...part);
        } else {
          failed++;
          siblingFailed = true;
          next.push(part);
        }
      });
    }
    invalidRate = estimatedInvalidRate(checked, failed, checkedItems, invalidRate);
    failing = next;
  }
  return valid;
}

/** The valid items of a group known to fail, each checked alone (the last one not, when all before it passed). */
function validOneByOne<T>(group: readonly T[], check: (group: readonly T[]) => boolean): T[] {
  const valid: T[] = [];
  group.forEach((item, i) => {
    if (i === group.length - 1 && valid.length === group.length - 1) return;
    if (check([item])) valid.push(item);
  });
  return valid;
}

/**
 * The per-item invalid rate that makes `failed` of `checked` groups (of
 * checkedItems items in all) fail: with Poisson-distributed invalid items, a
 * group of g fails with probability 1 - exp(-g rate). When every group
 * failed there is no upper estimate, and the rate is taken as 1: checking
 * one by one then costs at most ~25 % more than the best group size would
 * (at rates where groups of 30 nearly all fail), while halving further at a
 * high rate would cost up to 50 % more checks (bench/wasm-ed25519.mjs mixes).
 * No group checked: keep the previous estimate.
 */
function estimatedInvalidRate(checked: number, failed: number, checkedItems: number, previous: number): number {
  if (checked === 0) return previous;
  if (failed === checked) return 1;
  const meanSize = checkedItems / checked;
  // Not 0: groupSizeFor divides by it (a tiny rate means halving what still fails).
  return Math.max(-Math.log(1 - failed / checked) / meanSize, Number.MIN_VALUE);
}

class WasmEd25519Verifier {
  readonly #module: Ed25519Module = instantiate();
  readonly #keys = new Map<string, CachedKey>();
  /** Share of the previous chunk's candidates that failed the equation (validItemsOf's prior). */
  #lastInvalidRate = 0;

  constructor(msm: MsmMethod) {
    // The module's MSM_* constants are the positions in MSM_METHODS.
    if (this.#module.batch_set_msm(MSM_METHODS.indexOf(msm)) === 0) {
      throw new BluxError('invalid-argument', `wasm backend: unknown multi-scalar multiplication "${msm}" (known: ${MSM_METHODS.join(', ')})`);
    }
  }

  /** One verdict per item; items failing the shared pre-check are false. */
  verify(items: readonly Ed25519VerifyItem[]): boolean[] {
    const verdicts = new Array<boolean>(items.length).fill(false);
    const candidates: number[] = [];
    items.forEach((item, index) => {
      if (passesEd25519Precheck(item)) candidates.push(index);
    });
    for (let start = 0; start < candidates.length; start += MAX_CHUNK_ITEMS) {
      this.#verifyChunk(items, candidates.slice(start, start + MAX_CHUNK_ITEMS), verdicts);
    }
    return verdicts;
  }

  #bytes(): Uint8Array {
    // Re-read after every call into the module: growing memory replaces the buffer.
    return new Uint8Array(this.#module.memory.buffer);
  }

  #verifyChunk(items: readonly Ed25519VerifyItem[], chunk: readonly number[], verdicts: boolean[]): void {
    const wasm = this.#module;
    const n = chunk.length;

    // Distinct keys of the chunk, in order of first use.
    const keyIndex = new Map<string, number>();
    const keyIds: string[] = [];
    const keyItems: Ed25519VerifyItem[] = [];
    const itemKey = chunk.map((index) => {
      const item = items[index]!;
      const id = keyId(item.publicKey);
      let k = keyIndex.get(id);
      if (k === undefined) {
        k = keyIds.length;
        keyIndex.set(id, k);
        keyIds.push(id);
        keyItems.push(item);
      }
      return k;
    });
    const m = keyIds.length;

    const keysAt = wasm.batch_input(m * KEY_RECORD_BYTES + n * ITEM_RECORD_BYTES + n * INDEX_BYTES);
    const itemsAt = keysAt + m * KEY_RECORD_BYTES;
    const indicesAt = itemsAt + n * ITEM_RECORD_BYTES;
    let memory = this.#bytes();
    memory.fill(0, keysAt, indicesAt);

    keyItems.forEach((item, k) => {
      const record = keysAt + k * KEY_RECORD_BYTES;
      memory.set(item.publicKey, record);
      const cached = this.#keys.get(keyIds[k]!);
      if (cached === undefined) {
        memory[record + KEY_STATUS] = KEY_UNKNOWN; // decoded by batch_prepare
      } else if (cached === false) {
        memory[record + KEY_STATUS] = KEY_INVALID;
      } else {
        memory.set(cached, record + KEY_X);
        memory[record + KEY_STATUS] = KEY_VALID;
      }
    });

    const z = randomCoefficients(n);
    const view = new DataView(memory.buffer);
    // Digests are written as latin1 strings through one Buffer over the module's memory (no growth until batch_prepare).
    const memoryAsBuffer = Buffer.from(memory.buffer);
    chunk.forEach((index, j) => {
      const item = items[index]!;
      const record = itemsAt + j * ITEM_RECORD_BYTES;
      memory.set(item.signature.subarray(0, POINT_BYTES), record + ITEM_R);
      memory.set(item.signature.subarray(POINT_BYTES), record + ITEM_S);
      memoryAsBuffer.write(digestLatin1Of(item), record + ITEM_DIGEST, SHA512_BYTES, 'latin1');
      // Low bit set: z != 0, so a check of one item is exact.
      z[j * Z_BYTES]! |= 1;
      memory.set(z.subarray(j * Z_BYTES, (j + 1) * Z_BYTES), record + ITEM_Z);
      view.setUint32(record + ITEM_KEY, itemKey[j]!, true);
    });

    wasm.batch_prepare(keysAt, m, itemsAt, n);
    memory = this.#bytes();

    this.#rememberKeys(memory, keysAt, keyIds);
    const candidates = chunk.map((_, j) => j).filter((j) => memory[itemsAt + j * ITEM_RECORD_BYTES + ITEM_STATUS] === ITEM_MAY_BE_VALID);

    const check = (list: readonly number[]): boolean => {
      new Uint32Array(wasm.memory.buffer, indicesAt, list.length).set(list);
      return wasm.batch_check(indicesAt, list.length) !== 0;
    };
    const valid = validItemsOf(candidates, check, this.#lastInvalidRate);
    for (const j of valid) verdicts[chunk[j]!] = true;
    if (candidates.length > 0) this.#lastInvalidRate = 1 - valid.length / candidates.length;
  }

  /**
   * Keys decoded in this batch go into the cache: x || y, or false when
   * invalid. The cache holds MAX_CACHED_KEYS keys, the oldest dropped first
   * (a Map iterates in insertion order).
   */
  #rememberKeys(memory: Uint8Array, keysAt: number, keyIds: readonly string[]): void {
    keyIds.forEach((id, k) => {
      if (this.#keys.has(id)) return;
      const record = keysAt + k * KEY_RECORD_BYTES;
      const status = memory[record + KEY_STATUS];
      let entry: CachedKey;
      if (status === KEY_VALID) entry = memory.slice(record + KEY_X, record + KEY_X + AFFINE_BYTES);
      else if (status === KEY_INVALID) entry = false;
      else throw new BluxError('internal', `wasm backend: key ${k} left undecoded (status ${status})`);
      if (this.#keys.size >= MAX_CACHED_KEYS) this.#keys.delete(this.#keys.keys().next().value!);
      this.#keys.set(id, entry);
    });
  }
}

/** The part of hash-wasm's IHasher used here (hash-wasm/dist/lib/WASMInterface.d.ts). */
interface HashWasmHasher {
  init(): HashWasmHasher;
  update(data: Uint8Array): HashWasmHasher;
  digest(outputType: 'binary'): Uint8Array;
  /** The internal state, to resume later with load(); valid between init() and digest(). */
  save(): Uint8Array;
  load(state: Uint8Array): HashWasmHasher;
}

/**
 * hash-wasm's SHA-256 build alone: the package's main entry compiles every
 * algorithm it has (~70 ms), this one only SHA-256 (~2 ms to load).
 */
const HASH_WASM_SHA256 = 'hash-wasm/dist/sha256.umd.min.js';

/**
 * One hash-wasm SHA-256 instance per thread (each engine worker creates its
 * own backend, so its own instance). Creating it is asynchronous (it compiles
 * WebAssembly, ~5 ms), using it is not, and the Backend interface's SHA-256
 * is synchronous. A top-level await would do, but it breaks the engine
 * workers: piscina loads the worker module with require() first, which Node
 * 20 refuses for a module graph with a top-level await, and the import()
 * that follows then fails on an internal assertion. So creating the wasm
 * backend starts loading hash-wasm, and until it is there (the first few
 * milliseconds of a thread, or for good if it failed to load) SHA-256 is
 * computed by node:crypto: the digests are the same, only the code differs.
 */
let hashWasm: HashWasmHasher | undefined;
let hashWasmLoading: Promise<void> | undefined;
let hashWasmError: unknown;

/** Starts loading hash-wasm in this thread (once); resolves when it is loaded, rejects if it cannot be. */
export function loadHashWasm(): Promise<void> {
  hashWasmLoading ??= (async () => {
    try {
      const { createSHA256 } = createRequire(import.meta.url)(HASH_WASM_SHA256) as { createSHA256(): Promise<HashWasmHasher> };
      hashWasm = await createSHA256();
    } catch (cause) {
      hashWasmError = cause;
      throw new BluxError('internal', `the wasm backend could not load hash-wasm's SHA-256 (node:crypto is used instead)`, { cause });
    }
  })();
  return hashWasmLoading;
}

/** What computes the wasm backend's SHA-256 in this thread right now. */
export function wasmSha256Implementation(): 'hash-wasm' | 'node:crypto (hash-wasm loading)' | 'node:crypto (hash-wasm failed to load)' {
  if (hashWasm !== undefined) return 'hash-wasm';
  return hashWasmError === undefined ? 'node:crypto (hash-wasm loading)' : 'node:crypto (hash-wasm failed to load)';
}

/** SHA-256 by hash-wasm (node:crypto until it is loaded). */
export function hashWasmSha256(data: Uint8Array): Uint8Array {
  if (hashWasm === undefined) return nodeSha256(data);
  return hashWasm.init().update(data).digest('binary');
}

/**
 * An incremental SHA-256 by hash-wasm (node:crypto when created before it is
 * loaded). Hashers can be interleaved (several files at once) while the
 * thread has one hash-wasm instance: each hasher keeps its own state and
 * loads it around every update (~100 bytes copied, nothing next to a chunk
 * of a file).
 */
export function createHashWasmSha256Hasher(): Sha256Hasher {
  const instance = hashWasm;
  if (instance === undefined) return createNodeSha256Hasher();
  let state = instance.init().save();
  return new SingleUseHasher({
    update: (chunk) => {
      state = instance.load(state).update(chunk).save();
    },
    digest: () => instance.load(state).digest('binary'),
  });
}

export function createWasmBackend(options: WasmBackendOptions = {}): Backend {
  const verifier = new WasmEd25519Verifier(options.msm ?? 'auto');
  // Failure is recorded (wasmSha256Implementation) and node:crypto stays in use.
  loadHashWasm().catch(() => undefined);
  return {
    name: 'wasm',
    sha256: hashWasmSha256,
    sha256Many: (items) => items.map(hashWasmSha256),
    createSha256: createHashWasmSha256Hasher,
    verifyEd25519Batch: async (items) => {
      try {
        return verifier.verify(items);
      } catch (cause) {
        // A trap (out of memory) or a bug: an engine error, never a silent verdict.
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new BluxError('internal', `wasm backend failed: ${reason}`, { cause });
      }
    },
  };
}

/**
 * The engine's worker pool: sha256Files and verifyEd25519Parallel give the
 * same answers as the in-thread engine, on every backend, and the pool is
 * created once, reused, and recreated after closeEnginePool.
 *
 * The workers run the compiled dist/engine/worker.js (see pool.ts), so this
 * file needs a fresh `npm run build` (npm test does it).
 */
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  closeEnginePool,
  sha256Files,
  planHashTasks,
  verifyEd25519Batch,
  verifyEd25519Parallel,
  type Ed25519VerifyItem,
  type FileHashResult,
  type FileToHash,
  type HashProgress,
} from '../src/engine/index.js';
import { AUTO_WASM_MIN_BATCH } from '../src/engine/backends/auto.js';
import { enginePoolInfo, getEnginePool, isEnginePoolWarm, prestartEnginePool } from '../src/engine/pool.js';
import { packEd25519Batch, unpackEd25519Batch } from '../src/engine/worker.js';
import { BluxError } from '../src/errors.js';

const MIB = 1024 * 1024;
const RUNNING_AS_ROOT = process.getuid?.() === 0;

/** Deterministic bytes (no need for randomness; different sizes give different content). */
function patternBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let state = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface Tree {
  dir: string;
  files: FileToHash[];
  /** Expected result per path: digest and size, or the error code. */
  expected: Map<string, { sha256: string; size: number } | { code: string }>;
  readableBytes: number;
}

function buildTree(): Tree {
  const dir = mkdtempSync(path.join(tmpdir(), 'blux-pool-test-'));
  const files: FileToHash[] = [];
  const expected: Tree['expected'] = new Map();
  let readableBytes = 0;

  const addFile = (name: string, length: number, seed: number): void => {
    const filePath = path.join(dir, name);
    const bytes = patternBytes(length, seed);
    writeFileSync(filePath, bytes);
    files.push({ path: filePath, size: length });
    expected.set(filePath, { sha256: sha256Hex(bytes), size: length });
    readableBytes += length;
  };

  // Sizes around the default 1 MiB read buffer and around 4 MiB, and one spanning several reads.
  const bigSizes = [0, 1, MIB - 1, MIB, MIB + 1, 4 * MIB - 1, 4 * MIB, 4 * MIB + 1, 10 * MIB + 3];
  bigSizes.forEach((size, i) => addFile(`big-${i}.bin`, size, i + 1));
  mkdirSync(path.join(dir, 'small'));
  for (let i = 0; i < 500; i++) addFile(path.join('small', `f-${i}.bin`), 1024 + ((i * 7919) % (15 * 1024 + 1)), 1000 + i);

  const missing = path.join(dir, 'missing.bin');
  files.push({ path: missing, size: 10 });
  expected.set(missing, { code: 'file-not-found' });

  const directory = path.join(dir, 'a-directory');
  mkdirSync(directory);
  files.push({ path: directory, size: statSync(directory).size });
  expected.set(directory, { code: 'file-unreadable' });

  if (!RUNNING_AS_ROOT) {
    // Root reads files whatever their mode, so this case only means something for other users.
    const locked = path.join(dir, 'no-read-permission.bin');
    writeFileSync(locked, 'secret');
    chmodSync(locked, 0o000);
    files.push({ path: locked, size: 6 });
    expected.set(locked, { code: 'file-unreadable' });
  }
  return { dir, files, expected, readableBytes };
}

async function collect(iterable: AsyncIterable<FileHashResult>): Promise<FileHashResult[]> {
  const results: FileHashResult[] = [];
  for await (const result of iterable) results.push(result);
  return results;
}

function checkResults(tree: Tree, results: readonly FileHashResult[]): void {
  expect(results).toHaveLength(tree.files.length);
  expect(new Set(results.map((r) => r.path)).size).toBe(tree.files.length);
  for (const result of results) {
    const want = tree.expected.get(result.path);
    expect(want, result.path).toBeDefined();
    if ('code' in want!) {
      expect(result, result.path).toMatchObject({ ok: false, code: want.code });
      if (!result.ok) expect(result.message.length).toBeGreaterThan(0);
    } else {
      expect(result, result.path).toEqual({ path: result.path, ok: true, sha256: want!.sha256, size: want!.size });
    }
  }
}

describe('sha256Files', () => {
  let tree: Tree;
  beforeAll(() => {
    tree = buildTree();
  });
  afterAll(async () => {
    await closeEnginePool();
    rmSync(tree.dir, { recursive: true, force: true });
  });

  it('gives node:crypto digests for every readable file and a failure result for the others', async () => {
    checkResults(tree, await collect(sha256Files(tree.files, { jobs: 2 })));
  });

  it('reports progress up to the total bytes and files', async () => {
    const reports: HashProgress[] = [];
    const results = await collect(sha256Files(tree.files, { jobs: 2, onProgress: (p) => reports.push(p) }));
    checkResults(tree, results);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.at(-1)).toEqual({ bytesDone: tree.readableBytes, filesDone: tree.files.length });
    // Never goes backwards.
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i]!.bytesDone).toBeGreaterThanOrEqual(reports[i - 1]!.bytesDone);
      expect(reports[i]!.filesDone).toBeGreaterThanOrEqual(reports[i - 1]!.filesDone);
    }
  });

  it('gives the same results with 1 and 2 jobs, a small read buffer, and the js backend', async () => {
    const byPath = (results: FileHashResult[]) => new Map(results.map((r) => [r.path, r]));
    const two = byPath(await collect(sha256Files(tree.files, { jobs: 2 })));
    const one = byPath(await collect(sha256Files(tree.files, { jobs: 1, bufferSize: 64 * 1024 })));
    expect(one).toEqual(two);
    // The js backend is slower: a subset, one file of each size class plus the failures.
    const someFiles = tree.files.filter((_, i) => i < 8 || i >= tree.files.length - 4);
    const viaJs = await collect(sha256Files(someFiles, { jobs: 2, backend: 'js' }));
    expect(byPath(viaJs)).toEqual(new Map([...two].filter(([p]) => someFiles.some((f) => f.path === p))));
  });

  it('two files at a time (the addon\'s interleaved streams, where the CPU has the SHA extensions) gives what one at a time gives: odd read sizes, every file of the tree', async () => {
    const byPath = (results: FileHashResult[]) => new Map(results.map((r) => [r.path, r]));
    // auto: two at a time where the addon can; wasm: one at a time, always.
    const oneAtATime = byPath(await collect(sha256Files(tree.files, { jobs: 2, backend: 'wasm' })));
    for (const bufferSize of [4096 + 1, 65 * 1024 - 3]) {
      expect(byPath(await collect(sha256Files(tree.files, { jobs: 2, backend: 'auto', bufferSize })))).toEqual(oneAtATime);
    }
  });

  it('pairs big files in one task when the workers hash two at a time, biggest first', () => {
    const files = [3, 100, 9, 1, 50, 40].map((mib, i) => ({ path: `f${i}`, size: mib * MIB }));
    const names = (tasks: Array<Array<{ path: string }>>) => tasks.map((task) => task.map((file) => file.path));
    expect(names(planHashTasks(files, 2))).toEqual([['f1'], ['f4'], ['f5'], ['f2'], ['f0'], ['f3']]);
    expect(names(planHashTasks(files, 2, true))).toEqual([['f1', 'f4'], ['f5', 'f2'], ['f0', 'f3']]);
  });

  it('hashes a file read in many chunks to the plain SHA-256 of the whole file', async () => {
    const big = tree.files.find((f) => f.size === 10 * MIB + 3)!;
    const [result] = await collect(sha256Files([big], { bufferSize: 4096 + 1 }));
    expect(result).toEqual({ path: big.path, ok: true, sha256: sha256Hex(readFileSync(big.path)), size: big.size });
  });

  it('yields nothing for no files, and refuses bad options at the call', async () => {
    expect(await collect(sha256Files([]))).toEqual([]);
    expect(() => sha256Files(tree.files, { jobs: 0 })).toThrow(BluxError);
    expect(() => sha256Files(tree.files, { bufferSize: -1 })).toThrow(BluxError);
    expect(() => sha256Files(tree.files, { backend: 'nope' })).toThrow(BluxError);
  });

  it('rejects with the abort reason, and the pool still works afterwards', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    const run = (async () => {
      for await (const _ of sha256Files(tree.files, { jobs: 2, signal: controller.signal })) controller.abort(reason);
    })();
    await expect(run).rejects.toBe(reason);
    checkResults(tree, await collect(sha256Files(tree.files, { jobs: 2 })));
  });

  it('stops cleanly when the caller breaks out of the loop', async () => {
    for await (const _ of sha256Files(tree.files, { jobs: 2 })) break;
    checkResults(tree, await collect(sha256Files(tree.files, { jobs: 2 })));
  });
});

// --- Ed25519 ---------------------------------------------------------------

function keyPair(): { privateKey: KeyObject; publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // The raw key is the end of the SPKI DER encoding (RFC 8410).
  return { privateKey, publicKey: Uint8Array.from(publicKey.export({ type: 'spki', format: 'der' }).subarray(12)) };
}

/** Valid items, mutated ones, wrong lengths and keys swapped between signers, interleaved. */
function mixedItems(count: number): Ed25519VerifyItem[] {
  const keys = Array.from({ length: 16 }, keyPair);
  const items: Ed25519VerifyItem[] = [];
  for (let i = 0; i < count; i++) {
    const key = keys[i % keys.length]!;
    const message = patternBytes(i % 300, i);
    const signature = Uint8Array.from(sign(null, message, key.privateKey));
    const flipped = Uint8Array.from(signature);
    flipped[i % 64]! ^= 1 << (i % 8);
    const kinds: Ed25519VerifyItem[] = [
      { publicKey: key.publicKey, message, signature },
      { publicKey: key.publicKey, message, signature: flipped },
      { publicKey: key.publicKey, message: patternBytes(message.length + 1, i), signature },
      { publicKey: keys[(i + 1) % keys.length]!.publicKey, message, signature },
      { publicKey: key.publicKey.subarray(0, 31), message, signature },
      { publicKey: key.publicKey, message, signature: Uint8Array.of(...signature, 0) },
      // A view into a larger buffer, as callers slicing one file would pass.
      { publicKey: key.publicKey, message: Uint8Array.of(9, ...message, 9).subarray(1, message.length + 1), signature },
    ];
    items.push(kinds[i % kinds.length]!);
  }
  return items;
}

/**
 * Enough items for the native backend to use the pool even when its threads
 * are not running yet (2,048 with the right lengths, see parallel.ts; 2 in 7
 * of mixedItems have wrong lengths). Tests that depend on these sizes name the
 * backend: the default (auto) cuts batches differently.
 */
const COLD_POOL_ITEMS = 3000;

/** Starts the pool's threads, so calls below the cold-pool threshold still go to the pool. */
async function warmPool(jobs: number): Promise<void> {
  await verifyEd25519Parallel(mixedItems(COLD_POOL_ITEMS), { jobs, backend: 'native' });
  expect(isEnginePoolWarm(jobs)).toBe(true);
}

/** Counts the tasks handed to the pool while `work` runs. */
async function poolTasksDuring(work: () => Promise<unknown>): Promise<number> {
  const run = vi.spyOn(Piscina.prototype, 'run');
  try {
    await work();
    return run.mock.calls.length;
  } finally {
    run.mockRestore();
  }
}

describe('verifyEd25519Parallel', () => {
  afterAll(() => closeEnginePool());

  it('equals the in-thread verdicts on the native backend (3,000 items)', async () => {
    const items = mixedItems(COLD_POOL_ITEMS);
    const expected = await verifyEd25519Batch(items, { backend: 'native' });
    expect(expected.filter(Boolean).length).toBeGreaterThan(200);
    expect(expected.some((v) => !v)).toBe(true);
    await closeEnginePool();
    for (const jobs of [2, 1]) {
      let verdicts: boolean[] = [];
      expect(await poolTasksDuring(async () => (verdicts = await verifyEd25519Parallel(items, { backend: 'native', jobs })))).toBeGreaterThan(1);
      expect(verdicts).toEqual(expected);
    }
  });

  it('equals the in-thread verdicts on the js backend', async () => {
    await warmPool(2);
    const items = mixedItems(300);
    const expected = await verifyEd25519Batch(items, { backend: 'js' });
    let verdicts: boolean[] = [];
    expect(await poolTasksDuring(async () => (verdicts = await verifyEd25519Parallel(items, { backend: 'js', jobs: 2 })))).toBeGreaterThan(1);
    expect(verdicts).toEqual(expected);
  });

  it('equals the in-thread verdicts on the batch-verifying backends (wasm, auto), in batches it verifies as batches', async () => {
    // Enough right-length items (5 in 7) for two batches of the batch verifier's minimum size, and a bit more.
    const items = mixedItems(Math.ceil((2.2 * AUTO_WASM_MIN_BATCH * 7) / 5));
    const rightLengths = items.filter((item) => item.publicKey.length === 32 && item.signature.length === 64).length;
    for (const backend of ['wasm', 'auto'] as const) {
      const expected = await verifyEd25519Batch(items, { backend });
      await warmPool(2);
      let verdicts: boolean[] = [];
      const tasks = await poolTasksDuring(async () => (verdicts = await verifyEd25519Parallel(items, { backend, jobs: 2 })));
      expect(tasks).toBeGreaterThanOrEqual(2);
      // No worker batch below the size from which auto verifies a batch as a whole.
      expect(tasks).toBeLessThanOrEqual(Math.floor(rightLengths / AUTO_WASM_MIN_BATCH));
      expect(verdicts).toEqual(expected);
    }
  });

  it('verifies small batches in this thread: below 64 items always, below the cold threshold when no thread runs', async () => {
    const opts = { jobs: 2, backend: 'native' } as const;
    await warmPool(2);
    const tiny = mixedItems(10);
    expect(await poolTasksDuring(async () => expect(await verifyEd25519Parallel(tiny, opts)).toEqual(await verifyEd25519Batch(tiny, opts)))).toBe(0);
    const small = mixedItems(300);
    expect(await poolTasksDuring(() => verifyEd25519Parallel(small, opts))).toBeGreaterThan(0);
    // A batch verifier gains nothing from batches under its minimum: 300 items stay here even with threads running.
    expect(await poolTasksDuring(() => verifyEd25519Parallel(small, { jobs: 2, backend: 'auto' }))).toBe(0);

    await closeEnginePool();
    expect(await poolTasksDuring(async () => expect(await verifyEd25519Parallel(small, opts)).toEqual(await verifyEd25519Batch(small, opts)))).toBe(0);
    expect(enginePoolInfo()).toBeUndefined();
    expect(await verifyEd25519Parallel([])).toEqual([]);
  });

  it('transfers each packed batch to the workers instead of copying it', async () => {
    await warmPool(2);
    const run = vi.spyOn(Piscina.prototype, 'run');
    try {
      await verifyEd25519Parallel(mixedItems(400), { jobs: 2, backend: 'native' });
      const batches = run.mock.calls.map(([task, options]) => ({ task: task as { batch: ArrayBuffer }, options }));
      expect(batches.length).toBeGreaterThan(1);
      for (const { task, options } of batches) {
        expect(options?.transferList).toEqual([task.batch]);
        // A transferred ArrayBuffer is detached on the sending side.
        expect(task.batch.byteLength).toBe(0);
      }
      for (const result of run.mock.results) expect(await result.value).toBeInstanceOf(Uint8Array);
    } finally {
      run.mockRestore();
    }
  });

  it('packs a batch into one buffer that unpacks to the same items', () => {
    const items = mixedItems(50).filter((item) => item.publicKey.length === 32 && item.signature.length === 64);
    const unpacked = unpackEd25519Batch(packEd25519Batch(items));
    const plain = (list: Ed25519VerifyItem[]) =>
      list.map(({ publicKey, message, signature }) => [publicKey, message, signature].map((b) => Buffer.from(b).toString('hex')));
    expect(plain(unpacked)).toEqual(plain(items));
    expect(unpackEd25519Batch(packEd25519Batch([]))).toEqual([]);
  });

  it('rejects with the abort reason, on the pool and in this thread', async () => {
    await warmPool(2);
    for (const count of [500, 10]) {
      const controller = new AbortController();
      const reason = new Error('stop');
      const run = verifyEd25519Parallel(mixedItems(count), { jobs: 2, backend: 'native', signal: controller.signal });
      controller.abort(reason);
      await expect(run).rejects.toBe(reason);
    }
  });
});

describe('the engine pool', () => {
  afterAll(() => closeEnginePool());

  it('a task that fails while the caller awaits an earlier one is no unhandled rejection; the caller still gets it', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const pool = getEnginePool(2);
      // Started ahead, as the parallel Merkle root starts its slices; awaited only later.
      const failing = pool.run({ file: path.join(tmpdir(), 'blux-no-such-ledger', 'ledger.jsonl'), start: 0, end: 10, backend: 'native' }, { name: 'merkleLeafHashes' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(unhandled).toEqual([]);
      await expect(failing).rejects.toThrow(/no such file/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('is created once and reused across calls, recreated when jobs changes and after closeEnginePool', async () => {
    await closeEnginePool();
    expect(enginePoolInfo()).toBeUndefined();
    const items = mixedItems(COLD_POOL_ITEMS);
    const native = { backend: 'native' } as const;

    await verifyEd25519Parallel(items, { ...native, jobs: 2 });
    const first = enginePoolInfo()!;
    expect(first.jobs).toBe(2);
    expect(first.threadIds.length).toBe(2);
    await verifyEd25519Parallel(items, { ...native, jobs: 2 });
    for await (const _ of sha256Files([{ path: process.execPath, size: 1 }], { jobs: 2 }));
    const second = enginePoolInfo()!;
    expect(second.generation).toBe(first.generation);
    expect(second.threadIds).toEqual(first.threadIds);

    await verifyEd25519Parallel(items, { ...native, jobs: 1 });
    expect(enginePoolInfo()).toMatchObject({ jobs: 1, generation: first.generation + 1 });

    await closeEnginePool();
    expect(enginePoolInfo()).toBeUndefined();
    expect(await verifyEd25519Parallel(items, { ...native, jobs: 2 })).toEqual(await verifyEd25519Batch(items, native));
    expect(enginePoolInfo()).toMatchObject({ jobs: 2, generation: first.generation + 2 });
  });

  it('starts all its threads at once on prestartEnginePool, and the next call reuses them', async () => {
    await closeEnginePool();
    prestartEnginePool(2);
    const started = enginePoolInfo()!;
    expect(started.jobs).toBe(2);
    // Both threads exist before any real task was submitted.
    expect(started.threadIds.length).toBe(2);
    expect(isEnginePoolWarm(2)).toBe(true);
    const results: FileHashResult[] = [];
    for await (const result of sha256Files([{ path: process.execPath, size: 1 }], { jobs: 2 })) results.push(result);
    expect(results).toEqual([{ path: process.execPath, ok: true, size: statSync(process.execPath).size, sha256: createHash('sha256').update(readFileSync(process.execPath)).digest('hex') }]);
    const after = enginePoolInfo()!;
    expect(after.generation).toBe(started.generation);
    expect([...after.threadIds].sort()).toEqual([...started.threadIds].sort());
  });
});

describe('process lifetime', () => {
  it('lets a script that used the pool exit by itself, without closeEnginePool', () => {
    const engine = new URL('../dist/engine/index.js', import.meta.url).href;
    const script = `
      import { sha256Files, verifyEd25519Parallel } from ${JSON.stringify(engine)};
      const files = [{ path: process.execPath, size: 1 }];
      for await (const result of sha256Files(files, { jobs: 2 })) if (!result.ok) process.exit(3);
      const item = { publicKey: new Uint8Array(32), message: new Uint8Array(1), signature: new Uint8Array(64) };
      const verdicts = await verifyEd25519Parallel(Array(3000).fill(item), { jobs: 2, backend: 'native' });
      if (verdicts.length !== 3000) process.exit(4);
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect(child.error).toBeUndefined();
    expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: '' });
    // Well under the pool's idle timeout: nothing waited for the threads to time out.
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});

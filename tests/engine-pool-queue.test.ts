/**
 * The engine pool hands a signature batch to a worker that is still busy, so
 * the worker starts it the moment its current batch ends (pool.ts,
 * engineLoadBalancer); other tasks wait for an idle worker as before.
 *
 * The workers run the compiled dist/engine/worker.js: needs a fresh `npm run build`.
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Piscina, valueSymbol } from 'piscina';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { closeEnginePool, verifyEd25519Batch, verifyEd25519Parallel, type Ed25519VerifyItem } from '../src/engine/index.js';
import { engineLoadBalancer, getEnginePool } from '../src/engine/pool.js';
import type { RangeCheckReply } from '../src/audit/range-check.js';
import { NO_TRUST } from '../src/audit/signature-policy.js';
import { getBackend } from '../src/engine/index.js';
import { packEd25519Batch, unpackEd25519Batch, unpackEd25519BatchIntoArena, verifyEd25519 } from '../src/engine/worker.js';

type Balancer = ReturnType<typeof engineLoadBalancer>;
type FakeWorker = Parameters<Balancer>[1][number];

function fakeWorker(id: number, currentUsage: number, isRunningAbortableTask = false): FakeWorker {
  return { id, currentUsage, isRunningAbortableTask } as FakeWorker;
}

function fakeTask(name: string, isAbortable = false): Parameters<Balancer>[0] {
  return { name, isAbortable, taskId: 1, filename: 'worker.js', created: 0 } as Parameters<Balancer>[0];
}

describe('engineLoadBalancer', () => {
  const verify = fakeTask('verifyEd25519');
  const hash = fakeTask('hashFiles');

  it('gives any task to an idle worker first', () => {
    const balance = engineLoadBalancer(3);
    const idle = fakeWorker(3, 0);
    for (const task of [verify, hash]) expect(balance(task, [fakeWorker(1, 1), fakeWorker(2, 2), idle])?.id).toBe(3);
  });

  it('queues a signature batch on the least busy worker, at most one behind the running task', () => {
    const balance = engineLoadBalancer(2);
    expect(balance(verify, [fakeWorker(1, 1), fakeWorker(2, 1)])?.id).toBe(1);
    expect(balance(verify, [fakeWorker(1, 2), fakeWorker(2, 1)])?.id).toBe(2);
    expect(balance(verify, [fakeWorker(1, 2), fakeWorker(2, 2)])).toBeNull();
  });

  it('queues no signature batch on a busy worker while a task of another kind runs (it may be a long file)', () => {
    let others = 1;
    const balance = engineLoadBalancer(2, () => others);
    expect(balance(verify, [fakeWorker(1, 1), fakeWorker(2, 1)])).toBeNull();
    expect(balance(verify, [fakeWorker(1, 1), fakeWorker(2, 0)])?.id).toBe(2); // an idle worker is still taken
    others = 0;
    expect(balance(verify, [fakeWorker(1, 1), fakeWorker(2, 1)])?.id).toBe(1);
  });

  it('queues a ledger range on a busy worker, at most two behind the running one (the calling thread checks ranges too)', () => {
    const range = fakeTask('auditLedgerRange');
    const balance = engineLoadBalancer(1);
    expect(balance(range, [fakeWorker(1, 1)])?.id).toBe(1);
    expect(balance(range, [fakeWorker(1, 2)])?.id).toBe(1);
    expect(balance(range, [fakeWorker(1, 3)])).toBeNull();
    // Not while a task of another kind runs, as for signature batches.
    expect(engineLoadBalancer(1, () => 1)(range, [fakeWorker(1, 1)])).toBeNull();
  });

  it('never queues other tasks behind a running one', () => {
    const balance = engineLoadBalancer(2);
    for (const name of ['hashFiles', 'merkleLeafHashes', 'merkleRangeOfLeafHashes', 'ping', 'warmLedgerAudit']) {
      expect(balance(fakeTask(name), [fakeWorker(1, 1), fakeWorker(2, 1)])).toBeNull();
    }
    expect(balance(hash, [fakeWorker(1, 1), fakeWorker(2, 0)])?.id).toBe(2);
  });

  it('does not queue while threads are missing (piscina starts one instead), nor abortable tasks, nor behind an abortable task', () => {
    const balance = engineLoadBalancer(2);
    expect(balance(verify, [fakeWorker(1, 1)])).toBeNull();
    expect(balance(fakeTask('verifyEd25519', true), [fakeWorker(1, 1), fakeWorker(2, 1)])).toBeNull();
    expect(balance(verify, [fakeWorker(1, 1, true), fakeWorker(2, 1)])?.id).toBe(2);
    expect(balance(verify, [fakeWorker(1, 1, true)])).toBeNull();
  });
});

function signedItems(count: number, keyCount: number): Ed25519VerifyItem[] {
  const keys = Array.from({ length: keyCount }, () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    // The raw key is the end of the SPKI DER encoding (RFC 8410).
    return { privateKey, raw: Uint8Array.from(publicKey.export({ type: 'spki', format: 'der' }).subarray(12)) };
  });
  return Array.from({ length: count }, (_, i) => {
    const key = keys[i % keyCount]!;
    const message = Uint8Array.of(i & 0xff, i >> 8, 7, 7, 7);
    const signature = Uint8Array.from(sign(null, message, key.privateKey));
    // Every 5th one broken, so the verdicts are not all alike.
    if (i % 5 === 0) signature[40]! ^= 1;
    return { publicKey: key.raw, message, signature };
  });
}

describe('the engine pool with signature batches', () => {
  afterAll(() => closeEnginePool());

  it('hands the next batch to the busy worker at once, and keeps other tasks in its own queue', async () => {
    await closeEnginePool();
    const pool = getEnginePool(1);
    // The thread exists and is idle: what follows is the steady state, not start-up.
    await pool.run(undefined, { name: 'ping' });
    const items = signedItems(64, 4);
    const expected = await verifyEd25519Batch(items, { backend: 'wasm' });

    const runs = Array.from({ length: 3 }, () => {
      const batch = packEd25519Batch(items);
      return pool.run({ batch, backend: 'wasm' }, { name: 'verifyEd25519', transferList: [batch] });
    });
    // One running, one queued on the worker itself, one left in the pool's queue.
    expect(pool.queuedTasks).toBe(1);
    for (const verdicts of await Promise.all(runs)) expect([...(verdicts as Uint8Array)].map((v) => v === 1)).toEqual(expected);

    const pings = Array.from({ length: 3 }, () => pool.run(undefined, { name: 'ping' }));
    expect(pool.queuedTasks).toBe(2);
    await Promise.all(pings);
  });

  it('gives the in-thread verdicts with batches queued on busy workers (wasm, 1 and 2 jobs)', async () => {
    const items = signedItems(2048, 16);
    const expected = await verifyEd25519Batch(items, { backend: 'wasm' });
    expect(expected.filter((v) => !v)).toHaveLength(Math.ceil(2048 / 5));
    for (const jobs of [2, 1]) {
      await closeEnginePool();
      // Threads running, so these 2,048 items go to the pool (several batches per worker).
      const pool = getEnginePool(jobs);
      await Promise.all(Array.from({ length: jobs }, () => pool.run(undefined, { name: 'ping' })));
      expect(await verifyEd25519Parallel(items, { backend: 'wasm', jobs })).toEqual(expected);
    }
  });
});

describe('the engine pool with ledger ranges', () => {
  afterAll(() => closeEnginePool());

  it("queues ranges behind a thread's warm-up, so the thread starts them without waiting for the calling thread", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-pool-warm-'));
    try {
      const file = path.join(dir, 'ledger.jsonl');
      writeFileSync(file, '{"not":"a ledger entry"}\n'.repeat(64));
      await closeEnginePool();
      const pool = getEnginePool(1);
      // The thread exists and is idle.
      await pool.run(undefined, { name: 'ping' });
      const range = { file, start: 0, end: statSync(file).size, chunkSize: 65536, kernel: 'native', ed25519Backend: 'js', trust: NO_TRUST };
      const runs = [pool.run(65536, { name: 'warmLedgerAudit' }), ...[1, 2, 3].map(() => pool.run(range, { name: 'auditLedgerRange' }))];
      // The warm-up running, two ranges waiting on the thread itself, one in the pool's queue.
      expect(pool.queuedTasks).toBe(1);
      const [, ...replies] = await Promise.all(runs);
      for (const reply of replies) expect((reply as RangeCheckReply).bad).toMatchObject({ line: 1, reason: 'malformed-line' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('packing signature batches on the main thread', () => {
  afterAll(() => closeEnginePool());

  const hex = (items: readonly Ed25519VerifyItem[]) =>
    items.map(({ publicKey, message, signature }) => [publicKey, message, signature].map((b) => Buffer.from(b).toString('hex')).join(':'));

  it('packs the items at the given indexes, in their order, as packing that list would', () => {
    const items = signedItems(12, 3);
    const indexes = [7, 0, 11, 3, 3];
    const picked = indexes.map((index) => items[index]!);
    expect(hex(unpackEd25519Batch(packEd25519Batch(items, indexes)))).toEqual(hex(picked));
    expect(Buffer.from(packEd25519Batch(items, indexes))).toEqual(Buffer.from(packEd25519Batch(picked)));
    expect(Buffer.from(packEd25519Batch(items, [...items.keys()]))).toEqual(Buffer.from(packEd25519Batch(items)));
    expect(unpackEd25519Batch(packEd25519Batch(items, []))).toEqual([]);
  });

  it('decides items of the wrong shape in this thread, false as on every backend, and sends the rest to the workers', async () => {
    const items = signedItems(400, 8);
    const good = items[1]!;
    const junk = [
      null,
      'not an item',
      { ...good, publicKey: Array.from(good.publicKey) },
      { ...good, message: 'text' },
      { ...good, signature: good.signature.subarray(0, 63) },
      { ...good, publicKey: Uint8Array.of(...good.publicKey, 0) },
      // Right shape: a Buffer is a Uint8Array, and this one is valid.
      { ...good, publicKey: Buffer.from(good.publicKey), message: Buffer.from(good.message) },
    ] as unknown as Ed25519VerifyItem[];
    const mixed = [...junk.slice(0, 3), ...items, ...junk.slice(3)];
    const expected = await verifyEd25519Batch(mixed, { backend: 'native' });
    expect(expected.slice(0, 3)).toEqual([false, false, false]);
    expect(expected.slice(-4)).toEqual([false, false, false, true]);
    const pool = getEnginePool(2);
    await Promise.all([0, 1].map(() => pool.run(undefined, { name: 'ping' })));
    const run = vi.spyOn(Piscina.prototype, 'run');
    try {
      expect(await verifyEd25519Parallel(mixed, { backend: 'native', jobs: 2 })).toEqual(expected);
      expect(run.mock.calls.length).toBeGreaterThan(1);
    } finally {
      run.mockRestore();
    }
  });
});

describe('unpacking signature batches in a worker, into views reused from batch to batch', () => {
  const hex = (items: readonly Ed25519VerifyItem[]) =>
    items.map(({ publicKey, message, signature }) => [publicKey, message, signature].map((b) => Buffer.from(b).toString('hex')).join(':'));

  /** `count` items with messages of varied lengths (0 to 299 bytes), shifted by `seed`. */
  function shapedItems(count: number, seed: number): Ed25519VerifyItem[] {
    return Array.from({ length: count }, (_, i) => ({
      publicKey: Uint8Array.from({ length: 32 }, (_, j) => (i * 7 + j + seed) & 0xff),
      signature: Uint8Array.from({ length: 64 }, (_, j) => (i * 13 + j * 3 + seed) & 0xff),
      message: Uint8Array.from({ length: (i * 37 + seed) % 300 }, (_, j) => (i + j * seed) & 0xff),
    }));
  }

  it('gives the items unpackEd25519Batch gives, batch after batch, as the arena grows and shrinks in use', () => {
    // Counts up and down (the arena grows to 256, then 512 items) and message areas of every size.
    const batches = [1, 5, 64, 3, 200, 0, 64, 500, 64].map((count, seed) => packEd25519Batch(shapedItems(count, seed + 1)));
    for (const batch of batches) {
      // unpackEd25519Batch first: it reads the batch; the arena copy must not depend on it.
      const expected = hex(unpackEd25519Batch(batch));
      expect(hex(unpackEd25519BatchIntoArena(batch))).toEqual(expected);
    }
  });

  it('reuses the previous batch views: the same objects when the shape is the same, new message views where it changed', () => {
    const first = unpackEd25519BatchIntoArena(packEd25519Batch(shapedItems(64, 1)));
    const firstKey = first[10]!.publicKey;
    const firstMessage = first[10]!.message;
    const sameShape = unpackEd25519BatchIntoArena(packEd25519Batch(shapedItems(64, 1).map((item) => ({ ...item, signature: item.signature.map((b) => b ^ 0xff) }))));
    expect(sameShape[10]!.publicKey).toBe(firstKey);
    expect(sameShape[10]!.message).toBe(firstMessage);
    const otherShape = unpackEd25519BatchIntoArena(packEd25519Batch(shapedItems(64, 2)));
    expect(otherShape[10]!.publicKey).toBe(firstKey);
    expect(otherShape[10]!.message).not.toBe(firstMessage);
    expect(hex(otherShape)).toEqual(hex(shapedItems(64, 2)));
  });

  it('keeps a batch being verified intact when a second task starts meanwhile (a backend that awaits)', async () => {
    const items = signedItems(96, 4);
    const expected = await verifyEd25519Batch(items, { backend: 'native' });
    const backend = getBackend('native');
    const verify = backend.verifyEd25519Batch.bind(backend);
    // As if a backend yielded mid-batch: the second task runs while the first waits.
    const slow = vi.spyOn(backend, 'verifyEd25519Batch').mockImplementation(async (batch) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return verify(batch);
    });
    try {
      // Same shape, every message changed: all invalid.
      const altered = items.map((item) => ({ ...item, message: item.message.map((b) => b ^ 0x55) }));
      const [first, second] = await Promise.all(
        [items, altered].map((list) => verifyEd25519({ batch: packEd25519Batch(list), backend: 'native' })),
      );
      const verdictsOf = (result: unknown) => [...((result as Record<symbol, Uint8Array>)[valueSymbol] as Uint8Array)].map((v) => v === 1);
      expect(slow).toHaveBeenCalledTimes(2);
      expect(verdictsOf(first)).toEqual(expected);
      expect(verdictsOf(second)).toEqual(expected.map(() => false));
    } finally {
      slow.mockRestore();
    }
  });

  it('gives in-thread verdicts for batches of changing shapes on one worker (wasm and native)', async () => {
    await closeEnginePool();
    const pool = getEnginePool(1);
    await pool.run(undefined, { name: 'ping' });
    const lists = [300, 1000, 300, 64].map((count, k) =>
      signedItems(count, 4 + k).map((item, i) => (i % 3 === k % 3 ? { ...item, message: Uint8Array.of(...item.message, k) } : item)),
    );
    for (const backend of ['wasm', 'native'] as const) {
      for (const list of lists) {
        const expected = await verifyEd25519Batch(list, { backend });
        const batch = packEd25519Batch(list);
        const verdicts = (await pool.run({ batch, backend }, { name: 'verifyEd25519', transferList: [batch] })) as Uint8Array;
        expect([...verdicts].map((v) => v === 1)).toEqual(expected);
      }
    }
  });
});

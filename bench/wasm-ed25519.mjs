// The wasm backend (issue 4, acceptance 3), side by side in one run with
// libsodium (the native backend), with tinybench:
//
//   npm run build && node bench/wasm-ed25519.mjs [--quick] [--time 3000] [--sizes 64,256,1024,16384]
//                                                 [--sections thread,pool,invalid,msm,sha256] [--json]
//
// Sections (all by default):
// - thread: one thread. sodium-native single verification; wasm single (a
//   batch of one per call); wasm batches of each size with (a) all keys
//   distinct and (b) 16 keys repeated. Targets: wasm batch >= 0.8x sodium
//   single on (a), >= 1.5x on (b).
// - pool: the engine pool's workers, 1 and then 2 of them, each task one
//   batch of the given size (packed and transferred as verifyEd25519Parallel
//   does, two tasks in flight per worker), for the native and wasm backends;
//   the 2-worker / 1-worker ratio per row. Target: >= 1.8x.
// - invalid: a batch of 1,024 distinct keys with 0, 1, 10, 50 and 100 %
//   invalid signatures (message changed after signing: the point checks pass
//   and only the equation fails, the costly case for a batch verifier).
// - msm: the multi-scalar multiplication inside each wasm batch check, forced
//   to Pippenger, Straus or Bos-Coster, against the default choice (auto), by
//   batch size; calls interleaved round-robin, medians (see measureMsm).
// - sha256: hash-wasm (the wasm backend's SHA-256) against node:crypto (what
//   auto uses), 1 MiB messages.
//
// Every row is items per second from tinybench's mean latency of one call
// times the items in that call; ratios compare rows of the same run. Every
// call's verdicts are checked against the expected ones: a benchmark that
// verified nothing proves nothing. --quick: 300 ms per row, sizes 64 and
// 1,024, for a smoke run (numbers only roughly comparable).
//
// The decoded-key cache (4,096 keys per thread) is warm for (b) after the
// first call, as in a long-running verifier; for (a) calls cycle through
// batches holding more keys than the cache, so keys are decoded every time.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { Bench } from 'tinybench';

import { getBackend, closeEnginePool } from '../dist/engine/index.js';
import { createWasmBackend, loadHashWasm, MSM_METHODS, wasmSha256Implementation } from '../dist/engine/backends/wasm.js';
import { getEnginePool } from '../dist/engine/pool.js';
import { packEd25519Batch } from '../dist/engine/worker.js';

const SECTIONS = ['thread', 'pool', 'invalid', 'msm', 'sha256'];
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    time: { type: 'string' },
    sizes: { type: 'string' },
    sections: { type: 'string', default: SECTIONS.join(',') },
    json: { type: 'boolean', default: false },
  },
});
const timeMs = Number(args.time ?? (args.quick ? 300 : 3000));
const sizes = (args.sizes ?? (args.quick ? '64,1024' : '64,256,1024,16384')).split(',').map(Number);
const sections = new Set(args.sections.split(','));
for (const name of sections) {
  if (!SECTIONS.includes(name)) {
    console.error(`unknown section "${name}" (known: ${SECTIONS.join(', ')})`);
    process.exit(2);
  }
}
if (!(timeMs > 0) || sizes.some((n) => !Number.isSafeInteger(n) || n < 1)) {
  console.error('usage: node bench/wasm-ed25519.mjs [--quick] [--time ms] [--sizes n,n,...] [--sections a,b] [--json]');
  process.exit(2);
}

const REPEATED_KEYS = 16;
const WASM_KEY_CACHE_SIZE = 4096;
const INVALID_BATCH = 1024;
const INVALID_PERCENTS = [0, 1, 10, 50, 100];
const SINGLE_ITEMS = 256;
const POOL_JOBS = [1, 2];
/** Tasks per measured pool call: enough that both workers stay busy for a while. */
const POOL_MIN_SIGNATURES_PER_CALL = 8192;
const SHA256_MESSAGE_BYTES = 1 << 20;

const sodium = createRequire(import.meta.url)('sodium-native');

function makeKeys(count) {
  return Array.from({ length: count }, () => {
    const publicKey = Buffer.alloc(32);
    const secretKey = Buffer.alloc(64);
    sodium.crypto_sign_keypair(publicKey, secretKey);
    return { publicKey, secretKey };
  });
}

/** `count` signed 100-byte messages; keyCount distinct keys (round robin). */
function makeItems(count, keyCount) {
  const keys = makeKeys(keyCount);
  return Array.from({ length: count }, (_, i) => {
    const { publicKey, secretKey } = keys[i % keyCount];
    const message = Buffer.alloc(100);
    sodium.randombytes_buf(message);
    const signature = Buffer.alloc(64);
    sodium.crypto_sign_detached(signature, message, secretKey);
    return { publicKey: new Uint8Array(publicKey), message: new Uint8Array(message), signature: new Uint8Array(signature) };
  });
}

/** Batches of n distinct keys, enough of them to hold more keys than a thread's cache. */
function distinctBatches(n) {
  return Array.from({ length: Math.ceil((2 * WASM_KEY_CACHE_SIZE) / n) + 1 }, () => makeItems(n, n));
}

/** Cycles through `sets` on every call. */
function cycler(sets) {
  let round = 0;
  return () => sets[round++ % sets.length];
}

function assertVerdicts(verdicts, expected, label) {
  for (let i = 0; i < expected.length; i++) {
    if (verdicts[i] !== expected[i]) throw new Error(`${label}: wrong verdict for item ${i}`);
  }
}
const allTrue = (n) => new Array(n).fill(true);

const native = getBackend('native');
const wasm = getBackend('wasm');

/** Rows of one tinybench run: name -> { items per call, section, group (rows compared with each other) }. */
const rowInfo = new Map();
const bench = new Bench({ time: timeMs, warmup: true, warmupIterations: 1, iterations: 3 });
function add(section, group, name, itemsPerCall, fn) {
  rowInfo.set(name, { section, group, itemsPerCall });
  bench.add(name, fn);
}

if (sections.has('thread')) {
  const singleItems = makeItems(SINGLE_ITEMS, SINGLE_ITEMS);
  add('thread', 'thread', 'sodium-native single', SINGLE_ITEMS, async () => {
    assertVerdicts(await native.verifyEd25519Batch(singleItems), allTrue(SINGLE_ITEMS), 'sodium');
  });
  add('thread', 'thread', 'wasm single', SINGLE_ITEMS, async () => {
    for (const item of singleItems) assertVerdicts(await wasm.verifyEd25519Batch([item]), [true], 'wasm single');
  });
  for (const n of sizes) {
    const nextDistinct = cycler(distinctBatches(n));
    add('thread', 'thread', `wasm batch ${n} (a) distinct keys`, n, async () => {
      assertVerdicts(await wasm.verifyEd25519Batch(nextDistinct()), allTrue(n), `wasm batch ${n} (a)`);
    });
    const repeated = makeItems(n, REPEATED_KEYS);
    add('thread', 'thread', `wasm batch ${n} (b) ${REPEATED_KEYS} keys`, n, async () => {
      assertVerdicts(await wasm.verifyEd25519Batch(repeated), allTrue(n), `wasm batch ${n} (b)`);
    });
  }
}

if (sections.has('invalid')) {
  const items = makeItems(INVALID_BATCH, INVALID_BATCH);
  for (const percent of INVALID_PERCENTS) {
    // Spread evenly: item i is invalid when i * percent / 100 crosses an integer (percent % of them).
    const expected = items.map((_, i) => Math.floor((i * percent) / 100) === Math.floor(((i + 1) * percent) / 100));
    const mixed = items.map((item, i) => (expected[i] ? item : { ...item, message: Uint8Array.from(item.message, (b, j) => (j === 0 ? b ^ 1 : b)) }));
    const group = `invalid ${percent}`;
    add('invalid', group, `sodium-native batch ${INVALID_BATCH}, ${percent} % invalid`, INVALID_BATCH, async () => {
      assertVerdicts(await native.verifyEd25519Batch(mixed), expected, `native ${percent} %`);
    });
    add('invalid', group, `wasm batch ${INVALID_BATCH}, ${percent} % invalid`, INVALID_BATCH, async () => {
      assertVerdicts(await wasm.verifyEd25519Batch(mixed), expected, `wasm ${percent} %`);
    });
  }
}

/**
 * The msm section is measured round-robin, not by tinybench: one call of each
 * method in turn, repeated, the median per method. On a shared machine the
 * load changes from one second to the next; interleaving gives every method
 * the same conditions, so the ratios hold even when the absolute rates do not.
 */
const MSM_SIZES = [1, 4, 16, ...sizes];
async function measureMsm() {
  const forced = Object.fromEntries(MSM_METHODS.map((method) => [method, createWasmBackend({ msm: method })]));
  const out = [];
  for (const n of MSM_SIZES) {
    const nextDistinct = cycler(distinctBatches(n));
    const times = Object.fromEntries(MSM_METHODS.map((method) => [method, []]));
    const deadline = performance.now() + timeMs * MSM_METHODS.length;
    for (let round = 0; round < 3 || performance.now() < deadline; round++) {
      const batch = nextDistinct();
      // Each method first in turn: none always runs right after a batch switch.
      for (const [k] of MSM_METHODS.entries()) {
        const method = MSM_METHODS[(k + round) % MSM_METHODS.length];
        const start = performance.now();
        const verdicts = await forced[method].verifyEd25519Batch(batch);
        times[method].push(performance.now() - start);
        assertVerdicts(verdicts, allTrue(n), `msm ${method} ${n}`);
      }
    }
    for (const method of MSM_METHODS) {
      const sorted = times[method].sort((a, b) => a - b);
      const medianMs = sorted[sorted.length >> 1];
      out.push({ section: 'msm', group: `msm ${n}`, name: `wasm batch ${n} (a), msm ${method}`, perSecond: (n * 1000) / medianMs, samples: sorted.length });
    }
  }
  return out;
}

if (sections.has('sha256')) {
  // The wasm backend computes SHA-256 with node:crypto until hash-wasm has loaded: wait for it, and check every call.
  await loadHashWasm();
  const message = new Uint8Array(SHA256_MESSAGE_BYTES).fill(0x61);
  const expected = Buffer.from(native.sha256(message)).toString('hex');
  for (const [name, backend, implementation] of [
    ['node:crypto (native, auto)', native, undefined],
    ['hash-wasm (wasm)', wasm, 'hash-wasm'],
  ]) {
    add('sha256', 'sha256', `SHA-256 1 MiB, ${name}`, SHA256_MESSAGE_BYTES, () => {
      if (implementation !== undefined && wasmSha256Implementation() !== implementation) throw new Error(`${name}: not measuring ${implementation}`);
      if (Buffer.from(backend.sha256(message)).toString('hex') !== expected) throw new Error(`${name}: wrong digest`);
    });
  }
}

if (sections.has('pool')) {
  for (const backend of ['native', 'wasm']) {
    for (const n of sizes) {
      const keyModes = backend === 'wasm' ? ['(a) distinct keys', `(b) ${REPEATED_KEYS} keys`] : ['(a) distinct keys'];
      for (const keys of keyModes) {
        const next = keys.startsWith('(a)') ? cycler(distinctBatches(n)) : cycler([makeItems(n, REPEATED_KEYS)]);
        const tasksPerCall = Math.max(4, Math.ceil(POOL_MIN_SIGNATURES_PER_CALL / n));
        for (const jobs of POOL_JOBS) {
          add('pool', `pool ${backend} ${n} ${keys}`, `pool ${backend}, batches of ${n} ${keys}, ${jobs} worker(s)`, tasksPerCall * n, () =>
            runOnPool(backend, jobs, tasksPerCall, next, n),
          );
        }
      }
    }
  }
}

/**
 * `tasks` batches through a pool of `jobs` workers, two in flight per worker,
 * each packed and transferred as verifyEd25519Parallel does; verdicts checked.
 */
async function runOnPool(backend, jobs, tasks, next, n) {
  const pool = getEnginePool(jobs);
  let started = 0;
  const lane = async () => {
    while (started < tasks) {
      started++;
      const batch = packEd25519Batch(next());
      const output = await pool.run({ batch, backend }, { name: 'verifyEd25519', transferList: [batch] });
      if (output.length !== n || !output.every((v) => v === 1)) throw new Error(`pool ${backend}: wrong verdicts`);
    }
  };
  await Promise.all(Array.from({ length: 2 * jobs }, lane));
}

await bench.run();
await closeEnginePool();
const msmRows = sections.has('msm') ? await measureMsm() : [];

for (const task of bench.tasks) {
  if (task.result.state !== 'completed') throw new Error(`${task.name}: ${task.result.state} ${task.result.error?.stack ?? ''}`);
}
const rows = bench.tasks.map((task) => {
  const { section, group, itemsPerCall } = rowInfo.get(task.name);
  const meanMs = task.result.latency.mean;
  return { section, group, name: task.name, perSecond: (itemsPerCall * 1000) / meanMs, samples: task.result.latency.samplesCount ?? task.runs };
});
rows.push(...msmRows);
// Each row against the first row of its group: sodium single (thread),
// sodium at the same invalid rate, auto at the same size, node:crypto,
// one worker at the same batch and keys.
for (const row of rows) {
  const first = rows.find((r) => r.group === row.group);
  row.ratio = row.perSecond / first.perSecond;
  row.versus = first.name;
}

if (args.json) {
  console.log(JSON.stringify({ node: process.version, timeMs, sizes, rows }, null, 2));
} else {
  const TITLES = {
    thread: 'One thread, signatures/s; ratio against sodium-native single (targets: (a) >= 0.80x, (b) >= 1.50x)',
    invalid: `Invalid signatures in a batch of ${INVALID_BATCH}, signatures/s; ratio against sodium-native at the same rate`,
    msm: 'Multi-scalar multiplication of the wasm batch check, signatures/s (median of interleaved calls); ratio against auto (the default) at the same size',
    sha256: 'SHA-256 of 1 MiB, bytes/s; ratio against node:crypto',
    pool: 'Engine pool, signatures/s; ratio against 1 worker (target: 2 workers >= 1.80x)',
  };
  console.log(`wasm-ed25519 bench, node ${process.version}, ${timeMs} ms per row`);
  for (const section of SECTIONS.filter((s) => sections.has(s))) {
    console.log(`\n${TITLES[section]}\n`);
    console.log('| what | per second | ratio |');
    console.log('|---|---:|---:|');
    for (const row of rows.filter((r) => r.section === section)) {
      const rate = section === 'sha256' ? `${(row.perSecond / 1e6).toFixed(0)} MB/s` : Math.round(row.perSecond).toLocaleString('en-US');
      console.log(`| ${row.name} | ${rate} | ${row.ratio.toFixed(2)}x |`);
    }
  }
}

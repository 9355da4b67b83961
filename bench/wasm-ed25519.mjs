// Ed25519 verification on one thread: the wasm backend (assembly/ed25519:
// one multi-scalar multiplication per batch) against libsodium's single
// verification (the native backend), in the same run (issue 4, acceptance 3).
//
//   npm run build && node bench/wasm-ed25519.mjs [--time 3000] [--sizes 64,256,1024,16384] [--json]
//
// Rows: sodium-native single; wasm single (a batch of one per call); wasm
// batches of each size with (a) all keys distinct and (b) 16 keys repeated.
// Every row is signatures per second (tinybench mean latency of one call,
// times the signatures in that call). Every measured call's verdicts are
// checked (all valid): a benchmark that verified nothing proves nothing.
// The decoded-key cache is warm for (b) after the first call, as in a
// long-running verifier; for (a) every batch's keys have left the cache.
// Targets (issue 4): wasm batch >= 0.8x sodium single on (a), >= 1.5x on (b).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { Bench } from 'tinybench';

import { getBackend } from '../dist/engine/index.js';

const { values: args } = parseArgs({
  options: {
    time: { type: 'string', default: '3000' },
    sizes: { type: 'string', default: '64,256,1024,16384' },
    json: { type: 'boolean', default: false },
  },
});
const timeMs = Number(args.time);
const sizes = args.sizes.split(',').map(Number);
const REPEATED_KEYS = 16;

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

const native = getBackend('native');
const wasm = getBackend('wasm');

function assertAllValid(verdicts, label) {
  if (!verdicts.every((v) => v === true)) throw new Error(`${label}: not all signatures verified`);
}

const SINGLE_ITEMS = 256;
const singleItems = makeItems(SINGLE_ITEMS, SINGLE_ITEMS);

// For (a), pre-made batches with distinct keys, cycled: together they hold
// more keys than the wasm backend's decoded-key cache (4,096, oldest dropped
// first), so every call decodes all of its keys, as with keys never seen before.
const WASM_KEY_CACHE_SIZE = 4096;
const distinctSets = Object.fromEntries(
  sizes.map((n) => [n, Array.from({ length: Math.ceil((2 * WASM_KEY_CACHE_SIZE) / n) + 1 }, () => makeItems(n, n))]),
);
const repeatedSets = Object.fromEntries(sizes.map((n) => [n, makeItems(n, REPEATED_KEYS)]));

const bench = new Bench({ time: timeMs, warmup: true, warmupIterations: 1, iterations: 3 });
const signaturesPerCall = new Map();

signaturesPerCall.set('sodium-native single', SINGLE_ITEMS);
bench.add('sodium-native single', async () => {
  assertAllValid(await native.verifyEd25519Batch(singleItems), 'sodium');
});
signaturesPerCall.set('wasm single', SINGLE_ITEMS);
bench.add('wasm single', async () => {
  for (const item of singleItems) assertAllValid(await wasm.verifyEd25519Batch([item]), 'wasm single');
});
for (const n of sizes) {
  let round = 0;
  signaturesPerCall.set(`wasm batch ${n} (a) distinct keys`, n);
  bench.add(`wasm batch ${n} (a) distinct keys`, async () => {
    const set = distinctSets[n];
    assertAllValid(await wasm.verifyEd25519Batch(set[round++ % set.length]), `wasm batch ${n} (a)`);
  });
  signaturesPerCall.set(`wasm batch ${n} (b) ${REPEATED_KEYS} keys`, n);
  bench.add(`wasm batch ${n} (b) ${REPEATED_KEYS} keys`, async () => {
    assertAllValid(await wasm.verifyEd25519Batch(repeatedSets[n]), `wasm batch ${n} (b)`);
  });
}

await bench.run();

for (const task of bench.tasks) if (task.result.state !== "completed") throw new Error(`${task.name}: ${task.result.state} ${task.result.error?.stack ?? ""}`);
const rows = bench.tasks.map((task) => {
  const perCall = signaturesPerCall.get(task.name);
  const meanMs = task.result.latency.mean;
  return { name: task.name, signaturesPerSecond: (perCall * 1000) / meanMs, samples: task.result.latency.samplesCount ?? task.runs };
});
const sodiumRate = rows[0].signaturesPerSecond;
for (const row of rows) row.vsSodium = row.signaturesPerSecond / sodiumRate;

if (args.json) {
  console.log(JSON.stringify({ node: process.version, rows }, null, 2));
} else {
  console.log(`Ed25519 verification, one thread, node ${process.version}; ratios against sodium-native single`);
  console.log('| what | signatures/s | vs sodium |');
  console.log('|---|---:|---:|');
  for (const row of rows) console.log(`| ${row.name} | ${Math.round(row.signaturesPerSecond).toLocaleString('en-US')} | ${row.vsSodium.toFixed(2)}x |`);
  console.log('targets: wasm batch (a) >= 0.80x, (b) >= 1.50x');
}

// Differential run over 1,000,000 Ed25519 items (issue 4, acceptance item 2):
// every backend against blux-reg's verdict rule ("strict, cofactored",
// docs/VERIFICATION.md), in batch and one by one, and against each other.
//
// The items are made as in tests/engine-differential.test.ts, chunk by chunk:
// per 10,000 items, 7,300 plain valid signatures (libsodium-signed, 1,000 keys
// per chunk), 2,500 with one random mutation (a bit flip in R, S, A or M, or S
// replaced by S + L), 50 with a torsion point added to A or R after signing,
// 100 mixed-order signatures built with torsion in A and/or R (valid by the
// rule; libsodium, cofactorless, rejects most of them) and 50 mutations of
// those. Expected verdicts are known by construction.
//
// Checked per chunk:
// - each fast backend (all but js; by default native and wasm when
//   registered) on every item, in one batch and one by one (a batch of one);
// - libsodium directly: must agree with the rule except on mixed-order
//   signatures whose torsion parts do not cancel (it rejects those);
// - the js backend and the reference rule (dist/engine/rule.js) on every item
//   with a torsion component plus a --js-sample fraction of the others (they
//   run at ~1.5 ms per item: all 1,000,000 would take ~50 min per thread).
// A disagreement is any verdict that is not the expected one, any single
// verdict that differs from the batch one, or any two backends that differ;
// the first few are printed with the seed and chunk that reproduce them.
//
//   npm run build && node bench/differential-1m.mjs [--count 1000000] [--seed 1] [--jobs 2]
//                         [--backends native,wasm,js] [--js-sample 0.01] [--no-single] [--json]
//
// Chunks are spread over --jobs worker threads (default: the number of CPUs);
// chunk i's data depends only on (--seed, i), so the result does not depend on
// --jobs. Uses the compiled library (dist/).
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { mulberry32 } from './lib/prng.mjs';

const CHUNK = 10_000;
/** Per chunk of CHUNK items. */
const MAKE_UP = {
  plainMutated: 2_500,
  torsionAdded: 50,
  torsionSigned: 100,
  torsionSignedMutated: 50,
  keys: 1_000,
};
const PLAIN_VALID = CHUNK - MAKE_UP.plainMutated - MAKE_UP.torsionAdded - MAKE_UP.torsionSigned - MAKE_UP.torsionSignedMutated;
const MAX_EXAMPLES = 10;

if (isMainThread) await main();
else await worker();

// ---------------------------------------------------------------------------
// Main thread: options, workers, the report
// ---------------------------------------------------------------------------

async function main() {
  const { values: args } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      jobs: { type: 'string', default: String(os.availableParallelism()) },
      backends: { type: 'string' },
      'js-sample': { type: 'string', default: '0.01' },
      'no-single': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const count = Number(args.count);
  const seed = Number(args.seed) >>> 0;
  const jobs = Number(args.jobs);
  const jsSample = Number(args['js-sample']);
  if (!Number.isSafeInteger(count) || count < CHUNK || count % CHUNK !== 0 || !Number.isSafeInteger(jobs) || jobs < 1 || !(jsSample >= 0 && jsSample <= 1)) {
    console.error(`usage: node bench/differential-1m.mjs [--count N, a multiple of ${CHUNK}] [--seed S] [--jobs J>=1] [--backends a,b] [--js-sample 0..1] [--no-single] [--json]`);
    process.exit(2);
  }
  const { BACKEND_NAMES } = await import('../dist/engine/index.js');
  const backends = args.backends === undefined ? [...BACKEND_NAMES] : args.backends.split(',');
  for (const name of backends) {
    if (!BACKEND_NAMES.includes(name)) {
      console.error(`unknown backend "${name}" (registered: ${BACKEND_NAMES.join(', ')})`);
      process.exit(2);
    }
  }
  const options = { seed, backends, jsSample, single: !args['no-single'] };
  const log = args.json ? () => undefined : (line) => console.log(line);

  const chunks = count / CHUNK;
  log(`differential Ed25519: ${count.toLocaleString('en')} items in ${chunks} chunks of ${CHUNK.toLocaleString('en')}, seed ${seed}, ${jobs} worker thread(s)`);
  log(`backends: ${backends.join(', ')}; js and rule on torsion items + ${jsSample * 100}% of the rest; single mode ${options.single ? 'on' : 'off'}`);

  const started = performance.now();
  const results = [];
  let next = 0;
  let lastProgress = started;
  await Promise.all(
    Array.from({ length: Math.min(jobs, chunks) }, () =>
      new Promise((resolve, reject) => {
        const thread = new Worker(new URL(import.meta.url), { workerData: options });
        const feed = () => {
          if (next < chunks) thread.postMessage(next++);
          else thread.postMessage(null);
        };
        thread.on('message', (message) => {
          if (message !== 'ready') {
            results.push(message);
            const now = performance.now();
            if (now - lastProgress > 10_000) {
              lastProgress = now;
              log(`  ${results.length}/${chunks} chunks, ${((now - started) / 1000).toFixed(0)} s`);
            }
          }
          feed();
        });
        thread.on('error', reject);
        thread.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
      }),
    ),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  report(results, { count, seed, jobs, wallSeconds, options }, args.json, log);
}

function sumOver(results, pick) {
  return results.reduce((total, result) => total + pick(result), 0);
}

function report(results, run, json, log) {
  results.sort((a, b) => a.chunk - b.chunk);
  const names = Object.keys(results[0].backends);
  const rows = names.map((name) => {
    const of = (field) => sumOver(results, (r) => r.backends[name][field]);
    return {
      backend: name,
      items: of('checked'),
      wrongBatch: of('wrongBatch'),
      singleDiffers: of('singleDiffers'),
      batchSeconds: of('batchMs') / 1000,
      singleSeconds: of('singleMs') / 1000,
    };
  });
  const sodium = { items: sumOver(results, (r) => r.sodium.checked), wrong: sumOver(results, (r) => r.sodium.wrong), rescued: sumOver(results, (r) => r.sodium.rescued) };
  const rule = { items: sumOver(results, (r) => r.rule.checked), wrong: sumOver(results, (r) => r.rule.wrong), seconds: sumOver(results, (r) => r.rule.ms) / 1000 };
  const crossDisagreements = sumOver(results, (r) => r.crossDisagreements);
  const disagreements =
    rows.reduce((total, row) => total + row.wrongBatch + row.singleDiffers, 0) + sodium.wrong + rule.wrong + crossDisagreements;
  const examples = results.flatMap((r) => r.examples).slice(0, MAX_EXAMPLES);
  const kinds = {};
  for (const r of results) for (const [kind, n] of Object.entries(r.kinds)) kinds[kind] = (kinds[kind] ?? 0) + n;

  if (json) {
    console.log(JSON.stringify({ ...run, kinds, backends: rows, sodium, rule, crossDisagreements, disagreements, examples }, null, 2));
  } else {
    log('');
    log(`items by kind: ${Object.entries(kinds).map(([kind, n]) => `${kind} ${n.toLocaleString('en')}`).join(', ')}`);
    log('');
    log('| backend | items | batch != rule | single != batch | batch time (thread-s) | single time (thread-s) |');
    log('|---|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      log(`| ${row.backend} | ${row.items.toLocaleString('en')} | ${row.wrongBatch} | ${row.singleDiffers} | ${row.batchSeconds.toFixed(1)} | ${row.singleSeconds.toFixed(1)} |`);
    }
    log(`| rule (rule.js) | ${rule.items.toLocaleString('en')} | ${rule.wrong} | - | ${rule.seconds.toFixed(1)} | - |`);
    log('');
    log(`libsodium directly: ${sodium.items.toLocaleString('en')} items, ${sodium.wrong} unexpected verdicts; ${sodium.rescued.toLocaleString('en')} mixed-order signatures it rejects and the rule accepts (expected: its equation is cofactorless)`);
    log(`backends compared with each other on the items they share: ${crossDisagreements} disagreements`);
    for (const example of examples) log(`  ${example}`);
    log('');
    log(`disagreements: ${disagreements}`);
    log(`wall time: ${run.wallSeconds.toFixed(1)} s on ${run.jobs} thread(s) for ${run.count.toLocaleString('en')} items`);
  }
  process.exitCode = disagreements === 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Worker: build and check chunks
// ---------------------------------------------------------------------------

async function worker() {
  const { seed, backends, jsSample, single } = workerData;
  const require = createRequire(import.meta.url);
  const sodium = require('sodium-native');
  const { Point } = await import('@noble/ed25519');
  const { getBackend } = await import('../dist/engine/index.js');
  const { verifyByRule } = await import('../dist/engine/rule.js');
  const { ED25519_L: L, bytesToNumberLE } = await import('../dist/engine/precheck.js');

  const leBytes32 = (value) => {
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
    return bytes;
  };

  // The torsion subgroup: [L]Q keeps only Q's torsion part; one of order 8 generates all 8 points.
  const TORSION = (() => {
    const times = (n, point) => {
      let result = Point.ZERO;
      for (let addend = point; n > 0n; n >>= 1n, addend = addend.double()) if (n & 1n) result = result.add(addend);
      return result;
    };
    for (let y = 2n; ; y++) {
      let Q;
      try {
        Q = Point.fromBytes(leBytes32(y), false);
      } catch {
        continue;
      }
      const T8 = times(L, Q);
      if (!times(4n, T8).is0()) return Array.from({ length: 8 }, (_, i) => times(BigInt(i), T8).toBytes());
    }
  })();

  const instances = Object.fromEntries(backends.map((name) => [name, getBackend(name)]));
  parentPort.on('message', async (chunk) => {
    if (chunk === null) {
      parentPort.close();
      return;
    }
    parentPort.postMessage(await checkChunk(chunk));
  });
  parentPort.postMessage('ready');

  /** mulberry32, seeded from (seed, chunk) through SHA-256 so neighbouring chunks are unrelated. */
  function prngFor(chunk) {
    return mulberry32(createHash('sha256').update(`${seed}:${chunk}`).digest().readUInt32LE(0));
  }

  function buildChunk(chunk) {
    const random = prngFor(chunk);
    const index = (n) => Math.floor(random() * n);
    const bytes = (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
      return out;
    };
    const pick = (values) => values[index(values.length)];
    const scalar = () => (bytesToNumberLE(bytes(64)) % (L - 1n)) + 1n;
    const add = (p, q) => {
      const sum = new Uint8Array(32);
      sodium.crypto_core_ed25519_add(sum, p, q);
      return sum;
    };
    const baseTimes = (n) => {
      const point = new Uint8Array(32);
      sodium.crypto_scalarmult_ed25519_base_noclamp(point, leBytes32(n));
      return point;
    };

    const keys = Array.from({ length: MAKE_UP.keys }, () => {
      const publicKey = new Uint8Array(32);
      const secretKey = new Uint8Array(64);
      sodium.crypto_sign_seed_keypair(publicKey, secretKey, bytes(32));
      return { publicKey, secretKey };
    });
    const plainSigned = () => {
      const { publicKey, secretKey } = pick(keys);
      const message = bytes(index(256));
      const signature = new Uint8Array(64);
      sodium.crypto_sign_detached(signature, message, secretKey);
      return { publicKey, message, signature };
    };
    // A = [a]B + [i]T8, R = [r]B + [j]T8, S = r + k a: cofactored equation holds;
    // the cofactorless one iff (j + k i) mod 8 = 0.
    const torsionSigned = (a, i, j, message) => {
      const r = scalar();
      const A = i === 0 ? baseTimes(a) : add(baseTimes(a), TORSION[i]);
      const R = j === 0 ? baseTimes(r) : add(baseTimes(r), TORSION[j]);
      const k = bytesToNumberLE(createHash('sha512').update(R).update(A).update(message).digest()) % L;
      const S = (r + k * a) % L;
      const signature = new Uint8Array(64);
      signature.set(R);
      signature.set(leBytes32(S), 32);
      return { item: { publicKey: A, message, signature }, cofactorlessHolds: (BigInt(j) + k * BigInt(i)) % 8n === 0n };
    };
    const flip = (source) => {
      if (source.length === 0) return Uint8Array.of(index(256));
      const copy = Uint8Array.from(source);
      const bit = index(source.length * 8);
      copy[bit >> 3] ^= 1 << (bit & 7);
      return copy;
    };
    const withSignature = (item, R, S) => {
      const signature = new Uint8Array(64);
      signature.set(R);
      signature.set(S, 32);
      return { ...item, signature };
    };
    const MUTATIONS = {
      'R bit flip': (item) => withSignature(item, flip(item.signature.subarray(0, 32)), item.signature.subarray(32)),
      'S bit flip': (item) => withSignature(item, item.signature.subarray(0, 32), flip(item.signature.subarray(32))),
      'A bit flip': (item) => ({ ...item, publicKey: flip(item.publicKey) }),
      'M bit flip': (item) => ({ ...item, message: flip(item.message) }),
      'S + L': (item) => withSignature(item, item.signature.subarray(0, 32), leBytes32(bytesToNumberLE(item.signature.subarray(32)) + L)),
      'torsion added to A': (item) => ({ ...item, publicKey: add(item.publicKey, TORSION[1 + index(7)]) }),
      'torsion added to R': (item) => withSignature(item, add(item.signature.subarray(0, 32), TORSION[1 + index(7)]), item.signature.subarray(32)),
    };
    const PLAIN = ['R bit flip', 'S bit flip', 'A bit flip', 'M bit flip', 'S + L'];
    const TORSION_ONLY = ['torsion added to A', 'torsion added to R'];
    const mutate = (item, names) => {
      const name = pick(names);
      return [MUTATIONS[name](item), name];
    };

    const entries = [];
    for (let n = 0; n < PLAIN_VALID; n++) entries.push({ item: plainSigned(), kind: 'plain valid', label: 'unmutated', expected: true });
    for (let n = 0; n < MAKE_UP.plainMutated; n++) {
      const [item, label] = mutate(plainSigned(), PLAIN);
      entries.push({ item, kind: 'plain mutated', label, expected: false });
    }
    for (let n = 0; n < MAKE_UP.torsionAdded; n++) {
      const [item, label] = mutate(plainSigned(), TORSION_ONLY);
      entries.push({ item, kind: 'torsion added', label, expected: false });
    }
    const signedWithTorsion = [];
    for (let n = 0; n < MAKE_UP.torsionSigned; n++) {
      const a = scalar();
      const message = bytes(index(256));
      const shape = n % 4;
      let signed;
      if (shape === 0) signed = torsionSigned(a, 1 + index(7), 0, message);
      else if (shape === 1) signed = torsionSigned(a, 0, 1 + index(7), message);
      else if (shape === 2) signed = torsionSigned(a, 1 + index(7), 1 + index(7), message);
      else {
        const i = 1 + index(7);
        do signed = torsionSigned(a, i, 1 + index(7), message);
        while (!signed.cofactorlessHolds);
      }
      const label = ['mixed A', 'mixed R', 'mixed A and R', 'mixed A and R, cancelling'][shape];
      signedWithTorsion.push({ item: signed.item, kind: 'torsion signed', label, expected: true, cofactorlessHolds: signed.cofactorlessHolds });
    }
    entries.push(...signedWithTorsion);
    for (let n = 0; n < MAKE_UP.torsionSignedMutated; n++) {
      const source = pick(signedWithTorsion);
      const [item, label] = mutate(source.item, [...PLAIN, ...TORSION_ONLY]);
      entries.push({ item, kind: 'torsion signed, mutated', label: `${source.label}, ${label}`, expected: false });
    }
    for (let i = entries.length - 1; i > 0; i--) {
      const j = index(i + 1);
      [entries[i], entries[j]] = [entries[j], entries[i]];
    }
    const jsChecked = entries.flatMap((entry, i) => (entry.kind !== 'plain valid' && entry.kind !== 'plain mutated') || random() < jsSample ? [i] : []);
    return { entries, jsChecked };
  }

  async function checkChunk(chunk) {
    const { entries, jsChecked } = buildChunk(chunk);
    const hex = (bytes) => Buffer.from(bytes).toString('hex');
    const examples = [];
    const note = (what, i) => {
      if (examples.length >= MAX_EXAMPLES) return;
      const { item, kind, label } = entries[i];
      examples.push(`seed ${seed} chunk ${chunk} item ${i} (${kind}: ${label}): ${what}; pk ${hex(item.publicKey)} sig ${hex(item.signature)} msg ${hex(item.message)}`);
    };

    const kinds = {};
    for (const { kind } of entries) kinds[kind] = (kinds[kind] ?? 0) + 1;
    const result = { chunk, kinds, backends: {}, sodium: {}, rule: {}, crossDisagreements: 0, examples };
    /** Verdicts of each backend, by item index, to compare backends with each other. */
    const byBackend = {};

    for (const name of backends) {
      const indices = name === 'js' ? jsChecked : entries.map((_, i) => i);
      const items = indices.map((i) => entries[i].item);
      let time = performance.now();
      const batch = await instances[name].verifyEd25519Batch(items);
      const batchMs = performance.now() - time;
      let wrongBatch = 0;
      indices.forEach((i, position) => {
        if (batch[position] !== entries[i].expected) {
          wrongBatch++;
          note(`${name} batch says ${batch[position]}`, i);
        }
      });
      let singleDiffers = 0;
      let singleMs = 0;
      if (single) {
        time = performance.now();
        for (let position = 0; position < items.length; position++) {
          const [verdict] = await instances[name].verifyEd25519Batch([items[position]]);
          if (verdict !== batch[position]) {
            singleDiffers++;
            note(`${name} single says ${verdict}, batch ${batch[position]}`, indices[position]);
          }
        }
        singleMs = performance.now() - time;
      }
      byBackend[name] = new Map(indices.map((i, position) => [i, batch[position]]));
      result.backends[name] = { checked: items.length, wrongBatch, singleDiffers, batchMs, singleMs };
    }

    // Backends against each other, on the items they share.
    const names = Object.keys(byBackend);
    for (let x = 0; x < names.length; x++) {
      for (let y = x + 1; y < names.length; y++) {
        for (const [i, verdict] of byBackend[names[x]]) {
          const other = byBackend[names[y]].get(i);
          if (other !== undefined && other !== verdict) {
            result.crossDisagreements++;
            note(`${names[x]} says ${verdict}, ${names[y]} ${other}`, i);
          }
        }
      }
    }

    // libsodium itself: the rule's verdict, except cofactorless on mixed-order signatures.
    let sodiumWrong = 0;
    let rescued = 0;
    entries.forEach(({ item, kind, expected, cofactorlessHolds }, i) => {
      const verdict = sodium.crypto_sign_verify_detached(item.signature, item.message, item.publicKey);
      const sodiumExpected = kind === 'torsion signed' ? cofactorlessHolds : expected;
      if (verdict !== sodiumExpected) {
        sodiumWrong++;
        note(`libsodium says ${verdict}`, i);
      }
      if (!verdict && expected) rescued++;
    });
    result.sodium = { checked: entries.length, wrong: sodiumWrong, rescued };

    // The reference rule on the js-checked items.
    const time = performance.now();
    let ruleWrong = 0;
    for (const i of jsChecked) {
      const verdict = verifyByRule(entries[i].item);
      if (verdict !== entries[i].expected) {
        ruleWrong++;
        note(`the rule says ${verdict}`, i);
      }
    }
    result.rule = { checked: jsChecked.length, wrong: ruleWrong, ms: performance.now() - time };
    return result;
  }
}

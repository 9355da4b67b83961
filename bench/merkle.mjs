// The ledger's Merkle tree (issue 6), side by side in one run:
//   (a) the root of an N-entry ledger (default 1,000,000) with jobs 1 and jobs 2, against `sha256sum`
//       of the same file: the ratio to sha256sum's time is the figure (target <= 0.5x on 2 cores);
//   (b) inclusion proof generation from the checkpoint's tree tiles (one 256-line block read) and,
//       for comparison, by streaming the prefix; verification is log2(N) hashes (target < 5 ms each);
//   (c) the proof bundle's size for an artifact signed in the middle of the ledger (target < 4 KiB);
//   (d) the incremental audit: checkpoint, append 10 entries, audit since the checkpoint;
//   (e) the interior nodes' hash alone: 1,048,576 node inputs (0x01 || left || right, 65 bytes) through
//       node:crypto's one-shot hash() one call each (what the tree did before) and through the four-lane
//       WebAssembly SIMD kernel (sha256x4, one call per 4,096 nodes, what it does now), CPU time, alternating.
//
//   npm run build && node bench/merkle.mjs [--entries 1000000] [--runs 3] [--quick] [--json]
//
// --quick: 100,000 entries, 1 run (a smoke test; the lead's quiet runs use the defaults).
// Uses the compiled library (dist/). Medians of --runs timed runs after one untimed run (page cache
// warm, pool threads started). The temporary folder is deleted at the end.
import { execFileSync } from 'node:child_process';
import { hash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { closeEnginePool, getBackend } from '../dist/engine/index.js';
import { ledgerTreeHead, subtreeHashesFromTiles, subtreeHashesOfFile } from '../dist/transparency/ledger-tree.js';
import { readTiles, tilesFileOf } from '../dist/store/checkpoints.js';
import { hashLeaves, inclusionProofRanges, verifyInclusion } from '../dist/transparency/merkle.js';
import { sha256x4 } from '../dist/transparency/sha256x4.js';
import { createCheckpoint, auditSinceCheckpoint } from '../dist/transparency/log.js';
import { buildProofBundle } from '../dist/transparency/bundle.js';
import { serializeProofBundle } from '../dist/formats/proof-bundle.js';
import { generateKey, loadSigner } from '../dist/store/keystore.js';
import { signArtifact } from '../dist/sign/sign-artifact.js';
import { readLedgerTail } from '../dist/store/ledger-file.js';
import { configPaths } from '../dist/store/paths.js';
import { median } from './lib/median.mjs';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const entries = args.quick ? 100_000 : Number(args.entries);
const runs = args.quick ? 1 : Number(args.runs);
if (!Number.isSafeInteger(entries) || entries < 1000 || !Number.isSafeInteger(runs) || runs < 1) {
  console.error('usage: node bench/merkle.mjs [--entries N>=1000] [--runs N>=1] [--quick] [--json]');
  process.exit(2);
}
const log = args.json ? () => undefined : (line) => console.log(line);

async function medianMillis(work, times = runs) {
  return (await medianWallAndCpu(work, times)).wall;
}

/**
 * Medians of wall time and of this process's CPU time (all its threads: the pool workers included)
 * per run. On a loaded machine the wall time of jobs 2 says little (other processes take the cores);
 * CPU time shows whether the parallel run does more work than the one-thread run.
 */
async function medianWallAndCpu(work, times = runs) {
  await work();
  const walls = [];
  const cpus = [];
  for (let i = 0; i < times; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    await work();
    walls.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    cpus.push((cpu.user + cpu.system) / 1000);
  }
  return { wall: median(walls), cpu: median(cpus) };
}

/** Valid chained event lines (the shape `audit add-event` writes), written in big blocks. */
function writeChainedLines(file, count, first = 0, prev = null, flag = 'w') {
  const fd = fs.openSync(file, flag);
  try {
    for (let done = 0; done < count; ) {
      const parts = [];
      for (const stop = Math.min(count, done + 20_000); done < stop; done++) {
        const head = `{"action":"event","actor":"bench","artifact_hash":null,`;
        const rest = `"manifest_hash":null,"payload_summary":"event ${first + done}","prev_hash":${prev === null ? 'null' : `"${prev}"`},"ts":"2026-01-01T00:00:00+00:00"}`;
        prev = hash('sha256', head + rest, 'hex');
        parts.push(`${head}"entry_hash":"${prev}",${rest}\n`);
      }
      fs.writeSync(fd, parts.join(''));
    }
  } finally {
    fs.closeSync(fd);
  }
  return prev;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-bench-merkle-'));
try {
  const paths = configPaths(path.join(dir, 'config'));
  fs.mkdirSync(paths.trustDir, { recursive: true });
  await generateKey(paths.keysDir, 'log');
  await generateKey(paths.keysDir, 'alice');
  const noPassphrase = async () => '';
  const half = Math.floor(entries / 2);
  writeChainedLines(paths.ledger, half);
  const artifact = path.join(dir, 'release.bin');
  fs.writeFileSync(artifact, 'release\n');
  await signArtifact(artifact, { paths, keyName: 'alice', getPassphrase: noPassphrase });
  const [signed] = await readLedgerTail(paths.ledger, 1);
  writeChainedLines(paths.ledger, entries - half - 1, half + 1, signed.get('entry_hash'), 'a');
  const bytes = fs.statSync(paths.ledger).size;
  log(`ledger: ${entries.toLocaleString('en-US')} entries, ${(bytes / 1e6).toFixed(0)} MB; ${os.availableParallelism()} cores, load ${os.loadavg()[0].toFixed(1)}; median of ${runs}`);

  // (a) roots vs sha256sum
  const sha256sumMs = await medianMillis(() => execFileSync('sha256sum', [paths.ledger]));
  const rootMs = {};
  const rootCpuMs = {};
  let root;
  for (const jobs of [1, 2]) {
    const times = await medianWallAndCpu(async () => { root = (await ledgerTreeHead(paths.ledger, { jobs })).root; });
    rootMs[jobs] = times.wall;
    rootCpuMs[jobs] = times.cpu;
  }

  // The checkpoint (count, root, saved state and tiles), made once.
  const signer = await loadSigner(paths.keysDir, 'log', noPassphrase);
  const checkpointsDir = path.join(paths.trustDir, 'checkpoints');
  const checkpointStart = performance.now();
  const created = await createCheckpoint({ ledger: paths.ledger, dir: checkpointsDir, origin: 'bench/log', signer, record: false });
  const checkpointMs = performance.now() - checkpointStart;
  const tilesBytes = fs.statSync(tilesFileOf(created.file)).size;

  // (b) inclusion proof of the signing entry: from the checkpoint's tiles (reads the tile file and one
  // 256-line block), by streaming the prefix (no tiles), and its verification in memory.
  const sha256Many = (items) => getBackend().sha256Many(items);
  const ranges = inclusionProofRanges(half, entries);
  let tiled;
  const generateTilesMs = await medianMillis(async () => {
    const tiles = await readTiles(created.file, entries);
    tiled = subtreeHashesFromTiles(paths.ledger, tiles, ranges, [half]);
  }, Math.max(runs, 31));
  // The same split in two: loading the tile file (async fs read + decode), and the proof from loaded tiles.
  let loadedTiles;
  const readTilesMs = await medianMillis(async () => { loadedTiles = await readTiles(created.file, entries); }, Math.max(runs, 31));
  const proveFromTilesMs = await medianMillis(() => { subtreeHashesFromTiles(paths.ledger, loadedTiles, ranges, [half]); }, Math.max(runs, 31));
  let scan;
  const generateStreamMs = await medianMillis(() => { scan = subtreeHashesOfFile(paths.ledger, ranges, { wantLeaves: [half] }); });
  if (tiled.hashes.some((h, i) => Buffer.compare(h, scan.hashes[i]) !== 0)) throw new Error('tiled and streamed proofs differ');
  const leafHash = hashLeaves([scan.leaves.get(half)], sha256Many)[0];
  let verified;
  const verifyMs = await medianMillis(() => { verified = verifyInclusion(half, entries, leafHash, scan.hashes, root, sha256Many).ok; }, Math.max(runs, 101));
  if (!verified) throw new Error('the inclusion proof did not verify');

  // (c) the bundle and (d) the incremental audit
  const alice = await loadSigner(paths.keysDir, 'alice', noPassphrase);
  const bundle = await buildProofBundle({ ledger: paths.ledger, manifestFile: `${artifact}.blux-manifest.json`, checkpointFile: created.file, publicKeyOf: () => alice.publicKey });
  const bundleBytes = Buffer.byteLength(serializeProofBundle(bundle));
  const [last] = await readLedgerTail(paths.ledger, 1);
  writeChainedLines(paths.ledger, 10, entries, last.get('entry_hash'), 'a');
  let audit;
  const auditMs = await medianMillis(async () => { audit = await auditSinceCheckpoint(paths.ledger, created.file); });
  if (audit.status !== 'valid') throw new Error(`incremental audit: ${audit.message}`);

  // (e) node hashes: node:crypto one call per node vs the SIMD kernel one call per 4,096 nodes (CPU, alternating)
  const NODE_COUNT = 1 << 20;
  const NODES_PER_CALL = 4096;
  const children = new Uint8Array(NODE_COUNT * 64);
  for (let i = 0; i < children.length; i += 4) children[i] = i * 2654435761;
  const nodeInputs = new Uint8Array(65 * NODES_PER_CALL);
  const nodeCpu = { crypto: [], kernel: [] };
  const nodeWays = {
    crypto: () => {
      for (let first = 0; first < NODE_COUNT; first += NODES_PER_CALL) {
        for (let p = 0; p < NODES_PER_CALL; p++) {
          nodeInputs[65 * p] = 0x01;
          nodeInputs.set(children.subarray(64 * (first + p), 64 * (first + p + 1)), 65 * p + 1);
        }
        for (let p = 0; p < NODES_PER_CALL; p++) hash('sha256', nodeInputs.subarray(65 * p, 65 * p + 65), 'binary');
      }
    },
    kernel: () => {
      const out = new Uint8Array(32 * NODES_PER_CALL);
      for (let first = 0; first < NODE_COUNT; first += NODES_PER_CALL) {
        sha256x4(children.subarray(64 * first, 64 * (first + NODES_PER_CALL)), 64, NODES_PER_CALL, { prefix: 0x01, out });
      }
    },
  };
  for (let round = -1; round < Math.max(runs, 5); round++) {
    for (const way of round % 2 === 0 ? ['crypto', 'kernel'] : ['kernel', 'crypto']) {
      const start = process.cpuUsage();
      nodeWays[way]();
      const used = process.cpuUsage(start);
      if (round >= 0) nodeCpu[way].push((used.user + used.system) / 1000);
    }
  }
  // The node:crypto way's copies into 0x01 || left || right (which the tree avoided by hashing in place) are timed apart.
  const copyCpu = [];
  for (let round = 0; round < Math.max(runs, 5); round++) {
    const start = process.cpuUsage();
    for (let first = 0; first < NODE_COUNT; first += NODES_PER_CALL) {
      for (let p = 0; p < NODES_PER_CALL; p++) nodeInputs.set(children.subarray(64 * (first + p), 64 * (first + p + 1)), 65 * p + 1);
    }
    const used = process.cpuUsage(start);
    copyCpu.push((used.user + used.system) / 1000);
  }
  const nsPerNode = (ms) => (ms * 1e6) / NODE_COUNT;
  const cryptoNodeNs = nsPerNode(median(nodeCpu.crypto) - median(copyCpu));
  const kernelNodeNs = nsPerNode(median(nodeCpu.kernel));

  const ratio = (ms) => (ms / sha256sumMs).toFixed(2);
  log('');
  log('| measure | median | vs sha256sum | target |');
  log('| --- | ---: | ---: | --- |');
  log(`| sha256sum of the ledger | ${sha256sumMs.toFixed(0)} ms | 1.00x | |`);
  log(`| Merkle root, jobs 1 | ${rootMs[1].toFixed(0)} ms (CPU ${rootCpuMs[1].toFixed(0)} ms) | ${ratio(rootMs[1])}x | |`);
  log(`| Merkle root, jobs 2 | ${rootMs[2].toFixed(0)} ms (CPU ${rootCpuMs[2].toFixed(0)} ms) | ${ratio(rootMs[2])}x | <= 0.5x |`);
  log(`| jobs 1 / jobs 2 wall time | ${(rootMs[1] / rootMs[2]).toFixed(2)}x | | ~2x on 2 idle cores |`);
  log(`| checkpoint (count + root + state) | ${checkpointMs.toFixed(0)} ms | | |`);
  log(`| checkpoint tiles file | ${(tilesBytes / 1024).toFixed(0)} KiB | | |`);
  log(`| inclusion proof generation from the tiles | ${generateTilesMs.toFixed(2)} ms | | < 5 ms |`);
  log(`| of which: reading the tile file (${(tilesBytes / 1024).toFixed(0)} KiB, async) and decoding it | ${readTilesMs.toFixed(2)} ms | | |`);
  log(`| of which: the proof from loaded tiles (one block read + hashing) | ${proveFromTilesMs.toFixed(2)} ms | | |`);
  log(`| inclusion proof generation without tiles (streams the prefix) | ${generateStreamMs.toFixed(0)} ms | | |`);
  log(`| inclusion proof verification (${scan.hashes.length} hashes) | ${verifyMs.toFixed(3)} ms | | < 5 ms |`);
  log(`| proof bundle size | ${bundleBytes} bytes | | < 4096 |`);
  log(`| incremental audit, 10 new entries | ${auditMs.toFixed(1)} ms, ${audit.leaves_hashed} leaves, ${audit.bytes_read} bytes read | | constant |`);
  log(`| root CPU per 1M entries, jobs 1 / jobs 2 | ${((rootCpuMs[1] * 1e6) / entries).toFixed(0)} / ${((rootCpuMs[2] * 1e6) / entries).toFixed(0)} ms | | |`);
  log(`| node hash (65 B), node:crypto hash() per call, CPU | ${cryptoNodeNs.toFixed(0)} ns | | |`);
  log(`| node hash (65 B), sha256x4 SIMD kernel, 4,096 per call, CPU | ${kernelNodeNs.toFixed(0)} ns (${(kernelNodeNs / cryptoNodeNs).toFixed(2)}x node:crypto) | | |`);
  if (args.json) {
    console.log(JSON.stringify({
      bench: 'merkle', entries, ledger_bytes: bytes, runs, load: os.loadavg()[0],
      sha256sum_ms: sha256sumMs, root_ms_jobs1: rootMs[1], root_ms_jobs2: rootMs[2],
      root_vs_sha256sum_jobs1: rootMs[1] / sha256sumMs, root_vs_sha256sum_jobs2: rootMs[2] / sha256sumMs,
      root_cpu_ms_jobs1: rootCpuMs[1], root_cpu_ms_jobs2: rootCpuMs[2], root_jobs1_over_jobs2: rootMs[1] / rootMs[2],
      checkpoint_ms: checkpointMs, tiles_bytes: tilesBytes, inclusion_generate_tiles_ms: generateTilesMs, tiles_read_ms: readTilesMs, inclusion_from_loaded_tiles_ms: proveFromTilesMs, inclusion_generate_stream_ms: generateStreamMs, inclusion_verify_ms: verifyMs,
      proof_hashes: scan.hashes.length, bundle_bytes: bundleBytes,
      incremental_audit_ms: auditMs, incremental_leaves_hashed: audit.leaves_hashed, incremental_bytes_read: audit.bytes_read,
      root_cpu_ms_per_million_jobs1: (rootCpuMs[1] * 1e6) / entries, root_cpu_ms_per_million_jobs2: (rootCpuMs[2] * 1e6) / entries,
      node_hash_cpu_ns_crypto: cryptoNodeNs, node_hash_cpu_ns_kernel: kernelNodeNs, node_hash_kernel_over_crypto: kernelNodeNs / cryptoNodeNs,
    }, null, 2));
  }
} finally {
  await closeEnginePool();
  fs.rmSync(dir, { recursive: true, force: true });
}

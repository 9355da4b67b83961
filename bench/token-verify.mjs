// Token verification throughput in one process with a long revocation list.
// The Python original rescans token_revocations.jsonl for every token (315
// tokens/s with 1,000 revocations); ours reads the list once into a Map, so the
// list's length should not matter and the cost per token is the file read,
// parsing, schema, canonical JSON, SHA-256 and one Ed25519 verification.
//
//   npm run build && node bench/token-verify.mjs [--tokens 1000] [--revocations 1000] [--rounds 5]
//                                                [--concurrency 8] [--backends native,js] [--json]
//
// Uses the compiled library (dist/). A throwaway config folder is made in a
// temp folder (one key, --tokens tokens issued with issueToken, a revocation
// list of --revocations lines: every 10th issued token plus made-up hashes) and
// deleted at the end. Backends are measured side by side in every round, in
// alternating order, so drift on a shared machine hits both alike.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { getBackend, sha256Hex, verifyEd25519 } from '../dist/engine/index.js';
import { passesEd25519Precheck } from '../dist/engine/precheck.js';
import { decodeBase64Strict } from '../dist/formats/base64.js';
import { parseJson } from '../dist/formats/canonical/json-value.js';
import { parsePublicKeyPem } from '../dist/formats/keys.js';
import { formatInstant } from '../dist/formats/time.js';
import { readToken, tokenHashText, tokenSignedText } from '../dist/formats/token.js';
import { readFileForInput, readJsonDocument } from '../dist/io/read-document.js';
import { createKey } from '../dist/keys/lifecycle.js';
import { configPaths } from '../dist/store/paths.js';
import { canonicalJsonLine, loadTokenRevocations } from '../dist/store/revocation-lists.js';
import { issueToken } from '../dist/tokens/issue.js';
import { loadTrustContext } from '../dist/trust/context.js';
import { verifyFile } from '../dist/verify/file.js';
import { verifyTokenDocument } from '../dist/verify/token.js';

const TARGET_TOKENS_PER_S = 5000;
const PYTHON_ORIGINAL_TOKENS_PER_S = 315;
/** Every REVOKE_EVERY-th issued token is on the revocation list (so the lookup is exercised, not just passed). */
const REVOKE_EVERY = 10;

const { values: args } = parseArgs({
  options: {
    tokens: { type: 'string', default: '1000' },
    revocations: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    backends: { type: 'string', default: 'native,js' },
    json: { type: 'boolean', default: false },
  },
});
const tokenCount = Number(args.tokens);
const revocationCount = Number(args.revocations);
const rounds = Number(args.rounds);
const concurrency = Number(args.concurrency);
const backends = args.backends.split(',').map((b) => b.trim()).filter((b) => b !== '');
const revokedIssuedCount = Math.ceil(tokenCount / REVOKE_EVERY);
if (
  !Number.isSafeInteger(tokenCount) || tokenCount < 1 ||
  !Number.isSafeInteger(revocationCount) || revocationCount < revokedIssuedCount ||
  !Number.isSafeInteger(rounds) || rounds < 1 ||
  !Number.isSafeInteger(concurrency) || concurrency < 1 ||
  backends.length === 0 || backends.some((b) => b !== 'native' && b !== 'js')
) {
  console.error('usage: node bench/token-verify.mjs [--tokens N>=1] [--revocations N>=ceil(tokens/10)] [--rounds N>=1]');
  console.error('                                   [--concurrency N>=1] [--backends native,js] [--json]');
  process.exit(2);
}
/** For the reference row only: the library reaches libsodium through the engine. */
const sodium = backends.includes('native') ? createRequire(import.meta.url)('sodium-native') : null;
const log = args.json ? () => undefined : (line) => console.log(line);

// ---------------------------------------------------------------------------
// Statistics

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p95: percentile(sorted, 95), min: sorted[0], max: sorted[sorted.length - 1] };
}
const round1 = (x) => Number(x.toFixed(1));
const round0 = (x) => Math.round(x);

// ---------------------------------------------------------------------------
// Setup: a config folder with one key, issued tokens and a revocation list

async function setUp(dir) {
  const paths = configPaths(dir);
  await createKey(paths, 'bench-issuer', { passphrase: null });
  const tokens = [];
  const issuedAt = Date.now();
  for (let i = 0; i < tokenCount; i++) {
    const issued = await issueToken({
      paths,
      keyName: 'bench-issuer',
      getPassphrase: async () => { throw new Error('the bench key is not encrypted'); },
      capability: i % 2 === 0 ? 'publish' : 'deploy',
      audience: `bench/service-${i % 16}`,
      ttlSeconds: 24 * 3600,
      constraints: parseJson(`{"scope":"bench","n":${i},"note":"caf\\u00e9 \\u2713"}`),
      nowMillis: issuedAt,
    });
    tokens.push({ file: issued.storedAt, hash: issued.tokenHash, revoked: i % REVOKE_EVERY === 0 });
  }

  // The list, in the original's format (one Python-canonical line a record), written
  // directly: revokeToken would also append a ledger entry (with an fsync) per line.
  const revokedAt = formatInstant(issuedAt);
  const hashes = tokens.filter((t) => t.revoked).map((t) => t.hash);
  for (let j = 0; hashes.length < revocationCount; j++) hashes.push(sha256Hex(`blux-reg bench: not a real token ${j}`));
  // Spread the real ones through the file rather than all at its start.
  hashes.sort();
  const lines = hashes.map((token_hash) =>
    canonicalJsonLine({ schema_version: '1.0', token_hash, revoked_at: revokedAt, reason: 'bench', revoker: 'bench-suite' }));
  fs.writeFileSync(paths.tokenRevocations, lines.join('\n') + '\n');
  const loaded = loadTokenRevocations(paths.tokenRevocations);
  if (loaded.size !== revocationCount) throw new Error(`revocation list holds ${loaded.size} hashes, expected ${revocationCount}`);
  return { paths, tokens };
}

// ---------------------------------------------------------------------------
// Measured passes. Each returns { ms, perToken: Float64Array (ms) | null }.

const EXPECTED_VALID = tokenCount - revokedIssuedCount;

function checkVerdicts(verdicts, what) {
  let valid = 0;
  let revoked = 0;
  for (const v of verdicts) {
    if (v.status === 'valid') valid++;
    else if (v.reason === 'revoked') revoked++;
    else throw new Error(`${what}: unexpected verdict ${v.status}/${v.reason}: ${v.message}`);
  }
  if (valid !== EXPECTED_VALID || revoked !== revokedIssuedCount) {
    throw new Error(`${what}: ${valid} valid + ${revoked} revoked, expected ${EXPECTED_VALID} + ${revokedIssuedCount}`);
  }
}

/** loadTrustContext once, then verifyFile on every token, one after the other. */
async function passFileSequential(ctx, backend) {
  const perToken = new Float64Array(ctx.tokens.length);
  const verdicts = new Array(ctx.tokens.length);
  const start = performance.now();
  const trust = await loadTrustContext({ paths: ctx.paths });
  const loaded = performance.now();
  let prev = loaded;
  for (let i = 0; i < ctx.tokens.length; i++) {
    verdicts[i] = await verifyFile(ctx.tokens[i].file, trust, { backend });
    const now = performance.now();
    perToken[i] = now - prev;
    prev = now;
  }
  checkVerdicts(verdicts, `verifyFile (${backend})`);
  return { loadMs: loaded - start, loopMs: prev - loaded, ms: prev - start, perToken };
}

/** loadTrustContext once, then verifyFile with `concurrency` calls in flight (file reads overlap with the CPU work). */
async function passFileConcurrent(ctx, backend) {
  const verdicts = new Array(ctx.tokens.length);
  const start = performance.now();
  const trust = await loadTrustContext({ paths: ctx.paths });
  let next = 0;
  const worker = async () => {
    while (next < ctx.tokens.length) {
      const i = next++;
      verdicts[i] = await verifyFile(ctx.tokens[i].file, trust, { backend });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ctx.tokens.length) }, worker));
  const ms = performance.now() - start;
  checkVerdicts(verdicts, `verifyFile x${concurrency} (${backend})`);
  return { ms, perToken: null };
}

/** verifyTokenDocument on documents parsed beforehand: no file I/O, no JSON parsing. */
async function passInMemory(ctx, backend) {
  const perToken = new Float64Array(ctx.documents.length);
  const verdicts = new Array(ctx.documents.length);
  const start = performance.now();
  let prev = start;
  for (let i = 0; i < ctx.documents.length; i++) {
    verdicts[i] = await verifyTokenDocument(ctx.tokens[i].file, ctx.documents[i], ctx.trust, { backend });
    const now = performance.now();
    perToken[i] = now - prev;
    prev = now;
  }
  checkVerdicts(verdicts, `verifyTokenDocument (${backend})`);
  return { ms: prev - start, perToken: null, perTokenLatency: perToken };
}

/**
 * Not the library's path: what verifyFile would cost if it read the file with one
 * fs.readFileSync (then the same parser and verifyTokenDocument). Shows how much of
 * verifyFile is the asynchronous read.
 */
async function passSyncRead(ctx, backend) {
  const verdicts = new Array(ctx.tokens.length);
  const start = performance.now();
  for (let i = 0; i < ctx.tokens.length; i++) {
    const file = ctx.tokens[i].file;
    verdicts[i] = await verifyTokenDocument(file, parseJson(fs.readFileSync(file, 'utf8'), { file }), ctx.trust, { backend });
  }
  const ms = performance.now() - start;
  checkVerdicts(verdicts, `readFileSync + verifyTokenDocument (${backend})`);
  return { ms, perToken: null };
}

// The stages verifyTokenDocument goes through, each alone over every token.
const STAGES = [
  {
    name: 'read file (stat + readFile)',
    perBackend: false,
    run: async (ctx) => { for (const t of ctx.tokens) await readFileForInput(t.file); },
  },
  {
    name: 'reference: fs.promises.readFile alone (no stat)',
    perBackend: false,
    reference: true,
    run: async (ctx) => { for (const t of ctx.tokens) await fs.promises.readFile(t.file); },
  },
  {
    name: 'reference: fs.readFileSync (not what the library does)',
    perBackend: false,
    reference: true,
    run: async (ctx) => { for (const t of ctx.tokens) fs.readFileSync(t.file); },
  },
  {
    name: 'parse JSON (number-preserving)',
    perBackend: false,
    run: async (ctx) => { for (const text of ctx.texts) parseJson(text); },
  },
  {
    name: 'schema check (readToken)',
    perBackend: false,
    run: async (ctx) => { for (const d of ctx.documents) if (!readToken(d).ok) throw new Error('readToken failed'); },
  },
  {
    name: 'canonical JSON (signed text + hash text)',
    perBackend: false,
    run: async (ctx) => { for (const t of ctx.parsedTokens) { tokenSignedText(t); tokenHashText(t); } },
  },
  {
    name: 'issuer PEM + signature base64 decode',
    perBackend: false,
    run: async (ctx) => {
      for (const t of ctx.parsedTokens) {
        parsePublicKeyPem(t.issuer.publicKeyPem);
        if (decodeBase64Strict(t.signature, 64) === null) throw new Error('bad base64');
      }
    },
  },
  {
    name: 'SHA-256 of the hash text (engine)',
    perBackend: true,
    run: async (ctx, backend) => { for (const text of ctx.hashTexts) sha256Hex(text, { backend }); },
  },
  {
    name: 'Ed25519 verify (engine: pre-check + library)',
    perBackend: true,
    run: async (ctx, backend) => {
      for (const item of ctx.signedItems) {
        if (!(await verifyEd25519(item.publicKey, item.message, item.signature, { backend }))) throw new Error('signature failed');
      }
    },
  },
  {
    name: 'reference: engine pre-check alone (passesEd25519Precheck, BigInt)',
    perBackend: false,
    reference: true,
    run: async (ctx) => { for (const item of ctx.signedItems) if (!passesEd25519Precheck(item)) throw new Error('pre-check failed'); },
  },
  {
    name: 'reference: libsodium verify alone (sodium-native, no pre-check)',
    perBackend: false,
    reference: true,
    only: 'native',
    run: async (ctx) => {
      for (const item of ctx.signedItems) {
        if (!sodium.crypto_sign_verify_detached(item.signature, item.message, item.publicKey)) throw new Error('signature failed');
      }
    },
  },
  {
    name: 'revocation lookup (Map.has)',
    perBackend: false,
    run: async (ctx) => {
      let hits = 0;
      for (const t of ctx.tokens) if (ctx.trust.revokedTokens.has(t.hash)) hits++;
      if (hits !== revokedIssuedCount) throw new Error(`revocation lookup found ${hits}`);
    },
  },
].filter((stage) => stage.only === undefined || backends.includes(stage.only));

// ---------------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-token-bench-'));
try {
  log(`setting up ${tokenCount.toLocaleString('en-US')} tokens and ${revocationCount.toLocaleString('en-US')} revocations in ${dir} ...`);
  const setupStart = performance.now();
  const { paths, tokens } = await setUp(dir);
  const setupS = (performance.now() - setupStart) / 1000;
  log(`  done in ${setupS.toFixed(1)} s`);

  // Inputs for the in-memory and per-stage passes, prepared once.
  const texts = tokens.map((t) => fs.readFileSync(t.file, 'utf8'));
  const documents = await Promise.all(tokens.map((t) => readJsonDocument(t.file)));
  const parsedTokens = documents.map((d) => readToken(d).value);
  const hashTexts = parsedTokens.map((t) => tokenHashText(t));
  const trust = await loadTrustContext({ paths });
  const signedItems = parsedTokens.map((t) => ({
    publicKey: trust.keys.get(t.issuer.fingerprint).publicKey,
    message: new TextEncoder().encode(tokenSignedText(t)),
    signature: decodeBase64Strict(t.signature, 64),
  }));
  const ctx = { paths, tokens, texts, documents, parsedTokens, hashTexts, trust, signedItems };

  // Warm-up (not counted): load both backends, let the JIT settle.
  for (const backend of backends) {
    getBackend(backend);
    await passFileSequential(ctx, backend);
    await passInMemory(ctx, backend);
  }
  for (const stage of STAGES) for (const backend of stage.perBackend ? backends : [null]) await stage.run(ctx, backend);

  const samples = {}; // backend -> { fileSeq: [], fileSeqLoop: [], load: [], fileConc: [], memory: [], latency: [], memLatency: [] }
  for (const b of backends) samples[b] = { fileSeq: [], fileSeqLoop: [], load: [], fileConc: [], memory: [], syncRead: [], latency: [], memLatency: [] };
  const stageSamples = new Map(); // "name|backend" -> [us per token]

  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? backends : [...backends].reverse();
    for (const backend of order) {
      const s = samples[backend];
      const seq = await passFileSequential(ctx, backend);
      s.fileSeq.push((tokenCount / seq.ms) * 1000);
      s.fileSeqLoop.push((tokenCount / seq.loopMs) * 1000);
      s.load.push(seq.loadMs);
      s.latency.push(...seq.perToken);
      const conc = await passFileConcurrent(ctx, backend);
      s.fileConc.push((tokenCount / conc.ms) * 1000);
      const mem = await passInMemory(ctx, backend);
      s.memory.push((tokenCount / mem.ms) * 1000);
      s.memLatency.push(...mem.perTokenLatency);
      const sync = await passSyncRead(ctx, backend);
      s.syncRead.push((tokenCount / sync.ms) * 1000);
    }
    for (const stage of STAGES) {
      for (const backend of stage.perBackend ? order : [null]) {
        const start = performance.now();
        await stage.run(ctx, backend);
        const usPerToken = ((performance.now() - start) * 1000) / tokenCount;
        const key = `${stage.name}|${backend ?? 'any'}`;
        if (!stageSamples.has(key)) stageSamples.set(key, []);
        stageSamples.get(key).push(usPerToken);
      }
    }
    log(`  round ${r + 1}/${rounds}: ${backends.map((b) => `${b} ${round0(samples[b].fileSeq.at(-1))} tokens/s`).join(', ')}`);
  }

  // -------------------------------------------------------------------------
  // Results

  const perBackend = {};
  for (const b of backends) {
    const s = samples[b];
    const rate = (values) => { const x = summarize(values); return { median: round0(x.median), min: round0(x.min), max: round0(x.max) }; };
    const lat = (values) => { const x = summarize(values.map((ms) => ms * 1000)); return { p50: round1(x.median), p95: round1(x.p95), max: round1(x.max) }; };
    perBackend[b] = {
      verify_file_tokens_per_s: rate(s.fileSeq),
      verify_file_loop_only_tokens_per_s: rate(s.fileSeqLoop),
      verify_file_latency_us: lat(s.latency),
      load_trust_context_ms: (() => { const x = summarize(s.load); return { median: round1(x.median), min: round1(x.min), max: round1(x.max) }; })(),
      verify_file_concurrent_tokens_per_s: rate(s.fileConc),
      verify_token_document_tokens_per_s: rate(s.memory),
      verify_token_document_latency_us: lat(s.memLatency),
      reference_read_file_sync_tokens_per_s: rate(s.syncRead),
    };
  }
  const stages = STAGES.map((stage) => {
    const row = { stage: stage.name.trim(), reference: stage.reference === true };
    for (const b of backends) {
      if (stage.only !== undefined && stage.only !== b) { row[b] = null; continue; }
      const values = stageSamples.get(`${stage.name}|${stage.perBackend ? b : 'any'}`);
      const x = summarize(values);
      row[b] = { median_us: round1(x.median), min_us: round1(x.min), max_us: round1(x.max) };
    }
    return row;
  });
  const ratio = (key) => (perBackend.native && perBackend.js
    ? Number((perBackend.native[key].median / perBackend.js[key].median).toFixed(2)) : null);
  const edKey = 'Ed25519 verify (engine: pre-check + library)';
  const edRow = stages.find((s) => s.stage === edKey);
  const result = {
    tokens: tokenCount,
    revocations: revocationCount,
    revoked_among_tokens: revokedIssuedCount,
    rounds,
    concurrency,
    setup_s: round1(setupS),
    backends: perBackend,
    stages_us_per_token: stages,
    ratio_native_over_js: {
      verify_file: ratio('verify_file_tokens_per_s'),
      verify_token_document: ratio('verify_token_document_tokens_per_s'),
      ed25519: edRow && edRow.native && edRow.js ? Number((edRow.js.median_us / edRow.native.median_us).toFixed(2)) : null,
    },
    target_tokens_per_s: TARGET_TOKENS_PER_S,
    python_original_tokens_per_s: PYTHON_ORIGINAL_TOKENS_PER_S,
  };
  if (perBackend.native) {
    result.meets_target = perBackend.native.verify_file_tokens_per_s.median >= TARGET_TOKENS_PER_S;
    result.meets_target_concurrent = perBackend.native.verify_file_concurrent_tokens_per_s.median >= TARGET_TOKENS_PER_S;
  }

  if (args.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const fmt = (x) => x.toLocaleString('en-US');
    log('');
    log(`Token verification, one process, ${fmt(tokenCount)} tokens, ${fmt(revocationCount)} revocations listed ` +
      `(${fmt(revokedIssuedCount)} of the tokens revoked), ${rounds} rounds; medians over rounds, [min-max]`);
    log('');
    log(`| path | ${backends.map((b) => `${b} tokens/s`).join(' | ')} |${perBackend.native && perBackend.js ? ' native/js |' : ''}`);
    log(`| --- | ${backends.map(() => '---:').join(' | ')} |${perBackend.native && perBackend.js ? ' ---: |' : ''}`);
    const rateRow = (label, key, ratioValue) => {
      const cells = backends.map((b) => { const x = perBackend[b][key]; return `${fmt(x.median)} [${fmt(x.min)}-${fmt(x.max)}]`; });
      log(`| ${label} | ${cells.join(' | ')} |${perBackend.native && perBackend.js ? ` ${ratioValue ?? (perBackend.native[key].median / perBackend.js[key].median).toFixed(2)} |` : ''}`);
    };
    rateRow('loadTrustContext once + verifyFile each, sequential', 'verify_file_tokens_per_s', result.ratio_native_over_js.verify_file);
    rateRow('  same, loop only (without loadTrustContext)', 'verify_file_loop_only_tokens_per_s');
    rateRow(`loadTrustContext once + verifyFile, ${concurrency} in flight`, 'verify_file_concurrent_tokens_per_s');
    rateRow('verifyTokenDocument on pre-parsed documents', 'verify_token_document_tokens_per_s', result.ratio_native_over_js.verify_token_document);
    rateRow('reference (not the library): fs.readFileSync + parseJson + verifyTokenDocument', 'reference_read_file_sync_tokens_per_s');
    log('');
    log(`| per-token latency, µs | ${backends.map((b) => `${b} p50 / p95`).join(' | ')} |`);
    log(`| --- | ${backends.map(() => '---:').join(' | ')} |`);
    log(`| verifyFile | ${backends.map((b) => `${perBackend[b].verify_file_latency_us.p50} / ${perBackend[b].verify_file_latency_us.p95}`).join(' | ')} |`);
    log(`| verifyTokenDocument | ${backends.map((b) => `${perBackend[b].verify_token_document_latency_us.p50} / ${perBackend[b].verify_token_document_latency_us.p95}`).join(' | ')} |`);
    log(`| loadTrustContext (once), ms | ${backends.map((b) => `${perBackend[b].load_trust_context_ms.median} [${perBackend[b].load_trust_context_ms.min}-${perBackend[b].load_trust_context_ms.max}]`).join(' | ')} |`);
    log('');
    log('Where the time goes: each stage of verifyFile alone over all tokens, µs per token (median [min-max] over rounds);');
    log('"reference" rows are not part of the library\'s path, they show what the step could cost');
    log('');
    log(`| stage | ${backends.join(' | ')} |`);
    log(`| --- | ${backends.map(() => '---:').join(' | ')} |`);
    for (const row of stages) {
      const cell = (x) => (x === null ? '-' : `${x.median_us} [${x.min_us}-${x.max_us}]`);
      log(`| ${row.reference ? '&nbsp;&nbsp;' : ''}${row.stage} | ${backends.map((b) => cell(row[b])).join(' | ')} |`);
    }
    log('');
    if (perBackend.native) {
      log(`target: native verifyFile >= ${fmt(TARGET_TOKENS_PER_S)} tokens/s (sequential) -> ` +
        `${result.meets_target ? 'met' : 'NOT met'} (${fmt(perBackend.native.verify_file_tokens_per_s.median)}); ` +
        `with ${concurrency} in flight -> ${result.meets_target_concurrent ? 'met' : 'NOT met'} ` +
        `(${fmt(perBackend.native.verify_file_concurrent_tokens_per_s.median)}); ` +
        `the Python original: ${PYTHON_ORIGINAL_TOKENS_PER_S} tokens/s`);
    }
    log('');
    log(JSON.stringify(result));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

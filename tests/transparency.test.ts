// Transparency end to end through the library: checkpoints, witnesses, proof bundles verified
// offline on a 100,000-entry ledger, byte flips, quorum, forks and rollbacks, and the incremental
// audit of a 1,000,000-entry ledger (measured by leaves hashed and bytes read).
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { closeEnginePool } from '../src/engine/index.js';
import { encodeVerifierKey, SignatureType } from '../src/formats/note.js';
import { formatTrustPolicy, parseTrustPolicy, type TrustPolicy } from '../src/formats/trust-policy.js';
import { serializeProofBundle } from '../src/formats/proof-bundle.js';
import { generateKey, loadSigner, type Signer } from '../src/store/keystore.js';
import { appendLedgerEntry, readLedgerTail } from '../src/store/ledger-file.js';
import { checkpointsDir, stateFileOf } from '../src/store/checkpoints.js';
import { ledgerTreeHead } from '../src/transparency/ledger-tree.js';
import { configPaths, type ConfigPaths } from '../src/store/paths.js';
import { signArtifact } from '../src/sign/sign-artifact.js';
import { buildProofBundle, verifyBundleText, verifyProofBundle } from '../src/transparency/bundle.js';
import { verifyCheckpointNote } from '../src/transparency/checkpoints.js';
import { auditSinceCheckpoint, createCheckpoint, proveConsistency, checkConsistencyProof } from '../src/transparency/log.js';
import { cosignCheckpoint } from '../src/transparency/witness.js';
import { writeChainedLines, type ChainTail } from './transparency-helpers.js';

const ORIGIN = 'blux-reg.test/log';
const WITNESSES = ['w1', 'w2', 'w3'] as const;
const noPassphrase = async (): Promise<string> => '';

interface Setup {
  dir: string;
  paths: ConfigPaths;
  log: Signer;
  witnesses: Map<string, Signer>;
  policy: TrustPolicy;
  policyText: string;
}

async function setUp(prefix: string): Promise<Setup> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const paths = configPaths(path.join(dir, 'config'));
  await generateKey(paths.keysDir, 'log');
  const log = await loadSigner(paths.keysDir, 'log', noPassphrase);
  const witnesses = new Map<string, Signer>();
  for (const w of WITNESSES) {
    await generateKey(paths.keysDir, w);
    witnesses.set(w, await loadSigner(paths.keysDir, w, noPassphrase));
  }
  const policyText = formatTrustPolicy(
    encodeVerifierKey(ORIGIN, SignatureType.ed25519, log.publicKey),
    WITNESSES.map((w) => ({ name: w, vkey: encodeVerifierKey(`witness.test/${w}`, SignatureType.cosignatureV1, witnesses.get(w)!.publicKey) })),
    WITNESSES.length,
  );
  const parsed = parseTrustPolicy(policyText);
  if (!parsed.ok) throw new Error(parsed.problem);
  return { dir, paths, log, witnesses, policy: parsed.policy, policyText };
}

/** Runs `body` on a fresh setup and deletes its folder afterwards. */
async function withSetup(prefix: string, body: (s: Setup) => Promise<void>): Promise<void> {
  const s = await setUp(prefix);
  try {
    await body(s);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
}

async function cosignAll(s: Setup, note: string, names: readonly string[], ledger?: string): Promise<string> {
  let current = note;
  for (const w of names) {
    const result = await cosignCheckpoint({
      note: current, policy: s.policy, witnessName: `witness.test/${w}`, signer: s.witnesses.get(w)!,
      stateDir: path.join(s.dir, `state-${w}`), now: 1_790_000_000, ...(ledger === undefined ? {} : { ledger }),
    });
    expect(result.status, result.message).toBe('valid');
    current = result.note!;
  }
  return current;
}

afterAll(async () => {
  await closeEnginePool();
});

describe('proof bundle round trip on a 100,000-entry ledger', () => {
  let s: Setup;
  let artifact: string;
  let bundleText: string;
  let policyFile: string;
  let cosignedNote: string;

  beforeAll(async () => {
    s = await setUp('blux-bundle-');
    writeChainedLines(s.paths.ledger, 60_000);
    artifact = path.join(s.dir, 'release.bin');
    writeFileSync(artifact, 'the release, version 1\n');
    await generateKey(s.paths.keysDir, 'alice');
    await signArtifact(artifact, { paths: s.paths, keyName: 'alice', getPassphrase: noPassphrase });
    const [last] = await readLedgerTail(s.paths.ledger, 1);
    writeChainedLines(s.paths.ledger, 40_000, { count: 60_001, lastHash: last!.get('entry_hash') as string }, false);
    const created = await createCheckpoint({ ledger: s.paths.ledger, dir: checkpointsDir(s.paths), origin: ORIGIN, signer: s.log, jobs: 1 });
    expect(created.size).toBe(100_001);
    cosignedNote = await cosignAll(s, created.note, WITNESSES);
    writeFileSync(created.file, cosignedNote);
    const alice = await loadSigner(s.paths.keysDir, 'alice', noPassphrase);
    const bundle = await buildProofBundle({
      ledger: s.paths.ledger, manifestFile: `${artifact}.blux-manifest.json`, checkpointFile: created.file,
      publicKeyOf: (f) => (f === alice.fingerprint ? alice.publicKey : undefined),
    });
    expect(bundle.leafIndex).toBe(60_000);
    bundleText = serializeProofBundle(bundle);
    policyFile = path.join(s.dir, 'policy.txt');
    writeFileSync(policyFile, s.policyText);
    // Offline: the config folder (keys, ledger, checkpoints) is gone.
    rmSync(s.paths.root, { recursive: true, force: true });
  }, 120_000);

  afterAll(() => rmSync(s.dir, { recursive: true, force: true }));

  it('verifies with only the bundle, the artifact and the policy; the bundle is small', async () => {
    const bundleFile = path.join(s.dir, 'release.proof.json');
    writeFileSync(bundleFile, bundleText);
    const verdict = await verifyProofBundle(bundleFile, artifact, { policy: s.policy });
    expect(verdict).toMatchObject({ status: 'valid', reason: 'ok', leaf_index: 60_000, tree_size: 100_001, witnesses: ['w1', 'w2', 'w3'] });
    expect(Buffer.byteLength(bundleText)).toBeLessThan(4096);
  });

  it('flipping any byte of the bundle fails, each with a reason (every byte, XOR 0x01)', async () => {
    const bytes = Buffer.from(bundleText);
    const reasons = new Map<string, number>();
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i]! ^= 0x01;
      const verdict = await verifyBundleText(flipped.toString('utf8'), artifact, { policy: s.policy });
      if (verdict.status === 'valid') throw new Error(`flipping byte ${i} (${JSON.stringify(bytes.toString('latin1', Math.max(0, i - 20), i + 20))}) was not detected`);
      reasons.set(verdict.reason, (reasons.get(verdict.reason) ?? 0) + 1);
    }
    // The failures are spread over the specific reasons, not one catch-all.
    for (const reason of ['bundle-malformed', 'inclusion-proof-invalid', 'manifest-mismatch', 'log-signature-invalid', 'quorum-not-met', 'unknown-key']) {
      expect(reasons.get(reason) ?? 0, `${reason} in ${JSON.stringify([...reasons])}`).toBeGreaterThan(0);
    }
  }, 120_000);

  it('flipping any byte of the artifact fails with artifact-hash-mismatch', async () => {
    const original = readFileSync(artifact);
    const copy = path.join(s.dir, 'flipped.bin');
    for (let i = 0; i < original.length; i++) {
      const flipped = Buffer.from(original);
      flipped[i]! ^= 0x01;
      writeFileSync(copy, flipped);
      const verdict = await verifyBundleText(bundleText, copy, { policy: s.policy });
      expect(verdict.reason).toBe('artifact-hash-mismatch');
    }
  });

  it('flipping any byte of the checkpoint fails, with a checkpoint reason', async () => {
    const bytes = Buffer.from(cosignedNote);
    const reasons = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      const flipped = Buffer.from(bytes);
      flipped[i]! ^= 0x01;
      const verdict = await verifyCheckpointNote(flipped.toString('utf8'), s.policy);
      expect(verdict.status, `byte ${i}`).toBe('invalid');
      reasons.add(verdict.reason);
    }
    expect([...reasons].sort()).toEqual(['checkpoint-malformed', 'log-signature-invalid', 'log-signature-missing', 'quorum-not-met', 'unknown-log'].filter((r) => reasons.has(r)));
    expect(reasons.has('log-signature-invalid') && reasons.has('quorum-not-met') && reasons.has('checkpoint-malformed')).toBe(true);
  });

  it('k-1 of k cosignatures do not meet the quorum; k do', async () => {
    const lines = cosignedNote.split('\n');
    const withoutW2 = lines.filter((l) => !l.startsWith('\u2014 witness.test/w2 ')).join('\n');
    const verdict = await verifyCheckpointNote(withoutW2, s.policy);
    expect(verdict).toMatchObject({ status: 'invalid', reason: 'quorum-not-met', witnesses: ['w1', 'w3'] });
    expect(verdict.message).toContain('3 of w1, w2, w3');
    expect((await verifyCheckpointNote(cosignedNote, s.policy)).status).toBe('valid');
  });

  it('signature lines of unknown keys are ignored', async () => {
    const extra = cosignedNote + '\u2014 someone.else/key AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n';
    expect((await verifyCheckpointNote(extra, s.policy)).status).toBe('valid');
  });
});

describe('witnesses', () => {
  let s: Setup;
  let ledger: string;
  let tail: ChainTail;
  beforeAll(async () => {
    s = await setUp('blux-witness-');
    ledger = path.join(s.dir, 'ledger.jsonl');
    tail = writeChainedLines(ledger, 1000);
  });
  afterAll(() => rmSync(s.dir, { recursive: true, force: true }));

  const checkpointOf = async (file: string, dirName: string): Promise<string> =>
    (await createCheckpoint({ ledger: file, dir: path.join(s.dir, dirName), origin: ORIGIN, signer: s.log, record: false, jobs: 1 })).note;

  it('cosign a first checkpoint, then a consistent larger one; refuse a rollback and two kinds of fork', async () => {
    const first = await checkpointOf(ledger, 'cp-a');
    const w1 = { policy: s.policy, witnessName: 'witness.test/w1', signer: s.witnesses.get('w1')!, stateDir: path.join(s.dir, 'state-w1'), ledger };
    expect((await cosignCheckpoint({ ...w1, note: first })).status).toBe('valid');

    tail = writeChainedLines(ledger, 500, tail, false);
    const second = await checkpointOf(ledger, 'cp-b');
    const advanced = await cosignCheckpoint({ ...w1, note: second });
    expect(advanced).toMatchObject({ status: 'valid', previous_size: 1000, tree_size: 1500 });

    // Rollback: the old 1000-leaf checkpoint after the 1500 one.
    expect(await cosignCheckpoint({ ...w1, note: first })).toMatchObject({ status: 'invalid', reason: 'rollback' });

    // Fork at equal size: another ledger of 1500 lines under the same log key.
    const forked = path.join(s.dir, 'forked.jsonl');
    writeChainedLines(forked, 1500, { count: 7, lastHash: null }, true);
    const forkSame = await checkpointOf(forked, 'cp-c');
    expect(await cosignCheckpoint({ ...w1, note: forkSame, ledger: forked })).toMatchObject({ status: 'invalid', reason: 'fork' });

    // Fork at a larger size: the forked ledger grown to 1600 is not consistent with what w1 saw at 1500.
    writeChainedLines(forked, 100, { count: 1507, lastHash: null }, false);
    const forkLarger = await checkpointOf(forked, 'cp-d');
    const refused = await cosignCheckpoint({ ...w1, note: forkLarger, ledger: forked });
    expect(refused).toMatchObject({ status: 'invalid', reason: 'fork' });
    expect(refused.message).toContain('not consistent with the 1500-leaf checkpoint');

    // The refusals left the state alone: the genuine next checkpoint is still accepted.
    tail = writeChainedLines(ledger, 10, tail, false);
    expect((await cosignCheckpoint({ ...w1, note: await checkpointOf(ledger, 'cp-e') })).status).toBe('valid');
  });

  it('a witness refuses a checkpoint signed by a log the policy does not know', async () => {
    await generateKey(s.paths.keysDir, 'rogue');
    const rogue = await loadSigner(s.paths.keysDir, 'rogue', noPassphrase);
    const note = (await createCheckpoint({ ledger, dir: path.join(s.dir, 'cp-r'), origin: ORIGIN, signer: rogue, record: false, jobs: 1 })).note;
    const result = await cosignCheckpoint({ note, policy: s.policy, witnessName: 'witness.test/w2', signer: s.witnesses.get('w2')!, stateDir: path.join(s.dir, 'state-w2'), ledger });
    expect(result).toMatchObject({ status: 'invalid', reason: 'log-signature-missing' });
  });

  it('prove-consistency output verifies, and fails against another root', async () => {
    const proof = await proveConsistency(ledger, 700, 1400);
    expect(checkConsistencyProof(proof).status).toBe('valid');
    // From the tiles of a checkpoint of the new size: the same proof.
    const { ledgerTreeState } = await import('../src/transparency/ledger-tree.js');
    const { tiles } = await ledgerTreeState(ledger, { treeSize: 1400, jobs: 1, collectTiles: true });
    expect(await proveConsistency(ledger, 700, 1400, { tiles: tiles! })).toEqual(proof);
    const other = await proveConsistency(ledger, 701, 1400);
    expect(checkConsistencyProof({ ...proof, oldRoot: other.oldRoot })).toMatchObject({ status: 'invalid', reason: 'consistency-proof-invalid' });
  });
});

describe('incremental audit', () => {
  it('on a 10,000-entry ledger: the new root and consistency proof equal a full recomputation; tampering before or after the checkpoint is found', async () => {
    const s = await setUp('blux-incremental-small-');
    try {
      const ledger = s.paths.ledger;
      let tail = writeChainedLines(ledger, 10_000);
      const created = await createCheckpoint({ ledger, dir: checkpointsDir(s.paths), origin: ORIGIN, signer: s.log, record: false, jobs: 1 });
      tail = writeChainedLines(ledger, 10, tail, false);
      const result = await auditSinceCheckpoint(ledger, created.file);
      expect(result).toMatchObject({ status: 'valid', checkpoint_size: 10_000, tree_size: 10_010, entries_checked: 10, leaves_hashed: 11 });
      const full = await proveConsistency(ledger, 10_000, 10_010, { jobs: 1 });
      expect(result.root_hash).toBe(Buffer.from(full.newRoot).toString('base64'));
      expect(result.consistency_proof).toEqual(full.proof.map((h) => Buffer.from(h).toString('base64')));

      const text = readFileSync(ledger, 'utf8');
      writeFileSync(ledger, text.replace('"payload_summary":"event 10004"', '"payload_summary":"event 10005"'));
      expect(await auditSinceCheckpoint(ledger, created.file)).toMatchObject({ status: 'invalid', reason: 'leaf-mismatch', first_bad_line: 10_005 });
      writeFileSync(ledger, text.replace('"payload_summary":"event 9999"', '"payload_summary":"event 9990"'));
      expect(await auditSinceCheckpoint(ledger, created.file)).toMatchObject({ status: 'invalid', reason: 'root-mismatch' });
      // An edit before the checkpoint that moves bytes: the last checkpointed line is not where it was.
      writeFileSync(ledger, text.replace('"payload_summary":"event 9998"', '"payload_summary":"event 99980"'));
      expect(await auditSinceCheckpoint(ledger, created.file)).toMatchObject({ status: 'invalid', reason: 'leaf-mismatch' });
      // A same-length edit further back is outside what an incremental audit reads (by design: that
      // is the full audit's job, and witnesses that kept the old checkpoint would see a fork).
      writeFileSync(ledger, text.replace('"payload_summary":"event 9000"', '"payload_summary":"event 9001"'));
      expect((await auditSinceCheckpoint(ledger, created.file)).status).toBe('valid');
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it('a checkpoint whose last lines are blank: the next entry chains onto the entry before them (the tail is read back to it)', async () => {
    await withSetup('blux-incremental-blank-', async (s) => {
      const ledger = s.paths.ledger;
      let tail = writeChainedLines(ledger, 300);
      appendFileSync(ledger, '\n  \n\r\n\n');
      const created = await createCheckpoint({ ledger, dir: checkpointsDir(s.paths), origin: ORIGIN, signer: s.log, record: false, jobs: 1 });
      expect(created.size).toBe(304);
      const entry300 = tail.lastHash!;
      tail = writeChainedLines(ledger, 10, tail, false);
      const result = await auditSinceCheckpoint(ledger, created.file);
      // The tail: entry 300 and the 4 blank lines after it; then the 10 new entries.
      expect(result).toMatchObject({ status: 'valid', checkpoint_size: 304, tree_size: 314, entries_checked: 10, leaves_hashed: 15 });
      const full = await proveConsistency(ledger, 304, 314, { jobs: 1 });
      expect(result.root_hash).toBe(Buffer.from(full.newRoot).toString('base64'));
      // A new entry that does not link to entry 300 is still caught (the old code flagged even the correct one).
      const text = readFileSync(ledger, 'utf8');
      expect(text.split(`"prev_hash":"${entry300}"`)).toHaveLength(2);
      writeFileSync(ledger, text.replace(`"prev_hash":"${entry300}"`, `"prev_hash":"${'0'.repeat(64)}"`));
      expect(await auditSinceCheckpoint(ledger, created.file)).toMatchObject({ status: 'invalid', reason: 'leaf-mismatch', first_bad_line: 305 });
      writeFileSync(ledger, text);

      // A state saved the old way (tail = the blank last line only) is refused with a clear message, not a broken link.
      const stateFile = stateFileOf(created.file);
      const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
      const head = await ledgerTreeHead(ledger, { treeSize: 303, jobs: 1 });
      const oldStyle = { ...saved, before: { begin: 0, end: 303, nodes: head.range.nodes.map((n) => [n.level, n.index, Buffer.from(n.hash).toString('hex')]) }, last_leaf_offset: head.endOffset };
      writeFileSync(stateFile, JSON.stringify(oldStyle));
      const refusedOld = await auditSinceCheckpoint(ledger, created.file);
      expect(refusedOld).toMatchObject({ status: 'invalid', reason: 'leaf-mismatch' });
      expect(refusedOld.message).toContain('does not cover the entry before it');
    });
  });

  it('a ledger of blank lines only: the tail is the whole tree and the first entry after it starts the chain', async () => {
    await withSetup('blux-incremental-allblank-', async (s) => {
      const ledger = s.paths.ledger;
      mkdirSync(path.dirname(ledger), { recursive: true });
      writeFileSync(ledger, '\n\n \n');
      const created = await createCheckpoint({ ledger, dir: checkpointsDir(s.paths), origin: ORIGIN, signer: s.log, record: false, jobs: 1 });
      writeChainedLines(ledger, 3, { count: 0, lastHash: null }, false);
      expect(await auditSinceCheckpoint(ledger, created.file)).toMatchObject({ status: 'valid', checkpoint_size: 3, tree_size: 6, entries_checked: 3, leaves_hashed: 6 });
    });
  });

  it('after appending 10 entries to a 1,000,000-entry ledger, hashes and reads only those (plus the last line before the checkpoint)', async () => {
    const s = await setUp('blux-incremental-');
    try {
      const ledger = s.paths.ledger;
      let tail = writeChainedLines(ledger, 1_000_000);
      const created = await createCheckpoint({ ledger, dir: checkpointsDir(s.paths), origin: ORIGIN, signer: s.log, record: false, jobs: 2 });
      const { size: bytesAtCheckpoint } = statSync(ledger);
      tail = writeChainedLines(ledger, 10, tail, false);
      const appendedBytes = statSync(ledger).size - bytesAtCheckpoint;
      const started = performance.now();
      const result = await auditSinceCheckpoint(ledger, created.file, { policy: { ...s.policy, quorum: 'none' } });
      const millis = performance.now() - started;
      expect(result).toMatchObject({ status: 'valid', checkpoint_size: 1_000_000, tree_size: 1_000_010, entries_checked: 10, leaves_hashed: 11 });
      // Read: the 10 new lines and the checkpoint's last line (about 260 bytes each), out of ~260 MB.
      expect(result.bytes_read).toBeGreaterThan(appendedBytes);
      expect(result.bytes_read).toBeLessThan(appendedBytes + 1024);
      console.log(`incremental audit of 10 new entries on 1,000,000: ${result.leaves_hashed} leaves hashed, ${result.bytes_read} of ${statSync(ledger).size} bytes read, ${millis.toFixed(1)} ms`);
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  }, 180_000);
});

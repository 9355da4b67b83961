/**
 * Proof bundles: building one from the ledger and a checkpoint, and
 * verifying one offline, with nothing but the bundle, the artifact and a
 * trust policy (no config folder, no network).
 *
 * What a valid bundle establishes, check by check:
 *   1. the checkpoint is signed by a log of the policy and cosigned by a quorum;
 *   2. the ledger line is leaf `leaf_index` of that checkpoint's tree (inclusion proof);
 *   3. that line records the signing of exactly this manifest (manifest_hash) and artifact;
 *   4. the manifest's signatures verify under the bundled keys (named by fingerprint);
 *   5. the artifact's SHA-256 (and size) are the manifest's.
 */
import { BluxError } from '../errors.js';
import { sha256File, sha256Hex, verifyEd25519Batch, type EngineOptions } from '../engine/index.js';
import { fingerprintOf } from '../formats/keys.js';
import { decodeBase64Strict } from '../formats/base64.js';
import { parseJson, toPlain } from '../formats/canonical/json-value.js';
import { parseLedgerObject } from '../formats/ledger-entry.js';
import { manifestHashText, readManifest, type Manifest } from '../formats/manifest.js';
import { readProofBundle, type ProofBundle, type ProofBundleSigner } from '../formats/proof-bundle.js';
import type { TrustPolicy } from '../formats/trust-policy.js';
import { readTextFile, readTiles } from '../store/checkpoints.js';
import { signedBytes } from '../verify/manifest.js';
import { isVerdict, parseCheckpointNote, refused, verifyCheckpointNote, type TransparencyVerdict } from './checkpoints.js';
import { scanLeaves } from './leaf-reader.js';
import { engineSha256Many, subtreeHashesFromTiles, subtreeHashesOfFile } from './ledger-tree.js';
import { hashLeaves, inclusionProofRanges, verifyInclusion } from './merkle.js';

export interface BuildBundleOptions extends EngineOptions {
  ledger: string;
  manifestFile: string;
  /** The checkpoint note file whose tree the proof goes to. */
  checkpointFile: string;
  /** Public key of a fingerprint (the keystore's), for the manifest's signers. */
  publicKeyOf: (fingerprint: string) => Uint8Array | undefined;
}

function parseManifestText(text: string, file: string): Manifest {
  const read = readManifest(parseJson(text, { file }));
  if (!read.ok) throw new BluxError('malformed', `not a manifest: ${read.problem}`, { file });
  return read.value;
}

/** The index of the last line (below `treeSize`) containing `needle`, or -1: a byte search, no JSON parsing per line. */
function findLastLeafContaining(ledger: string, needle: Buffer, treeSize: number): number {
  let found = -1;
  let index = 0;
  scanLeaves(ledger, (batch) => {
    for (const line of batch.lines) {
      if (Buffer.from(line.buffer, line.byteOffset, line.byteLength).indexOf(needle) !== -1) found = index;
      index++;
    }
  }, { maxLeaves: treeSize });
  return found;
}

/**
 * Builds the bundle for a manifest whose signing is recorded in the ledger
 * before the checkpoint. The proof is verified against the checkpoint before
 * it is returned, so a ledger that no longer matches the checkpoint is an
 * error here, not a bad bundle later.
 */
export async function buildProofBundle(opts: BuildBundleOptions): Promise<ProofBundle> {
  const manifestText = await readTextFile(opts.manifestFile);
  const manifest = parseManifestText(manifestText, opts.manifestFile);
  const manifestHash = sha256Hex(manifestHashText(manifest), opts);
  const noteText = await readTextFile(opts.checkpointFile);
  const parsed = parseCheckpointNote(noteText);
  if (isVerdict(parsed)) throw new BluxError('malformed', parsed.message, { file: opts.checkpointFile });
  const { checkpoint } = parsed;

  const leafIndex = findLastLeafContaining(opts.ledger, Buffer.from(`"manifest_hash":"${manifestHash}"`), checkpoint.size);
  if (leafIndex === -1) {
    throw new BluxError('invalid-argument',
      `no entry of the first ${checkpoint.size} ledger lines records this manifest (manifest_hash ${manifestHash}); sign it, then make a new checkpoint`, { file: opts.manifestFile });
  }
  // The checkpoint's tiles make the proof a few block reads; without them, one pass over the prefix.
  const ranges = inclusionProofRanges(leafIndex, checkpoint.size);
  const tiles = await readTiles(opts.checkpointFile, checkpoint.size);
  const scan = tiles !== null
    ? subtreeHashesFromTiles(opts.ledger, tiles, ranges, [leafIndex], opts)
    : subtreeHashesOfFile(opts.ledger, ranges, { ...opts, wantLeaves: [leafIndex] });
  const leaf = scan.leaves.get(leafIndex)!;
  const sha256Many = engineSha256Many(opts);
  const check = verifyInclusion(leafIndex, checkpoint.size, hashLeaves([leaf], sha256Many)[0]!, scan.hashes, checkpoint.rootHash, sha256Many);
  if (!check.ok) {
    throw new BluxError('ledger-corrupt', `the ledger no longer matches checkpoint ${opts.checkpointFile} (${check.message}); run \`blux-reg audit verify-chain\``, { file: opts.ledger });
  }

  const signers: ProofBundleSigner[] = [];
  for (const fingerprint of new Set(manifest.signatures.map((s) => s.keyFingerprint))) {
    const publicKey = opts.publicKeyOf(fingerprint);
    if (publicKey === undefined) throw new BluxError('key-not-found', `no public key for signer ${fingerprint} (import it with \`blux-reg keys import\`)`, { file: opts.manifestFile });
    signers.push({ fingerprint, publicKey });
  }
  return {
    manifestText,
    signers,
    ledgerEntry: Buffer.from(leaf).toString('utf8'),
    leafIndex,
    treeSize: checkpoint.size,
    inclusionProof: scan.hashes,
    checkpoint: noteText,
  };
}

// ---------------------------------------------------------------------------
// Offline verification
// ---------------------------------------------------------------------------

export interface VerifyBundleOptions extends EngineOptions {
  policy: TrustPolicy;
  /** When given, at least one valid signer must have one of these fingerprints. */
  trustedFingerprints?: ReadonlySet<string>;
}

export interface BundleVerdict extends TransparencyVerdict {
  file: string;
  kind: 'proof-bundle';
}

function parseBundleText(text: string): ProofBundle | TransparencyVerdict {
  let value: unknown;
  try {
    value = toPlain(parseJson(text));
  } catch (e) {
    return refused('bundle-malformed', `the bundle is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const read = readProofBundle(value);
  return read.ok ? read.bundle : refused('bundle-malformed', read.problem);
}

/** Every check of a bundle against an artifact; the first failure is the verdict. */
export async function verifyProofBundle(bundleFile: string, artifactFile: string, opts: VerifyBundleOptions): Promise<BundleVerdict> {
  const text = await readTextFile(bundleFile).catch((e: unknown) => {
    // Bytes that are not UTF-8 are a damaged bundle, not a usage error.
    if (e instanceof BluxError && e.code === 'malformed') return null;
    throw e;
  });
  const verdict = text === null ? refused('bundle-malformed', 'the bundle is not UTF-8 text') : await verifyBundleText(text, artifactFile, opts);
  return { ...verdict, file: bundleFile, kind: 'proof-bundle' };
}

export async function verifyBundleText(text: string, artifactFile: string, opts: VerifyBundleOptions): Promise<TransparencyVerdict> {
  const bundle = parseBundleText(text);
  if (isVerdict(bundle)) return bundle;
  const sha256Many = engineSha256Many(opts);

  // 1. The checkpoint, under the policy.
  const checkpointVerdict = await verifyCheckpointNote(bundle.checkpoint, opts.policy, opts);
  if (checkpointVerdict.status !== 'valid') return checkpointVerdict;
  const parsed = parseCheckpointNote(bundle.checkpoint);
  if (isVerdict(parsed)) return parsed;
  const { checkpoint } = parsed;
  if (checkpoint.size !== bundle.treeSize) {
    return refused('size-mismatch', `the bundle's tree_size ${bundle.treeSize} is not the checkpoint's size ${checkpoint.size}`);
  }

  // 2. The ledger line is in that tree.
  const leafHash = hashLeaves([new TextEncoder().encode(bundle.ledgerEntry)], sha256Many)[0]!;
  const inclusion = verifyInclusion(bundle.leafIndex, bundle.treeSize, leafHash, bundle.inclusionProof, checkpoint.rootHash, sha256Many);
  if (!inclusion.ok) {
    return refused('inclusion-proof-invalid', `the ledger entry is not leaf ${bundle.leafIndex} of the checkpoint's tree: ${inclusion.message}`, { failure: inclusion.failure });
  }

  // 3. The line records this manifest and artifact.
  let manifest: Manifest;
  try {
    manifest = parseManifestText(bundle.manifestText, 'the bundled manifest');
  } catch (e) {
    return refused('malformed', e instanceof Error ? e.message : String(e));
  }
  const entry = parseLedgerObject(bundle.ledgerEntry);
  const manifestHash = sha256Hex(manifestHashText(manifest), opts);
  if (entry?.get('manifest_hash') !== manifestHash) {
    return refused('manifest-mismatch', `the ledger entry records manifest_hash ${String(entry?.get('manifest_hash'))}, the bundled manifest hashes to ${manifestHash}`);
  }
  if (entry.get('artifact_hash') !== manifest.artifactSha256) {
    return refused('manifest-mismatch', `the ledger entry records artifact_hash ${String(entry.get('artifact_hash'))}, the manifest says ${manifest.artifactSha256}`);
  }

  // 4. The manifest's signatures, under the bundled keys (each key must be the one its fingerprint names).
  const keys = new Map(bundle.signers.filter((s) => fingerprintOf(s.publicKey) === s.fingerprint).map((s) => [s.fingerprint, s.publicKey]));
  const message = signedBytes(manifest);
  const items = manifest.signatures.map((s) => ({ fingerprint: s.keyFingerprint, publicKey: keys.get(s.keyFingerprint), signature: decodeBase64Strict(s.signature, 64) }));
  const unknown = items.find((i) => i.publicKey === undefined);
  if (unknown !== undefined) return refused('unknown-key', `the bundle has no valid public key for signer ${unknown.fingerprint}`);
  const results = await verifyEd25519Batch(items.map((i) => ({ publicKey: i.publicKey!, message, signature: i.signature ?? new Uint8Array(0) })), opts);
  const bad = items.find((_, i) => results[i] !== true);
  if (bad !== undefined) return refused('bad-signature', `the manifest signature by ${bad.fingerprint} does not verify`);
  const signers = items.map((i) => i.fingerprint);
  if (entry.get('actor') !== undefined && !signers.includes(String(entry.get('actor')))) {
    return refused('manifest-mismatch', `the ledger entry's actor ${String(entry.get('actor'))} is not a signer of the manifest`);
  }
  if (opts.trustedFingerprints !== undefined && !signers.some((f) => opts.trustedFingerprints!.has(f))) {
    return refused('untrusted-signer', `none of the signers (${signers.join(', ')}) is a trusted key`);
  }

  // 5. The artifact.
  const artifact = await sha256File(artifactFile, opts);
  if (artifact.sha256 !== manifest.artifactSha256) {
    return refused('artifact-hash-mismatch', `artifact SHA-256 is ${artifact.sha256}, the manifest says ${manifest.artifactSha256}`);
  }
  if (manifest.version === '2.0' && manifest.artifactSize !== artifact.size) {
    return refused('artifact-size-mismatch', `artifact is ${artifact.size} bytes, the manifest says ${manifest.artifactSize}`);
  }
  return {
    status: 'valid',
    reason: 'ok',
    message: `artifact signed by ${signers.length} key(s), recorded at ledger leaf ${bundle.leafIndex} of ${bundle.treeSize}, checkpoint ${checkpointVerdict.message}`,
    signers,
    leaf_index: bundle.leafIndex,
    tree_size: bundle.treeSize,
    origin: checkpoint.origin,
    witnesses: checkpointVerdict['witnesses'],
  };
}

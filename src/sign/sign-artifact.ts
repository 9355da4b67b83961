/**
 * `sign <artifact>`: hash the artifact (streamed), write or co-sign its
 * manifest, and record the signing in the ledger.
 *
 * 2.0 (default): if a 2.0 manifest for the same bytes already exists, the new
 * signature is added to it (co-signing) over the unchanged body; a signature
 * by the same key is not added twice. 1.0 (`format: '1.0'`) writes the
 * original's single-signer manifest, replacing any existing one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { BluxError } from '../errors.js';
import { sha256File, sha256Hex, type EngineOptions } from '../engine/index.js';
import { canonicalFor } from '../formats/canonical/index.js';
import type { JsonValue } from '../formats/canonical/json-value.js';
import { encodeBase64 } from '../formats/base64.js';
import {
  MANIFEST_SUFFIX, manifestHashText, manifestV2Body, newManifestV1Body, newManifestV2Body, readManifest,
  serializeManifestFile, withSignaturesV2, withSignatureV1, type ArtifactFacts, type ManifestV2,
} from '../formats/manifest.js';
import { formatInstant } from '../formats/time.js';
import { readJsonDocument } from '../io/read-document.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { appendLedgerEntry } from '../store/ledger-file.js';
import type { ConfigPaths } from '../store/paths.js';
import { loadSigner } from '../store/keystore.js';
import { withExclusiveLock } from '../store/file-lock.js';
import { lexicalTraversalProblem } from '../verify/artifact-path.js';
import { loadTrustContext, type TrustContext } from '../trust/context.js';
import { checkSignatures } from '../verify/signers.js';
import { signedBytes } from '../verify/manifest.js';

export type ManifestFormat = '1.0' | '2.0';

export interface SignOptions extends EngineOptions {
  readonly paths: ConfigPaths;
  readonly keyName: string;
  readonly getPassphrase: () => Promise<string>;
  /** Manifest file; default `<artifact>.blux-manifest.json`. */
  readonly output?: string;
  readonly format?: ManifestFormat;
  /** 2.0 only: a JSON object stored (and signed) as `metadata`. */
  readonly metadata?: JsonValue;
  readonly nowMillis?: number;
  readonly onHashProgress?: (bytesDone: number) => void;
  /** Replace an existing manifest that cannot be co-signed (other content, other format). */
  readonly force?: boolean;
  /** Extra trusted keys for checking an existing manifest's signatures before co-signing. */
  readonly trustedKeys?: readonly string[];
}

export interface SignResult {
  readonly manifestFile: string;
  readonly format: ManifestFormat;
  /** `created` a new manifest, `co-signed` an existing 2.0 one, or `already-signed` by this key (nothing written). */
  readonly action: 'created' | 'co-signed' | 'already-signed';
  readonly artifact: ArtifactFacts;
  readonly keyFingerprint: string;
  readonly manifestHash: string;
  readonly signers: number;
}

/** The artifact's path as written in the manifest: relative to the manifest's folder, `/`-separated. */
export function artifactPathFor(manifestFile: string, artifactFile: string): string {
  const relative = path.relative(path.dirname(path.resolve(manifestFile)), path.resolve(artifactFile)).split(path.sep).join('/');
  const problem = lexicalTraversalProblem(relative);
  if (problem !== null || relative === '') {
    throw new BluxError('invalid-argument',
      `the manifest ${manifestFile} must be in the artifact's folder or above it (artifact: ${artifactFile})`);
  }
  return relative;
}

/** What is at the manifest path before we write. */
type Existing =
  | { readonly kind: 'none' }
  | { readonly kind: 'co-signable'; readonly manifest: ManifestV2 }
  | { readonly kind: 'other'; readonly why: string };

async function inspectExisting(manifestFile: string, artifact: ArtifactFacts, format: ManifestFormat): Promise<Existing> {
  try {
    await fs.access(manifestFile);
  } catch {
    return { kind: 'none' };
  }
  let read;
  try {
    read = readManifest(await readJsonDocument(manifestFile));
  } catch (e) {
    return { kind: 'other', why: `it cannot be read (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!read.ok) return { kind: 'other', why: `it is not a valid manifest (${read.problem})` };
  const m = read.value;
  if (m.version !== '2.0' || format !== '2.0') return { kind: 'other', why: `it is a ${m.version} manifest` };
  if (m.artifactPath !== artifact.path || m.artifactSha256 !== artifact.sha256 || m.artifactSize !== artifact.size) {
    return { kind: 'other', why: 'it is for other content (path, size or SHA-256 differ)' };
  }
  return { kind: 'co-signable', manifest: m };
}

/**
 * A co-signature vouches for the body the earlier signers signed, so that body
 * must be intact: every existing signature has to verify under a trusted key.
 * Otherwise an edited manifest (say, its metadata) would gain a fresh, valid
 * signature from the co-signer.
 */
async function requireIntactSignatures(manifestFile: string, manifest: ManifestV2, trust: TrustContext, engine: EngineOptions): Promise<void> {
  const checks = await checkSignatures(manifest.signatures, signedBytes(manifest), trust, engine);
  const bad = checks.find((c) => c.status !== 'ok');
  if (bad !== undefined) {
    const hint = bad.status === 'unknown-key' ? ' (trust its key with --trusted-keys to co-sign)' : '';
    throw new BluxError('manifest-exists',
      `refusing to co-sign: the existing signature by ${bad.keyName ?? bad.keyFingerprint} is ${bad.status}${hint}`, { file: manifestFile });
  }
}

export async function signArtifact(artifactFile: string, options: SignOptions): Promise<SignResult> {
  const format = options.format ?? '2.0';
  if (format === '1.0' && options.metadata !== undefined) {
    throw new BluxError('invalid-argument', '--metadata needs a 2.0 manifest (1.0 has no metadata field)');
  }
  const stat = await fs.stat(artifactFile).catch((e: NodeJS.ErrnoException) => {
    throw new BluxError(e.code === 'ENOENT' ? 'file-not-found' : 'file-unreadable', `cannot read artifact (${e.code})`, { file: artifactFile });
  });
  if (!stat.isFile()) throw new BluxError('file-unreadable', 'is not a regular file', { file: artifactFile });

  const manifestFile = options.output ?? `${artifactFile}${MANIFEST_SUFFIX}`;
  const relativePath = artifactPathFor(manifestFile, artifactFile);
  // Ask for the passphrase before hashing: a wrong one should fail fast, not after minutes of I/O.
  const signer = await loadSigner(options.paths.keysDir, options.keyName, options.getPassphrase);
  const trust = await loadTrustContext({ paths: options.paths, trustedKeys: options.trustedKeys ?? [] });
  if (trust.revokedKeys.has(signer.fingerprint)) {
    throw new BluxError('key-revoked', `key "${signer.name}" (${signer.fingerprint}) has been revoked: it cannot sign`);
  }
  const hashOptions = options.onHashProgress === undefined ? { ...options } : { ...options, onProgress: options.onHashProgress };
  const { sha256, size } = await sha256File(artifactFile, hashOptions);
  const artifact: ArtifactFacts = { path: relativePath, size, sha256 };
  const now = formatInstant(options.nowMillis ?? Date.now());

  // Read-modify-write of the manifest under a lock, so concurrent co-signers
  // never drop each other's signature. The lock file lives in the config
  // folder (a release folder must not collect lock files that verify-batch
  // would then list as unsigned), keyed by the manifest's absolute path.
  const lockDir = path.join(options.paths.trustDir, 'locks');
  await fs.mkdir(lockDir, { recursive: true });
  const lockFile = path.join(lockDir, `manifest-${sha256Hex(path.resolve(manifestFile))}.lock`);
  return withExclusiveLock(lockFile, async (): Promise<SignResult> => {
    const found = await inspectExisting(manifestFile, artifact, format);
    if (found.kind === 'other' && options.force !== true) {
      throw new BluxError('manifest-exists', `a manifest already exists here and ${found.why}; use --force to replace it`, { file: manifestFile });
    }

    let document;
    let action: SignResult['action'] = 'created';
    let signers = 1;
    if (format === '1.0') {
      const body = newManifestV1Body(artifact, now, signer.fingerprint);
      const signature = signer.sign(new TextEncoder().encode(canonicalFor('1.0', body)));
      document = withSignatureV1(body, encodeBase64(signature));
    } else {
      const existing = found.kind === 'co-signable' ? found.manifest : null;
      if (existing !== null) await requireIntactSignatures(manifestFile, existing, trust, options);
      const body = existing !== null ? manifestV2Body(existing) : newManifestV2Body(artifact, now, options.metadata ?? new Map());
      if (existing !== null && options.metadata !== undefined &&
          canonicalFor('2.0', options.metadata) !== canonicalFor('2.0', existing.metadata)) {
        throw new BluxError('invalid-argument',
          'a co-signature covers the existing manifest body: --metadata must be omitted or equal the existing metadata', { file: manifestFile });
      }
      const previous = existing?.signatures.map((s) => ({ keyFingerprint: s.keyFingerprint, signedAt: s.signedAt ?? now, signature: s.signature })) ?? [];
      if (existing !== null && previous.some((s) => s.keyFingerprint === signer.fingerprint)) {
        const manifestHash = sha256Hex(manifestHashText(existing), options);
        return { manifestFile, format, action: 'already-signed', artifact, keyFingerprint: signer.fingerprint, manifestHash, signers: previous.length };
      }
      const signature = signer.sign(new TextEncoder().encode(canonicalFor('2.0', body)));
      document = withSignaturesV2(body, [...previous, { keyFingerprint: signer.fingerprint, signedAt: now, signature: encodeBase64(signature) }]);
      action = existing !== null ? 'co-signed' : 'created';
      signers = previous.length + 1;
    }

    const manifestHash = sha256Hex(canonicalFor(format, document), options);
    await writeFileAtomic(manifestFile, serializeManifestFile(document));
    await appendLedgerEntry(options.paths.ledger, {
      action: 'sign',
      actor: signer.fingerprint,
      payload_summary: `manifest:${path.basename(manifestFile)}`,
      artifact_hash: sha256,
      manifest_hash: manifestHash,
    }, { sign: signer.sign }); // the key is unlocked already: the entry is signed by the signer it names
    return { manifestFile, format, action, artifact, keyFingerprint: signer.fingerprint, manifestHash, signers };
  });
}

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
import { lexicalTraversalProblem } from '../verify/artifact-path.js';

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

async function existingV2ForSameBytes(manifestFile: string, artifact: ArtifactFacts): Promise<ManifestV2 | null> {
  try {
    await fs.access(manifestFile);
  } catch {
    return null;
  }
  const read = readManifest(await readJsonDocument(manifestFile));
  if (!read.ok || read.value.version !== '2.0') return null;
  const m = read.value;
  const same = m.artifactPath === artifact.path && m.artifactSha256 === artifact.sha256 && m.artifactSize === artifact.size;
  return same ? m : null;
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
  const hashOptions = options.onHashProgress === undefined ? { ...options } : { ...options, onProgress: options.onHashProgress };
  const { sha256, size } = await sha256File(artifactFile, hashOptions);
  const artifact: ArtifactFacts = { path: relativePath, size, sha256 };
  const now = formatInstant(options.nowMillis ?? Date.now());

  let document;
  let action: SignResult['action'];
  let signers: number;
  if (format === '1.0') {
    const body = newManifestV1Body(artifact, now, signer.fingerprint);
    const signature = signer.sign(new TextEncoder().encode(canonicalFor('1.0', body)));
    document = withSignatureV1(body, encodeBase64(signature));
    action = 'created';
    signers = 1;
  } else {
    const existing = await existingV2ForSameBytes(manifestFile, artifact);
    const body = existing !== null ? manifestV2Body(existing) : newManifestV2Body(artifact, now, options.metadata ?? new Map());
    if (existing !== null && options.metadata !== undefined &&
        canonicalFor('2.0', options.metadata) !== canonicalFor('2.0', existing.metadata)) {
      throw new BluxError('invalid-argument',
        'a co-signature covers the existing manifest body: --metadata must be omitted or equal the existing metadata', { file: manifestFile });
    }
    const previous = existing?.signatures.map((s) => ({ keyFingerprint: s.keyFingerprint, signedAt: s.signedAt ?? now, signature: s.signature })) ?? [];
    if (previous.some((s) => s.keyFingerprint === signer.fingerprint)) {
      const manifestHash = sha256Hex(manifestHashText(existing!), options);
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
  });
  return { manifestFile, format, action, artifact, keyFingerprint: signer.fingerprint, manifestHash, signers };
}

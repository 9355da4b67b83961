/**
 * Verifies one manifest (1.0 or 2.0) against its artifact and the trusted keys.
 *
 * Order of checks (the first failure is the reason): schema -> signature
 * encoding -> artifact path stays in the manifest's folder -> artifact exists
 * -> size (2.0) -> SHA-256 of the artifact -> signers (trusted, not revoked,
 * signature valid, enough distinct keys). Hashing before the signature check
 * matches the reasons blux-reg 0.2's fixtures expect (an edited
 * `artifact_sha256` is reported as a hash mismatch).
 */
import type { JsonValue } from '../formats/canonical/json-value.js';
import { manifestHashText, manifestSignedText, readManifest, type Manifest } from '../formats/manifest.js';
import { decodeBase64Strict } from '../formats/base64.js';
import { sha256File, sha256Hex, type EngineOptions } from '../engine/index.js';
import type { TrustContext } from '../trust/context.js';
import { locateArtifact } from './artifact-path.js';
import { checkSignatures, decideSigners, ED25519_SIGNATURE_BYTES, type SignatureCheck } from './signers.js';
import type { Verdict } from './result.js';

export interface ManifestVerifyOptions extends EngineOptions {
  /** Distinct trusted signers required (default 1). */
  readonly requireSigners?: number;
  readonly onHashProgress?: (bytesDone: number) => void;
}

export interface ManifestVerdict extends Verdict {
  readonly kind: 'manifest';
  readonly schema_version?: string;
  readonly artifact?: string;
  readonly artifact_size?: number;
  readonly artifact_sha256?: string;
  readonly manifest_hash?: string;
  readonly signers?: readonly SignatureCheck[];
}

export async function verifyManifestDocument(
  file: string,
  document: JsonValue,
  trust: TrustContext,
  options: ManifestVerifyOptions = {},
): Promise<ManifestVerdict> {
  const verdict = (status: Verdict['status'], reason: Verdict['reason'], message: string, details: object = {}): ManifestVerdict => ({
    status, reason, file, kind: 'manifest', message, ...details,
  });

  const read = readManifest(document);
  if (!read.ok) return verdict('invalid', 'malformed', read.problem);
  const manifest: Manifest = read.value;
  const base = { schema_version: manifest.version, manifest_hash: sha256Hex(manifestHashText(manifest), options) };

  // Cheap structural checks first: a malformed signature is refused before any I/O.
  const malformed = manifest.signatures.find((s) => decodeBase64Strict(s.signature, ED25519_SIGNATURE_BYTES) === null);
  if (malformed !== undefined) {
    return verdict('invalid', 'malformed-signature', `signature by ${malformed.keyFingerprint} is not canonical base64 of 64 bytes`, base);
  }

  const location = await locateArtifact(file, manifest.artifactPath);
  if (!location.ok) {
    const status = location.reason === 'artifact-unreadable' ? 'error' : 'invalid';
    return verdict(status, location.reason, location.message, base);
  }
  const artifactDetails = { ...base, artifact: location.path, artifact_size: location.size };
  if (manifest.version === '2.0' && manifest.artifactSize !== location.size) {
    return verdict('invalid', 'artifact-size-mismatch',
      `artifact is ${location.size} bytes, manifest says ${manifest.artifactSize}`, artifactDetails);
  }

  let digest: string;
  try {
    const hashOptions = options.onHashProgress === undefined ? { ...options } : { ...options, onProgress: options.onHashProgress };
    digest = (await sha256File(location.path, hashOptions)).sha256;
  } catch (e) {
    return verdict('error', 'artifact-unreadable', e instanceof Error ? e.message : String(e), artifactDetails);
  }
  const hashed = { ...artifactDetails, artifact_sha256: digest };
  if (digest !== manifest.artifactSha256) {
    return verdict('invalid', 'artifact-hash-mismatch',
      `artifact SHA-256 is ${digest}, manifest says ${manifest.artifactSha256}`, hashed);
  }

  const message = new TextEncoder().encode(manifestSignedText(manifest));
  const checks = await checkSignatures(manifest.signatures, message, trust, options);
  const decision = decideSigners(checks, options.requireSigners ?? 1);
  const withSigners = { ...hashed, signers: checks };
  if (!decision.ok) return verdict('invalid', decision.reason, decision.message, withSigners);
  return verdict('valid', 'ok', `artifact matches and is signed by ${decision.signers.length} trusted key(s)`, withSigners);
}

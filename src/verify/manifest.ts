/**
 * Verifies one manifest (1.0 or 2.0) against its artifact and the trusted keys.
 *
 * Order of checks (the first failure is the reason): schema -> signature
 * encoding -> artifact path stays in the manifest's folder -> artifact exists
 * -> size (2.0) -> SHA-256 of the artifact -> signers (trusted, not revoked,
 * signature valid, enough distinct keys). Hashing before the signature check
 * matches the reasons blux-reg 0.2's fixtures expect (an edited
 * `artifact_sha256` is reported as a hash mismatch).
 *
 * The steps are exported separately so that verify-batch applies exactly this
 * policy while hashing and verifying thousands of manifests in parallel.
 */
import { BluxError } from '../errors.js';
import type { JsonValue } from '../formats/canonical/json-value.js';
import {
  manifestHashText, manifestSignedText, manifestSignedTextCheckingWhole, readManifest, type Manifest, type ManifestV1, type ManifestV2,
} from '../formats/manifest.js';
import { decodeBase64Strict } from '../formats/base64.js';
import { sha256File, sha256Hex, type EngineOptions } from '../engine/index.js';
import type { TrustContext } from '../trust/context.js';
import { locateArtifact, type ArtifactLocation } from './artifact-path.js';
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

type Details = Omit<ManifestVerdict, 'status' | 'reason' | 'file' | 'kind' | 'message'>;

export function manifestVerdict(file: string, status: Verdict['status'], reason: Verdict['reason'], message: string, details: Details = {}): ManifestVerdict {
  return { status, reason, file, kind: 'manifest', message, ...details };
}

/**
 * What the steps after reading use of a manifest: all but its raw document
 * and metadata. Plain data, so a worker thread can hand it over (the raw
 * document's numbers are JsonNumber objects, which a structured clone would
 * turn into plain objects).
 */
export type ManifestFacts = Omit<ManifestV1, 'raw'> | Omit<ManifestV2, 'raw' | 'metadata'>;

function factsOf(manifest: Manifest): ManifestFacts {
  if (manifest.version === '1.0') {
    const { raw: _raw, ...facts } = manifest;
    return facts;
  }
  const { raw: _raw, metadata: _metadata, ...facts } = manifest;
  return facts;
}

/** A manifest whose document checks passed (step 1a): its artifact is still to be found. */
export interface CheckedManifest {
  readonly manifest: ManifestFacts;
  /** What every signer signed: the canonical manifest without its signatures (manifestSignedText). */
  readonly signedText: string;
  readonly details: Details;
}

/** A manifest whose structure, signature encodings and artifact location passed: it awaits the artifact's hash. */
export interface PreparedManifest {
  readonly file: string;
  readonly manifest: ManifestFacts;
  /** Absolute real path of the artifact (inside the manifest's folder). */
  readonly artifactPath: string;
  readonly artifactSize: number;
  readonly details: Details;
  /** What every signer signed: the canonical manifest without its signatures (manifestSignedText). */
  readonly signedText: string;
}

/** Finds a manifest's artifact (see artifact-path.ts); verify-batch passes one that consults its discovery first. */
export type ArtifactLocator = (manifestFile: string, artifactPath: string) => Promise<ArtifactLocation>;

/** What a caller of prepareManifest reports besides the verdict. */
export interface PrepareOptions {
  /**
   * The SHA-256 of the whole canonical manifest in the details (default
   * true). verify-batch's report has no place for it and skips the hash
   * and the canonical text it covers (~9 % of its own thread on a tree of
   * 20,000 manifests); a manifest RFC 8785 cannot represent is still malformed.
   */
  readonly manifestHash?: boolean;
}

/** Step 1: everything that needs no hashing. Returns a final verdict when a check already fails. */
export async function prepareManifest(
  file: string,
  document: JsonValue,
  engine: EngineOptions = {},
  locate: ArtifactLocator = locateArtifact,
  options: PrepareOptions = {},
): Promise<PreparedManifest | ManifestVerdict> {
  const checked = checkManifestDocument(file, document, engine, options);
  return isChecked(checked) ? locateManifestArtifact(file, checked, locate) : checked;
}

export function isChecked(value: CheckedManifest | ManifestVerdict): value is CheckedManifest {
  return 'signedText' in value;
}

/**
 * Step 1a: the checks of the document alone, with no file system: its
 * schema, its canonical form, its signature encodings. verify-batch runs
 * it in the pool's threads (batch/manifest-reading.ts).
 */
export function checkManifestDocument(
  file: string,
  document: JsonValue,
  engine: EngineOptions = {},
  options: PrepareOptions = {},
): CheckedManifest | ManifestVerdict {
  const read = readManifest(document);
  if (!read.ok) return manifestVerdict(file, 'invalid', 'malformed', read.problem);
  const manifest = read.value;
  let hashText: string | null = null;
  let signedText: string;
  try {
    if (options.manifestHash === false) {
      signedText = manifestSignedTextCheckingWhole(manifest);
    } else {
      hashText = manifestHashText(manifest);
      signedText = manifestSignedText(manifest);
    }
  } catch (e) {
    // RFC 8785 cannot represent some parsed values (a lone surrogate, an integer beyond 2^53): the document is malformed.
    if (e instanceof BluxError && e.code === 'malformed') return manifestVerdict(file, 'invalid', 'malformed', e.message);
    throw e;
  }
  const base: Details = hashText === null
    ? { schema_version: manifest.version }
    : { schema_version: manifest.version, manifest_hash: sha256Hex(hashText, engine) };

  // A malformed signature is refused before any I/O.
  const malformed = manifest.signatures.find((s) => decodeBase64Strict(s.signature, ED25519_SIGNATURE_BYTES) === null);
  if (malformed !== undefined) {
    return manifestVerdict(file, 'invalid', 'malformed-signature', `signature by ${malformed.keyFingerprint} is not canonical base64 of 64 bytes`, base);
  }

  return { manifest: factsOf(manifest), signedText, details: base };
}

/** Step 1b: finds the artifact of a manifest whose document passed, and checks its size (2.0). */
export async function locateManifestArtifact(file: string, checked: CheckedManifest, locate: ArtifactLocator = locateArtifact): Promise<PreparedManifest | ManifestVerdict> {
  const { manifest, signedText, details: base } = checked;
  const location = await locate(file, manifest.artifactPath);
  if (!location.ok) {
    return manifestVerdict(file, location.reason === 'artifact-unreadable' ? 'error' : 'invalid', location.reason, location.message, base);
  }
  const details: Details = { ...base, artifact: location.path, artifact_size: location.size };
  if (manifest.version === '2.0' && manifest.artifactSize !== location.size) {
    return manifestVerdict(file, 'invalid', 'artifact-size-mismatch', `artifact is ${location.size} bytes, manifest says ${manifest.artifactSize}`, details);
  }
  return { file, manifest, artifactPath: location.path, artifactSize: location.size, details, signedText };
}

export function isPrepared(value: PreparedManifest | ManifestVerdict): value is PreparedManifest {
  return 'manifest' in value;
}

/** Step 2: the artifact's digest against the manifest's. Null when it matches. */
export function checkArtifactDigest(prepared: PreparedManifest, digest: string): ManifestVerdict | null {
  if (digest === prepared.manifest.artifactSha256) return null;
  return manifestVerdict(prepared.file, 'invalid', 'artifact-hash-mismatch',
    `artifact SHA-256 is ${digest}, manifest says ${prepared.manifest.artifactSha256}`, { ...prepared.details, artifact_sha256: digest });
}

const utf8 = new TextEncoder();

/** The bytes every signer of the manifest signed. */
export function signedBytes(manifest: Manifest): Uint8Array {
  return utf8.encode(manifestSignedText(manifest));
}

/** The bytes every signer of a prepared manifest signed (made when it was prepared). */
export function preparedSignedBytes(prepared: PreparedManifest): Uint8Array {
  return utf8.encode(prepared.signedText);
}

/** Step 3: the verdict from the signature checks. */
export function judgeSigners(prepared: PreparedManifest, digest: string, checks: readonly SignatureCheck[], requireSigners = 1): ManifestVerdict {
  const decision = decideSigners(checks, requireSigners);
  const details: Details = { ...prepared.details, artifact_sha256: digest, signers: checks };
  if (!decision.ok) return manifestVerdict(prepared.file, 'invalid', decision.reason, decision.message, details);
  return manifestVerdict(prepared.file, 'valid', 'ok', `artifact matches and is signed by ${decision.signers.length} trusted key(s)`, details);
}

export async function verifyManifestDocument(
  file: string,
  document: JsonValue,
  trust: TrustContext,
  options: ManifestVerifyOptions = {},
): Promise<ManifestVerdict> {
  const prepared = await prepareManifest(file, document, options);
  if (!isPrepared(prepared)) return prepared;

  let digest: string;
  try {
    const hashOptions = options.onHashProgress === undefined ? { ...options } : { ...options, onProgress: options.onHashProgress };
    digest = (await sha256File(prepared.artifactPath, hashOptions)).sha256;
  } catch (e) {
    return manifestVerdict(file, 'error', 'artifact-unreadable', e instanceof Error ? e.message : String(e), prepared.details);
  }
  const mismatch = checkArtifactDigest(prepared, digest);
  if (mismatch !== null) return mismatch;

  const checks = await checkSignatures(prepared.manifest.signatures, preparedSignedBytes(prepared), trust, options);
  return judgeSigners(prepared, digest, checks, options.requireSigners ?? 1);
}

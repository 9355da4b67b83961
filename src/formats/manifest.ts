/**
 * Artifact manifests, as pure functions.
 *
 * 1.0 (the Python original): `{schema_version, artifact_path, artifact_sha256,
 *   created_at, key_fingerprint, signature}`; Ed25519 over the Python-canonical
 *   JSON of every field but `signature`.
 * 2.0 (this project): `{schema_version, artifact: {path, size, sha256},
 *   created_at, metadata, signatures: [{key_fingerprint, signed_at, signature}]}`;
 *   every signer signs the RFC 8785 JSON of the manifest without `signatures`,
 *   so co-signers sign the very same body.
 */
import { canonicalFor } from './canonical/index.js';
import { type JsonObject, type JsonValue, fromPlain } from './canonical/json-value.js';
import { checkDocument, schemaVersionOf, without, type ReadOutcome } from './document.js';
import { indentCanonicalJson } from './pretty.js';
import { canonicalPython } from './canonical/python.js';

export const MANIFEST_SUFFIX = '.blux-manifest.json';

export interface ManifestSignature {
  readonly keyFingerprint: string;
  /** Base64 as written; decoded strictly by the verifier. */
  readonly signature: string;
  readonly signedAt: string | null;
}

interface ManifestCommon {
  /** The parsed document, kept exactly (numbers included) for re-canonicalization. */
  readonly raw: JsonObject;
  readonly artifactPath: string;
  readonly artifactSha256: string;
  readonly createdAt: string;
  readonly signatures: readonly ManifestSignature[];
}
export interface ManifestV1 extends ManifestCommon { readonly version: '1.0' }
export interface ManifestV2 extends ManifestCommon {
  readonly version: '2.0';
  readonly artifactSize: number;
  readonly metadata: JsonObject;
}
export type Manifest = ManifestV1 | ManifestV2;

export { looksLikeManifest } from './document.js';

/** Schema-checks a parsed document and returns its typed view. */
export function readManifest(value: JsonValue): ReadOutcome<Manifest> {
  const version = schemaVersionOf(value);
  if (version === '1.0' || version === undefined) {
    const checked = checkDocument('manifest-1.0', value);
    if (!checked.ok) return checked;
    const p = checked.value.plain as Record<string, string>;
    return {
      ok: true,
      value: {
        version: '1.0',
        raw: checked.value.raw,
        artifactPath: p['artifact_path']!,
        artifactSha256: p['artifact_sha256']!,
        createdAt: p['created_at']!,
        signatures: [{ keyFingerprint: p['key_fingerprint']!, signature: p['signature']!, signedAt: null }],
      },
    };
  }
  if (version === '2.0') {
    const checked = checkDocument('manifest-2.0', value);
    if (!checked.ok) return checked;
    const p = checked.value.plain as {
      artifact: { path: string; size: number; sha256: string };
      created_at: string;
      signatures: { key_fingerprint: string; signed_at: string; signature: string }[];
    };
    return {
      ok: true,
      value: {
        version: '2.0',
        raw: checked.value.raw,
        artifactPath: p.artifact.path,
        artifactSize: p.artifact.size,
        artifactSha256: p.artifact.sha256,
        createdAt: p.created_at,
        metadata: checked.value.raw.get('metadata') as JsonObject,
        signatures: p.signatures.map((s) => ({ keyFingerprint: s.key_fingerprint, signature: s.signature, signedAt: s.signed_at })),
      },
    };
  }
  return { ok: false, problem: `unsupported manifest schema_version ${JSON.stringify(version)} (expected "1.0" or "2.0")` };
}

/** The member that holds the signatures, left out of what is signed. */
function signatureMember(manifest: Manifest): string {
  return manifest.version === '1.0' ? 'signature' : 'signatures';
}

/** The exact text every signer of this manifest signed. */
export function manifestSignedText(manifest: Manifest): string {
  return canonicalFor(manifest.version, without(manifest.raw, signatureMember(manifest)));
}

/**
 * manifestSignedText, checking on the way that the whole manifest has a
 * canonical form (RFC 8785 has none for an unpaired surrogate or an integer
 * beyond 2^53), without making that form: for callers that need no manifest
 * hash (verify-batch), it saves canonicalising the manifest twice.
 *
 * The whole has a canonical form exactly when the signed part does and the
 * signature member's value does at the depth it has in the whole (inside
 * one level: hence the array around it). When either has none, the whole
 * manifest's own error is thrown, the same as manifestHashText gives.
 */
export function manifestSignedTextCheckingWhole(manifest: Manifest): string {
  try {
    const signed = manifestSignedText(manifest);
    canonicalFor(manifest.version, [manifest.raw.get(signatureMember(manifest)) ?? null]);
    return signed;
  } catch (e) {
    manifestHashText(manifest);
    throw e;
  }
}

/** What the ledger's `manifest_hash` covers: the canonical JSON of the whole manifest, signatures included. */
export function manifestHashText(manifest: Manifest): string {
  return canonicalFor(manifest.version, manifest.raw);
}

export interface ArtifactFacts {
  /** Relative to the manifest's folder, with `/` separators. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** An unsigned 1.0 body: sign `canonicalFor('1.0', body)`, then `withSignatureV1`. */
export function newManifestV1Body(artifact: ArtifactFacts, createdAt: string, keyFingerprint: string): JsonObject {
  return fromPlain({
    schema_version: '1.0',
    artifact_path: artifact.path,
    artifact_sha256: artifact.sha256,
    created_at: createdAt,
    key_fingerprint: keyFingerprint,
  }) as JsonObject;
}

export function withSignatureV1(body: JsonObject, signatureBase64: string): JsonObject {
  const signed: JsonObject = new Map(body);
  signed.set('signature', signatureBase64);
  return signed;
}

/** An unsigned 2.0 body (no `signatures`): sign `canonicalFor('2.0', body)`, then `withSignaturesV2`. */
export function newManifestV2Body(artifact: ArtifactFacts, createdAt: string, metadata: JsonValue): JsonObject {
  const body = fromPlain({
    schema_version: '2.0',
    artifact: { path: artifact.path, size: artifact.size, sha256: artifact.sha256 },
    created_at: createdAt,
  }) as JsonObject;
  body.set('metadata', metadata);
  return body;
}

export function withSignaturesV2(
  body: JsonObject,
  signatures: readonly { keyFingerprint: string; signedAt: string; signature: string }[],
): JsonObject {
  const signed: JsonObject = new Map(body);
  signed.set(
    'signatures',
    signatures.map((s) => fromPlain({ key_fingerprint: s.keyFingerprint, signed_at: s.signedAt, signature: s.signature })),
  );
  return signed;
}

/** The body a 2.0 manifest's signers signed (the manifest without `signatures`). */
export function manifestV2Body(manifest: ManifestV2): JsonObject {
  return without(manifest.raw, 'signatures');
}

/**
 * File text: `json.dump(obj, indent=2, sort_keys=True)` plus a newline, as the
 * original writes (ASCII-escaped). Used for both versions: 2.0 verification
 * re-canonicalizes the parsed object, so the layout is only for people.
 */
export function serializeManifestFile(document: JsonObject): string {
  return indentCanonicalJson(canonicalPython(document)) + '\n';
}

/**
 * Capability tokens 1.0 (the Python original's format), as pure functions.
 *
 * `{schema_version, token_type: "capability", issued_at, expires_at,
 *   ttl_seconds, capability, audience, constraints,
 *   issuer: {key_name, fingerprint, public_key (SPKI PEM)}, signature}`
 *
 * Signed text: the Python-canonical JSON of every field but `signature`.
 * Token hash: SHA-256 of the Python-canonical JSON of the whole token.
 */
import { canonicalPython } from './canonical/python.js';
import { type JsonObject, type JsonValue, JsonNumber, fromPlain } from './canonical/json-value.js';
import { checkDocument, without, type ReadOutcome } from './document.js';
import { indentCanonicalJson } from './pretty.js';
import { formatInstant } from './time.js';

export interface CapabilityToken {
  readonly raw: JsonObject;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly ttlSeconds: number;
  readonly capability: string;
  readonly audience: string;
  readonly issuer: { readonly keyName: string; readonly fingerprint: string; readonly publicKeyPem: string };
  readonly signature: string;
}

export { looksLikeToken } from './document.js';

export function readToken(value: JsonValue): ReadOutcome<CapabilityToken> {
  const checked = checkDocument('token-1.0', value);
  if (!checked.ok) return checked;
  const p = checked.value.plain as {
    issued_at: string; expires_at: string; ttl_seconds: number; capability: string; audience: string;
    issuer: { key_name: string; fingerprint: string; public_key: string }; signature: string;
  };
  return {
    ok: true,
    value: {
      raw: checked.value.raw,
      issuedAt: p.issued_at,
      expiresAt: p.expires_at,
      ttlSeconds: p.ttl_seconds,
      capability: p.capability,
      audience: p.audience,
      issuer: { keyName: p.issuer.key_name, fingerprint: p.issuer.fingerprint, publicKeyPem: p.issuer.public_key },
      signature: p.signature,
    },
  };
}

/** The exact text the issuer signed. */
export function tokenSignedText(token: CapabilityToken | JsonObject): string {
  const raw = token instanceof Map ? token : token.raw;
  return canonicalPython(without(raw, 'signature'));
}

/** What the token hash covers: the canonical JSON of the whole token, signature included. */
export function tokenHashText(token: CapabilityToken | JsonObject): string {
  return canonicalPython(token instanceof Map ? token : token.raw);
}

export interface NewTokenFields {
  readonly keyName: string;
  readonly fingerprint: string;
  readonly publicKeyPem: string;
  readonly capability: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** A JSON object (parsed with the number-preserving parser, so `1.0` stays a float). */
  readonly constraints: JsonValue;
  readonly nowMillis: number;
}

/** An unsigned token body; sign `tokenSignedText(body)` then add `signature`. */
export function newTokenBody(fields: NewTokenFields): JsonObject {
  const issuedSeconds = Math.floor(fields.nowMillis / 1000);
  const body = fromPlain({
    schema_version: '1.0',
    token_type: 'capability',
    issued_at: formatInstant(issuedSeconds * 1000),
    expires_at: formatInstant((issuedSeconds + fields.ttlSeconds) * 1000),
    capability: fields.capability,
    audience: fields.audience,
    issuer: { key_name: fields.keyName, fingerprint: fields.fingerprint, public_key: fields.publicKeyPem },
  }) as JsonObject;
  body.set('ttl_seconds', new JsonNumber(String(fields.ttlSeconds)));
  body.set('constraints', fields.constraints);
  return body;
}

export function withTokenSignature(body: JsonObject, signatureBase64: string): JsonObject {
  const signed: JsonObject = new Map(body);
  signed.set('signature', signatureBase64);
  return signed;
}

/** File text as the original writes it (`json.dump(indent=2, sort_keys=True)` + newline). */
export function serializeTokenFile(token: JsonObject): string {
  return indentCanonicalJson(canonicalPython(token)) + '\n';
}

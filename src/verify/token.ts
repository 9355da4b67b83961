/**
 * Verifies a capability token against the trusted keys.
 *
 * The issuer key is looked up by `issuer.fingerprint` among trusted keys only;
 * the embedded `issuer.public_key` must be that very key (else
 * `issuer-key-mismatch`) and is never trusted by itself. Order of checks:
 * schema -> signature encoding -> issuer trusted -> issuer not revoked ->
 * embedded key matches -> signature -> expiry -> not-before -> revocation ->
 * audience.
 */
import type { JsonValue } from '../formats/canonical/json-value.js';
import { decodeBase64Strict } from '../formats/base64.js';
import { parsePublicKeyPem } from '../formats/keys.js';
import { parseInstant } from '../formats/time.js';
import { readToken, tokenHashText, tokenSignedText } from '../formats/token.js';
import { sha256Hex, verifyEd25519, type EngineOptions } from '../engine/index.js';
import type { TrustContext } from '../trust/context.js';
import { ED25519_SIGNATURE_BYTES } from './signers.js';
import type { Verdict } from './result.js';

/** A token issued this far in the future is still accepted (clock skew between machines). */
export const NOT_BEFORE_SKEW_MS = 60_000;

export interface TokenVerifyOptions extends EngineOptions {
  /** Judge validity at this instant (ms since the epoch); default now. */
  readonly atMillis?: number;
  /** Require this audience. */
  readonly audience?: string;
}

export interface TokenVerdict extends Verdict {
  readonly kind: 'token';
  readonly token_hash?: string;
  readonly capability?: string;
  readonly audience?: string;
  readonly issuer?: string;
  readonly expires_at?: string;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export async function verifyTokenDocument(
  file: string,
  document: JsonValue,
  trust: TrustContext,
  options: TokenVerifyOptions = {},
): Promise<TokenVerdict> {
  const verdict = (status: Verdict['status'], reason: Verdict['reason'], message: string, details: object = {}): TokenVerdict => ({
    status, reason, file, kind: 'token', message, ...details,
  });

  const read = readToken(document);
  if (!read.ok) return verdict('invalid', 'malformed', read.problem);
  const token = read.value;
  const details = {
    token_hash: sha256Hex(tokenHashText(token), options),
    capability: token.capability,
    audience: token.audience,
    issuer: token.issuer.fingerprint,
    expires_at: token.expiresAt,
  };

  const signature = decodeBase64Strict(token.signature, ED25519_SIGNATURE_BYTES);
  if (signature === null) {
    return verdict('invalid', 'malformed-signature', 'signature is not canonical base64 of 64 bytes', details);
  }

  const issuerKey = trust.keys.get(token.issuer.fingerprint);
  if (issuerKey === undefined) {
    return verdict('invalid', 'untrusted-issuer', `issuer ${token.issuer.fingerprint} is not a trusted key`, details);
  }
  if (trust.revokedKeys.has(issuerKey.fingerprint)) {
    return verdict('invalid', 'key-revoked', `issuer key "${issuerKey.name}" has been revoked`, details);
  }
  let embedded: Uint8Array;
  try {
    embedded = parsePublicKeyPem(token.issuer.publicKeyPem);
  } catch {
    return verdict('invalid', 'malformed', 'issuer.public_key is not an Ed25519 SPKI PEM', details);
  }
  if (!equalBytes(embedded, issuerKey.publicKey)) {
    return verdict('invalid', 'issuer-key-mismatch',
      `issuer.public_key is not the trusted key with fingerprint ${issuerKey.fingerprint}`, details);
  }

  const message = new TextEncoder().encode(tokenSignedText(token));
  if (!(await verifyEd25519(issuerKey.publicKey, message, signature, options))) {
    return verdict('invalid', 'bad-signature', `signature by "${issuerKey.name}" does not verify`, details);
  }

  const now = options.atMillis ?? Date.now();
  const expires = parseInstant(token.expiresAt);
  const issued = parseInstant(token.issuedAt);
  if (expires === null || issued === null) {
    return verdict('invalid', 'malformed', 'issued_at / expires_at is not an ISO 8601 instant with an offset', details);
  }
  // Valid at exactly expires_at, as in the original (`expires_at < now` is expired).
  if (expires < now) return verdict('invalid', 'expired', `token expired at ${token.expiresAt}`, details);
  if (issued > now + NOT_BEFORE_SKEW_MS) {
    return verdict('invalid', 'not-yet-valid', `token is issued at ${token.issuedAt}, in the future`, details);
  }
  if (trust.revokedTokens.has(details.token_hash)) {
    return verdict('invalid', 'revoked', `token ${details.token_hash} has been revoked`, details);
  }
  if (options.audience !== undefined && options.audience !== token.audience) {
    return verdict('invalid', 'audience-mismatch',
      `token is for audience ${JSON.stringify(token.audience)}, not ${JSON.stringify(options.audience)}`, details);
  }
  return verdict('valid', 'ok', `token for "${token.capability}" issued by "${issuerKey.name}" is valid`, details);
}

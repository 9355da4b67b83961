/**
 * `issue` / `token issue`: sign a capability token with a local key, keep a
 * copy in `trust/tokens/<token_hash>.json`, and record it in the ledger.
 */
import path from 'node:path';
import fs from 'node:fs/promises';
import { BluxError } from '../errors.js';
import { sha256Hex, type EngineOptions } from '../engine/index.js';
import type { JsonObject, JsonValue } from '../formats/canonical/json-value.js';
import { encodeBase64 } from '../formats/base64.js';
import { newTokenBody, serializeTokenFile, tokenHashText, tokenSignedText, withTokenSignature } from '../formats/token.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { appendLedgerEntry } from '../store/ledger-file.js';
import { loadSigner } from '../store/keystore.js';
import { encodePublicKeyPem } from '../formats/keys.js';
import type { ConfigPaths } from '../store/paths.js';
import { loadKeyRevocations } from '../store/revocation-lists.js';

/** The original's TTL range: at least a second, at most about a century. */
export const MAX_TTL_SECONDS = 100 * 366 * 24 * 3600;

export interface IssueOptions extends EngineOptions {
  readonly paths: ConfigPaths;
  readonly keyName: string;
  readonly getPassphrase: () => Promise<string>;
  readonly capability: string;
  readonly audience: string;
  readonly ttlSeconds: number;
  /** A JSON object (default `{}`). */
  readonly constraints?: JsonValue;
  /** Also write the token here. */
  readonly output?: string;
  readonly nowMillis?: number;
}

export interface IssueResult {
  readonly token: JsonObject;
  readonly tokenHash: string;
  readonly storedAt: string;
  readonly output: string | null;
}

export async function issueToken(options: IssueOptions): Promise<IssueResult> {
  if (!Number.isSafeInteger(options.ttlSeconds) || options.ttlSeconds < 1 || options.ttlSeconds > MAX_TTL_SECONDS) {
    throw new BluxError('invalid-argument', `ttl_seconds must be a whole number from 1 to ${MAX_TTL_SECONDS}`);
  }
  if (options.capability.trim() === '') throw new BluxError('invalid-argument', 'capability must not be empty');
  if (options.audience.trim() === '') throw new BluxError('invalid-argument', 'audience must not be empty');
  const constraints = options.constraints ?? new Map();
  if (!(constraints instanceof Map)) throw new BluxError('invalid-argument', '--constraints must be a JSON object');

  const signer = await loadSigner(options.paths.keysDir, options.keyName, options.getPassphrase);
  if ((await loadKeyRevocations(options.paths.keyRevocations)).has(signer.fingerprint)) {
    throw new BluxError('key-revoked', `key "${signer.name}" (${signer.fingerprint}) has been revoked: it cannot issue tokens`);
  }
  const body = newTokenBody({
    keyName: signer.name,
    fingerprint: signer.fingerprint,
    publicKeyPem: encodePublicKeyPem(signer.publicKey),
    capability: options.capability,
    audience: options.audience,
    ttlSeconds: options.ttlSeconds,
    constraints,
    nowMillis: options.nowMillis ?? Date.now(),
  });
  const signature = signer.sign(new TextEncoder().encode(tokenSignedText(body)));
  const token = withTokenSignature(body, encodeBase64(signature));
  const tokenHash = sha256Hex(tokenHashText(token), options);
  const text = serializeTokenFile(token);

  await fs.mkdir(options.paths.tokensDir, { recursive: true });
  const storedAt = path.join(options.paths.tokensDir, `${tokenHash}.json`);
  await writeFileAtomic(storedAt, text);
  if (options.output !== undefined) await writeFileAtomic(options.output, text);
  await appendLedgerEntry(options.paths.ledger, {
    action: 'token-issue',
    actor: signer.fingerprint,
    payload_summary: `capability:${options.capability}`,
    extra: { token_hash: tokenHash },
  }, { sign: signer.sign }); // the issuer's key is unlocked already: the entry is signed by the actor it names
  return { token, tokenHash, storedAt, output: options.output ?? null };
}

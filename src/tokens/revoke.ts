/**
 * `revoke` / `token revoke`: add a token hash to the revocation list and
 * record it in the ledger. Revoking twice is harmless (reported, not re-added).
 */
import { BluxError } from '../errors.js';
import { formatInstant } from '../formats/time.js';
import { appendLedgerEntry } from '../store/ledger-file.js';
import type { ConfigPaths } from '../store/paths.js';
import { appendTokenRevocation, loadTokenRevocations } from '../store/revocation-lists.js';

export const TOKEN_HASH_PATTERN = /^[0-9a-f]{64}$/;

export interface RevokeTokenOptions {
  readonly paths: ConfigPaths;
  readonly tokenHash: string;
  readonly reason: string;
  readonly revoker: string;
  readonly nowMillis?: number;
}

export async function revokeToken(options: RevokeTokenOptions): Promise<{ added: boolean; tokenHash: string }> {
  const tokenHash = options.tokenHash.trim().toLowerCase();
  if (!TOKEN_HASH_PATTERN.test(tokenHash)) {
    throw new BluxError('invalid-argument', `token hash must be 64 hex characters (see \`blux-reg hash TOKEN\`), got ${JSON.stringify(options.tokenHash)}`);
  }
  if (loadTokenRevocations(options.paths.tokenRevocations).has(tokenHash)) return { added: false, tokenHash };
  // The ledger entry first: if the ledger cannot take it (torn, corrupt, not
  // writable) nothing changes, instead of a revocation the ledger never saw.
  // Two revokers racing may both record it; the list keeps one line.
  // Unsigned: the actor is the free-text revoker ("security-team"), not a
  // local key, so there is no key whose signature a verifier could check.
  await appendLedgerEntry(options.paths.ledger, {
    action: 'token-revoke',
    actor: options.revoker,
    payload_summary: `token:${tokenHash}`,
    extra: { reason: options.reason, token_hash: tokenHash },
  });
  const added = await appendTokenRevocation(options.paths.tokenRevocations, {
    schema_version: '1.0',
    token_hash: tokenHash,
    revoked_at: formatInstant(options.nowMillis ?? Date.now()),
    reason: options.reason,
    revoker: options.revoker,
  });
  return { added, tokenHash };
}

/**
 * Everything a verifier trusts, loaded once per command: the trusted keys
 * (the keystore's public keys plus any `--trusted-keys`), and the two
 * revocation lists read into maps (the original rescanned its revocation file
 * for every token).
 */
import type { ConfigPaths } from '../store/paths.js';
import { loadKeyRevocations, loadTokenRevocations } from '../store/revocation-lists.js';
import { loadTrustedKeys, type TrustedKeys } from './trusted-keys.js';

export interface TrustContext {
  readonly keys: TrustedKeys;
  /** Revoked key fingerprints -> revocation record. */
  readonly revokedKeys: ReadonlyMap<string, unknown>;
  /** Revoked token hashes -> revocation record. */
  readonly revokedTokens: ReadonlyMap<string, unknown>;
}

export interface TrustOptions {
  readonly paths: ConfigPaths;
  /** Extra trusted public keys: files or folders of `*.pub.pem`. */
  readonly trustedKeys?: readonly string[];
  /** Trust the keystore's keys (default true). */
  readonly useKeystore?: boolean;
}

export async function loadTrustContext(options: TrustOptions): Promise<TrustContext> {
  const keys = await loadTrustedKeys({
    keysDir: options.useKeystore === false ? null : options.paths.keysDir,
    extra: [...(options.trustedKeys ?? [])],
  });
  const [revokedKeys, revokedTokens] = await Promise.all([
    loadKeyRevocations(options.paths.keyRevocations),
    loadTokenRevocations(options.paths.tokenRevocations),
  ]);
  return { keys, revokedKeys, revokedTokens };
}

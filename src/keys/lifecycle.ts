/**
 * Key lifecycle use-cases that touch more than the keystore: creating a key
 * (recorded in the ledger), revoking one (revocation list + ledger), and
 * rotating (revoke the old, create the new, link them in the ledger).
 */
import { BluxError } from '../errors.js';
import { formatInstant } from '../formats/time.js';
import { appendLedgerEntry } from '../store/ledger-file.js';
import { archiveKey, generateKey, getKey, type KeyInfo } from '../store/keystore.js';
import type { ConfigPaths } from '../store/paths.js';
import { appendKeyRevocation, loadKeyRevocations } from '../store/revocation-lists.js';

export async function createKey(
  paths: ConfigPaths,
  name: string,
  options: { force?: boolean; passphrase: string | null },
): Promise<KeyInfo> {
  const key = await generateKey(paths.keysDir, name, { force: options.force ?? false, passphrase: options.passphrase });
  await appendLedgerEntry(paths.ledger, { action: 'keygen', actor: key.fingerprint, payload_summary: `key:${name}` });
  return key;
}

export interface RevokeKeyOptions {
  readonly reason: string;
  readonly revoker: string;
  readonly replacedBy?: string;
  readonly nowMillis?: number;
}

export async function revokeKey(paths: ConfigPaths, name: string, options: RevokeKeyOptions): Promise<{ key: KeyInfo; added: boolean }> {
  const key = getKey(paths.keysDir, name);
  if (loadKeyRevocations(paths.keyRevocations).has(key.fingerprint)) return { key, added: false };
  // The ledger entry first: if the ledger cannot take it, nothing changes (see tokens/revoke.ts).
  await appendLedgerEntry(paths.ledger, {
    action: 'key-revoke',
    actor: options.revoker,
    payload_summary: `key:${name}`,
    extra: { fingerprint: key.fingerprint, reason: options.reason },
  });
  const added = await appendKeyRevocation(paths.keyRevocations, {
    schema_version: '1.0',
    fingerprint: key.fingerprint,
    revoked_at: formatInstant(options.nowMillis ?? Date.now()),
    reason: options.reason,
    revoker: options.revoker,
    ...(options.replacedBy !== undefined ? { replaced_by: options.replacedBy } : {}),
  });
  return { key, added };
}

/**
 * Rotation: the old key is revoked (signatures by it then fail with
 * `key-revoked`), its files are kept under an archive name so old signatures
 * still say *why* they fail, and a new key takes the name.
 */
export async function rotateKey(
  paths: ConfigPaths,
  name: string,
  options: { reason: string; revoker: string; passphrase: string | null },
): Promise<{ oldKey: KeyInfo; newKey: KeyInfo; archivedAs: string }> {
  const oldKey = getKey(paths.keysDir, name);
  if (oldKey.privatePath === null) {
    throw new BluxError('invalid-argument', `key "${name}" is public-only: rotate it where its private key lives`);
  }
  const archivedAs = archiveKey(paths.keysDir, name, `${name.slice(0, 40)}.revoked-${oldKey.fingerprint.slice(0, 12)}`);
  const newKey = await generateKey(paths.keysDir, name, { passphrase: options.passphrase });
  await revokeKey(paths, archivedAs, { reason: options.reason, revoker: options.revoker, replacedBy: newKey.fingerprint });
  await appendLedgerEntry(paths.ledger, {
    action: 'key-rotate',
    actor: oldKey.fingerprint,
    payload_summary: `key:${name}`,
    extra: { old_fingerprint: oldKey.fingerprint, new_fingerprint: newKey.fingerprint },
  });
  return { oldKey, newKey, archivedAs };
}

/**
 * Key lifecycle use-cases that touch more than the keystore: creating a key
 * (recorded in the ledger), revoking one (revocation list + ledger), and
 * rotating (revoke the old, create the new, link them in the ledger).
 */
import { BluxError } from '../errors.js';
import { formatInstant } from '../formats/time.js';
import { appendLedgerEntry } from '../store/ledger-file.js';
import { archiveKey, generateKey, getKey, loadSigner, type KeyInfo, type Signer } from '../store/keystore.js';
import type { ConfigPaths } from '../store/paths.js';
import { appendKeyRevocation, loadKeyRevocations } from '../store/revocation-lists.js';

export async function createKey(
  paths: ConfigPaths,
  name: string,
  options: { force?: boolean; passphrase: string | null },
): Promise<KeyInfo> {
  const key = await generateKey(paths.keysDir, name, { force: options.force ?? false, passphrase: options.passphrase });
  // The new key signs its own keygen entry: the ledger's first word about a
  // key is proof that its holder has the private half.
  const signer = await unlockFreshKey(paths, key, options.passphrase);
  await appendLedgerEntry(paths.ledger, { action: 'keygen', actor: key.fingerprint, payload_summary: `key:${name}` }, { sign: signer.sign });
  return key;
}

/**
 * A key generated a moment ago, unlocked with the passphrase the caller just
 * chose (null: stored unencrypted, nothing to ask). Costs one more KDF run on
 * an encrypted key, once per key creation.
 */
async function unlockFreshKey(paths: ConfigPaths, key: KeyInfo, passphrase: string | null): Promise<Signer> {
  return loadSigner(paths.keysDir, key.name, async () => {
    if (passphrase === null) throw new BluxError('internal', `key "${key.name}" was just stored unencrypted but asks for a passphrase`);
    return passphrase;
  });
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
  // Unsigned: the actor is the free-text revoker, not a local key (see tokens/revoke.ts).
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
 *
 * The `key-rotate` entry is written and signed by the NEW key (actor = its
 * fingerprint; both fingerprints are in the entry). Not the old one, because
 * people rotate when the old key is lost or leaked, so rotation must not need
 * it unlocked; and because it is revoked by then, so a signature by it would
 * be flagged `signer-revoked` by the audit. The new key's passphrase was just
 * chosen, so signing costs the user nothing.
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
  const newSigner = await unlockFreshKey(paths, newKey, options.passphrase);
  await appendLedgerEntry(paths.ledger, {
    action: 'key-rotate',
    actor: newKey.fingerprint,
    payload_summary: `key:${name}`,
    extra: { old_fingerprint: oldKey.fingerprint, new_fingerprint: newKey.fingerprint },
  }, { sign: newSigner.sign });
  return { oldKey, newKey, archivedAs };
}

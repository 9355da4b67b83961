/**
 * `audit add-event`: append a free-form event to the ledger, either under a
 * free-text actor (unsigned) or as a local key (actor = its fingerprint,
 * entry signed by it).
 */
import { BluxError } from '../errors.js';
import type { LedgerEntry } from '../formats/ledger-entry.js';
import { loadSigner } from '../store/keystore.js';
import { appendLedgerEntry } from '../store/ledger-file.js';
import type { ConfigPaths } from '../store/paths.js';
import { loadKeyRevocations } from '../store/revocation-lists.js';

/** The action every event appended this way carries. */
export const EVENT_ACTION = 'event';

export interface AddEventOptions {
  readonly ledger: string;
  readonly message: string;
  /** Sign as this local key; the actor is then the key's fingerprint. */
  readonly signAs?: {
    readonly paths: ConfigPaths;
    readonly keyName: string;
    readonly getPassphrase: () => Promise<string>;
  };
  /** Free-text actor for an unsigned event; not allowed together with `signAs`. */
  readonly actor?: string;
}

export async function addLedgerEvent(options: AddEventOptions): Promise<LedgerEntry> {
  const { signAs } = options;
  if (signAs === undefined) {
    return appendLedgerEntry(options.ledger, { action: EVENT_ACTION, actor: options.actor ?? 'anonymous', payload_summary: options.message });
  }
  if (options.actor !== undefined) {
    throw new BluxError('invalid-argument', 'give either --actor or --key: a signed event\'s actor is the fingerprint of its key');
  }
  // Unlocked before the ledger is touched: a wrong passphrase writes nothing.
  const signer = await loadSigner(signAs.paths.keysDir, signAs.keyName, signAs.getPassphrase);
  // The audit flags entries signed by a revoked key, so a revoked key must not add any.
  if (loadKeyRevocations(signAs.paths.keyRevocations).has(signer.fingerprint)) {
    throw new BluxError('key-revoked', `key "${signer.name}" (${signer.fingerprint}) has been revoked: it cannot sign ledger events`);
  }
  return appendLedgerEntry(
    options.ledger,
    { action: EVENT_ACTION, actor: signer.fingerprint, payload_summary: options.message },
    { sign: signer.sign },
  );
}

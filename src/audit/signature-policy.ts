/**
 * Which ledger entries carry a signature that must be checked, and what an
 * entry's signature (or lack of one) means for the audit. One function, used
 * by the parallel audit's workers and by the sequential reference audit, so
 * both apply the same policy.
 *
 * Policy (issue 5):
 * - `sig` that does not verify under the actor's key -> `signature-invalid`;
 * - signed by a key revoked strictly before the entry's `ts` -> `signer-revoked`
 *   (same second is fine: `revoked_at` and `ts` have one-second resolution, and
 *   `keygen` then `key revoke` within a second must not break a valid ledger);
 * - signed by a key we do not have -> counted as unverified (shown in the
 *   signers summary), not an error ...
 * - ... unless `--require-signed`: then an entry without `sig`, or whose
 *   signer is not a trusted, unrevoked key, fails with `entry-unsigned`.
 */
import { decodeBase64Strict } from '../formats/base64.js';

const ED25519_SIGNATURE_BYTES = 64;

/** One trusted key as the workers see it (structured-clone friendly). */
export interface AuditSignerKey {
  fingerprint: string;
  publicKey: Uint8Array;
}

/** The trust a ledger audit checks signatures against; plain data so it can be posted to workers. */
export interface AuditTrust {
  keys: AuditSignerKey[];
  /** Fingerprint -> `revoked_at` of its revocation. */
  revokedAt: Array<[string, string]>;
  requireSigned: boolean;
}

export const NO_TRUST: AuditTrust = { keys: [], revokedAt: [], requireSigned: false };

/** A `sig` member that is present but not a JSON string. */
export const SIG_NOT_A_STRING: unique symbol = Symbol('sig-not-a-string');
export type SigValue = string | undefined | typeof SIG_NOT_A_STRING;

export type SignatureProblem = 'signature-invalid' | 'signer-revoked' | 'entry-unsigned';

export type SignatureDecision =
  | { kind: 'unsigned' }
  | { kind: 'unverifiable' }
  | { kind: 'bad'; reason: SignatureProblem; detail: string }
  | { kind: 'verify'; publicKey: Uint8Array; signature: Uint8Array };

/** The trust in lookup form, built once per thread. */
export class SignaturePolicy {
  readonly #keys: Map<string, Uint8Array>;
  readonly #revokedAt: Map<string, number>;
  readonly requireSigned: boolean;

  constructor(trust: AuditTrust) {
    this.#keys = new Map(trust.keys.map((k) => [k.fingerprint.toLowerCase(), k.publicKey]));
    // An unreadable date counts as "revoked since forever": the safe reading.
    this.#revokedAt = new Map(trust.revokedAt.map(([fp, at]) => [fp.toLowerCase(), instantOr(at, Number.NEGATIVE_INFINITY)]));
    this.requireSigned = trust.requireSigned;
  }

  /** True when entries by `actor` may need their `sig` checked (a key we have). */
  hasKey(actor: string | undefined): boolean {
    return actor !== undefined && this.#keys.has(actor.toLowerCase());
  }

  decide(actor: string | undefined, ts: string | undefined, sig: SigValue): SignatureDecision {
    if (sig === undefined) {
      return this.requireSigned ? { kind: 'bad', reason: 'entry-unsigned', detail: 'entry has no sig (--require-signed)' } : { kind: 'unsigned' };
    }
    if (sig === SIG_NOT_A_STRING) return { kind: 'bad', reason: 'signature-invalid', detail: 'sig is not a string' };
    const fingerprint = actor?.toLowerCase();
    const revokedAt = fingerprint === undefined ? undefined : this.#revokedAt.get(fingerprint);
    // An unreadable ts cannot prove the entry predates the revocation. An entry
    // in the revocation's own second is not evidence of use after it (both are
    // whole seconds, and the signer picks ts anyway), so only later ones fail.
    if (revokedAt !== undefined && instantOr(ts, Number.POSITIVE_INFINITY) > revokedAt) {
      return { kind: 'bad', reason: 'signer-revoked', detail: `signed by ${actor} after its key was revoked` };
    }
    const publicKey = fingerprint === undefined ? undefined : this.#keys.get(fingerprint);
    if (publicKey === undefined) {
      return this.requireSigned
        ? { kind: 'bad', reason: 'entry-unsigned', detail: `signer ${actor ?? '(no actor)'} is not a trusted key (--require-signed)` }
        : { kind: 'unverifiable' };
    }
    const signature = decodeBase64Strict(sig, ED25519_SIGNATURE_BYTES);
    if (signature === null) return { kind: 'bad', reason: 'signature-invalid', detail: 'sig is not base64 of 64 bytes' };
    return { kind: 'verify', publicKey, signature };
  }
}

function instantOr(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const instant = Date.parse(text);
  return Number.isNaN(instant) ? fallback : instant;
}

/** Detail of a signature that did not verify. */
export function invalidSignatureDetail(actor: string | undefined): string {
  return `sig does not verify under the key of ${actor ?? '(no actor)'}`;
}

/**
 * Signature policy shared by every signed document: each claimed signature is
 * checked against the trusted key with that fingerprint (never a key embedded
 * in the document), all in one batch through the engine, and the document
 * passes only with enough distinct trusted, non-revoked signers.
 */
import { verifyEd25519Batch, type Ed25519VerifyItem, type EngineOptions } from '../engine/index.js';
import { decodeBase64Strict } from '../formats/base64.js';
import type { TrustContext } from '../trust/context.js';

export const ED25519_SIGNATURE_BYTES = 64;

export interface SignatureClaim {
  readonly keyFingerprint: string;
  /** Base64 as written in the document. */
  readonly signature: string;
}

export type SignatureStatus = 'ok' | 'malformed-signature' | 'unknown-key' | 'key-revoked' | 'bad-signature';

export interface SignatureCheck {
  readonly keyFingerprint: string;
  readonly keyName: string | null;
  readonly status: SignatureStatus;
}

/** What can be decided without the engine, plus the engine work left to do. */
export interface SignaturePlan {
  readonly claims: readonly SignatureClaim[];
  /** One entry per claim: decided already (bad encoding, unknown or revoked key), or null = awaiting the engine. */
  readonly decided: readonly (SignatureCheck | null)[];
  /** The engine batch, in claim order of the undecided claims. */
  readonly items: readonly Ed25519VerifyItem[];
  readonly itemClaimIndex: readonly number[];
}

/**
 * Splits the checks in two so that many documents can share one engine batch
 * (verify-batch verifies thousands of signatures in one parallel call).
 */
export function planSignatureChecks(claims: readonly SignatureClaim[], signedMessage: Uint8Array, trust: TrustContext): SignaturePlan {
  const decided: (SignatureCheck | null)[] = [];
  const items: Ed25519VerifyItem[] = [];
  const itemClaimIndex: number[] = [];
  claims.forEach((claim, index) => {
    const key = trust.keys.get(claim.keyFingerprint);
    const keyName = key?.name ?? null;
    const signature = decodeBase64Strict(claim.signature, ED25519_SIGNATURE_BYTES);
    if (signature === null) {
      decided.push({ keyFingerprint: claim.keyFingerprint, keyName, status: 'malformed-signature' });
    } else if (key === undefined) {
      decided.push({ keyFingerprint: claim.keyFingerprint, keyName, status: 'unknown-key' });
    } else if (trust.revokedKeys.has(key.fingerprint)) {
      decided.push({ keyFingerprint: claim.keyFingerprint, keyName, status: 'key-revoked' });
    } else {
      decided.push(null);
      items.push({ publicKey: key.publicKey, message: signedMessage, signature });
      itemClaimIndex.push(index);
    }
  });
  return { claims, decided, items, itemClaimIndex };
}

/** Completes a plan with the engine's verdicts for `plan.items` (same order). */
export function finishSignatureChecks(plan: SignaturePlan, verdicts: readonly boolean[], trust: TrustContext): SignatureCheck[] {
  const checks = [...plan.decided];
  plan.itemClaimIndex.forEach((claimIndex, i) => {
    const claim = plan.claims[claimIndex]!;
    checks[claimIndex] = {
      keyFingerprint: claim.keyFingerprint,
      keyName: trust.keys.get(claim.keyFingerprint)?.name ?? null,
      status: verdicts[i] === true ? 'ok' : 'bad-signature',
    };
  });
  return checks as SignatureCheck[];
}

export async function checkSignatures(
  claims: readonly SignatureClaim[],
  signedMessage: Uint8Array,
  trust: TrustContext,
  engine: EngineOptions = {},
): Promise<SignatureCheck[]> {
  const plan = planSignatureChecks(claims, signedMessage, trust);
  const verdicts = await verifyEd25519Batch(plan.items, engine);
  return finishSignatureChecks(plan, verdicts, trust);
}

export type SignerVerdict =
  | { readonly ok: true; readonly signers: readonly string[] }
  | { readonly ok: false; readonly reason: Exclude<SignatureStatus, 'ok'> | 'insufficient-signers'; readonly message: string };

/**
 * A broken signature (bad or malformed) fails the document outright: co-signers
 * sign the same body, so one that does not verify is evidence of tampering.
 * A signature by a revoked key fails it too: whatever a revoked key signed is
 * `key-revoked`, however many other keys signed as well. Signatures by keys we
 * do not trust are ignored as long as enough distinct trusted keys signed;
 * otherwise `unknown-key` is the reason.
 */
export function decideSigners(checks: readonly SignatureCheck[], requireSigners = 1): SignerVerdict {
  const broken = checks.find((c) => c.status === 'malformed-signature') ?? checks.find((c) => c.status === 'bad-signature');
  if (broken !== undefined) {
    return {
      ok: false,
      reason: broken.status as 'malformed-signature' | 'bad-signature',
      message:
        broken.status === 'malformed-signature'
          ? `signature by ${broken.keyFingerprint} is not canonical base64 of 64 bytes`
          : `signature by ${describeKey(broken)} does not verify`,
    };
  }
  const revoked = checks.find((c) => c.status === 'key-revoked');
  if (revoked !== undefined) {
    return { ok: false, reason: 'key-revoked', message: `signing key ${describeKey(revoked)} has been revoked` };
  }
  const signers = [...new Set(checks.filter((c) => c.status === 'ok').map((c) => c.keyFingerprint))];
  if (signers.length >= requireSigners) return { ok: true, signers };

  const unknown = checks.find((c) => c.status === 'unknown-key');
  if (signers.length === 0 && unknown !== undefined) {
    return { ok: false, reason: 'unknown-key', message: `no trusted key has fingerprint ${unknown.keyFingerprint}` };
  }
  return {
    ok: false,
    reason: 'insufficient-signers',
    message: `${signers.length} distinct trusted signer(s), ${requireSigners} required`,
  };
}

function describeKey(check: SignatureCheck): string {
  return check.keyName === null ? check.keyFingerprint : `"${check.keyName}" (${check.keyFingerprint.slice(0, 16)}…)`;
}

/**
 * The `native` backend: SHA-256 from node:crypto (OpenSSL, which uses the CPU's
 * SHA extensions where there are any) and Ed25519 from libsodium through
 * sodium-native, held to blux-reg's verdict rule ("strict, cofactored",
 * rule.ts and docs/VERIFICATION.md).
 *
 * libsodium's own verdict is not the rule: it is cofactorless, so it rejects
 * some signatures the rule accepts (an A or R with a torsion component that
 * does not cancel out). Its acceptances are always right, so:
 *
 *   verdict = pre-check && (libsodium accepts || cofactored re-check)
 *
 * Why a libsodium acceptance is a rule acceptance, given the pre-check passed
 * (S < L, A and R with y < p and no x = 0 with the sign bit), as of libsodium
 * 1.0.21 (crypto_sign_ed25519_verify_detached in ref10/open.c):
 * - it refuses A and R whose y is on its small-order list, which ignores the
 *   sign bit and holds every y of the 8 small-order points (0, 1, p - 1 and
 *   the two of order 8): a canonical encoding that passes is not small order;
 * - it decodes A (fails when no point has that y), computes
 *   R' = [S]B - [k]A with k = SHA-512(R || A || M) mod L over the bytes as
 *   received, and accepts only if the canonical encoding of R' equals R's 32
 *   bytes: R then decodes, to R', and [S]B - R - [k]A is the identity, so
 *   [8] of it is too.
 * tests/ed25519-rule.test.ts builds every small-order and mixed-order case
 * and runs it here and on libsodium directly, so a libsodium upgrade that
 * changed any of this would be caught.
 *
 * Why the re-check is done in libsodium and not by rule.ts: it runs on every
 * rejection, and rejections are what an attacker controls. rule.ts costs
 * ~1.5 ms per item (pure JS), ~20 times a libsodium verification (~70 us);
 * the re-check below, built from libsodium's group operations, costs
 * ~0.25 ms. Valid signatures pay nothing either way.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

import { BluxError } from '../../errors.js';
import { ED25519_ENCODING_LENGTH, precheckEd25519Parts, splitEd25519Item, type Ed25519Parts } from '../precheck.js';
import type { Backend, Ed25519VerifyItem } from '../types.js';
import { createNodeSha256Hasher, nodeSha256, nodeSha256Many } from './node-sha256.js';

/**
 * The part of sodium-native this backend uses (the package ships no types).
 * The void functions throw when libsodium returns an error.
 */
interface SodiumEd25519 {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /** r = p + q; throws unless both decode to curve points (any points: torsion components allowed). */
  crypto_core_ed25519_add(r: Uint8Array, p: Uint8Array, q: Uint8Array): void;
  /** z = x + y mod L. */
  crypto_core_ed25519_scalar_add(z: Uint8Array, x: Uint8Array, y: Uint8Array): void;
  /** r = s mod L, s being 64 bytes little-endian. */
  crypto_core_ed25519_scalar_reduce(r: Uint8Array, s: Uint8Array): void;
  /** q = [n]B; throws when q is the identity (n = 0 mod L). */
  crypto_scalarmult_ed25519_base_noclamp(q: Uint8Array, n: Uint8Array): void;
  /** q = [n]p; throws unless p is in the prime-order subgroup and not the identity, or when q is the identity. */
  crypto_scalarmult_ed25519_noclamp(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
}

/**
 * sodium-native is a compiled addon: load it when the native backend is first
 * created, not when this module is imported, so a machine without a working
 * prebuild can still run the `js` backend.
 */
function loadSodium(): SodiumEd25519 {
  const require = createRequire(import.meta.url);
  try {
    return require('sodium-native') as SodiumEd25519;
  } catch (cause) {
    throw new BluxError('internal', 'the native backend needs sodium-native, which failed to load (try --backend js)', { cause });
  }
}

const sha256 = nodeSha256;

/** The canonical encoding of the identity point (x = 0, y = 1). */
const IDENTITY_ENCODING = Uint8Array.from({ length: ED25519_ENCODING_LENGTH }, (_, i) => (i === 0 ? 1 : 0));
const COFACTOR_LOG2 = 3;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const isZeroScalar = (scalar: Uint8Array): boolean => scalar.every((byte) => byte === 0);

/**
 * The rule's decoding, small-order test and cofactored equation, in
 * libsodium's group operations, on encodings. Each step against the rule:
 *
 * - decoding: crypto_core_ed25519_add decodes its operands and fails when no
 *   point has that y; for encodings that passed the pre-check it finds the
 *   same point as RFC 8032 §5.1.3;
 * - small order: [8]P by three doublings, compared with the identity, on the
 *   decoded point (outputs are canonical encodings, so equal points have
 *   equal bytes);
 * - [8]([S]B - R - [k]A) = 0 is checked as [8S mod L]B = [8]R + [k]([8]A):
 *   [8][S]B = [8S mod L]B because B has order L; and [8][k]A = [k]([8]A),
 *   where [8]A is in the prime-order subgroup (the form libsodium's scalar
 *   multiplication requires, so A's torsion is cleared by the doublings, never
 *   by reducing 8k mod L). A zero scalar gives the identity, which libsodium
 *   refuses to return, so that case is spelled out.
 */
function createCofactoredCheck(sodium: SodiumEd25519) {
  const encoding = (): Uint8Array => new Uint8Array(ED25519_ENCODING_LENGTH);

  function add(p: Uint8Array, q: Uint8Array): Uint8Array {
    const sum = encoding();
    sodium.crypto_core_ed25519_add(sum, p, q);
    return sum;
  }

  /** [8]P, or `undefined` when P does not decode (crypto_core_ed25519_add refuses it). */
  function timesCofactor(point: Uint8Array): Uint8Array | undefined {
    let result: Uint8Array;
    try {
      result = add(point, point);
    } catch {
      return undefined;
    }
    for (let i = 1; i < COFACTOR_LOG2; i++) result = add(result, result);
    return result;
  }

  /** k = SHA-512(R || A || M) mod L, over the bytes as received. */
  function challengeScalar(parts: Ed25519Parts): Uint8Array {
    const digest = createHash('sha512').update(parts.R).update(parts.A).update(parts.message).digest();
    const k = encoding();
    sodium.crypto_core_ed25519_scalar_reduce(k, digest);
    return k;
  }

  /** [8]S mod L, by three doublings mod L. */
  function timesCofactorModL(scalar: Uint8Array): Uint8Array {
    const result = Uint8Array.from(scalar);
    for (let i = 0; i < COFACTOR_LOG2; i++) sodium.crypto_core_ed25519_scalar_add(result, result, result);
    return result;
  }

  function baseTimes(scalar: Uint8Array): Uint8Array {
    if (isZeroScalar(scalar)) return IDENTITY_ENCODING;
    const product = encoding();
    sodium.crypto_scalarmult_ed25519_base_noclamp(product, scalar);
    return product;
  }

  /** [n]P for P in the prime-order subgroup, P not the identity. */
  function times(scalar: Uint8Array, point: Uint8Array): Uint8Array {
    if (isZeroScalar(scalar)) return IDENTITY_ENCODING;
    const product = encoding();
    sodium.crypto_scalarmult_ed25519_noclamp(product, scalar, point);
    return product;
  }

  /** The rule's verdict on parts that passed the pre-check. */
  return function holds(parts: Ed25519Parts): boolean {
    const A8 = timesCofactor(parts.A);
    const R8 = timesCofactor(parts.R);
    if (A8 === undefined || R8 === undefined) return false; // not a curve point
    if (equalBytes(A8, IDENTITY_ENCODING) || equalBytes(R8, IDENTITY_ENCODING)) return false; // small order

    const k = challengeScalar(parts);
    const lhs = baseTimes(timesCofactorModL(parts.S));
    const rhs = add(R8, times(k, A8));
    return equalBytes(lhs, rhs);
  };
}

/** libsodium-backed Ed25519 under the rule: pre-check, libsodium, cofactored re-check of its rejections. */
function createEd25519Verifier(): (item: Ed25519VerifyItem) => boolean {
  const sodium = loadSodium();
  const cofactoredCheck = createCofactoredCheck(sodium);
  return function verifyOne(item: Ed25519VerifyItem): boolean {
    // The pre-check comes first and also guarantees the lengths: libsodium
    // itself would accept a signature longer than 64 bytes by reading its
    // first 64. sodium-native takes any typed array and passes its
    // (buffer, byteOffset, byteLength) on, so the Uint8Arrays go in as they are.
    const parts = splitEd25519Item(item);
    if (typeof parts === 'string' || precheckEd25519Parts(parts) !== undefined) return false;
    try {
      // Fast path: a libsodium acceptance is a rule acceptance (see the top of this file).
      if (sodium.crypto_sign_verify_detached(item.signature, item.message, item.publicKey)) return true;
      // A libsodium rejection is final only if the cofactored rule rejects too.
      return cofactoredCheck(parts);
    } catch {
      // A verdict, never an exception, for any crypto input.
      return false;
    }
  };
}

export function createNativeBackend(): Backend {
  // libsodium is loaded on the first signature check, not with the backend:
  // hashing (all a verify-batch worker does for most of a run) needs only
  // node:crypto, and loading the addon costs ~20 ms per thread.
  let verifyOne: ((item: Ed25519VerifyItem) => boolean) | undefined;
  return {
    name: 'native',
    sha256,
    sha256Many: nodeSha256Many,
    createSha256: createNodeSha256Hasher,
    verifyEd25519Batch: async (items) => {
      verifyOne ??= createEd25519Verifier();
      return items.map(verifyOne);
    },
  };
}

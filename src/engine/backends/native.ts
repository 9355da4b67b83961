/**
 * The `native` backend: SHA-256 from node:crypto (OpenSSL, which uses the CPU's
 * SHA extensions where there are any) and Ed25519 from libsodium through
 * sodium-native.
 */
import { createHash, type Hash } from 'node:crypto';
import { createRequire } from 'node:module';

import { BluxError } from '../../errors.js';
import { passesEd25519Precheck } from '../precheck.js';
import type { Backend, Ed25519VerifyItem, Sha256Hasher } from '../types.js';

/** The part of sodium-native this backend uses (the package ships no types). */
interface SodiumSignatures {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/**
 * sodium-native is a compiled addon: load it when the native backend is first
 * created, not when this module is imported, so a machine without a working
 * prebuild can still run the `js` backend.
 */
function loadSodium(): SodiumSignatures {
  const require = createRequire(import.meta.url);
  try {
    return require('sodium-native') as SodiumSignatures;
  } catch (cause) {
    throw new BluxError('internal', 'the native backend needs sodium-native, which failed to load (try --backend js)', { cause });
  }
}

/**
 * A Buffer is a Uint8Array already; returning a plain Uint8Array view of it
 * (no copy) keeps both backends' results of one type, so deep equality in
 * callers and tests does not depend on the backend.
 */
function asPlainBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

class NodeSha256Hasher implements Sha256Hasher {
  readonly #hash: Hash = createHash('sha256');
  #finished = false;

  update(chunk: Uint8Array): Sha256Hasher {
    if (this.#finished) throw new BluxError('internal', 'SHA-256 hasher used after digest()');
    // node:crypto consumes the chunk before returning, so callers may reuse the buffer.
    this.#hash.update(chunk);
    return this;
  }

  digest(): Uint8Array {
    if (this.#finished) throw new BluxError('internal', 'SHA-256 hasher used after digest()');
    this.#finished = true;
    return asPlainBytes(this.#hash.digest());
  }
}

function sha256(data: Uint8Array): Uint8Array {
  return asPlainBytes(createHash('sha256').update(data).digest());
}

export function createNativeBackend(): Backend {
  const sodium = loadSodium();

  function verifyOne(item: Ed25519VerifyItem): boolean {
    // The pre-check comes first and also guarantees the lengths: libsodium
    // itself would accept a signature longer than 64 bytes by reading its
    // first 64. sodium-native takes any typed array and passes its
    // (buffer, byteOffset, byteLength) on, so the Uint8Arrays go in as they are.
    if (!passesEd25519Precheck(item)) return false;
    try {
      return sodium.crypto_sign_verify_detached(item.signature, item.message, item.publicKey);
    } catch {
      // A verdict, never an exception, for any crypto input.
      return false;
    }
  }

  return {
    name: 'native',
    sha256,
    sha256Many: (items) => items.map(sha256),
    createSha256: () => new NodeSha256Hasher(),
    verifyEd25519Batch: async (items) => items.map(verifyOne),
  };
}

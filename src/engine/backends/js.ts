/**
 * The `js` backend: pure JavaScript, no compiled code. SHA-256 from
 * @noble/hashes, Ed25519 from @noble/ed25519. Slower than `native`, but runs
 * wherever Node runs, and gives a second, independent implementation to check
 * the first against.
 */
import * as ed from '@noble/ed25519';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';

import { BluxError } from '../../errors.js';
import { passesEd25519Precheck } from '../precheck.js';
import type { Backend, Ed25519VerifyItem, Sha256Hasher } from '../types.js';

/**
 * RFC 8032 strict decoding (y < p, no x = 0 with the sign bit set) instead of
 * the library's ZIP-215 default, which accepts non-canonical encodings.
 */
const RFC8032_STRICT: ed.EdDSAVerifyOpts = { zip215: false };

type NobleSha256State = ReturnType<typeof nobleSha256.create>;

class NobleSha256Hasher implements Sha256Hasher {
  readonly #hash: NobleSha256State = nobleSha256.create();
  #finished = false;

  update(chunk: Uint8Array): Sha256Hasher {
    if (this.#finished) throw new BluxError('internal', 'SHA-256 hasher used after digest()');
    // noble hashes whole blocks at once and copies any tail into its own
    // buffer, so callers may reuse the chunk's memory after this returns.
    this.#hash.update(chunk);
    return this;
  }

  digest(): Uint8Array {
    if (this.#finished) throw new BluxError('internal', 'SHA-256 hasher used after digest()');
    this.#finished = true;
    return this.#hash.digest();
  }
}

function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

function verifyOne(item: Ed25519VerifyItem): boolean {
  if (!passesEd25519Precheck(item)) return false;
  try {
    return ed.verify(item.signature, item.message, item.publicKey, RFC8032_STRICT);
  } catch {
    // A verdict, never an exception, for any crypto input.
    return false;
  }
}

export function createJsBackend(): Backend {
  // The synchronous ed.verify needs a synchronous SHA-512; noble/ed25519 ships
  // none of its own (only the async WebCrypto one).
  ed.hashes.sha512 = sha512;

  return {
    name: 'js',
    sha256,
    sha256Many: (items) => items.map(sha256),
    createSha256: () => new NobleSha256Hasher(),
    verifyEd25519Batch: async (items) => items.map(verifyOne),
  };
}

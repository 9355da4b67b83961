/**
 * The `js` backend: pure JavaScript, no compiled code. SHA-256 from
 * @noble/hashes, Ed25519 from @noble/ed25519. Slower than `native`, but runs
 * wherever Node runs, and gives a second, independent implementation to check
 * the first against.
 *
 * The libraries are loaded when the backend is created, not when this module
 * is imported: a CLI run on the default backend then never pays for them
 * (~20 ms of start-up). Node >= 20.19 can `require` these ES modules.
 */
import { createRequire } from 'node:module';
import type * as NobleEd25519 from '@noble/ed25519';
import type * as NobleSha2 from '@noble/hashes/sha2.js';

import { BluxError } from '../../errors.js';
import { passesEd25519Precheck } from '../precheck.js';
import type { Backend, Ed25519VerifyItem, Sha256Hasher } from '../types.js';

/**
 * RFC 8032 strict decoding (y < p, no x = 0 with the sign bit set) instead of
 * the library's ZIP-215 default, which accepts non-canonical encodings.
 */
const RFC8032_STRICT: NobleEd25519.EdDSAVerifyOpts = { zip215: false };

type NobleSha256State = ReturnType<typeof NobleSha2.sha256.create>;

class NobleSha256Hasher implements Sha256Hasher {
  readonly #hash: NobleSha256State;
  #finished = false;

  constructor(state: NobleSha256State) {
    this.#hash = state;
  }

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

export function createJsBackend(): Backend {
  const require = createRequire(import.meta.url);
  const ed = require('@noble/ed25519') as typeof NobleEd25519;
  const { sha256: nobleSha256, sha512 } = require('@noble/hashes/sha2.js') as typeof NobleSha2;
  // The synchronous ed.verify needs a synchronous SHA-512; noble/ed25519 ships
  // none of its own (only the async WebCrypto one).
  ed.hashes.sha512 = sha512;

  const sha256 = (data: Uint8Array): Uint8Array => nobleSha256(data);
  const verifyOne = (item: Ed25519VerifyItem): boolean => {
    if (!passesEd25519Precheck(item)) return false;
    try {
      return ed.verify(item.signature, item.message, item.publicKey, RFC8032_STRICT);
    } catch {
      // A verdict, never an exception, for any crypto input.
      return false;
    }
  };

  return {
    name: 'js',
    sha256,
    sha256Many: (items) => items.map(sha256),
    createSha256: () => new NobleSha256Hasher(nobleSha256.create()),
    verifyEd25519Batch: async (items) => items.map(verifyOne),
  };
}

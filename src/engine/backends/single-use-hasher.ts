/**
 * The one Sha256Hasher implementation: wraps a library's incremental hash
 * (node:crypto's Hash, noble's sha256.create()) and refuses use after
 * digest(), which every library handles differently (throw, garbage, or a
 * silent reset), so that every backend behaves alike.
 */
import { BluxError } from '../../errors.js';
import type { Sha256Hasher } from '../types.js';

export interface IncrementalHash {
  /** Must consume the chunk before returning: callers reuse their buffers. */
  update(chunk: Uint8Array): unknown;
  digest(): Uint8Array;
}

export class SingleUseHasher implements Sha256Hasher {
  readonly #hash: IncrementalHash;
  #finished = false;

  constructor(hash: IncrementalHash) {
    this.#hash = hash;
  }

  update(chunk: Uint8Array): Sha256Hasher {
    if (this.#finished) throw new BluxError('internal', 'SHA-256 hasher used after digest()');
    this.#hash.update(chunk);
    return this;
  }

  digest(): Uint8Array {
    if (this.#finished) throw new BluxError('internal', 'SHA-256 hasher used after digest()');
    this.#finished = true;
    return this.#hash.digest();
  }
}

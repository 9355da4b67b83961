/**
 * The `js` backend: pure JavaScript, no compiled code. SHA-256 from
 * @noble/hashes; Ed25519 by blux-reg's verdict rule itself (rule.ts, over
 * @noble/ed25519's point arithmetic). Slower than `native`, but runs wherever
 * Node runs, and is the reference the other backends are checked against.
 *
 * Why not `ed.verify(..., { zip215: false })`: it is the cofactored equation
 * with strict decoding and small-order A refused, but it accepts a small-order
 * R, so it would need the rule's own R check bolted on, and it decodes R a
 * second time to do it; running the rule is as fast and exact by construction.
 *
 * The libraries are loaded when the backend is created (SHA-256) or on the
 * first verification (rule.ts), not when this module is imported: a CLI run
 * on the default backend then never pays for them (~20 ms of start-up).
 * Node >= 20.19 can `require` these ES modules.
 */
import { createRequire } from 'node:module';
import type * as NobleSha2 from '@noble/hashes/sha2.js';

import { BluxError } from '../../errors.js';
import { verifyByRule } from '../rule.js';
import type { Backend, Sha256Hasher } from '../types.js';

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
  const { sha256: nobleSha256 } = require('@noble/hashes/sha2.js') as typeof NobleSha2;

  const sha256 = (data: Uint8Array): Uint8Array => nobleSha256(data);

  return {
    name: 'js',
    sha256,
    sha256Many: (items) => items.map(sha256),
    createSha256: () => new NobleSha256Hasher(nobleSha256.create()),
    // The rule includes the shared pre-check, and gives a verdict for any input.
    verifyEd25519Batch: async (items) => items.map(verifyByRule),
  };
}

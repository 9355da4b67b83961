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

import { verifyByRule } from '../rule.js';
import type { Backend } from '../types.js';
import { SingleUseHasher } from './single-use-hasher.js';

export function createJsBackend(): Backend {
  const require = createRequire(import.meta.url);
  const { sha256: nobleSha256 } = require('@noble/hashes/sha2.js') as typeof NobleSha2;

  const sha256 = (data: Uint8Array): Uint8Array => nobleSha256(data);

  return {
    name: 'js',
    sha256,
    sha256Many: (items) => items.map(sha256),
    // noble hashes whole blocks and copies any tail into its own buffer, so chunks may be reused.
    createSha256: () => new SingleUseHasher(nobleSha256.create()),
    // The rule includes the shared pre-check, and gives a verdict for any input.
    verifyEd25519Batch: async (items) => items.map(verifyByRule),
  };
}

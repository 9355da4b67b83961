/**
 * Ed25519 verification on every backend, one signature and batches of 64 and
 * 1,024 with all keys distinct and with 16 keys repeated (release sets and
 * ledgers repeat a few signers), against libsodium's
 * crypto_sign_verify_detached called directly on each item.
 */
import { createRequire } from 'node:module';
import { createPrivateKey, createPublicKey, randomFillSync, sign } from 'node:crypto';

import { BluxError } from '../../errors.js';
import { privateKeyDer } from '../../formats/keys.js';
import type { Ed25519VerifyItem } from '../../engine/index.js';
import { readyBackends } from '../backends.js';
import { ed25519BackendFor } from '../../engine/backends/auto.js';
import type { BenchCase, BenchSuite } from '../types.js';

const MESSAGE_BYTES = 64;
const REPEATED_KEYS = 16;

interface BatchShape {
  readonly key: string;
  readonly title: string;
  readonly size: number;
  /** Distinct keys in the batch. */
  readonly keys: number;
}

const SHAPES: readonly BatchShape[] = [
  { key: 'single', title: 'single', size: 1, keys: 1 },
  { key: 'batch64-distinct', title: '64, distinct keys', size: 64, keys: 64 },
  { key: 'batch64-16keys', title: `64, ${REPEATED_KEYS} keys`, size: 64, keys: REPEATED_KEYS },
  { key: 'batch1024-distinct', title: '1,024, distinct keys', size: 1024, keys: 1024 },
  { key: 'batch1024-16keys', title: `1,024, ${REPEATED_KEYS} keys`, size: 1024, keys: REPEATED_KEYS },
];

/** Batches this large take ~1 s per operation on the pure-JS backend. */
const HEAVY_FROM = 1024;

interface SodiumVerify {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/**
 * A signer from a random seed through createPrivateKey, not generateKeyPairSync:
 * Node 20.20 can deadlock the main thread when the garbage collector destroys
 * a finished key-generation job (seen here: a `--quick` run hung in
 * ~KeyGenJob -> uv_mutex_lock under a GC triggered by an allocation), and a
 * run makes a thousand keys.
 */
function newSigner(): { publicKey: Uint8Array; sign: (message: Uint8Array) => Uint8Array } {
  const privateKey = createPrivateKey({ key: Buffer.from(privateKeyDer(randomFillSync(new Uint8Array(32)))), format: 'der', type: 'pkcs8' });
  // The raw 32-byte key is the JWK's `x`.
  const raw = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
  return { publicKey: new Uint8Array(raw), sign: (message) => new Uint8Array(sign(null, message, privateKey)) };
}

/** `size` signed random messages, key i taken round-robin from `keys` signers. */
export function signedBatch(size: number, keys: number): Ed25519VerifyItem[] {
  const signers = Array.from({ length: keys }, newSigner);
  return Array.from({ length: size }, (_, i) => {
    const signer = signers[i % keys]!;
    const message = randomFillSync(new Uint8Array(MESSAGE_BYTES));
    return { publicKey: signer.publicKey, message, signature: signer.sign(message) };
  });
}

/** A benchmark that verified nothing proves nothing: every timed call must accept every signature. */
function requireAllValid(verdicts: readonly boolean[], who: string): boolean[] {
  if (!verdicts.every((v) => v)) throw new BluxError('internal', `bench: ${who} rejected a valid signature`);
  return verdicts as boolean[];
}

export const ed25519Suite: BenchSuite = {
  id: 'ed25519',
  title: 'Ed25519 verification',
  async prepare() {
    const sodium = createRequire(import.meta.url)('sodium-native') as SodiumVerify;
    const backends = await readyBackends();
    const autoChoices: Record<string, string> = {};
    const cases: BenchCase[] = [];
    for (const shape of SHAPES) {
      const items = signedBatch(shape.size, shape.keys);
      const sodiumVerifyAll = (): boolean[] =>
        requireAllValid(items.map((it) => sodium.crypto_sign_verify_detached(it.signature, it.message, it.publicKey)), 'libsodium');
      autoChoices[`ed25519/${shape.key}`] = ed25519BackendFor(items);
      cases.push({
        id: `ed25519/${shape.key}`,
        title: `Ed25519 ${shape.title}`,
        unit: 'sig',
        unitsPerOp: shape.size,
        heavy: shape.size >= HEAVY_FROM,
        reference: { backend: 'reference', label: 'sodium-native crypto_sign_verify_detached', fn: sodiumVerifyAll },
        variants: backends.map(({ name, backend, label }) => ({
          backend: name, label, fn: async () => requireAllValid(await backend.verifyEd25519Batch(items), `backend ${name}`),
        })),
      });
    }
    return { cases, autoChoices };
  },
};

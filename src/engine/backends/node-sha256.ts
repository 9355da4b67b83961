/**
 * SHA-256 from node:crypto (OpenSSL, SHA-NI where the CPU has it: ~1.7 GB/s
 * per core here), shared by the backends that hash with it (native, and wasm
 * until hash-wasm takes its place). Loads no addon.
 */
import { createHash } from 'node:crypto';
import type { Sha256Hasher } from '../types.js';
import { SingleUseHasher } from './single-use-hasher.js';

/**
 * A Buffer is a Uint8Array already; returning a plain Uint8Array view of it
 * (no copy) keeps every backend's results of one type, so deep equality in
 * callers and tests does not depend on the backend.
 */
function asPlainBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** An incremental node:crypto SHA-256 (node:crypto consumes each chunk before returning). */
export function createNodeSha256Hasher(): Sha256Hasher {
  const hash = createHash('sha256');
  return new SingleUseHasher({ update: (chunk) => hash.update(chunk), digest: () => asPlainBytes(hash.digest()) });
}

export function nodeSha256(data: Uint8Array): Uint8Array {
  return asPlainBytes(createHash('sha256').update(data).digest());
}

// The `auto` backend: which backend it uses per batch, and that it gives the
// verdicts of the backends it delegates to.
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUTO_WASM_MIN_BATCH, AUTO_WASM_MIN_REPEATED_BATCH, ed25519BackendFor } from '../src/engine/backends/auto.js';
import { getBackend, resolveBackendName, sha256Hex, verifyEd25519Batch } from '../src/engine/index.js';
import type { Ed25519VerifyItem } from '../src/engine/types.js';

function signer() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  return (message: Uint8Array): Ed25519VerifyItem => ({ publicKey: raw, message, signature: new Uint8Array(sign(null, message, privateKey)) });
}

function items(count: number, keys: number): Ed25519VerifyItem[] {
  const signers = Array.from({ length: keys }, signer);
  return Array.from({ length: count }, (_, i) => signers[i % keys]!(new TextEncoder().encode(`message ${i}`)));
}

describe('auto backend', () => {
  it('is the default', () => {
    expect(resolveBackendName(undefined, {})).toBe('auto');
    expect(getBackend('auto').name).toBe('auto');
  });

  it('uses native for small batches and wasm for large ones or repeated keys', () => {
    expect(ed25519BackendFor(items(1, 1))).toBe('native');
    expect(ed25519BackendFor(items(AUTO_WASM_MIN_REPEATED_BATCH - 1, 1))).toBe('native');
    expect(ed25519BackendFor(items(AUTO_WASM_MIN_REPEATED_BATCH, 4))).toBe('wasm');
    expect(ed25519BackendFor(items(AUTO_WASM_MIN_REPEATED_BATCH, AUTO_WASM_MIN_REPEATED_BATCH))).toBe('native');
    expect(ed25519BackendFor(items(AUTO_WASM_MIN_BATCH, AUTO_WASM_MIN_BATCH))).toBe('wasm');
  });

  it('gives the same verdicts as native and wasm on a large mixed batch', async () => {
    const batch = items(AUTO_WASM_MIN_BATCH + 7, 16);
    // Break every 97th signature.
    const broken = batch.map((item, i) => (i % 97 === 0 ? { ...item, signature: item.signature.map((b, j) => (j === 5 ? b ^ 1 : b)) } : item));
    const expected = broken.map((_, i) => i % 97 !== 0);
    expect(await verifyEd25519Batch(broken, { backend: 'auto' })).toEqual(expected);
    expect(await verifyEd25519Batch(broken, { backend: 'native' })).toEqual(expected);
    expect(await verifyEd25519Batch(broken, { backend: 'wasm' })).toEqual(expected);
  });

  it('hashes with native', () => {
    expect(sha256Hex('abc', { backend: 'auto' })).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

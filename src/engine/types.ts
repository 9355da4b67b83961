/**
 * The one interface every hash and signature check in blux-reg goes through.
 *
 * It is batch-oriented on purpose: a backend that crosses a boundary (a WASM
 * module, a worker pool) pays per call, not per item, so callers hand over as
 * much work as they have at once. Nothing here names a library.
 */

/** The concrete backends, plus `auto`: per primitive and batch size, the fastest of them. */
export type BackendName = 'native' | 'js' | 'wasm' | 'auto';

/** One Ed25519 check: does `signature` (R || S, 64 bytes) sign `message` under `publicKey` (32 bytes)? */
export interface Ed25519VerifyItem {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** Incremental SHA-256. `update` returns the hasher so calls chain; `digest` ends it. */
export interface Sha256Hasher {
  update(chunk: Uint8Array): Sha256Hasher;
  digest(): Uint8Array;
}

export interface Backend {
  readonly name: BackendName;
  sha256(data: Uint8Array): Uint8Array;
  /** Batch form of `sha256`: one digest per item, in order. */
  sha256Many(items: readonly Uint8Array[]): Uint8Array[];
  createSha256(): Sha256Hasher;
  /**
   * One verdict per item, in order. Never rejects because of the crypto input:
   * wrong lengths, non-canonical encodings and the like are a `false` verdict.
   */
  verifyEd25519Batch(items: readonly Ed25519VerifyItem[]): Promise<boolean[]>;
}

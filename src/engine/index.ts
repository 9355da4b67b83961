/**
 * The engine: every SHA-256 and every Ed25519 verification in blux-reg goes
 * through here. Callers pick a backend by name (or not at all); which library
 * does the work is the backend's business.
 *
 * Backend choice: an explicit name, else the BLUX_REG_BACKEND environment
 * variable, else `native`.
 */
import { Buffer } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';

import { BluxError } from '../errors.js';
import { createJsBackend } from './backends/js.js';
import { createNativeBackend } from './backends/native.js';
import { createWasmBackend } from './backends/wasm.js';
import { createAutoBackend } from './backends/auto.js';
import { resolveBackendName } from './backend-name.js';
import { describeFileError } from './file-errors.js';
import { alignedBuffer } from '../io/aligned-buffer.js';
import type { Backend, BackendName, Ed25519VerifyItem } from './types.js';

export type { Backend, BackendName, Ed25519VerifyItem, Sha256Hasher } from './types.js';

export { BACKEND_CHOICES, BACKEND_NAMES, resolveBackendName } from './backend-name.js';
export * from './parallel.js';

const BACKEND_FACTORIES: Readonly<Record<BackendName, () => Backend>> = {
  native: createNativeBackend,
  js: createJsBackend,
  wasm: createWasmBackend,
  auto: () => createAutoBackend((name) => getBackend(name)),
};

const backendCache = new Map<BackendName, Backend>();

/** The backend of that name (see `resolveBackendName`), created on first use and cached. */
export function getBackend(name?: BackendName | string): Backend {
  const resolved = resolveBackendName(name);
  let backend = backendCache.get(resolved);
  if (backend === undefined) {
    backend = BACKEND_FACTORIES[resolved]();
    backendCache.set(resolved, backend);
  }
  return backend;
}

export interface EngineOptions {
  backend?: BackendName | string;
}

export function sha256(data: Uint8Array, opts: EngineOptions = {}): Uint8Array {
  return getBackend(opts.backend).sha256(data);
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Lower-case hex SHA-256; a string is hashed as its UTF-8 bytes. */
export function sha256Hex(data: Uint8Array | string, opts: EngineOptions = {}): string {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return toHex(sha256(bytes, opts));
}

export interface FileHashOptions extends EngineOptions {
  /** Size of the one read buffer; 1 MiB unless given. */
  bufferSize?: number;
  /** Called after each chunk with the number of bytes hashed so far. */
  onProgress?: (bytesDone: number) => void;
  /** Aborting rejects with the signal's reason (an AbortError unless one was given). */
  signal?: AbortSignal;
}

const MIB = 1024 * 1024;
const DEFAULT_FILE_BUFFER_SIZE = MIB;

function fileError(path: string, error: unknown): BluxError {
  const { code, message } = describeFileError(error);
  return new BluxError(code, message, { file: path, cause: error });
}

function checkBufferSize(bufferSize: number): void {
  if (!Number.isSafeInteger(bufferSize) || bufferSize <= 0) {
    throw new BluxError('invalid-argument', `bufferSize must be a positive integer, got ${bufferSize}`);
  }
}

/**
 * SHA-256 of a file, read once through a single reused buffer: memory use is
 * the buffer, whatever the file size. Large reads keep the cost of each read
 * (a system call and a promise) small next to the hashing itself, which on a
 * CPU with SHA extensions is fast enough for that cost to show with 64 KiB
 * stream chunks. `size` is the number of bytes actually hashed.
 */
export async function sha256File(path: string, opts: FileHashOptions = {}): Promise<{ sha256: string; size: number }> {
  const { bufferSize = DEFAULT_FILE_BUFFER_SIZE, onProgress, signal } = opts;
  checkBufferSize(bufferSize);
  const hasher = getBackend(opts.backend).createSha256();
  signal?.throwIfAborted();

  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw fileError(path, error);
  }

  try {
    const buffer = alignedBuffer(bufferSize);
    let size = 0;
    for (;;) {
      signal?.throwIfAborted();
      let bytesRead: number;
      try {
        // Reading at an explicit position: the file is read front to back exactly once.
        ({ bytesRead } = await file.read(buffer, 0, bufferSize, size));
      } catch (error) {
        // Opening a directory succeeds on Linux; the first read is what fails (EISDIR).
        throw fileError(path, error);
      }
      if (bytesRead === 0) break;
      // The hasher consumes the chunk before returning, so the buffer can be refilled.
      hasher.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
      onProgress?.(size);
    }
    return { sha256: toHex(hasher.digest()), size };
  } finally {
    await file.close();
  }
}

export async function verifyEd25519Batch(
  items: readonly Ed25519VerifyItem[],
  opts: EngineOptions = {},
): Promise<boolean[]> {
  return getBackend(opts.backend).verifyEd25519Batch(items);
}

/** One check: a batch of one, so single and batch verification cannot drift apart. */
export async function verifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  opts: EngineOptions = {},
): Promise<boolean> {
  const [verdict] = await verifyEd25519Batch([{ publicKey, message, signature }], opts);
  return verdict === true;
}

/**
 * Backends ready to be timed. The wasm backend hashes with node:crypto until
 * hash-wasm has compiled (asynchronously, on the event loop); a timing loop
 * that never yields to it would measure node:crypto under the name `wasm`.
 * So suites take their backends from here: hash-wasm loaded, or the label
 * says what really runs.
 */
import { BACKEND_NAMES, getBackend, type Backend, type BackendName } from '../engine/index.js';
import { loadHashWasm, wasmSha256Implementation } from '../engine/backends/wasm.js';

export interface ReadyBackend {
  readonly name: BackendName;
  readonly backend: Backend;
  /** The backend's name, plus what hashes when it is not the backend's own SHA-256. */
  readonly label: string;
}

export async function readyBackend(name: BackendName): Promise<ReadyBackend> {
  const backend = getBackend(name);
  if (name !== 'wasm') return { name, backend, label: name };
  // A failure is recorded by the backend, which then keeps hashing with node:crypto: the label says so.
  await loadHashWasm().catch(() => undefined);
  const implementation = wasmSha256Implementation();
  return { name, backend, label: implementation === 'hash-wasm' ? name : `${name} (SHA-256: ${implementation})` };
}

/** The concrete backends (native, js, wasm), each ready. */
export function readyBackends(): Promise<ReadyBackend[]> {
  return Promise.all(BACKEND_NAMES.map(readyBackend));
}

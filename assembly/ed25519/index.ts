/**
 * The module's exports: batch Ed25519 verification (batch.ts). The JS side
 * is src/engine/backends/wasm.ts.
 */
export { batch_input, batch_prepare, batch_check, batch_set_msm } from './batch';

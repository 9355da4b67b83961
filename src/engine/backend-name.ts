/**
 * Backend names and how one is chosen, apart from the backends themselves so
 * that choosing (the CLI does it at start-up) loads no crypto library.
 *
 * Choice: an explicit name, else the BLUX_REG_BACKEND environment variable,
 * else `native`.
 */
import { BluxError } from '../errors.js';
import type { BackendName } from './types.js';

/** The concrete backends: every verdict test runs on each of them. */
export const BACKEND_NAMES: readonly BackendName[] = Object.freeze(['native', 'js', 'wasm'] as const);
/** What `--backend` accepts: the concrete backends and `auto`. */
export const BACKEND_CHOICES: readonly BackendName[] = Object.freeze([...BACKEND_NAMES, 'auto']);

/** The fastest per primitive and batch size on this machine kind (see backends/auto.ts). */
const DEFAULT_BACKEND: BackendName = 'auto';
const BACKEND_ENV_VAR = 'BLUX_REG_BACKEND';


function isBackendName(name: string): name is BackendName {
  return (BACKEND_CHOICES as readonly string[]).includes(name);
}

/** An empty string counts as "not given", as an empty environment variable does. */
function given(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

/** explicit > BLUX_REG_BACKEND > 'auto'. An unknown name is an error, never a silent fallback. */
export function resolveBackendName(requested?: string, env: NodeJS.ProcessEnv = process.env): BackendName {
  const fromEnv = env[BACKEND_ENV_VAR];
  const name = given(requested) ? requested : given(fromEnv) ? fromEnv : DEFAULT_BACKEND;
  if (!isBackendName(name)) {
    throw new BluxError('invalid-argument', `unknown backend "${name}" (expected ${BACKEND_CHOICES.join(', ')})`);
  }
  return name;
}

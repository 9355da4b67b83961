/**
 * Where the package's own files are: package.json, the JSON Schemas, the
 * compiled WebAssembly, the native addon, the engine's worker file.
 *
 * Every such path is found from the package root, and the root from this
 * module's URL, in one place, because the same code runs from three
 * layouts, each two folders below the root:
 * - compiled modules, `dist/io/package-files.js` (the library);
 * - the TypeScript sources, `src/io/package-files.ts` (vitest; the built
 *   files are then under `<repo>/dist`, and `npm test` builds first);
 * - the bundled command line and its worker, `dist/bundle/*.cjs`
 *   (scripts/build-bundle.mjs), where this module's URL is the bundle's.
 * A path relative to each module (`new URL('../wasm/x', import.meta.url)`)
 * would point elsewhere once the modules are bundled into one file.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { BluxError } from '../errors.js';

const PACKAGE_ROOT = new URL('../../', import.meta.url);

/** The absolute path of `relative` (e.g. "dist/wasm/ledger.wasm") in the package. */
export function packageFile(relative: string): string {
  return fileURLToPath(new URL(relative, PACKAGE_ROOT));
}

/** True when this code runs from its TypeScript sources (tests). */
export function runningFromSources(): boolean {
  return import.meta.url.endsWith('.ts');
}

// Defined (as true) only by scripts/build-bundle.mjs; elsewhere the name does not exist, hence typeof.
declare const BLUX_REG_BUNDLE: boolean | undefined;

/** True inside the bundled command line or its worker (dist/bundle/). */
export function runningFromBundle(): boolean {
  return typeof BLUX_REG_BUNDLE !== 'undefined' && BLUX_REG_BUNDLE;
}

/**
 * The bytes of a file `npm run build` makes (e.g. "dist/wasm/ledger.wasm");
 * when it is missing, an internal error that says `what` needs it and how to make it.
 */
export function readBuiltFile(relative: string, what: string): Buffer {
  const file = packageFile(relative);
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new BluxError('internal', `${what} needs ${file} (run npm run build)`, { cause });
  }
}

let version: string | undefined;

/** The package's version, from its package.json (read once). */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
  return version;
}

#!/usr/bin/env node
/**
 * The `blux-reg` command. It runs the bundled command line,
 * dist/bundle/cli.cjs: start.ts and the modules it imports in one CommonJS
 * file with V8's code cache (io/bundle-loader.cts), which Node loads much
 * faster than the same ~100 separate ES modules, on this thread and again
 * on each engine thread (dist/bundle/worker.cjs). scripts/build-bundle.mjs
 * makes them; docs/ARCHITECTURE.md says what it saves.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../bundle/cli.cjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`blux-reg: the bundled command line (${bundle}) is missing: run \`npm run build\`\n`);
  process.exit(2);
}
const loader = createRequire(import.meta.url)('../io/bundle-loader.cjs') as typeof import('../io/bundle-loader.cjs');
const { start } = loader.loadBundle(bundle) as typeof import('./start.js');
await start();

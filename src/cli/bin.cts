#!/usr/bin/env node
/**
 * The `blux-reg` command (package.json "bin"). It runs the bundled command
 * line, dist/bundle/cli.cjs: start.ts and the modules it imports in one
 * CommonJS file with V8's code cache (io/bundle-loader.cts), which Node
 * loads much faster than the same ~100 separate ES modules, on this thread
 * and again on each engine thread (dist/bundle/worker.cjs).
 * scripts/build-bundle.mjs makes them; docs/ARCHITECTURE.md says what it saves.
 *
 * CommonJS itself (this file compiles to bin.cjs): a process whose first
 * module is an ES module starts Node's ES module loader first, ~15 ms here
 * (`node e.mjs` against `node e.cjs`, both empty, 30 runs each). main.ts is
 * the same command as an ES module, for `node dist/cli/main.js`.
 */
import fs = require('node:fs');
import path = require('node:path');

const bundle = path.join(__dirname, '..', 'bundle', 'cli.cjs');
if (!fs.existsSync(bundle)) {
  process.stderr.write(`blux-reg: the bundled command line (${bundle}) is missing: run \`npm run build\`\n`);
  process.exit(2);
}
const loader = require('../io/bundle-loader.cjs') as typeof import('../io/bundle-loader.cjs');
const { start } = loader.loadBundle(bundle) as typeof import('./start.js');
// A rejection stays unhandled: Node prints it and exits with code 1, as for an ES module's top-level await.
void start();

// Bundles the command line and the engine's worker, each into one CommonJS
// file (dist/bundle/cli.cjs and dist/bundle/worker.cjs), from the modules tsc
// compiled into dist/. Run by `npm run build` after tsc.
//
// Why: Node loads one CommonJS file much faster than the same code as ~100
// ES modules (each resolved, read, parsed and linked on its own), and the
// command line pays that on its thread and again on every engine thread.
// Measured on the 2-core machine against the unbundled build, interleaved
// (bench/RESULTS.md): verify-batch over the 2.5 GiB tree 1.09 -> 0.98 s
// (CPU 1.95 -> 1.68 s), a 1M-entry ledger audit 0.49 -> 0.46 s, --version
// 127 -> 104 ms.
//
// The library (dist/index.js) stays as separate ES modules. What changes
// inside a bundle: `import.meta.url` is the bundle's own URL (so package
// files are found from the package root, src/io/package-files.ts), and
// BLUX_REG_BUNDLE is true (so the pool starts bundled workers).
// Packages with native code or files of their own stay outside (required at
// run time from node_modules); pure JavaScript packages are bundled, and
// their licences are listed in dist/bundle/THIRD-PARTY-NOTICES.txt.
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = (relative) => path.join(root, relative);
const { writeCodeCache } = createRequire(import.meta.url)(at('dist/io/bundle-loader.cjs'));

/** Loaded from node_modules at run time: native addons, and packages that load files beside themselves. */
const EXTERNAL = ['sodium-native', 'argon2', 'fs-native-extensions', 'ajv', 'cli-progress'];

/**
 * piscina's pool starts each thread on the `worker.js` beside its own module
 * (`resolve(__dirname, 'worker.js')`), and a bundle's __dirname is
 * dist/bundle: in the command line's bundle, point it back at the installed
 * package's file. The threads keep piscina from node_modules (it stays
 * external to the worker bundle): there piscina's worker.js and the move()
 * our tasks return through must share one copy of piscina's module-private
 * symbols, or results would be cloned instead of transferred.
 */
const PISCINA_WORKER_FILE = "(0, node_path_1.resolve)(__dirname, 'worker.js')";
const piscinaWorkerFromPackage = {
  name: 'piscina-worker-from-package',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]piscina[\\/]dist[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (source.split(PISCINA_WORKER_FILE).length !== 2) {
        throw new Error(`${args.path}: expected one ${PISCINA_WORKER_FILE} (how piscina finds its worker file); update scripts/build-bundle.mjs for this piscina`);
      }
      const fromPackage = "(0, node_path_1.join)((0, node_path_1.dirname)(require.resolve('piscina')), 'worker.js')";
      return { contents: source.replace(PISCINA_WORKER_FILE, fromPackage), loader: 'js' };
    });
  },
};

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { 'import.meta.url': '__bluxRegBundleUrl', BLUX_REG_BUNDLE: 'true' },
  banner: { js: "const __bluxRegBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // import() of a package becomes require(): CommonJS all the way, no ES module loader at run time.
  supported: { 'dynamic-import': false },
  metafile: true,
  logLevel: 'warning',
};

const bundles = [
  // logOverride: the require.resolve('piscina') above is meant to find the installed package at run time.
  { entry: 'dist/cli/start.js', out: 'dist/bundle/cli.cjs', external: EXTERNAL, plugins: [piscinaWorkerFromPackage],
    logOverride: { 'require-resolve-not-external': 'silent' } },
  { entry: 'dist/engine/worker.js', out: 'dist/bundle/worker.cjs', external: [...EXTERNAL, 'piscina'], plugins: [], logOverride: {} },
];
// What piscina loads in each engine thread (src/engine/pool.ts): the worker bundle, with its code cache.
const WORKER_ENTRY = 'dist/bundle/worker-entry.cjs';

const packages = new Set();
for (const { entry, out, external, plugins, logOverride } of bundles) {
  const result = await build({ ...common, external, plugins, logOverride, entryPoints: [at(entry)], outfile: at(out) });
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]);
  }
  // A bundle must not import(): it runs as a vm.Script (the code cache), which has no ES module loader.
  if (/\bimport\(/.test(readFileSync(at(out), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''))) {
    throw new Error(`${out} still calls import(): bundle that module or make its import a require`);
  }
  console.log(`bundled ${entry} -> ${out} (code cache: ${writeCodeCache(at(out))} bytes)`);
}
writeFileSync(at(WORKER_ENTRY), "// Generated by scripts/build-bundle.mjs: piscina's worker file.\n" +
  "module.exports = require('../io/bundle-loader.cjs').loadBundle(require.resolve('./worker.cjs'));\n");

/** The licence text a package ships (LICENSE, LICENCE, COPYING, any case and extension), else its package.json's licence field. */
function licenceOf(name) {
  const dir = at(`node_modules/${name}`);
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  const meta = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const text = file !== undefined ? readFileSync(path.join(dir, file), 'utf8').trim() : `License: ${meta.license ?? 'unknown'} (no licence file in the package)`;
  return `${name} ${meta.version}\n${'-'.repeat(name.length + 1 + meta.version.length)}\n${text}\n`;
}

const notices = [...packages].sort().filter((name) => existsSync(at(`node_modules/${name}/package.json`))).map(licenceOf);
writeFileSync(at('dist/bundle/THIRD-PARTY-NOTICES.txt'),
  `Packages bundled into dist/bundle/cli.cjs and dist/bundle/worker.cjs, with their licences.\n\n${notices.join('\n')}`);

// `npm run test:browser` (= npm run build && node tests/browser/run.mjs [NAME...]):
// runs every tests/browser/*.check.mjs in headless Chromium. Not part of
// `npm test`, which must run without a browser.
//
// A check default-exports `async function (ctx)` and throws on failure;
// ctx = { tmpDir, renderFile(file, { width, height }) -> { dom, screenshot } }.
// Exit codes: 0 all passed, 1 a check failed, 2 no Chromium / no checks / bad usage.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { findChromium, renderFile } from './chromium.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHECK_SUFFIX = '.check.mjs';

const USAGE = `usage: node tests/browser/run.mjs [--keep] [NAME...]

Runs the headless-browser checks (tests/browser/*${CHECK_SUFFIX}) in Chromium,
after \`npm run build\` (npm run test:browser does both).
  NAME     run only the checks whose file name contains NAME
  --keep   keep every check's temp folder (failed checks always keep theirs)
Needs Chromium: apt-get install -y chromium (Debian/Ubuntu), or CHROMIUM_PATH=/path/to/chrome.
Exit: 0 all passed, 1 a check failed, 2 no Chromium, no checks or bad usage.`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const keep = args.includes('--keep');
const unknown = args.filter((a) => a.startsWith('-') && a !== '--keep');
if (unknown.length > 0) {
  console.error(`unknown option ${unknown[0]}\n\n${USAGE}`);
  process.exit(2);
}
const filters = args.filter((a) => !a.startsWith('-'));

const chromium = findChromium();
if (chromium === null) {
  console.error([
    'Chromium was not found (looked at CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser, /usr/bin/google-chrome).',
    'Install it:  sudo apt-get install -y chromium      (Debian / Ubuntu)',
    'or point at one:  CHROMIUM_PATH=/path/to/chrome npm run test:browser',
  ].join('\n'));
  process.exit(2);
}

const checks = fs.readdirSync(HERE)
  .filter((name) => name.endsWith(CHECK_SUFFIX))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort();
if (checks.length === 0) {
  console.error(filters.length === 0 ? `no *${CHECK_SUFFIX} files in ${HERE}` : `no check matches ${filters.join(', ')}`);
  process.exit(2);
}

console.log(`browser checks with ${chromium}`);
let failed = 0;
for (const name of checks) {
  const label = name.slice(0, -CHECK_SUFFIX.length);
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), `blux-browser-${label}-`));
  const ctx = { tmpDir, renderFile: (file, options = {}) => renderFile(file, { outDir: tmpDir, ...options }) };
  const started = performance.now();
  try {
    const check = (await import(pathToFileURL(path.join(HERE, name)).href)).default;
    if (typeof check !== 'function') throw new Error(`${name} must default-export an async function (ctx)`);
    await check(ctx);
    console.log(`ok    ${label} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    if (!keep) fs.rmSync(tmpDir, { recursive: true, force: true });
  } catch (e) {
    failed++;
    console.log(`FAIL  ${label} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    console.log(`      ${(e instanceof Error ? (e.stack ?? e.message) : String(e)).split('\n').join('\n      ')}`);
    console.log(`      files kept in ${tmpDir}`);
  }
}
console.log(failed === 0 ? `all ${checks.length} browser checks passed` : `${failed} of ${checks.length} browser checks failed`);
process.exit(failed === 0 ? 0 : 1);

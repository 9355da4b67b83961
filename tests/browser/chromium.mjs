// Headless Chromium through its command line (no npm dependency): the DOM a
// page ends up with, and a screenshot of it. Used by tests/browser/run.mjs and
// the *.check.mjs files (through ctx.renderFile).
//
//   renderFile(file, { width, height }) -> { dom, screenshot }
//
// `dom` is the serialized DOM after load (`--dump-dom`); `screenshot` the path
// of a PNG of the first `width` x `height` CSS pixels (`--screenshot`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where Debian / Ubuntu put it; CHROMIUM_PATH overrides. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** A hung browser must not hang the run: one page gets this long. */
const RENDER_TIMEOUT_MS = 60_000;

const DEFAULT_SIZE = { width: 1280, height: 900 };

/** The Chromium binary to use, or null when there is none. */
export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv !== undefined && fromEnv !== '') return fs.existsSync(fromEnv) ? fromEnv : null;
  return CANDIDATES.find((candidate) => fs.existsSync(candidate)) ?? null;
}

function baseArgs(profileDir) {
  return [
    '--headless',
    // Chromium refuses to start its sandbox as root (CI containers); the pages are our own files.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    '--disable-gpu',
    '--disable-dev-shm-usage', // containers have a tiny /dev/shm
    '--hide-scrollbars',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-extensions',
    '--force-device-scale-factor=1',
    `--user-data-dir=${profileDir}`,
  ];
}

/** Runs chromium once with a fresh profile; resolves with its stdout, rejects with the tail of stderr. */
function runChromium(binary, args) {
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-chromium-profile-'));
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout can take down the renderer children too.
    const child = spawn(binary, [...baseArgs(profileDir), ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, RENDER_TIMEOUT_MS);
    const finish = (error) => {
      clearTimeout(timer);
      fs.rmSync(profileDir, { recursive: true, force: true });
      if (error === null) resolve(stdout);
      else reject(error);
    };
    child.on('error', (e) => finish(new Error(`cannot start ${binary}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (timedOut) return finish(new Error(`chromium took longer than ${RENDER_TIMEOUT_MS / 1000} s (${args.join(' ')})`));
      if (code !== 0) {
        const tail = stderr.trim().split('\n').slice(-5).join('\n');
        return finish(new Error(`chromium exited with ${code ?? signal}: ${tail}`));
      }
      finish(null);
    });
  });
}

let screenshotCounter = 0;

/**
 * Renders a local file (HTML or SVG) in headless Chromium.
 * @param {string} file
 * @param {{ width?: number, height?: number, outDir?: string }} [options]
 *   `outDir`: where the PNG goes (default: a fresh temp folder).
 * @returns {Promise<{ dom: string, screenshot: string }>}
 */
export async function renderFile(file, options = {}) {
  const binary = findChromium();
  if (binary === null) throw new Error('chromium not found: install it (`apt-get install -y chromium`) or set CHROMIUM_PATH');
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file to render`);
  const width = options.width ?? DEFAULT_SIZE.width;
  const height = options.height ?? DEFAULT_SIZE.height;
  const outDir = options.outDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'blux-chromium-shot-'));
  const url = pathToFileURL(path.resolve(file)).href;

  const dom = await runChromium(binary, ['--dump-dom', url]);
  screenshotCounter++;
  const screenshot = path.join(outDir, `${path.basename(file)}-${width}x${height}-${screenshotCounter}.png`);
  await runChromium(binary, [`--screenshot=${screenshot}`, `--window-size=${width},${height}`, url]);
  if (!fs.existsSync(screenshot)) throw new Error(`chromium reported success but wrote no screenshot for ${file}`);
  return { dom, screenshot };
}

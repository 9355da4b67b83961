// The bench chart (`blux-reg bench --svg`) in a real browser: a quick run of
// the compiled CLI on the smallest data (three suites, covering every kind of
// bar: references, backend-independent code, native, js, wasm, auto, openssl)
// writes the SVG and its JSON report; headless Chromium renders the SVG, and
// the check looks at the DOM Chromium built and at the screenshot.
// BENCH_SVG=out.svg BENCH_JSON=out.json checks an existing chart instead
// (e.g. the one of `npm run bench -- --quick --json out.json --svg out.svg`).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { decodePng, pixelVariety } from './png.mjs';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SUITES = ['canonical', 'ledger-chain', 'verify-batch'];

async function chartAndReport(tmpDir) {
  if (process.env.BENCH_SVG !== undefined && process.env.BENCH_JSON !== undefined) {
    return { svg: process.env.BENCH_SVG, json: process.env.BENCH_JSON };
  }
  const svg = path.join(tmpDir, 'bench.svg');
  const json = path.join(tmpDir, 'bench.json');
  await promisify(execFile)(process.execPath, [CLI, 'bench', '--quick', '--size', 'tiny', '--no-progress', '--suite', ...SUITES, '--svg', svg, '--json', json], { maxBuffer: 16 * 1024 * 1024 });
  return { svg, json };
}

/** The legend's entries as Chromium parsed them: backend name and swatch colour. */
function legendOf(dom) {
  const legend = /<g class="legend">([^]*?)<\/g>/.exec(dom);
  assert.ok(legend, 'the rendered DOM has no legend group');
  const swatches = [...legend[1].matchAll(/<rect [^>]*fill="#([0-9a-fA-F]{6})"[^>]*>(?:<\/rect>)?<text [^>]*>([^<]+)<\/text>/g)];
  return swatches.map((m) => ({ backend: m[2], rgb: [0, 2, 4].map((i) => parseInt(m[1].slice(i, i + 2), 16)) }));
}

function colours(png) {
  const seen = new Set();
  for (let i = 0; i < png.pixels.length; i += png.channels) seen.add(`${png.pixels[i]},${png.pixels[i + 1]},${png.pixels[i + 2]}`);
  return seen;
}

export default async function check(ctx) {
  const { svg, json } = await chartAndReport(ctx.tmpDir);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  const backends = [...new Set(report.entries.map((e) => e.backend))];
  assert.ok(backends.length >= 3, `the report has only ${backends.length} backends`);

  const height = Number(/<svg [^>]*height="(\d+)"/.exec(fs.readFileSync(svg, 'utf8'))?.[1]);
  assert.ok(height > 100, 'the SVG has no usable height');
  const { dom, screenshot } = await ctx.renderFile(svg, { width: 1000, height });

  // Every backend of the report is in the legend and has its own group of bars, one bar per entry.
  const legend = legendOf(dom);
  assert.deepEqual(legend.map((l) => l.backend).sort(), [...backends].sort(), 'legend backends');
  for (const backend of backends) {
    const group = new RegExp(`<g class="backend" data-backend="${backend}">([^]*?)</g>`).exec(dom);
    assert.ok(group, `no bar group for backend ${backend}`);
    const bars = (group[1].match(/<rect /g) ?? []).length;
    assert.equal(bars, report.entries.filter((e) => e.backend === backend).length, `bars of ${backend}`);
    assert.ok(group[1].includes(`>${backend}: `), `the bars of ${backend} carry no value label`);
  }
  for (const entry of report.entries) assert.ok(dom.includes(entry.title.replaceAll('&', '&amp;')), `case title "${entry.title}" missing`);

  // The picture is a chart, not a blank page: text and bars in several colours, each backend's painted.
  const png = decodePng(screenshot);
  const variety = pixelVariety(png);
  assert.ok(variety.distinctColors > 20, `only ${variety.distinctColors} colours in the screenshot`);
  assert.ok(variety.nonBackgroundShare > 0.03, `only ${(variety.nonBackgroundShare * 100).toFixed(1)}% of the screenshot is not background`);
  const painted = colours(png);
  for (const { backend, rgb } of legend) assert.ok(painted.has(rgb.join(',')), `the colour of ${backend} (${rgb}) is not in the screenshot`);
}

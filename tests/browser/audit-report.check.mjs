// The HTML ledger audit report in a real browser, end to end: a small ledger
// (a keystore key signing its entries, three free-text actors, one with markup
// in its name, over several days with a gap) is written through the compiled
// library (dist/), audited by the CLI (`audit verify-chain --report-html`),
// opened in headless Chromium, and checked in the DOM Chromium built and in
// its screenshot.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildLedgerEntry, formatLedgerTimestamp, serializeLedgerLine } from '../../dist/formats/ledger-entry.js';
import { loadSigner } from '../../dist/store/keystore.js';
import { appendLedgerEntry } from '../../dist/store/ledger-file.js';
import { decodePng, pixelVariety } from './png.mjs';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const SIGNING_KEY = 'alice';
/** `null` stands for the signing key: its entries carry its fingerprint as actor and a sig. */
const ACTORS = [null, 'bob', 'carol', '<b>mallory</b> & co'];
/** Entries per day; 2026-03-03 is left empty on purpose (a gap, not a bar). */
const DAYS = { '2026-03-01': 3, '2026-03-02': 1, '2026-03-04': 4, '2026-03-05': 2 };
const ENTRIES = Object.values(DAYS).reduce((a, b) => a + b, 0);
const PAGE = { width: 1100, height: 1500 };

/** Colors the stylesheet and chart use: seeing them proves the banner and the bars were painted. */
const BAR_BLUE = [0x2f, 0x6d, 0xb5];
const VALID_GREEN = [0xe3, 0xf4, 0xe6];
const INVALID_RED = [0xfd, 0xec, 0xea];

function cli(config, ...args) {
  return spawnSync(process.execPath, [CLI, '--config-dir', config, ...args], { encoding: 'utf8' });
}

/** Writes the ledger; returns the signing key's fingerprint and how many entries it signed. */
async function writeLedger(config, file) {
  execFileSync(process.execPath, [CLI, '--config-dir', config, 'keygen', '--name', SIGNING_KEY, '--no-passphrase'], { stdio: 'ignore' });
  const signer = await loadSigner(path.join(config, 'keys'), SIGNING_KEY, async () => '');
  let n = 0;
  let signed = 0;
  for (const [day, count] of Object.entries(DAYS)) {
    for (let i = 0; i < count; i++, n++) {
      const now = new Date(`${day}T${String(8 + i).padStart(2, '0')}:15:00Z`);
      const actor = ACTORS[n % ACTORS.length];
      const fields = { action: n % 3 === 0 ? 'sign' : 'event', actor: actor ?? signer.fingerprint, payload_summary: `entry ${n}` };
      await appendLedgerEntry(file, fields, actor === null ? { now, sign: signer.sign } : { now });
      if (actor === null) signed++;
    }
  }
  return { fingerprint: signer.fingerprint, signed };
}

/** DOM text with tags removed and the usual entities decoded: what a reader sees. */
function visibleText(html) {
  return html.replace(/<[^>]*>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

function element(dom, id) {
  const match = new RegExp(`<(\\w+)[^>]*\\bid="${id}"[^>]*>([\\s\\S]*?)</\\1>`).exec(dom);
  assert.ok(match, `no element #${id} in the rendered DOM`);
  return { tag: match[0], inner: match[2] };
}

function hasColor(png, [r, g, b]) {
  const { pixels, channels } = png;
  for (let i = 0; i < pixels.length; i += channels) {
    if (Math.abs(pixels[i] - r) <= 2 && Math.abs(pixels[i + 1] - g) <= 2 && Math.abs(pixels[i + 2] - b) <= 2) return true;
  }
  return false;
}

function checkScreenshot(file, expectedColors) {
  const png = decodePng(file);
  assert.equal(png.width, PAGE.width, 'screenshot width');
  assert.equal(png.height, PAGE.height, 'screenshot height');
  const variety = pixelVariety(png);
  assert.ok(variety.distinctColors >= 20, `screenshot looks blank: ${variety.distinctColors} colors`);
  assert.ok(variety.nonBackgroundShare >= 0.02, `screenshot looks blank: ${(variety.nonBackgroundShare * 100).toFixed(2)}% non-background pixels`);
  for (const [name, color] of Object.entries(expectedColors)) assert.ok(hasColor(png, color), `no ${name} pixels in the screenshot`);
}

/** A ledger with `perDay(i)` entries on each of `days` days from `start`, written in one go (no lock or fsync per line). */
function writeSpanLedger(file, start, days, perDay) {
  const lines = [];
  let prev = null;
  const t0 = Date.parse(`${start}T12:00:00Z`);
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < perDay(d); i++) {
      const entry = buildLedgerEntry({ action: 'event', actor: `actor-${d % 5}`, payload_summary: `day ${d} #${i}` }, prev, formatLedgerTimestamp(new Date(t0 + d * 86_400_000 + i * 1000)));
      lines.push(serializeLedgerLine(entry));
      prev = entry.entry_hash;
    }
  }
  fs.writeFileSync(file, lines.join(''));
}

function chartBars(dom) {
  return [...dom.matchAll(/<rect class="bar" data-bucket="([^"]+)" data-count="(\d+)"[^>]*\bwidth="([\d.]+)" height="([\d.]+)"/g)]
    .map((m) => ({ bucket: m[1], count: Number(m[2]), width: Number(m[3]), height: Number(m[4]) }));
}

/** The chart stays legible from one day to years: few enough bars, each wide and tall enough to see, counts preserved. */
async function checkChartSpans(ctx, config) {
  const spans = [
    { name: 'one-day', start: '2026-05-01', days: 1, perDay: () => 7, unit: 'day', bars: 1 },
    { name: 'three-years', start: '2023-01-01', days: 3 * 365, perDay: (d) => 1 + (d % 3), unit: 'month', bars: 36 },
  ];
  for (const span of spans) {
    const ledger = path.join(ctx.tmpDir, `${span.name}.jsonl`);
    writeSpanLedger(ledger, span.start, span.days, span.perDay);
    const { report, dom, screenshot } = await renderReport(ctx, config, ledger, span.name, 0);
    assert.match(dom, new RegExp(`<svg[^>]*id="entries-chart"[^>]*data-unit="${span.unit}"`), `${span.name}: chart unit`);
    const bars = chartBars(dom);
    assert.equal(bars.length, span.bars, `${span.name}: bars`);
    assert.equal(bars.reduce((sum, b) => sum + b.count, 0), report.entries, `${span.name}: the bars add up to the entries`);
    for (const bar of bars) assert.ok(bar.width >= 4 && bar.height >= 1, `${span.name}: bar ${bar.bucket} is ${bar.width} x ${bar.height}`);
    const labels = [...dom.matchAll(/class="x-tick"[^>]*>([^<]+)</g)].map((m) => m[1]);
    assert.ok(labels.length >= 1 && labels.length <= 10, `${span.name}: ${labels.length} x labels`);
    checkScreenshot(screenshot, { 'green verdict banner': VALID_GREEN, 'chart bar': BAR_BLUE });
  }
}

/** Audits through the CLI (which writes the HTML page), then renders the page. */
async function renderReport(ctx, config, ledger, name, expectedExit) {
  const htmlFile = path.join(ctx.tmpDir, `${name}.html`);
  const run = cli(config, 'audit', 'verify-chain', '--ledger', ledger, '--jobs', '1', '--json', '--report-html', htmlFile);
  assert.equal(run.status, expectedExit, `audit verify-chain exit code (stderr: ${run.stderr})`);
  return { report: JSON.parse(run.stdout), ...(await ctx.renderFile(htmlFile, PAGE)) };
}

export default async function auditReportCheck(ctx) {
  const config = path.join(ctx.tmpDir, 'config');
  const ledger = path.join(ctx.tmpDir, 'ledger.jsonl');
  const key = await writeLedger(config, ledger);

  // A valid ledger.
  const valid = await renderReport(ctx, config, ledger, 'valid', 0);
  assert.equal(valid.report.status, 'valid');
  const verdict = element(valid.dom, 'verdict');
  assert.match(verdict.tag, /class="verdict valid"/);
  assert.match(visibleText(verdict.inner), new RegExp(`VALID: the chain of ${ENTRIES} entries is intact`));
  assert.match(visibleText(element(valid.dom, 'summary-entries').inner), new RegExp(`Entries ${ENTRIES}\\b`));
  assert.match(visibleText(element(valid.dom, 'summary-time-range').inner), /2026-03-01T08:15:00\+00:00 to 2026-03-05T09:15:00\+00:00/);
  assert.ok(visibleText(element(valid.dom, 'summary-head').inner).includes(`--expect-head ${valid.report.last_hash}@${ENTRIES}`), 'head hash and line');

  // One bar per non-empty day, in order, each with a visible height; none for the empty day.
  const bars = [...valid.dom.matchAll(/<rect class="bar" data-bucket="([^"]+)" data-count="(\d+)"[^>]*\bheight="([\d.]+)"/g)]
    .map((m) => ({ day: m[1], count: Number(m[2]), height: Number(m[3]) }));
  assert.deepEqual(bars.map((b) => [b.day, b.count]), Object.entries(DAYS));
  for (const bar of bars) assert.ok(bar.height >= 1, `bar ${bar.day} has height ${bar.height}`);
  assert.ok(bars[2].height > bars[1].height, 'a day with 4 entries must be taller than one with 1');

  // Every actor is listed, as text: the markup in a name must not become an element.
  const actors = visibleText(element(valid.dom, 'actors').inner);
  for (const actor of ACTORS) assert.ok(actors.includes(actor ?? key.fingerprint), `actor ${actor ?? key.fingerprint} is not listed`);
  assert.ok(!/<b>mallory/.test(valid.dom), 'an actor name was interpreted as markup');
  // The keystore key's signatures were checked and its row says so: actor, entries, signed, key, valid, invalid, unverified.
  const signerRow = new RegExp(`${key.fingerprint} ${key.signed} ${key.signed} trusted key ${key.signed} 0 0`);
  assert.match(visibleText(element(valid.dom, 'signers').inner), signerRow);
  checkScreenshot(valid.screenshot, { 'green verdict banner': VALID_GREEN, 'chart bar': BAR_BLUE });

  // The same ledger with line 5 edited: a red banner naming the line.
  const lines = fs.readFileSync(ledger, 'utf8').split('\n');
  lines[4] = lines[4].replace('entry 4', 'entry 4 (edited)');
  fs.writeFileSync(ledger, lines.join('\n'));
  const invalid = await renderReport(ctx, config, ledger, 'invalid', 1);
  assert.equal(invalid.report.status, 'invalid');
  const badVerdict = element(invalid.dom, 'verdict');
  assert.match(badVerdict.tag, /class="verdict invalid"/);
  assert.match(visibleText(badVerdict.inner), /INVALID at line 5: entry-hash-mismatch/);
  checkScreenshot(invalid.screenshot, { 'red verdict banner': INVALID_RED, 'chart bar': BAR_BLUE });

  await checkChartSpans(ctx, config);
}

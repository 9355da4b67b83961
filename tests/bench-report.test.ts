// The bench report and its forms, without real timing: the harness runs real suites' preparation
// with a fake timer (deterministic times), then the JSON is checked against its schema, the markdown
// table's shape, and the SVG as XML with one bar group per backend. One tiny suite also goes
// through the real tinybench timer, to prove the wiring (its figures are not asserted).
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';

import { BENCH_SUITES } from '../src/bench/registry.js';
import { readyBackend } from '../src/bench/backends.js';
import { wasmSha256Implementation } from '../src/engine/backends/wasm.js';
import { runBench, selectSuites } from '../src/bench/run.js';
import { reportMarkdown } from '../src/bench/markdown.js';
import { backendsOf, reportSvg } from '../src/bench/svg.js';
import { caseEntries, summarizeSamples, type Timer } from '../src/bench/measure.js';
import type { BenchReport, BenchSuite, BenchVariant } from '../src/bench/types.js';
import { REPO_ROOT } from './helpers/cli.js';
import { thrown } from './helpers/errors.js';

const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'schemas', 'bench-report.schema.json'), 'utf8')) as object;
const validate = new Ajv({ strict: true, allErrors: true }).compile(schema);

/** Every reference takes 1 ms per operation; a backend takes (1 + its index in the case) ms. */
const fakeTimer: Timer = async (variants) =>
  new Map(variants.map((v: BenchVariant, i) => [v, { median_ms: 1 + i, mad_ms: 0.1 * (1 + i), samples: 9 }]));

const noTools = { sha256sum: null, openssl: null };

async function fakeRun(suites: readonly BenchSuite[]): Promise<BenchReport> {
  return runBench({ quick: true, size: 'tiny', suitesToRun: suites, timer: fakeTimer, tools: noTools });
}

const pick = (...ids: string[]): BenchSuite[] => BENCH_SUITES.filter((s) => ids.includes(s.id));

describe('bench report', () => {
  it('is valid against schemas/bench-report.schema.json, with ratios to each case reference', async () => {
    const report = await fakeRun(pick('canonical', 'ledger-chain', 'merkle', 'ledger-audit'));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.settings).toEqual({ quick: true, size: 'tiny', suites: ['canonical', 'ledger-chain', 'merkle', 'ledger-audit'] });
    expect([...new Set(report.entries.map((e) => e.case))]).toEqual([
      'canonical/python', 'canonical/jcs', 'ledger-chain/check-line', 'merkle/root', 'merkle/inclusion', 'merkle/ledger-head', 'ledger-audit/chain',
    ]);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.versions['blux-reg']).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.versions['sodium-native']).toMatch(/^\d+\.\d+\.\d+/);

    const chain = report.entries.filter((e) => e.case === 'ledger-chain/check-line');
    expect(chain.map((e) => e.backend)).toEqual(['reference', 'native', 'js', 'wasm']);
    // Fake times 1, 2, 3, 4 ms: ratios are the reference's time over each one's.
    expect(chain.map((e) => e.ratio)).toEqual([1, 1 / 2, 1 / 3, 1 / 4]);
    expect(chain[1]!.throughput).toBeCloseTo(500 / 0.002, 6);
    expect(chain.every((e) => e.reference === 'ledger-chain/check-line/reference')).toBe(true);
    // Without sha256sum and openssl the scenario's reference says so.
    expect(report.entries.find((e) => e.id === 'ledger-audit/chain/reference')!.label).toMatch(/node:crypto \(sha256sum and openssl missing\)/);
  });

  it('every variant of every suite runs and passes its own correctness check (each called once, tiny data)', async () => {
    const called: string[] = [];
    const callOnce: Timer = async (variants) => {
      for (const v of variants) {
        await v.fn();
        called.push(v.label);
      }
      return fakeTimer(variants, { rounds: 1, round: { time: 0, iterations: 1, warmupTime: 0, warmupIterations: 0 } });
    };
    const tools = { sha256sum: '/usr/bin/sha256sum', openssl: '/usr/bin/openssl' };
    const usable = fs.existsSync(tools.sha256sum) && fs.existsSync(tools.openssl) ? tools : noTools;
    const report = await runBench({ quick: true, size: 'tiny', timer: callOnce, tools: usable });
    expect(report.settings.suites).toEqual(BENCH_SUITES.map((s) => s.id));
    expect(called).toHaveLength(report.entries.length);
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
  });

  it('records the backend auto picks per primitive and Ed25519 case', async () => {
    const report = await fakeRun(pick('ed25519'));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.backends.per_primitive).toEqual({
      'ed25519/single': 'native',
      'ed25519/batch64-distinct': 'native',
      'ed25519/batch64-16keys': 'wasm',
      'ed25519/batch1024-distinct': 'wasm',
      'ed25519/batch1024-16keys': 'wasm',
    });
    expect(report.entries.filter((e) => e.suite === 'ed25519')).toHaveLength(5 * 4);
  });

  it('runs a real tinybench measurement end to end (figures not asserted)', async () => {
    const sum: BenchSuite = {
      id: 'tiny-sum',
      title: 'tiny',
      async prepare() {
        const data = Array.from({ length: 100 }, (_, i) => i);
        return {
          cases: [{
            id: 'tiny/sum', title: 'sum of 100', unit: 'op', unitsPerOp: 100,
            reference: { backend: 'reference', label: 'for loop', fn: () => { let s = 0; for (const x of data) s += x; return s; } },
            variants: [{ backend: 'core', label: 'reduce', fn: () => data.reduce((a, b) => a + b, 0) }],
          }],
        };
      },
    };
    const report = await runBench({ quick: true, size: 'tiny', suitesToRun: [sum], tools: noTools });
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.entries.map((e) => e.id)).toEqual(['tiny/sum/reference', 'tiny/sum/core']);
    for (const e of report.entries) expect(e.samples).toBeGreaterThanOrEqual(9);
  });

  it('times the wasm backend with hash-wasm loaded, not its node:crypto stand-in', async () => {
    const ready = await readyBackend('wasm');
    expect(wasmSha256Implementation()).toBe('hash-wasm');
    expect(ready.label).toBe('wasm');
    const prepared = await BENCH_SUITES.find((s) => s.id === 'sha256')!.prepare({ settings: { quick: true, size: 'tiny' }, workDir: '/nonexistent', tools: noTools });
    expect(prepared.cases[0]!.variants.map((v) => v.label)).toEqual(['native', 'js', 'wasm']);
  });

  it('summarizes samples as median and median absolute deviation', () => {
    expect(summarizeSamples([5, 1, 3])).toEqual({ median_ms: 3, mad_ms: 2, samples: 3 });
    expect(summarizeSamples([1, 2, 3, 10])).toEqual({ median_ms: 2.5, mad_ms: 1, samples: 4 });
  });

  it('refuses an unknown suite, naming the known ones', () => {
    const error = thrown(() => selectSuites(BENCH_SUITES, ['sha256', 'nope']));
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toContain('unknown bench suite "nope" (expected sha256, ed25519, canonical, ledger-chain, merkle, verify-batch, ledger-audit)');
  });

  it('builds no entry for a case without a reference timing', () => {
    const reference = { backend: 'reference', label: 'r', fn: () => 0 };
    const benchCase = { id: 'x/y', title: 'x', unit: 'B', unitsPerOp: 1, reference, variants: [] };
    expect(thrown(() => caseEntries('x', benchCase, new Map())).code).toBe('internal');
  });
});

describe('report forms', () => {
  it('markdown: a header, an alignment row, one row per entry with six cells', async () => {
    const report = await fakeRun(pick('canonical', 'ledger-chain'));
    const lines = reportMarkdown(report).split('\n');
    expect(lines[0]).toBe('| Case | Backend | Median per op | Spread (MAD) | Throughput | Ratio to reference |');
    expect(lines[1]).toBe('| --- | --- | ---: | ---: | ---: | ---: |');
    expect(lines).toHaveLength(2 + report.entries.length);
    for (const line of lines) expect(line.split(' | ')).toHaveLength(6);
    expect(lines[2]).toBe('| Canonical JSON, Python scheme (ledger entries) | reference: JSON.stringify | 1.00 ms | ±10.0% | 200 kdoc/s | 1 (reference) |');
    expect(lines).toContain('| Ledger chain kernel (checkLedgerLine) | wasm | 4.00 ms | ±10.0% | 125 kline/s | 0.25x |');
  });

  it('svg: well-formed XML, one bar group per backend with one bar per entry, every backend in the legend', async () => {
    const report = await fakeRun(pick('canonical', 'ledger-chain'));
    const svg = reportSvg(report);
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg) as { svg: { g: any[] } };
    const groups = doc.svg.g.filter((g) => g.class === 'backend');
    const backends = backendsOf(report.entries);
    expect(backends).toEqual(['reference', 'core', 'native', 'js', 'wasm']);
    expect(groups.map((g) => g['data-backend'])).toEqual(backends);
    for (const group of groups) {
      const bars = [group.rect].flat();
      expect(bars).toHaveLength(report.entries.filter((e) => e.backend === group['data-backend']).length);
    }
    const legend = doc.svg.g.find((g) => g.class === 'legend');
    expect([legend.text].flat().map((t: any) => t['#text'] ?? t)).toEqual(backends);
  });

  it('svg: escapes text and keeps bars inside the chart for ratios far off the axis', async () => {
    const report = await fakeRun(pick('canonical'));
    const odd: BenchReport = {
      ...report,
      entries: report.entries.map((e, i) => ({ ...e, title: `<b>&"${e.title}`, ratio: i === 1 ? 1e-9 : e.ratio })),
    };
    const svg = reportSvg(odd);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('&lt;b&gt;&amp;&quot;Canonical JSON');
    for (const match of svg.matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/g)) {
      expect(Number(match[1]) + Number(match[2])).toBeLessThanOrEqual(1000);
    }
  });
});

// The native kernel (native/blux_native.c, loaded by src/native/addon.ts): sha256Check against the
// NIST CAVP vectors (tests/vectors/nist-sha256, see its SOURCE.md) and node:crypto on random messages
// of every length across the padding edges, one wrong bit caught anywhere in a claimed digest, and
// every malformed call refused with a TypeError or RangeError before anything is written.
// `npm test` builds the addon first (npm run build), so it must be there.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

import { nativeAddon, nativeAddonStatus, selfTested, type NativeAddon } from '../src/native/addon.js';
import { generateLedgerLines } from './ledger-audit-fixtures.js';
import { mulberry32 } from './helpers/random.js';

const NIST_DIR = path.join(import.meta.dirname, 'vectors', 'nist-sha256');
const REPO = path.join(import.meta.dirname, '..');

function nistVectors(fileName: string): Array<{ message: Buffer; digest: Buffer }> {
  const text = readFileSync(path.join(NIST_DIR, fileName), 'utf8');
  const pattern = /^Len = (\d+)\r?\nMsg = ([0-9a-f]+)\r?\nMD = ([0-9a-f]{64})\r?$/gm;
  return [...text.matchAll(pattern)].map(([, bits, msg, md]) => ({ message: Buffer.from(msg!, 'hex').subarray(0, Number(bits) / 8), digest: Buffer.from(md!, 'hex') }));
}

/** Messages packed back to back, as the ledger scanner packs them: data, offsets (count + 1), claimed digests. */
function pack(messages: readonly Uint8Array[], digests: readonly Uint8Array[]): { data: Uint8Array; offsets: Int32Array; claimed: Uint8Array } {
  const offsets = new Int32Array(messages.length + 1);
  messages.forEach((m, i) => (offsets[i + 1] = offsets[i]! + m.length));
  const data = new Uint8Array(offsets[messages.length]!);
  messages.forEach((m, i) => data.set(m, offsets[i]!));
  const claimed = new Uint8Array(32 * digests.length);
  digests.forEach((d, i) => claimed.set(d, 32 * i));
  return { data, offsets, claimed };
}

const sha256 = (message: Uint8Array): Buffer => createHash('sha256').update(message).digest();

function addon(): NativeAddon {
  const loaded = nativeAddon();
  if (loaded === null) throw new Error(`the native addon did not load: ${nativeAddonStatus().unavailableBecause}`);
  return loaded;
}

describe('native addon: sha256Check', () => {
  it('is built and loads', () => {
    expect(nativeAddonStatus().unavailableBecause).toBeNull();
  });

  it('NIST ShortMsg and LongMsg, all in one call: every digest matches, and none does against the next vector\'s', () => {
    const vectors = [...nistVectors('SHA256ShortMsg.rsp'), ...nistVectors('SHA256LongMsg.rsp')];
    expect(vectors.length).toBe(129);
    const messages = vectors.map((v) => v.message);
    const right = pack(messages, vectors.map((v) => v.digest));
    const matches = new Uint8Array(vectors.length).fill(7);
    addon().sha256Check(right.data, right.offsets, vectors.length, right.claimed, matches);
    expect([...matches]).toEqual(vectors.map(() => 1));
    const shifted = pack(messages, vectors.map((_, i) => vectors[(i + 1) % vectors.length]!.digest));
    addon().sha256Check(shifted.data, shifted.offsets, vectors.length, shifted.claimed, matches);
    expect([...matches]).toEqual(vectors.map(() => 0));
  });

  it('random messages of every length 0-300 (padding edges 55/56/64 and beyond) against node:crypto, a flipped bit caught in any byte', () => {
    const random = mulberry32(20261123);
    const messages = Array.from({ length: 301 }, (_, length) => Uint8Array.from({ length }, () => Math.floor(random() * 256)));
    const digests = messages.map((m) => Uint8Array.from(sha256(m)));
    const wanted = messages.map(() => 1);
    for (let i = 0; i < messages.length; i += 3) {
      const bit = Math.floor(random() * 256);
      digests[i]![bit >> 3]! ^= 1 << (bit & 7);
      wanted[i] = 0;
    }
    const { data, offsets, claimed } = pack(messages, digests);
    const matches = new Uint8Array(messages.length);
    addon().sha256Check(data, offsets, messages.length, claimed, matches);
    expect([...matches]).toEqual(wanted);
  });

  it('reads views where they start: a subarray of a larger buffer, messages not at offset 0, count below the arrays\' lengths', () => {
    const messages = ['{"a":1}', '', '{"prev_hash":null}'].map((s) => Buffer.from(s));
    const { data, offsets, claimed } = pack(messages, messages.map(sha256));
    const big = new Uint8Array(data.length + 20);
    big.set(data, 10);
    const shiftedOffsets = new Int32Array(10);
    offsets.forEach((o, i) => (shiftedOffsets[i] = o + 10));
    const matches = new Uint8Array(10).fill(9);
    addon().sha256Check(big, shiftedOffsets, 2, claimed, matches);
    expect([...matches]).toEqual([1, 1, 9, 9, 9, 9, 9, 9, 9, 9]);
    addon().sha256Check(big.subarray(10), offsets, 3, claimed, matches);
    expect([...matches.subarray(0, 3)]).toEqual([1, 1, 1]);
  });

  it('is used only after a self-test that a kernel saying yes (or no) to everything fails', () => {
    expect(selfTested(addon())).toBe(addon());
    expect(() => selfTested({})).toThrow(/no sha256Check function/);
    expect(() => selfTested({ sha256Check: (_d, _o, count, _c, matches) => matches.fill(1, 0, count) })).toThrow(/self-test on "abc" failed \(1,1 instead of 1,0\)/);
    expect(() => selfTested({ sha256Check: () => undefined })).toThrow(/self-test on "abc" failed \(0,0 instead of 1,0\)/);
  });

  it('count 0 reads and writes nothing, whatever the arrays', () => {
    const matches = new Uint8Array(1).fill(5);
    addon().sha256Check(new Uint8Array(0), new Int32Array(0), 0, new Uint8Array(0), matches);
    expect(matches[0]).toBe(5);
  });

  describe('refuses malformed calls before writing anything', () => {
    const messages = [Buffer.from('abc'), Buffer.from('defg')];
    const good = pack(messages, messages.map(sha256));
    type Args = Parameters<NativeAddon['sha256Check']>;
    const base = (): Args => [good.data, good.offsets, 2, good.claimed, new Uint8Array(2).fill(4)];
    const cases: Array<[string, (a: Args) => unknown[], 'TypeError' | 'RangeError', RegExp]> = [
      ['too few arguments', (a) => a.slice(0, 4), 'TypeError', /takes 5 arguments/],
      ['data not a Uint8Array', (a) => [Array.from(a[0]), ...a.slice(1)], 'TypeError', /data must be a Uint8Array/],
      ['offsets a Uint32Array', (a) => [a[0], Uint32Array.from(a[1]), ...a.slice(2)], 'TypeError', /offsets must be an Int32Array/],
      ['claimed a string', (a) => [a[0], a[1], a[2], 'x', a[4]], 'TypeError', /claimed must be a Uint8Array/],
      ['matches a Uint16Array', (a) => [...a.slice(0, 4), new Uint16Array(2)], 'TypeError', /matches must be a Uint8Array/],
      ['offsets over a SharedArrayBuffer', (a) => [a[0], new Int32Array(new SharedArrayBuffer(12)), ...a.slice(2)], 'TypeError', /offsets must be an Int32Array over an ArrayBuffer/],
      ['count a string', (a) => [a[0], a[1], '2', a[3], a[4]], 'TypeError', /count must be a number/],
      ['count negative', (a) => [a[0], a[1], -1, a[3], a[4]], 'RangeError', /count must be an integer/],
      ['count fractional', (a) => [a[0], a[1], 1.5, a[3], a[4]], 'RangeError', /count must be an integer/],
      ['count NaN', (a) => [a[0], a[1], Number.NaN, a[3], a[4]], 'RangeError', /count must be an integer/],
      ['count 2^32', (a) => [a[0], a[1], 2 ** 32, a[3], a[4]], 'RangeError', /count must be an integer/],
      ['count above the offsets', (a) => [a[0], a[1], 3, new Uint8Array(96), new Uint8Array(3)], 'RangeError', /offsets needs count \+ 1/],
      ['claimed too short', (a) => [a[0], a[1], 2, new Uint8Array(63), a[4]], 'RangeError', /claimed needs 32 bytes/],
      ['matches too short', (a) => [...a.slice(0, 4), new Uint8Array(1)], 'RangeError', /matches needs one byte/],
      ['negative first offset', (a) => [a[0], Int32Array.of(-1, 3, 7), ...a.slice(2)], 'RangeError', /must not be negative/],
      ['decreasing offsets', (a) => [a[0], Int32Array.of(0, 5, 4), ...a.slice(2)], 'RangeError', /must not decrease/],
      ['a message past the end', (a) => [a[0], Int32Array.of(0, 3, 8), ...a.slice(2)], 'RangeError', /past the end of data/],
    ];
    it('matches sharing memory with offsets (writing it would change checked offsets), with data or with claimed', () => {
      const check = addon().sha256Check;
      // offsets [0, 3, 7] and matches over the same bytes as offsets[2]: once refused, offsets are as they were.
      const shared = new ArrayBuffer(16);
      const offsets = new Int32Array(shared, 0, 3);
      offsets.set([0, 3, 7]);
      for (const matches of [new Uint8Array(shared, 9, 2), new Uint8Array(shared, 0, 2)]) {
        expect(() => check(good.data, offsets, 2, good.claimed, matches)).toThrow(/matches must not share memory/);
        expect([...offsets]).toEqual([0, 3, 7]);
      }
      expect(() => check(good.data, good.offsets, 2, good.claimed, good.data.subarray(5, 7))).toThrow(/matches must not share memory/);
      expect(() => check(good.data, good.offsets, 2, good.claimed, good.claimed.subarray(60, 62))).toThrow(/matches must not share memory/);
      // Next to each other is not sharing.
      const row = new ArrayBuffer(16);
      const beside = new Int32Array(row, 0, 3);
      beside.set([0, 3, 7]);
      const after = new Uint8Array(row, 12, 2);
      check(good.data, beside, 2, good.claimed, after);
      expect([...after]).toEqual([1, 1]);
    });

    for (const [name, mutate, type, message] of cases) {
      it(name, () => {
        const args = base();
        const called = mutate(args);
        const matches = called[4];
        const check = addon().sha256Check as (...a: unknown[]) => void;
        let error: unknown;
        try {
          check(...called);
        } catch (e) {
          error = e;
        }
        expect(error, name).toBeInstanceOf(Error);
        expect((error as Error).name).toBe(type);
        expect((error as Error).message).toMatch(message);
        if (matches instanceof Uint8Array && matches.length === 2) expect([...matches]).toEqual([4, 4]);
      });
    }
  });
});

describe('without the addon', () => {
  const script = `
    import { nativeAddonStatus } from './dist/native/addon.js';
    import { defaultLedgerKernel, getLedgerKernel, availableLedgerKernels } from './dist/audit/kernels.js';
    let refused = null;
    try { getLedgerKernel('native'); } catch (e) { refused = e.code + ': ' + e.message; }
    console.log(JSON.stringify({ status: nativeAddonStatus().unavailableBecause, kernel: defaultLedgerKernel(), available: availableLedgerKernels(), refused }));
  `;
  type Seen = { status: string | null; kernel: string; available: string[]; refused: string | null };
  const run = (env: NodeJS.ProcessEnv): Seen => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Seen;
  };

  it('BLUX_REG_NATIVE_ADDON=off: the library says why, defaults to the node:crypto kernel and refuses the native one by name', () => {
    const off = run({ BLUX_REG_NATIVE_ADDON: 'off' });
    expect(off.status).toMatch(/BLUX_REG_NATIVE_ADDON=off/);
    expect(off.kernel).toBe('node');
    expect(off.available).toEqual(['node', 'wasm']);
    expect(off.refused).toMatch(/^invalid-argument: the native ledger kernel is not available: .*choose node or wasm/);
    const on = run({ BLUX_REG_NATIVE_ADDON: '' });
    expect(on).toEqual({ status: null, kernel: 'native', available: ['native', 'node', 'wasm'], refused: null });
  });

  it('a copy of the library without the compiled file: the load fails softly and names the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-no-addon-'));
    try {
      copyFileSync(path.join(REPO, 'dist', 'native', 'addon.js'), path.join(dir, 'addon.js'));
      writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { nativeAddonStatus } from ${JSON.stringify(pathToFileURL(path.join(dir, 'addon.js')).href)}; const s = nativeAddonStatus(); console.log(JSON.stringify({ loaded: s.addon !== null, why: s.unavailableBecause }));`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const seen = JSON.parse(r.stdout) as { loaded: boolean; why: string };
      expect(seen.loaded).toBe(false);
      expect(seen.why).toContain(`cannot load ${path.join(dir, 'blux_native.node')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the CLI audits the same with BLUX_REG_NATIVE_ADDON=off (node kernel), and refuses --kernel native with exit 2', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'blux-no-addon-cli-'));
    try {
      const ledger = path.join(dir, 'ledger.jsonl');
      writeFileSync(ledger, generateLedgerLines(25, { seed: 31 }).map((l) => `${l}\n`).join(''));
      const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
        spawnSync(process.execPath, [path.join(REPO, 'dist', 'cli', 'main.js'), '--config-dir', path.join(dir, 'config'), 'audit', 'verify-chain', '--ledger', ledger, '--json', ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
      const off = cli({ BLUX_REG_NATIVE_ADDON: 'off' });
      const on = cli({ BLUX_REG_NATIVE_ADDON: '' });
      expect(off.status, off.stderr).toBe(0);
      expect(on.status, on.stderr).toBe(0);
      type Report = { backend: string; status: string; entries: number; last_hash: string; actions: Record<string, number> };
      const offReport = JSON.parse(off.stdout) as Report;
      const onReport = JSON.parse(on.stdout) as Report;
      expect([offReport.backend, onReport.backend]).toEqual(['node+auto', 'native+auto']);
      const verdict = (r: Report) => ({ status: r.status, entries: r.entries, last_hash: r.last_hash, actions: r.actions });
      expect(verdict(offReport)).toEqual(verdict(onReport));
      expect(onReport).toMatchObject({ status: 'valid', entries: 25 });
      const refused = cli({ BLUX_REG_NATIVE_ADDON: 'off' }, '--kernel', 'native');
      expect(refused.status).toBe(2);
      expect(refused.stdout + refused.stderr).toMatch(/native ledger kernel is not available/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

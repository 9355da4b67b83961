// The native kernel (native/blux_native.c and ledger_scan.c, loaded by src/native/addon.ts): its
// SHA-256 of each canonical line without entry_hash against node:crypto on lines of every length
// across the padding edges, one wrong hex digit caught anywhere in a claimed hash, its name table,
// and every malformed call refused with a TypeError or RangeError before anything is written. Its
// columns against the JS scanner are in ledger-audit-kernel.test.ts.
// `npm test` builds the addon first (npm run build), so it must be there.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

import { COLUMN_NAMES, RUN_FIELDS, RUN_INTS_PER_ROW } from '../src/audit/line-scanner.js';
import { nativeAddon, nativeAddonStatus, selfTested, type NativeAddon, type NativeNames } from '../src/native/addon.js';
import { generateLedgerLines } from './ledger-audit-fixtures.js';
import { mulberry32 } from './helpers/random.js';

const REPO = path.join(import.meta.dirname, '..');
const MATCHED = COLUMN_NAMES.indexOf('matched');
const KIND = COLUMN_NAMES.indexOf('kind');

function addon(): NativeAddon {
  const loaded = nativeAddon();
  if (loaded === null) throw new Error(`the native addon did not load: ${nativeAddonStatus().unavailableBecause}`);
  return loaded;
}

interface Scanned {
  rows: number;
  fastRows: number;
  consumed: number;
  lastTerminated: number;
  runCount: number;
  runs: Int32Array;
  column(name: (typeof COLUMN_NAMES)[number]): Int32Array;
}

/** One scanLines call over `text` with room for `rows` lines. */
function scanText(text: string | Uint8Array, rows = 512, names: NativeNames = addon().createNames()): Scanned {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const columns = new Int32Array(COLUMN_NAMES.length * (rows + 1));
  const runs = new Int32Array(RUN_INTS_PER_ROW * rows);
  const result = new Int32Array(5);
  addon().scanLines(bytes, bytes.length, true, columns, rows, names, runs, result);
  const stride = rows + 1;
  return {
    rows: result[0]!, fastRows: result[1]!, consumed: result[2]!, lastTerminated: result[3]!, runCount: result[4]!, runs,
    column: (name) => columns.subarray(COLUMN_NAMES.indexOf(name) * stride, (COLUMN_NAMES.indexOf(name) + 1) * stride),
  };
}

const sha256Hex = (message: string): string => createHash('sha256').update(message).digest('hex');

describe('native addon: scanLines', () => {
  it('is built and loads', () => {
    expect(nativeAddonStatus().unavailableBecause).toBeNull();
  });

  it('hashes lines of every length (messages 18-400 bytes: the padding edges 55/56/64 and beyond) as node:crypto does, and catches a wrong digit anywhere', () => {
    const random = mulberry32(20261123);
    const lines: string[] = [];
    const wanted: number[] = [];
    for (let pad = 0; pad <= 382; pad++) {
      // Printable ASCII but `"` and `\`: the value stays a plain JSON string.
      const value = Array.from({ length: pad }, () => { let c = 0x20 + Math.floor(random() * 95); if (c === 0x22 || c === 0x5c) c = 0x61; return String.fromCharCode(c); }).join('');
      const message = `{"a":${JSON.stringify(value)},"prev_hash":null}`;
      let hash = sha256Hex(message);
      let verifies = 1;
      if (pad % 3 === 1) {
        const at = Math.floor(random() * 64);
        hash = hash.slice(0, at) + (hash[at] === '0' ? '1' : '0') + hash.slice(at + 1);
        verifies = 0;
      }
      lines.push(`{"a":${JSON.stringify(value)},"entry_hash":"${hash}","prev_hash":null}`);
      wanted.push(verifies);
    }
    const scanned = scanText(lines.map((l) => `${l}\n`).join(''));
    expect(scanned.fastRows).toBe(lines.length);
    expect([...scanned.column('matched').subarray(0, lines.length)]).toEqual(wanted);
  });

  it('cuts the entry_hash member with the comma after it, first or between members (prev_hash always follows it)', () => {
    const messages = ['{"prev_hash":null}', '{"a":1,"prev_hash":null}', '{"a":1,"b":2}'];
    const lines = [
      `{"entry_hash":"${sha256Hex(messages[0]!)}","prev_hash":null}`,
      `{"a":1,"entry_hash":"${sha256Hex(messages[1]!)}","prev_hash":null}`,
      // prev_hash is required for the fast path: this line goes slow whatever its hash.
      `{"a":1,"b":2,"entry_hash":"${sha256Hex(messages[2]!)}"}`,
      `{"a":1,"b":2,"entry_hash":"${sha256Hex('{"a":1,"b":2,"prev_hash":null}')}","prev_hash":null}`,
    ];
    const scanned = scanText(lines.map((l) => `${l}\n`).join(''));
    expect([...scanned.column('kind').subarray(0, 4)]).toEqual([1, 1, 2, 1]);
    expect([...scanned.column('matched').subarray(0, 3)]).toEqual([1, 1, 1]);
    const offsets = scanned.column('offsets');
    expect([offsets[1]! - offsets[0]!, offsets[2]! - offsets[1]!]).toEqual([messages[0]!.length, messages[1]!.length]);
  });

  it('takes a last line without "\\n" only at the end, stops at the row limit and says where', () => {
    const line = `{"entry_hash":"${sha256Hex('{"prev_hash":null}')}","prev_hash":null}`;
    const bytes = new TextEncoder().encode(`${line}\n\n${line}`);
    const columns = new Int32Array(COLUMN_NAMES.length * 11);
    const runs = new Int32Array(RUN_INTS_PER_ROW * 10);
    const result = new Int32Array(5);
    const names = addon().createNames();
    // The two lines do not link (both have prev_hash null): each is a run of its own, but never the torn last line.
    addon().scanLines(bytes, bytes.length, false, columns, 10, names, runs, result);
    expect([...result]).toEqual([2, 1, line.length + 2, 1, 1]);
    addon().scanLines(bytes, bytes.length, true, columns, 10, names, runs, result);
    expect([...result]).toEqual([3, 2, bytes.length, 0, 1]);
    addon().scanLines(bytes, bytes.length, true, columns, 1, names, runs, result);
    expect([...result]).toEqual([1, 1, line.length + 1, 1, 1]);
    // Only the first `filled` bytes are read.
    addon().scanLines(bytes, line.length - 1, true, columns, 10, names, runs, result);
    expect([...result]).toEqual([1, 0, line.length - 1, 0, 0]);
    expect(columns[KIND * 11]).toBe(2);
  });

  it('interns action, actor and day names in first-seen order, in a table that lasts across calls', () => {
    const a = addon();
    const names = a.createNames();
    const entry = (action: string, actor: string, ts: string): string => {
      const body = { action, actor, prev_hash: null, ts };
      const message = JSON.stringify(body);
      return JSON.stringify({ action, actor, entry_hash: sha256Hex(message), prev_hash: null, ts });
    };
    const first = scanText(`${entry('sign', 'alice', '2026-01-20T00:00:00+00:00')}\n${entry('verify', 'alice', '2026-01-21T00:00:00+00:00')}\n`, 8, names);
    expect([...first.column('actionId').subarray(0, 2)]).toEqual([0, 3]);
    expect([...first.column('actorId').subarray(0, 2)]).toEqual([1, 1]);
    expect([...first.column('dayId').subarray(0, 2)]).toEqual([2, 4]);
    const second = scanText(`${entry('sign', 'bob', 'not a day')}\n`, 8, names);
    expect([second.column('actionId')[0], second.column('actorId')[0], second.column('dayId')[0]]).toEqual([0, 5, -1]);
    expect(a.nameCount(names)).toBe(6);
    expect(Array.from({ length: 6 }, (_, id) => a.nameOf(names, id))).toEqual(['sign', 'alice', '2026-01-20', 'verify', '2026-01-21', 'bob']);
    expect(() => a.nameOf(names, 6)).toThrow(RangeError);
    expect(a.nameCount(a.createNames())).toBe(0);
  });

  it('is used only after a self-test that a kernel saying yes (or no) to everything fails', () => {
    expect(selfTested(addon())).toBe(addon());
    expect(() => selfTested({})).toThrow(/no alignmentGap, createNames, hashImplementation, nameCount, nameOf, scanLines, sha256StreamDigest, sha256StreamInit, sha256StreamUpdate function/);
    const fake = (matched: number): Partial<NativeAddon> => ({
      ...addon(),
      scanLines: (_bytes, _filled, _atEnd, columns, rows, _names, _runs, result) => {
        result.set([2, 2, 0, 1, 0]);
        columns.fill(matched, MATCHED * (rows + 1), MATCHED * (rows + 1) + rows);
      },
    });
    expect(() => selfTested(fake(1))).toThrow(/self-test failed \(rows 2, canonical 2, verified 1,1; expected 2, 2, 1,0\)/);
    expect(() => selfTested(fake(0))).toThrow(/verified 0,0/);
  });

  describe('refuses malformed calls before writing anything', () => {
    const line = `{"entry_hash":"${sha256Hex('{"prev_hash":null}')}","prev_hash":null}\n`;
    const bytes = new TextEncoder().encode(line.repeat(2));
    type Args = Parameters<NativeAddon['scanLines']>;
    const base = (): Args => [bytes, bytes.length, true, new Int32Array(COLUMN_NAMES.length * 3).fill(-7), 2, addon().createNames(), new Int32Array(RUN_INTS_PER_ROW * 2).fill(-7), new Int32Array(5).fill(-7)];
    const cases: Array<[string, (a: Args) => unknown[], 'TypeError' | 'RangeError', RegExp]> = [
      ['too few arguments', (a) => a.slice(0, 7), 'TypeError', /takes 8 arguments/],
      ['bytes not a Uint8Array', (a) => [Array.from(a[0]), ...a.slice(1)], 'TypeError', /bytes must be a Uint8Array/],
      ['bytes over a SharedArrayBuffer', (a) => [new Uint8Array(new SharedArrayBuffer(8)), 8, ...a.slice(2)], 'TypeError', /bytes must be a Uint8Array over an ArrayBuffer/],
      ['columns a Uint32Array', (a) => [a[0], a[1], a[2], new Uint32Array(a[3].length), ...a.slice(4)], 'TypeError', /columns must be an Int32Array/],
      ['runs a Uint8Array', (a) => [...a.slice(0, 6), new Uint8Array(64), a[7]], 'TypeError', /runs must be an Int32Array/],
      ['result over a SharedArrayBuffer', (a) => [...a.slice(0, 7), new Int32Array(new SharedArrayBuffer(20))], 'TypeError', /result must be an Int32Array over an ArrayBuffer/],
      ['filled a string', (a) => [a[0], '3', ...a.slice(2)], 'RangeError', /filled must be an integer/],
      ['filled negative', (a) => [a[0], -1, ...a.slice(2)], 'RangeError', /filled must be an integer/],
      ['filled fractional', (a) => [a[0], 1.5, ...a.slice(2)], 'RangeError', /filled must be an integer/],
      ['filled NaN', (a) => [a[0], Number.NaN, ...a.slice(2)], 'RangeError', /filled must be an integer/],
      ['filled past the bytes', (a) => [a[0], a[0].length + 1, ...a.slice(2)], 'RangeError', /filled is past the end of bytes/],
      ['atEnd not a boolean', (a) => [a[0], a[1], 1, ...a.slice(3)], 'TypeError', /atEnd must be a boolean/],
      ['rows 0', (a) => [...a.slice(0, 4), 0, ...a.slice(5)], 'RangeError', /rows must be an integer from 1/],
      ['rows 2^20 + 1', (a) => [...a.slice(0, 4), 2 ** 20 + 1, ...a.slice(5)], 'RangeError', /rows must be an integer from 1/],
      ['columns too short for the rows', (a) => [...a.slice(0, 4), 3, ...a.slice(5)], 'RangeError', /columns needs 26 \* \(rows \+ 1\) entries/],
      ['runs too short for the rows', (a) => [...a.slice(0, 6), new Int32Array(RUN_INTS_PER_ROW * 2 - 1), a[7]], 'RangeError', /runs needs 16 \* rows entries/],
      ['result too short', (a) => [...a.slice(0, 7), new Int32Array(4)], 'RangeError', /result needs 5 entries/],
      ['names a plain object', (a) => [...a.slice(0, 5), {}, ...a.slice(6)], 'TypeError', /names must be a name table made by createNames/],
      ['names null', (a) => [...a.slice(0, 5), null, ...a.slice(6)], 'TypeError', /names must be a name table/],
    ];
    for (const [name, mutate, type, message] of cases) {
      it(name, () => {
        const called = mutate(base());
        const scan = addon().scanLines as (...a: unknown[]) => void;
        let error: unknown;
        try {
          scan(...called);
        } catch (e) {
          error = e;
        }
        expect(error, name).toBeInstanceOf(Error);
        expect((error as Error).name).toBe(type);
        expect((error as Error).message).toMatch(message);
        for (const out of [called[3], called[6], called[7]]) if (out instanceof Int32Array) expect(out.every((v) => v === -7 || v === 0)).toBe(true);
      });
    }

    it('outputs sharing memory with the bytes or with each other', () => {
      const scan = addon().scanLines;
      const names = addon().createNames();
      // One buffer: columns | runs | result | 16 spare bytes | the chunk.
      const columnBytes = COLUMN_NAMES.length * 3 * 4;
      const runBytes = RUN_INTS_PER_ROW * 2 * 4;
      const resultAt = columnBytes + runBytes;
      const shared = new ArrayBuffer(resultAt + 20 + 16 + bytes.length);
      const columns = new Int32Array(shared, 0, COLUMN_NAMES.length * 3);
      const runs = new Int32Array(shared, columnBytes, RUN_INTS_PER_ROW * 2);
      const result = new Int32Array(shared, resultAt, 5);
      const inBuffer = new Uint8Array(shared, resultAt + 36, bytes.length);
      inBuffer.set(bytes);
      const at = (byteOffset: number, length: number): Int32Array => new Int32Array(shared, byteOffset, length);
      expect(() => scan(new Uint8Array(shared, columnBytes - 8, 40), 40, true, columns, 2, names, runs, result)).toThrow(/must not share memory/);
      expect(() => scan(inBuffer, bytes.length, true, columns, 2, names, runs, at(columnBytes - 8, 5))).toThrow(/must not share memory/);
      expect(() => scan(inBuffer, bytes.length, true, columns, 2, names, runs, at(resultAt + 36, 5))).toThrow(/must not share memory/);
      expect(() => scan(inBuffer, bytes.length, true, columns, 2, names, at(columnBytes - 4, RUN_INTS_PER_ROW * 2), result)).toThrow(/must not share memory/);
      expect(() => scan(inBuffer, bytes.length, true, columns, 2, names, runs, at(resultAt - 4, 5))).toThrow(/must not share memory/);
      expect(Buffer.from(inBuffer).equals(Buffer.from(bytes))).toBe(true);
      // Next to each other is not sharing.
      scan(inBuffer, bytes.length, true, columns, 2, names, runs, result);
      expect([...result]).toEqual([2, 2, bytes.length, 1, 2]);
      expect([columns[MATCHED * 3], columns[MATCHED * 3 + 1]]).toEqual([1, 1]);
    });

    it('nameOf and nameCount: a bad table or id', () => {
      const a = addon();
      expect(() => a.nameCount({} as NativeNames)).toThrow(TypeError);
      expect(() => (a.nameOf as (...x: unknown[]) => string)(a.createNames(), -1)).toThrow(RangeError);
      expect(() => (a.nameOf as (...x: unknown[]) => string)(a.createNames(), 4096)).toThrow(RangeError);
      expect(() => (a.nameOf as (...x: unknown[]) => string)(a.createNames())).toThrow(/takes 2 arguments/);
    });
  });

  it('hashes the same with the x86 SHA extensions (two lines at a time) and with OpenSSL (BLUX_REG_SHA_NI=off): pairs of unequal block counts, odd counts, messages past the paired limit', () => {
    // Each process scans the same lines (a seeded generator: lengths across block edges, a few over
    // 4 KiB, every third claim wrong) and prints its hash implementation and the matched column.
    const script = `
      import { createHash } from 'node:crypto';
      import { nativeAddon } from './dist/native/addon.js';
      const addon = nativeAddon();
      let seed = 7;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const lines = [];
      for (let i = 0; i < 301; i++) {
        const pad = i % 50 === 0 ? 4000 + i : Math.floor(random() * 300);
        const message = '{"a":"' + 'x'.repeat(pad) + '","prev_hash":null}';
        let hash = createHash('sha256').update(message).digest('hex');
        if (i % 3 === 0) hash = (hash[0] === 'a' ? 'b' : 'a') + hash.slice(1);
        lines.push('{"a":"' + 'x'.repeat(pad) + '","entry_hash":"' + hash + '","prev_hash":null}\\n');
      }
      const bytes = new TextEncoder().encode(lines.join(''));
      const rows = 400, columns = new Int32Array(26 * (rows + 1)), result = new Int32Array(5);
      addon.scanLines(bytes, bytes.length, true, columns, rows, addon.createNames(), new Int32Array(16 * rows), result);
      console.log(JSON.stringify({ implementation: addon.hashImplementation(), fast: result[1], matched: [...columns.subarray(25 * (rows + 1), 25 * (rows + 1) + result[1])] }));
    `;
    const run = (env: NodeJS.ProcessEnv): { implementation: string; fast: number; matched: number[] } => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { implementation: string; fast: number; matched: number[] };
    };
    const openssl = run({ BLUX_REG_SHA_NI: 'off' });
    const fastest = run({ BLUX_REG_SHA_NI: '' });
    expect(openssl.implementation).toBe('openssl');
    // The extensions where the CPU has them (this process may run with BLUX_REG_SHA_NI=off itself).
    expect(['sha-ni', 'openssl']).toContain(fastest.implementation);
    expect(openssl.fast).toBe(301);
    expect(openssl.matched).toEqual(Array.from({ length: 301 }, (_, i) => (i % 3 === 0 ? 0 : 1)));
    expect(fastest.matched).toEqual(openssl.matched);
  });

  it('finds runs: verified, unsigned, linked lines counted by name id, cut by a slow, signed, mismatched or unlinked line', () => {
    const ts = (i: number): string => `2026-01-${String(20 + (i % 2)).padStart(2, '0')}T00:00:0${i % 10}+00:00`;
    const lines: string[] = [];
    let prev: string | null = null;
    const push = (fields: Record<string, unknown>, opts: { wrongHash?: boolean; unlinked?: boolean } = {}): void => {
      const body = { ...fields, prev_hash: opts.unlinked === true ? null : prev };
      const message = JSON.stringify(Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1))));
      let hash = sha256Hex(message);
      if (opts.wrongHash === true) hash = (hash[0] === 'a' ? 'b' : 'a') + hash.slice(1);
      const entry = { ...body, entry_hash: hash };
      lines.push(JSON.stringify(Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : 1)))));
      prev = hash;
    };
    push({ action: 'sign', actor: 'alice', ts: ts(0) }); // 0: run 1
    lines.push(''); //                                      1: blank inside run 1
    push({ action: 'verify', actor: 'bob', ts: ts(1) }); //  2: run 1
    push({ action: 'sign', actor: 'alice', ts: ts(2) }); //  3: run 1
    push({ action: 'sign', actor: 'alice', sig: 'c2ln', ts: ts(3) }); // 4: signed: no run
    push({ action: 'sign', actor: 'alice' }); //             5: run 2 (no ts)
    push({ action: 'sign', actor: 'alice', ts: ts(6) }, { wrongHash: true }); // 6: hash mismatch: no run
    push({ action: 'keygen', actor: 'carol', ts: 'not a day' }); // 7: a ts that is no day: no run
    push({ action: 'keygen', actor: 'carol', ts: ts(8) }); // 8: run 3
    push({ action: 'keygen', actor: 'carol', ts: ts(9) }, { unlinked: true }); // 9: does not link: starts run 4
    lines.push('{"a": 1}'); //                              10: slow
    const scanned = scanText(lines.map((l) => `${l}\n`).join(''), 16);
    expect(scanned.runCount).toBe(4);
    const run = (i: number): number[] => [...scanned.runs.subarray(i * RUN_FIELDS, (i + 1) * RUN_FIELDS)];
    // [first row, last row, entries, first ts row, last ts row, counts start, counts end]
    expect(run(0)).toEqual([0, 3, 3, 0, 3, 0, 6]);
    expect(run(1)).toEqual([5, 5, 1, -1, -1, 6, 8]);
    expect(run(2)).toEqual([8, 8, 1, 8, 8, 8, 11]);
    expect(run(3)).toEqual([9, 9, 1, 9, 9, 11, 14]);
    // The name counts: (kind 0 action, 1 actor, 2 day; id; count), in the order each run first shows them.
    const base = RUN_FIELDS * 16;
    const triple = (k: number): number[] => [...scanned.runs.subarray(base + 3 * k, base + 3 * k + 3)];
    const id = (name: 'actionId' | 'actorId' | 'dayId', row: number): number => scanned.column(name)[row]!;
    expect(Array.from({ length: 6 }, (_, k) => triple(k))).toEqual([
      [0, id('actionId', 0), 2], [1, id('actorId', 0), 2], [2, id('dayId', 0), 2],
      [0, id('actionId', 2), 1], [1, id('actorId', 2), 1], [2, id('dayId', 2), 1],
    ]);
    expect([triple(6), triple(7)]).toEqual([[0, id('actionId', 0), 1], [1, id('actorId', 0), 1]]);
    expect([triple(8), triple(11)]).toEqual([[0, id('actionId', 8), 1], [0, id('actionId', 8), 1]]);
  });

  it('an empty chunk: no rows, nothing read', () => {
    const scanned = scanText(new Uint8Array(0));
    expect([scanned.rows, scanned.fastRows, scanned.consumed]).toEqual([0, 0, 0]);
  });
});

describe('native addon: streaming SHA-256, two files at a time', () => {
  const NIST_DIR = path.join(import.meta.dirname, 'vectors', 'nist-sha256');
  const nistVectors = (fileName: string): Array<{ message: Buffer; digest: string }> => {
    const text = readFileSync(path.join(NIST_DIR, fileName), 'utf8');
    const pattern = /^Len = (\d+)\r?\nMsg = ([0-9a-f]+)\r?\nMD = ([0-9a-f]{64})\r?$/gm;
    return [...text.matchAll(pattern)].map(([, bits, msg, md]) => ({ message: Buffer.from(msg!, 'hex').subarray(0, Number(bits) / 8), digest: md! }));
  };
  const streams = (): boolean => addon().hashImplementation() === 'sha-ni';
  const newState = (): Uint8Array => new Uint8Array(addon().sha256StreamBytes);
  const digestOf = (state: Uint8Array): string => {
    const digest = new Uint8Array(32);
    addon().sha256StreamDigest(state, digest);
    return Buffer.from(digest).toString('hex');
  };
  /** Two messages hashed side by side, fed in pieces of the sizes `cut` picks (0 included). */
  const hashPair = (a: Uint8Array, b: Uint8Array, cut: () => number): [string, string] => {
    const [sa, sb] = [newState(), newState()];
    addon().sha256StreamInit(sa);
    addon().sha256StreamInit(sb);
    let [ia, ib] = [0, 0];
    while (ia < a.length || ib < b.length) {
      const [na, nb] = [Math.min(cut(), a.length - ia), Math.min(cut(), b.length - ib)];
      addon().sha256StreamUpdate(sa, a.subarray(ia, ia + na), sb, b.subarray(ib, ib + nb));
      [ia, ib] = [ia + na, ib + nb];
    }
    return [digestOf(sa), digestOf(sb)];
  };

  it('where the CPU has no SHA extensions, or they are turned off, the streams refuse to run', () => {
    if (streams()) {
      expect(() => addon().sha256StreamInit(newState())).not.toThrow();
    } else {
      expect(() => addon().sha256StreamInit(newState())).toThrow(/SHA extensions are not in use/);
    }
  });

  it('NIST ShortMsg and LongMsg, in pairs side by side, fed whole and in pieces of 0-150 bytes', () => {
    if (!streams()) return expect(() => addon().sha256StreamUpdate(newState(), new Uint8Array(1))).toThrow(/not in use/);
    const vectors = [...nistVectors('SHA256ShortMsg.rsp'), ...nistVectors('SHA256LongMsg.rsp')];
    expect(vectors.length).toBe(129);
    const random = mulberry32(5);
    for (let i = 0; i < vectors.length; i++) {
      const a = vectors[i]!;
      const b = vectors[(i * 37 + 11) % vectors.length]!;
      expect(hashPair(a.message, b.message, () => 1 << 30)).toEqual([a.digest, b.digest]);
      expect(hashPair(a.message, b.message, () => Math.floor(random() * 151))).toEqual([a.digest, b.digest]);
    }
  });

  it('random messages up to 20 KiB of unequal lengths, random pieces, one stream alone too: node:crypto\'s digests', () => {
    if (!streams()) return expect(() => addon().sha256StreamDigest(newState(), new Uint8Array(32))).toThrow(/not in use/);
    const random = mulberry32(77);
    for (let round = 0; round < 60; round++) {
      const a = Uint8Array.from({ length: Math.floor(random() * 20_000) }, () => Math.floor(random() * 256));
      const b = Uint8Array.from({ length: Math.floor(random() * 20_000) }, () => Math.floor(random() * 256));
      const pieces = round % 3 === 0 ? () => 64 : () => Math.floor(random() * 5000);
      expect(hashPair(a, b, pieces)).toEqual([createHash('sha256').update(a).digest('hex'), createHash('sha256').update(b).digest('hex')]);
      const alone = newState();
      addon().sha256StreamInit(alone);
      addon().sha256StreamUpdate(alone, a.subarray(0, 100));
      addon().sha256StreamUpdate(alone, a.subarray(100));
      expect(digestOf(alone)).toBe(createHash('sha256').update(a).digest('hex'));
    }
  });

  it('refuses bad states and overlapping memory before writing anything', () => {
    if (!streams()) return expect(() => addon().sha256StreamInit(newState())).toThrow(/not in use/);
    const a = addon();
    const call = (f: unknown, ...args: unknown[]): unknown => (f as (...x: unknown[]) => unknown)(...args);
    expect(() => call(a.sha256StreamInit, new Uint8Array(a.sha256StreamBytes - 1))).toThrow(/state must be a Uint8Array of sha256StreamBytes bytes/);
    expect(() => call(a.sha256StreamInit, new Uint8Array(new SharedArrayBuffer(a.sha256StreamBytes)))).toThrow(TypeError);
    expect(() => call(a.sha256StreamUpdate, newState())).toThrow(/takes 2 or 4 arguments/);
    expect(() => call(a.sha256StreamUpdate, newState(), 'abc')).toThrow(/dataA must be a Uint8Array/);
    const shared = new Uint8Array(2 * a.sha256StreamBytes + 10);
    const stateA = shared.subarray(0, a.sha256StreamBytes);
    a.sha256StreamInit(stateA);
    const before = Buffer.from(shared);
    expect(() => a.sha256StreamUpdate(stateA, shared.subarray(a.sha256StreamBytes - 5, a.sha256StreamBytes + 5))).toThrow(/must not share memory/);
    expect(() => a.sha256StreamUpdate(stateA, new Uint8Array(3), shared.subarray(5, 5 + a.sha256StreamBytes), new Uint8Array(3))).toThrow(/must not share memory/);
    expect(Buffer.from(shared).equals(before)).toBe(true);
    // A state whose waiting-byte count is a block or more is corrupt (it would index past the block).
    const corrupt = newState();
    a.sha256StreamInit(corrupt);
    new DataView(corrupt.buffer).setUint32(40, 64, true);
    expect(() => a.sha256StreamUpdate(corrupt, new Uint8Array(10))).toThrow(/state is corrupt/);
    expect(() => a.sha256StreamDigest(corrupt, new Uint8Array(32))).toThrow(/state is corrupt/);
    expect(() => call(a.sha256StreamDigest, newState(), new Uint8Array(31))).toThrow(/digest must be a Uint8Array of 32 bytes/);
    // A finished stream takes nothing more (a second digest would be of the padding); init starts it again.
    const spent = newState();
    a.sha256StreamInit(spent);
    a.sha256StreamUpdate(spent, new Uint8Array(5));
    a.sha256StreamDigest(spent, new Uint8Array(32));
    expect(() => a.sha256StreamDigest(spent, new Uint8Array(32))).toThrow(/digest was taken already/);
    expect(() => a.sha256StreamUpdate(spent, new Uint8Array(1))).toThrow(/digest was taken already/);
    a.sha256StreamInit(spent);
    expect(digestOf(spent)).toBe(sha256Hex(''));
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
      // The loader and the modules it imports, in the package's layout.
      for (const file of ['dist/native/addon.js', 'dist/audit/line-scanner.js', 'dist/io/package-files.js', 'dist/errors.js']) {
        mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
        copyFileSync(path.join(REPO, file), path.join(dir, file));
      }
      writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { nativeAddonStatus } from ${JSON.stringify(pathToFileURL(path.join(dir, 'dist', 'native', 'addon.js')).href)}; const s = nativeAddonStatus(); console.log(JSON.stringify({ loaded: s.addon !== null, why: s.unavailableBecause }));`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const seen = JSON.parse(r.stdout) as { loaded: boolean; why: string };
      expect(seen.loaded).toBe(false);
      expect(seen.why).toContain(`cannot load ${path.join(dir, 'dist', 'native', 'blux_native.node')}`);
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

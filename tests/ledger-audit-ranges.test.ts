import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';

import { rangeCountFor, splitFileIntoLineRanges, splitFileIntoTaperedRanges, taperedRangeTargets } from '../src/audit/ranges.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-ranges-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function rangesOf(text: string, parts: number) {
  const file = path.join(scratch, 'f.jsonl');
  fs.writeFileSync(file, text);
  return splitFileIntoLineRanges(file, Buffer.byteLength(text), parts);
}

describe('splitIntoLineRanges', () => {
  it('covers the file with contiguous ranges that start at line starts', () => {
    fc.assert(fc.property(
      fc.array(fc.stringMatching(/^[a-z ]{0,30}$/), { maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 12 }),
      (lines, torn, parts) => {
        const text = lines.join('\n') + (torn || lines.length === 0 ? '' : '\n');
        const bytes = Buffer.from(text);
        const ranges = rangesOf(text, parts);
        if (bytes.length === 0) {
          expect(ranges).toEqual([]);
          return;
        }
        expect(ranges[0]!.start).toBe(0);
        expect(ranges.at(-1)!.end).toBe(bytes.length);
        expect(ranges.length).toBeLessThanOrEqual(parts);
        ranges.forEach((r, i) => {
          expect(r.end).toBeGreaterThan(r.start);
          if (i > 0) expect(r.start).toBe(ranges[i - 1]!.end);
          if (r.start > 0) expect(bytes[r.start - 1]).toBe(0x0a);
        });
      },
    ), { numRuns: 200 });
  });

  it('keeps a line longer than a range whole', () => {
    const text = 'a'.repeat(100) + '\nb\n';
    expect(rangesOf(text, 4)).toEqual([{ start: 0, end: 101 }, { start: 101, end: 103 }]);
  });

  it('refuses a range count below one', () => {
    expect(() => rangesOf('x\n', 0)).toThrow(/positive integer/);
  });

  it('sizes ranges by target bytes but gives every job one', () => {
    expect(rangeCountFor(100, 2, 1000)).toBe(2);
    expect(rangeCountFor(10_000, 2, 1000)).toBe(10);
  });
});

describe('tapered ranges (the parallel audit)', () => {
  it('are full-size while plenty is left, then shrink to the smallest size, and end at the file end', () => {
    const MIB = 1024 * 1024;
    const size = 422 * 1000 * 1000;
    const targets = taperedRangeTargets(size, 2, 8 * MIB, MIB / 4);
    const sizes = targets.map((t, i) => t - (i === 0 ? 0 : targets[i - 1]!));
    expect(targets.at(-1)).toBe(size);
    sizes.forEach((s) => expect(s).toBeGreaterThan(0));
    sizes.forEach((s) => expect(s).toBeLessThanOrEqual(8 * MIB));
    sizes.slice(0, -1).forEach((s) => expect(s).toBeGreaterThanOrEqual(MIB / 4));
    // Never growing again once they shrink; the first ranges are full-size, the last ones the smallest.
    sizes.slice(1, -1).forEach((s, i) => expect(s).toBeLessThanOrEqual(sizes[i]!));
    expect(sizes[0]).toBe(8 * MIB);
    expect(sizes.at(-2)).toBe(MIB / 4);
    // What is left when shrinking starts: about 4 full ranges per thread.
    const firstSmaller = sizes.findIndex((s) => s < 8 * MIB);
    expect(size - targets[firstSmaller - 1]!).toBeLessThanOrEqual(4 * 2 * 8 * MIB);
    expect(size - targets[firstSmaller - 1]!).toBeGreaterThan(4 * 2 * 8 * MIB - 8 * MIB);
  });

  it('give one range for a file smaller than the smallest size, none for an empty one, and refuse nonsense', () => {
    expect(taperedRangeTargets(100, 2, 1000, 300)).toEqual([100]);
    expect(taperedRangeTargets(0, 2, 1000, 300)).toEqual([]);
    expect(() => taperedRangeTargets(100, 0, 1000, 300)).toThrow(/positive/);
    expect(() => taperedRangeTargets(100, 2, 0, 300)).toThrow(/positive/);
  });

  it('cut a file into contiguous line-aligned ranges at those targets', () => {
    fc.assert(fc.property(
      fc.array(fc.stringMatching(/^[a-z ]{0,60}$/), { maxLength: 200 }), fc.boolean(), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 400 }),
      (lines, torn, threads, rangeBytes) => {
        const text = lines.join('\n') + (torn || lines.length === 0 ? '' : '\n');
        const bytes = Buffer.from(text);
        const file = path.join(scratch, 't.jsonl');
        fs.writeFileSync(file, text);
        const ranges = splitFileIntoTaperedRanges(file, bytes.length, threads, rangeBytes, Math.max(1, rangeBytes >> 3));
        if (bytes.length === 0) {
          expect(ranges).toEqual([]);
          return;
        }
        expect(ranges[0]!.start).toBe(0);
        expect(ranges.at(-1)!.end).toBe(bytes.length);
        ranges.forEach((r, i) => {
          expect(r.end).toBeGreaterThan(r.start);
          if (i > 0) expect(r.start).toBe(ranges[i - 1]!.end);
          if (r.start > 0) expect(bytes[r.start - 1]).toBe(0x0a);
        });
      },
    ), { numRuns: 200 });
  });
});

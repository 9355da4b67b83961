import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';

import { rangeCountFor, splitFileIntoLineRanges } from '../src/audit/ranges.js';

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

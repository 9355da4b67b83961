import { describe, expect, it } from 'vitest';

import { groupDigits } from '../src/formats/digit-groups.js';

describe('groupDigits', () => {
  it('groups by threes at every length', () => {
    expect(groupDigits(0)).toBe('0');
    expect(groupDigits(7)).toBe('7');
    expect(groupDigits(999)).toBe('999');
    expect(groupDigits(1000)).toBe('1,000');
    expect(groupDigits(12345)).toBe('12,345');
    expect(groupDigits(123456)).toBe('123,456');
    expect(groupDigits(1234567)).toBe('1,234,567');
    expect(groupDigits(-1234567)).toBe('-1,234,567');
    expect(groupDigits(-0)).toBe('-0');
    expect(groupDigits(Number.MAX_SAFE_INTEGER)).toBe('9,007,199,254,740,991');
  });

  it('writes what toLocaleString("en-US") writes, for random integers of every size and sign', () => {
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) / 2 ** 32;
    };
    for (let i = 0; i < 5000; i++) {
      const magnitude = 10 ** Math.floor(next() * 16);
      const n = Math.floor(next() * magnitude) * (next() < 0.2 ? -1 : 1);
      expect(groupDigits(n)).toBe(n.toLocaleString('en-US'));
    }
  });

  it('leaves what is not a safe integer to Intl, unchanged', () => {
    for (const n of [1234.5678, -0.5, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(groupDigits(n)).toBe(n.toLocaleString('en-US'));
    }
  });
});

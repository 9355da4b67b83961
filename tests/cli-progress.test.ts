// Progress bars (src/cli/progress.ts): shown on a terminal only, never with
// --json; the verify-batch bar shows files, bytes and rate, and lines logged
// meanwhile go above it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchProgress, hashProgress } from '../src/cli/progress.js';
import { tempDir } from './helpers/cli.js';

let written: string[];
let wasTTY: boolean | undefined;

function pretendTerminal(isTTY: boolean): void {
  Object.defineProperty(process.stderr, 'isTTY', { value: isTTY, configurable: true, writable: true });
}

beforeEach(() => {
  written = [];
  wasTTY = process.stderr.isTTY;
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  pretendTerminal(wasTTY ?? false);
});

describe('batchProgress', () => {
  it('is off with --json and off when stderr is not a terminal', () => {
    pretendTerminal(true);
    expect(batchProgress(true)).toBeNull();
    pretendTerminal(false);
    expect(batchProgress(false)).toBeNull();
    expect(written).toEqual([]);
  });

  it('on a terminal, draws files, bytes and rate, and logs lines above the bar', () => {
    pretendTerminal(true);
    const bar = batchProgress(false);
    expect(bar).not.toBeNull();
    bar!.update({ filesDone: 3, filesTotal: 10, bytesDone: 2 ** 30, bytesTotal: 4 * 2 ** 30 });
    bar!.log('FAIL     a.bin: artifact-hash-mismatch');
    bar!.update({ filesDone: 10, filesTotal: 10, bytesDone: 4 * 2 ** 30, bytesTotal: 4 * 2 ** 30 });
    bar!.stop();
    const out = written.join('');
    expect(out).toContain('verifying');
    expect(out).toContain('3/10 files');
    expect(out).toContain('1.00 GiB/4.00 GiB');
    expect(out).toMatch(/\d+\.\d\d GB\/s/);
    expect(out).toContain('\r\x1b[KFAIL     a.bin: artifact-hash-mismatch\n');
  });
});

describe('hashProgress', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('blux-reg-progress-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows a bar for files of 64 MiB and more, on a terminal only', () => {
    const big = path.join(dir, 'big.img');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 64 * 1024 * 1024); // sparse: only the size matters
    const small = path.join(dir, 'small.txt');
    fs.writeFileSync(small, 'x');

    pretendTerminal(false);
    expect(hashProgress(big, false)).toBeNull();
    pretendTerminal(true);
    expect(hashProgress(big, true)).toBeNull();
    expect(hashProgress(small, false)).toBeNull();
    expect(hashProgress(path.join(dir, 'missing'), false)).toBeNull();

    const bar = hashProgress(big, false);
    expect(bar).not.toBeNull();
    bar!.update(32 * 1024 * 1024);
    bar!.stop();
    bar!.stop();
    const out = written.join('');
    expect(out).toContain('hashing');
    expect(out).toContain('32/64 MiB');
  });
});

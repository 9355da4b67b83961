import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BluxError } from '../src/errors.js';
import { moveWithoutReplacingSync, writeFileAtomic, writeFileAtomicSync } from '../src/io/atomic-write.js';

const isPosix = process.platform !== 'win32';
const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-atomic-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function failure(run: () => unknown): Promise<BluxError> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(BluxError);
    return e as BluxError;
  }
  throw new Error('expected a BluxError');
}

/** Runs `fn` under another umask (tests run in forked processes, where process.umask may be set). */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const before = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(before);
  }
}

const variants = [
  ['writeFileAtomic', writeFileAtomic],
  ['writeFileAtomicSync', writeFileAtomicSync],
] as const;

describe.each(variants)('%s', (_name, write) => {
  it('writes the content, replacing an older file, and leaves nothing else', async () => {
    const file = path.join(tmp, 'out.json');
    await write(file, 'old');
    await write(file, new Uint8Array([0x6e, 0x65, 0x77]));
    expect(fs.readFileSync(file, 'utf8')).toBe('new');
    expect(fs.readdirSync(tmp)).toEqual(['out.json']);
  });

  it.runIf(isPosix)('gives the file its mode; the umask applies unless told otherwise', async () => {
    const secret = path.join(tmp, 'secret.pem');
    await write(secret, 'x', 0o600);
    expect(modeOf(secret)).toBe(0o600);
    await withUmask(0o077, async () => {
      await write(path.join(tmp, 'masked.pem'), 'x', 0o644);
      await write(path.join(tmp, 'exact.pem'), 'x', 0o644, { ignoreUmask: true });
    });
    expect(modeOf(path.join(tmp, 'masked.pem'))).toBe(0o600);
    expect(modeOf(path.join(tmp, 'exact.pem'))).toBe(0o644);
  });

  it('names the file and the reason when it cannot write, and leaves no temp file', async () => {
    const missing = path.join(tmp, 'no-such-folder', 'x.pem');
    const e = await failure(() => write(missing, 'x'));
    expect(e).toMatchObject({ code: 'file-unwritable', file: missing });
    expect(e.message).toBe(`${missing}: cannot write (ENOENT: no such file or directory)`);

    // Fails after the temp file exists: the target is a folder that is not empty.
    const folder = path.join(tmp, 'taken');
    fs.mkdirSync(path.join(folder, 'inside'), { recursive: true });
    const e2 = await failure(() => write(folder, 'x'));
    expect(e2).toMatchObject({ code: 'file-unwritable', file: folder });
    expect(e2.message).not.toContain('.tmp-');
    expect(fs.readdirSync(tmp)).toEqual(['taken']);
  });

  it('without overwrite, refuses an existing file and keeps it', async () => {
    const file = path.join(tmp, 'key.pem');
    await write(file, 'first', 0o644, { overwrite: false });
    const e = await failure(() => write(file, 'second', 0o644, { overwrite: false }));
    expect(e).toMatchObject({ code: 'file-exists', file });
    expect(fs.readFileSync(file, 'utf8')).toBe('first');
    expect(fs.readdirSync(tmp)).toEqual(['key.pem']);
  });
});

describe('writeFileAtomic', () => {
  it.runIf(isPosix)('creates the temp file with the final mode before writing a byte, in the same folder', async () => {
    const seen: Array<{ file: string; flags: unknown; mode: number; size: number }> = [];
    const open = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation(async (file, flags, mode) => {
      const handle = await open(file, flags, mode);
      const stat = await handle.stat();
      seen.push({ file: String(file), flags, mode: stat.mode & 0o777, size: stat.size });
      return handle;
    });
    const file = path.join(tmp, 'secret.pem');
    await writeFileAtomic(file, 'secret', 0o600);
    const temp = seen.find((s) => s.flags === 'wx');
    expect(temp).toMatchObject({ mode: 0o600, size: 0 });
    expect(path.dirname(temp!.file)).toBe(tmp);
    expect(path.basename(temp!.file)).toMatch(/^\.secret\.pem\.tmp-[0-9a-f]{12}$/);
    // ...and the folder is opened afterwards, to fsync the rename.
    expect(seen.at(-1)).toMatchObject({ file: tmp, flags: 'r' });
    expect(fs.existsSync(temp!.file)).toBe(false);
  });

  it('removes the temp file when writing fails midway', async () => {
    const open = fsp.open.bind(fsp);
    vi.spyOn(fsp, 'open').mockImplementation(async (file, flags, mode) => {
      const handle = await open(file, flags, mode);
      if (flags === 'wx') {
        vi.spyOn(handle, 'sync').mockRejectedValue(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      }
      return handle;
    });
    const file = path.join(tmp, 'out.json');
    const e = await failure(() => writeFileAtomic(file, 'x'));
    expect(e).toMatchObject({ code: 'file-unwritable', file });
    expect(e.message).toBe(`${file}: cannot write (EIO: i/o error)`);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});

describe('moveWithoutReplacingSync', () => {
  it('moves, and refuses to replace', () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    fs.writeFileSync(a, 'A');
    moveWithoutReplacingSync(a, b);
    expect(fs.readdirSync(tmp)).toEqual(['b']);
    fs.writeFileSync(a, 'A2');
    expect(() => moveWithoutReplacingSync(a, b)).toThrow(expect.objectContaining({ code: 'file-exists', file: b }));
    expect(fs.readFileSync(b, 'utf8')).toBe('A');
    expect(fs.readFileSync(a, 'utf8')).toBe('A2');
  });
});

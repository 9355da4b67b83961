// Reading input documents (src/io/read-document.ts): the whole file whatever
// fstat said (a file may grow between the two), and huge files refused.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { readFileForInput, readJsonDocument, readWhole } from '../src/io/read-document.js';

const dir = mkdtempSync(path.join(tmpdir(), 'blux-read-document-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function withFile<T>(name: string, content: Buffer, use: (fd: number, file: string) => T): T {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  const fd = openSync(file, 'r');
  try {
    return use(fd, file);
  } finally {
    closeSync(fd);
  }
}

describe('readWhole', () => {
  const content = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff));

  it('returns every byte when the size it was given is right, too large, too small (the file grew) or zero', () => {
    for (const size of [content.length, content.length + 500, content.length - 1, 100, 1, 0]) {
      expect(withFile(`grown-${size}`, content, (fd, file) => readWhole(fd, size, file)).equals(content), `size ${size}`).toBe(true);
    }
  });

  it('reads an empty file as no bytes', () => {
    expect(withFile('empty', Buffer.alloc(0), (fd, file) => readWhole(fd, 0, file)).length).toBe(0);
  });

  it('refuses a file that turns out larger than 16 MiB, naming it', () => {
    const big = Buffer.alloc(16 * 1024 * 1024 + 1, 0x20);
    expect(() => withFile('big', big, (fd, file) => readWhole(fd, 10, file))).toThrow(/grew past 16 MiB/);
  });
});

describe('readFileForInput and readJsonDocument', () => {
  it('read a document of any small size exactly', async () => {
    for (const length of [0, 1, 4095, 4096, 4097, 70_000]) {
      const file = path.join(dir, `doc-${length}`);
      const content = Buffer.alloc(length, 0x61);
      writeFileSync(file, content);
      expect((await readFileForInput(file)).equals(content)).toBe(true);
    }
    const json = path.join(dir, 'doc.json');
    writeFileSync(json, '{"a":[1,2,{"b":"c"}]}');
    expect(await readJsonDocument(json)).toEqual(new Map([['a', expect.any(Array)]]));
  });

  it('refuse a folder and a missing file with errors that name them', async () => {
    await expect(readFileForInput(dir)).rejects.toMatchObject({ code: 'file-unreadable' });
    await expect(readFileForInput(path.join(dir, 'none'))).rejects.toMatchObject({ code: 'file-not-found' });
  });
});

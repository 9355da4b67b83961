// verify-batch's walk (src/batch/discover.ts): artifacts with their sizes,
// manifests without, and no stat() for a manifest found as a plain file.
// Also beside() (verify/artifact-path.ts), which joins a manifest's folder
// and its artifact path.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { discover } from '../src/batch/discover.js';
import { beside } from '../src/verify/artifact-path.js';

const dir = fs.mkdtempSync(path.join(tmpdir(), 'blux-discover-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('discover', () => {
  it('lists artifacts with their sizes and manifests without, stat()ing only what is not a plain manifest', async () => {
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'a.bin'), 'aaa');
    fs.writeFileSync(path.join(tree, 'a.bin.blux-manifest.json'), '{}');
    fs.writeFileSync(path.join(tree, 'sub', 'b.bin'), 'bbbbb');
    fs.writeFileSync(path.join(tree, 'sub', 'b.bin.blux-manifest.json'), '{}');
    // A link to a manifest: followed (it stays inside the tree), so stat()ed.
    fs.symlinkSync(path.join(tree, 'sub', 'b.bin.blux-manifest.json'), path.join(tree, 'c.bin.blux-manifest.json'));

    const stat = vi.spyOn(fs, 'statSync');
    try {
      const found = await discover([tree], { recursive: true });
      const byDisplay = Object.fromEntries(found.files.map((f) => [f.display.slice(tree.length + 1), f]));
      // The link and the manifest it names are one file, listed once: as the link, which the walk meets first.
      expect(Object.keys(byDisplay).sort()).toEqual(['a.bin', 'a.bin.blux-manifest.json', 'c.bin.blux-manifest.json', 'sub/b.bin']);
      expect(byDisplay['c.bin.blux-manifest.json']).toMatchObject({ kind: 'manifest', real: path.join(fs.realpathSync(tree), 'sub', 'b.bin.blux-manifest.json') });
      expect(byDisplay['a.bin']).toMatchObject({ kind: 'artifact', size: 3 });
      expect(byDisplay['sub/b.bin']).toMatchObject({ kind: 'artifact', size: 5 });
      expect(byDisplay['a.bin.blux-manifest.json']).toEqual({
        kind: 'manifest', display: `${tree}/a.bin.blux-manifest.json`, abs: path.join(tree, 'a.bin.blux-manifest.json'), real: path.join(fs.realpathSync(tree), 'a.bin.blux-manifest.json'),
      });
      expect(found.problems).toEqual([]);
      const statted = stat.mock.calls.map(([p]) => path.basename(String(p))).sort();
      expect(statted).toEqual(['a.bin', 'b.bin', 'c.bin.blux-manifest.json', 'tree']);
    } finally {
      stat.mockRestore();
    }
  });
});

describe('beside', () => {
  it('joins a folder and a relative path exactly as path.join over its segments does', () => {
    const folders = ['/', '/tree', '/tree/sub', '/a b/c', '/x/'];
    const names = ['file.bin', 'f', '...', '.hidden', '..hidden', 'a..b', 'dir/file.bin', 'a/./b', 'a//b', 'a/../b', '.', '..', '', 'ü-ñ.txt', 'a\\b', 'trailing/'];
    for (const folder of folders) {
      for (const name of names) expect(beside(folder, name), `${folder} + ${name}`).toBe(path.join(folder, ...name.split('/')));
    }
  });
});

/**
 * The reference for end-to-end hashing scenarios: hashing the same files with
 * `sha256sum`, else `openssl dgst -sha256`, else node:crypto in this process
 * (said so in the label, so a baseline made with another reference is not
 * compared with it).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { BluxError } from '../errors.js';
import type { BenchTools, BenchVariant } from './types.js';

const run = promisify(execFile);
/** Output of a hash run over a big tree; far above what 2,000 file names print. */
const MAX_TOOL_OUTPUT = 64 * 1024 * 1024;
const READ_BUFFER = 1024 * 1024;

/** The first executable `tool` on PATH, or null. */
export function which(tool: string, searchPath = process.env['PATH'] ?? ''): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    const candidate = path.join(dir === '' ? '.' : dir, tool);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export function findTools(): BenchTools {
  return { sha256sum: which('sha256sum'), openssl: which('openssl') };
}

async function runTool(bin: string, args: readonly string[], cwd: string): Promise<void> {
  await run(bin, [...args], { cwd, maxBuffer: MAX_TOOL_OUTPUT });
}

function hashInProcess(cwd: string, files: readonly string[]): number {
  const buffer = Buffer.allocUnsafe(READ_BUFFER);
  let total = 0;
  for (const file of files) {
    const hash = createHash('sha256');
    const fd = fs.openSync(path.join(cwd, file), 'r');
    try {
      for (let n; (n = fs.readSync(fd, buffer, 0, READ_BUFFER, null)) > 0;) hash.update(buffer.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
    total += hash.digest()[0]!;
  }
  return total;
}

/** The reference variant hashing `files` (relative to `cwd`). */
export function fileHashReference(tools: BenchTools, cwd: string, files: readonly string[]): BenchVariant {
  if (files.length === 0) throw new BluxError('internal', 'bench: no files to hash');
  if (tools.sha256sum !== null) {
    const bin = tools.sha256sum;
    return { backend: 'reference', label: 'sha256sum', fn: () => runTool(bin, ['--', ...files], cwd) };
  }
  if (tools.openssl !== null) {
    const bin = tools.openssl;
    return { backend: 'reference', label: 'openssl dgst -sha256', fn: () => runTool(bin, ['dgst', '-sha256', ...files], cwd) };
  }
  return { backend: 'reference', label: 'node:crypto (sha256sum and openssl missing)', fn: () => hashInProcess(cwd, files) };
}

/** `openssl dgst -sha256` as a second comparison when sha256sum is the reference. */
export function opensslVariant(tools: BenchTools, cwd: string, files: readonly string[]): BenchVariant[] {
  if (tools.sha256sum === null || tools.openssl === null) return [];
  const bin = tools.openssl;
  return [{ backend: 'openssl', label: 'openssl dgst -sha256', fn: () => runTool(bin, ['dgst', '-sha256', ...files], cwd) }];
}

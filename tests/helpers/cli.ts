// Runs the compiled CLI (`dist/cli/bin.cjs`, the package's bin, built by `npm test` before vitest)
// as a child process, the way users run it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'bin.cjs');
export const FIXTURE_DIR = path.join(REPO_ROOT, 'tests', 'fixtures', 'seed-v0.2');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is JSON, else undefined. */
  json: any;
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CliResult> {
  const env = { ...process.env, ...options.env };
  delete env['BLUX_REG_PASSPHRASE'];
  if (options.env?.['BLUX_REG_PASSPHRASE'] !== undefined) env['BLUX_REG_PASSPHRASE'] = options.env['BLUX_REG_PASSPHRASE'];
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** A fresh temp folder removed by the caller (`fs.rmSync(dir, {recursive: true})`). */
export function tempDir(prefix = 'blux-reg-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A writable copy of the whole seed-v0.2 fixture set. */
export function copyFixtures(): string {
  const dir = tempDir('blux-reg-fixture-');
  fs.cpSync(FIXTURE_DIR, dir, { recursive: true });
  return dir;
}

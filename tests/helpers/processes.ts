// Child processes for the multi-process tests (ledger, revocation lists, file
// locks): they run the compiled library in dist/, and signal with marker lines.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

/** Children run dist/: refuse to test a build that is missing or older than its sources (`npm test` builds first). */
export function assertFreshBuild(sources: readonly string[]): void {
  for (const source of sources) {
    const built = source.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js');
    const builtStat = fs.statSync(path.join(REPO_ROOT, built), { throwIfNoEntry: false });
    if (builtStat === undefined) throw new Error(`${built} is missing: run \`npm run build\``);
    if (fs.statSync(path.join(REPO_ROOT, source)).mtimeMs > builtStat.mtimeMs) {
      throw new Error(`${built} is older than ${source}: run \`npm run build\``);
    }
  }
}

export interface NodeChild {
  readonly child: ChildProcess;
  /** Resolves once stdout contains `marker` (or the child is gone, so a waiter never hangs). */
  readonly marked: Promise<void>;
  /** Resolves when the child is gone and its output fully read. */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts `node ...args`, collecting its output and watching stdout for `marker`. */
export function startNode(args: readonly string[], marker: string, options: SpawnOptions = {}): NodeChild {
  const child = spawn(process.execPath, [...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  let stdout = '';
  let stderr = '';
  let mark: () => void = () => undefined;
  const marked = new Promise<void>((resolve) => (mark = resolve));
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    if (stdout.includes(marker)) mark();
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      mark();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, marked, closed };
}

/**
 * Progress bars for long work, on stderr and only on a terminal (never in
 * --json mode or in CI logs). Small files finish before a bar would help, so
 * the bar appears only for files of 64 MiB and more.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';

/**
 * cli-progress (and string-width under it) is loaded only when a bar is
 * shown: ~10 ms of module loading that --json runs and CI logs never need,
 * on the path of every verify-batch start.
 */
let cliProgressModule: typeof CliProgress | undefined;
function cliProgress(): typeof CliProgress {
  cliProgressModule ??= createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
  return cliProgressModule;
}

const BAR_THRESHOLD_BYTES = 64 * 1024 * 1024;

export interface ProgressHandle {
  update: (bytesDone: number) => void;
  stop: () => void;
}

export function hashProgress(file: string, quiet: boolean): ProgressHandle | null {
  if (quiet || process.stderr.isTTY !== true) return null;
  let total: number;
  try {
    total = fs.statSync(file).size;
  } catch {
    return null;
  }
  if (total < BAR_THRESHOLD_BYTES) return null;
  const bar = new (cliProgress().SingleBar)(
    {
      stream: process.stderr,
      format: 'hashing {bar} {percentage}% | {value}/{total} MiB | ETA {eta}s',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress().Presets.shades_classic,
  );
  const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));
  bar.start(mib(total), 0);
  let stopped = false;
  return {
    update: (bytesDone) => bar.update(mib(bytesDone)),
    stop: () => {
      if (!stopped) {
        stopped = true;
        bar.stop();
      }
    },
  };
}

export interface BatchProgressHandle {
  update: (p: { filesDone: number; filesTotal: number; bytesDone: number; bytesTotal: number }) => void;
  /** Prints a line above the bar (failures found while the run goes on). */
  log: (line: string) => void;
  stop: () => void;
}

/** The verify-batch bar: files, bytes, rate, ETA. Null when not on a terminal. */
export function batchProgress(quiet: boolean): BatchProgressHandle | null {
  if (quiet || process.stderr.isTTY !== true) return null;
  const bar = new (cliProgress().SingleBar)(
    {
      stream: process.stderr,
      format: 'verifying {bar} {percentage}% | {files} files | {done}/{all} | {rate} | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    cliProgress().Presets.shades_classic,
  );
  const started = performance.now();
  const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  let running = false;
  let stopped = false;
  return {
    update: (p) => {
      if (stopped) return;
      const seconds = (performance.now() - started) / 1000;
      const payload = {
        files: `${p.filesDone}/${p.filesTotal}`,
        done: gib(p.bytesDone),
        // Not `total`: cli-progress fills that token itself, with the bar's raw total (bytes).
        all: gib(p.bytesTotal),
        rate: seconds > 0 ? `${(p.bytesDone / 1e9 / seconds).toFixed(2)} GB/s` : '-',
      };
      // Progress in bytes (floored to 1 for an all-empty tree, so the bar can finish).
      if (!running) {
        bar.start(Math.max(p.bytesTotal, 1), p.bytesDone, payload);
        running = true;
      } else {
        bar.update(p.bytesDone, payload);
      }
    },
    log: (line) => {
      if (running) {
        process.stderr.write('\r\x1b[K' + line + '\n');
        bar.render();
      } else {
        process.stderr.write(line + '\n');
      }
    },
    stop: () => {
      if (!stopped) {
        stopped = true;
        if (running) bar.stop();
      }
    },
  };
}

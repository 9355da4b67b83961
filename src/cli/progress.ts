/**
 * Progress bars for long work, on stderr and only on a terminal (never in
 * --json mode or in CI logs). Small files finish before a bar would help, so
 * the bar appears only for files of 64 MiB and more.
 */
import fs from 'node:fs';
import cliProgress from 'cli-progress';

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
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: 'hashing {bar} {percentage}% | {value}/{total} MiB | ETA {eta}s',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
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

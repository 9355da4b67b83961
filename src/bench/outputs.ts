/**
 * Where the report goes besides stdout: `--json`, `--svg` and the baseline
 * files, each written atomically (a crash leaves the old file or the new one,
 * never half of one). Output folders are checked before the run, so a typo
 * is reported at once instead of after minutes of measuring.
 */
import fs from 'node:fs';
import path from 'node:path';

import { BluxError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { reportSvg } from './svg.js';
import type { BenchReport } from './types.js';

export interface ReportFiles {
  readonly json?: string | undefined;
  readonly svg?: string | undefined;
  readonly baseline?: string | undefined;
}

function outputsOf(files: ReportFiles): string[] {
  return [files.json, files.svg, files.baseline].filter((f): f is string => f !== undefined);
}

/** Throws `file-unwritable` naming the file when its folder is missing or not writable, or it is a folder. */
export function checkOutputFiles(files: ReportFiles): void {
  for (const file of outputsOf(files)) {
    const dir = path.dirname(path.resolve(file));
    try {
      if (!fs.statSync(dir).isDirectory()) throw new BluxError('file-unwritable', `${dir} is not a folder`, { file });
      fs.accessSync(dir, fs.constants.W_OK);
    } catch (e) {
      if (e instanceof BluxError) throw e;
      throw new BluxError('file-unwritable', `cannot write into ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file, cause: e });
    }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new BluxError('file-unwritable', 'is a folder', { file });
  }
}

export function reportJson(report: BenchReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export async function writeReportFiles(report: BenchReport, files: ReportFiles): Promise<void> {
  const json = reportJson(report);
  if (files.json !== undefined) await writeFileAtomic(files.json, json);
  if (files.baseline !== undefined) await writeFileAtomic(files.baseline, json);
  if (files.svg !== undefined) await writeFileAtomic(files.svg, reportSvg(report));
}

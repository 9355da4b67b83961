/**
 * Reading a baseline report (`--compare FILE`): any unreadable file, non-JSON
 * text or missing field is an input error naming the file and the field.
 */
import { BluxError } from '../errors.js';
import { decodeUtf8, readFileForInput } from '../io/read-document.js';
import type { ComparableEntry } from './compare.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entries of the baseline report in `text` (the contents of `file`). */
export function parseBaseline(text: string, file: string): ComparableEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BluxError('malformed', `is not a bench report: not JSON (${e instanceof Error ? e.message : String(e)})`, { file });
  }
  if (!isRecord(value) || value['format'] !== 'blux-reg/bench-report@1' || !Array.isArray(value['entries'])) {
    throw new BluxError('malformed', 'is not a bench report: expected {"format": "blux-reg/bench-report@1", "entries": [...]} (write one with blux-reg bench --json FILE)', { file });
  }
  return value['entries'].map((entry: unknown, i: number) => {
    const where = `entries[${i}]`;
    if (!isRecord(entry)) throw new BluxError('malformed', `${where} is not an object`, { file });
    for (const key of ['id', 'reference', 'label'] as const) {
      if (typeof entry[key] !== 'string') throw new BluxError('malformed', `${where}.${key} must be a string`, { file });
    }
    const ratio = entry['ratio'];
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio <= 0) {
      throw new BluxError('malformed', `${where}.ratio must be a positive number`, { file });
    }
    return { id: entry['id'] as string, reference: entry['reference'] as string, label: entry['label'] as string, ratio };
  });
}

export async function readBaseline(file: string): Promise<ComparableEntry[]> {
  return parseBaseline(decodeUtf8(await readFileForInput(file), file), file);
}

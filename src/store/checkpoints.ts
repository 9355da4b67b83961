/**
 * Checkpoints on disk: `<trust>/checkpoints/checkpoint-<size>.txt` (the
 * signed note, cosignatures added in place) and beside each one
 * `checkpoint-<size>.state.json` (the saved tree state: see
 * transparency/ledger-tree.ts `LedgerTreeState`). And a witness's memory:
 * one file per log origin in the witness's state folder holding the last
 * checkpoint it cosigned, updated under a lock so two cosign runs cannot
 * both advance from the same old state.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

import { BluxError } from '../errors.js';
import { sha256Hex } from '../engine/index.js';
import { decodeHex, encodeHex } from '../formats/base64.js';
import { readFileForInput, decodeUtf8 } from '../io/read-document.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { LedgerTreeState } from '../transparency/ledger-tree.js';
import { decodeTiles, encodeTiles, type TreeTiles } from '../transparency/tiles.js';
import { withExclusiveLock } from './file-lock.js';
import type { ConfigPaths } from './paths.js';

const CHECKPOINT_PREFIX = 'checkpoint-';
const CHECKPOINT_SUFFIX = '.txt';
const STATE_SUFFIX = '.state.json';
/** Zero-padded so file names sort by tree size. */
const SIZE_DIGITS = 15;
const STATE_FORMAT = 'blux-reg-tree-state/v1';

export function checkpointsDir(paths: Pick<ConfigPaths, 'trustDir'>): string {
  return path.join(paths.trustDir, 'checkpoints');
}

export function checkpointFile(dir: string, size: number): string {
  return path.join(dir, `${CHECKPOINT_PREFIX}${String(size).padStart(SIZE_DIGITS, '0')}${CHECKPOINT_SUFFIX}`);
}

export function stateFileOf(checkpointPath: string): string {
  return checkpointPath.endsWith(CHECKPOINT_SUFFIX) ? checkpointPath.slice(0, -CHECKPOINT_SUFFIX.length) + STATE_SUFFIX : `${checkpointPath}${STATE_SUFFIX}`;
}

const TILES_SUFFIX = '.tiles';

export function tilesFileOf(checkpointPath: string): string {
  return checkpointPath.endsWith(CHECKPOINT_SUFFIX) ? checkpointPath.slice(0, -CHECKPOINT_SUFFIX.length) + TILES_SUFFIX : `${checkpointPath}${TILES_SUFFIX}`;
}

/** Writes the note, its tree state and its tiles when it has them (note last: a note on disk always has its state). */
export async function saveCheckpoint(dir: string, noteText: string, state: LedgerTreeState): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = checkpointFile(dir, state.size);
  await writeFileAtomic(stateFileOf(file), serializeTreeState(state));
  if (state.tiles !== undefined) await writeFileAtomic(tilesFileOf(file), encodeTiles(state.tiles));
  await writeFileAtomic(file, noteText);
  return file;
}

/** The tiles saved with a checkpoint of `size` leaves; null when there are none or they do not fit (the caller streams instead). */
export async function readTiles(checkpointPath: string, size: number): Promise<TreeTiles | null> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(tilesFileOf(checkpointPath));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new BluxError('file-unreadable', `cannot read: ${(e as Error).message}`, { file: tilesFileOf(checkpointPath) });
  }
  return decodeTiles(bytes, size);
}

export async function readTextFile(file: string): Promise<string> {
  return decodeUtf8(await readFileForInput(file), file);
}

/** Replaces a checkpoint note (adding cosignatures) atomically. */
export async function replaceCheckpointNote(file: string, noteText: string): Promise<void> {
  await writeFileAtomic(file, noteText);
}

/** The checkpoint files of the folder, smallest tree first (none when the folder does not exist). */
export async function listCheckpointFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BluxError('file-unreadable', `cannot list checkpoints: ${(e as Error).message}`, { file: dir });
  }
  return names.filter((n) => n.startsWith(CHECKPOINT_PREFIX) && n.endsWith(CHECKPOINT_SUFFIX)).sort().map((n) => path.join(dir, n));
}

function serializeTreeState(state: LedgerTreeState): string {
  return `${JSON.stringify({
    format: STATE_FORMAT,
    size: state.size,
    root: encodeHex(state.root),
    before: state.before === null ? null : { begin: state.before.begin, end: state.before.end, nodes: state.before.nodes.map((n) => [n.level, n.index, encodeHex(n.hash)]) },
    last_leaf_offset: state.lastLeafOffset,
    end_offset: state.endOffset,
  })}\n`;
}

function stateError(file: string, problem: string): BluxError {
  return new BluxError('malformed', `not a tree state file: ${problem}`, { file });
}

/** Reads a saved tree state; its hashes are only trusted once they fold to a verified checkpoint's root. */
export async function readTreeState(file: string): Promise<LedgerTreeState> {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(await readTextFile(file)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof BluxError) throw e;
    throw stateError(file, 'not JSON');
  }
  const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  const root = typeof value['root'] === 'string' ? decodeHex(value['root']) : null;
  if (value['format'] !== STATE_FORMAT || !isCount(value['size']) || root === null || !isCount(value['last_leaf_offset']) || !isCount(value['end_offset'])) {
    throw stateError(file, `expected ${STATE_FORMAT} with size, root, last_leaf_offset and end_offset`);
  }
  const before = value['before'] as { begin: unknown; end: unknown; nodes: unknown } | null;
  let range: LedgerTreeState['before'] = null;
  if (before !== null) {
    if (typeof before !== 'object' || !isCount(before.begin) || !isCount(before.end) || !Array.isArray(before.nodes)) throw stateError(file, 'bad "before" range');
    const nodes = (before.nodes as unknown[]).map((n) => {
      const [level, index, hash] = Array.isArray(n) ? n : [];
      const bytes = typeof hash === 'string' ? decodeHex(hash) : null;
      if (!isCount(level) || !isCount(index) || bytes === null || bytes.length !== 32) throw stateError(file, 'bad node in "before"');
      return { level, index, hash: bytes };
    });
    range = { begin: before.begin, end: before.end, nodes };
  }
  return { size: value['size'], root, before: range, lastLeafOffset: value['last_leaf_offset'], endOffset: value['end_offset'] };
}

// ---------------------------------------------------------------------------
// Witness state
// ---------------------------------------------------------------------------

/** One file per origin; the name is a hash because an origin may hold any character. */
export function witnessStateFile(stateDir: string, origin: string): string {
  return path.join(stateDir, `${sha256Hex(origin).slice(0, 32)}.checkpoint`);
}

/** Null when this witness never cosigned for that origin. */
export async function readWitnessState(file: string): Promise<string | null> {
  try {
    return await readTextFile(file);
  } catch (e) {
    if (e instanceof BluxError && e.code === 'file-not-found') return null;
    throw e;
  }
}

/** Runs `work` holding the witness's lock for that state file. */
export async function withWitnessState<T>(file: string, work: () => Promise<T>): Promise<T> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  return withExclusiveLock(`${file}.lock`, work);
}

export async function writeWitnessState(file: string, noteText: string): Promise<void> {
  await writeFileAtomic(file, noteText);
}

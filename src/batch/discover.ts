/**
 * Finds what verify-batch has to check: every manifest and every other file
 * under the given paths. Symlinks are followed only while they stay inside
 * the tree they were found in; a link that leaves it, dangles, or loops back
 * is reported, never followed. An unreadable folder is reported and the walk
 * goes on.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MANIFEST_SUFFIX } from '../formats/manifest.js';

export interface DiscoveredFile {
  /** As shown in reports: the path as given plus the path below it, `/`-separated. */
  readonly display: string;
  readonly abs: string;
  /** Real path (symlinks resolved): the identity used to pair manifests with artifacts. */
  readonly real: string;
  readonly size: number;
  readonly kind: 'manifest' | 'artifact';
}

export type DiscoveryProblemReason = 'symlink-loop' | 'symlink-outside-tree' | 'broken-symlink' | 'unreadable';

export interface DiscoveryProblem {
  readonly display: string;
  readonly reason: DiscoveryProblemReason;
  readonly message: string;
}

export interface Discovery {
  readonly files: DiscoveredFile[];
  readonly problems: DiscoveryProblem[];
}

export function isManifestName(name: string): boolean {
  return name.endsWith(MANIFEST_SUFFIX) && name.length > MANIFEST_SUFFIX.length;
}

function joinDisplay(parent: string, name: string): string {
  return parent === '' ? name : parent.endsWith('/') ? `${parent}${name}` : `${parent}/${name}`;
}

function isInside(parent: string, child: string): boolean {
  if (child === parent) return true;
  const rel = path.relative(parent, child);
  // `..hidden` is a legitimate name: only `..` as a whole first segment leaves the folder.
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
}

interface WalkState {
  readonly files: DiscoveredFile[];
  readonly problems: DiscoveryProblem[];
  /** Real paths of files already listed, so a file reached twice (through a link) is listed once. */
  readonly seenFiles: Set<string>;
}

/** Stats in bounded parallel batches: thousands of files, but not thousands of open requests at once. */
const STAT_CONCURRENCY = 64;

async function walkDirectory(rootReal: string, dirAbs: string, dirReal: string, dirDisplay: string, ancestors: string[], recursive: boolean, state: WalkState): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dirAbs, { withFileTypes: true });
  } catch (e) {
    state.problems.push({ display: dirDisplay, reason: 'unreadable', message: `cannot read folder ${dirAbs} (${errorCode(e)})` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const subdirs: { abs: string; display: string; real: string }[] = [];

  for (let i = 0; i < entries.length; i += STAT_CONCURRENCY) {
    const slice = entries.slice(i, i + STAT_CONCURRENCY);
    const resolved = await Promise.all(slice.map(async (entry) => {
      const abs = path.join(dirAbs, entry.name);
      const display = joinDisplay(dirDisplay, entry.name);
      try {
        // The real path of a plain entry is its folder's real path plus its name: one realpath() per link, not per file.
        const real = entry.isSymbolicLink() ? await fs.realpath(abs) : path.join(dirReal, entry.name);
        const stat = await fs.stat(abs);
        return { entry, abs, display, real, stat, error: null as string | null };
      } catch (e) {
        return { entry, abs, display, real: abs, stat: null, error: errorCode(e) };
      }
    }));
    for (const r of resolved) {
      if (r.error !== null) {
        const reason: DiscoveryProblemReason = r.error === 'ELOOP' ? 'symlink-loop' : r.entry.isSymbolicLink() && r.error === 'ENOENT' ? 'broken-symlink' : 'unreadable';
        state.problems.push({ display: r.display, reason, message: `${r.abs}: ${reason === 'symlink-loop' ? 'symlink loop' : reason === 'broken-symlink' ? 'symlink to nothing' : `cannot stat (${r.error})`}` });
        continue;
      }
      if (r.entry.isSymbolicLink() && !isInside(rootReal, r.real)) {
        state.problems.push({ display: r.display, reason: 'symlink-outside-tree', message: `${r.abs} links outside the tree (to ${r.real}); not followed` });
        continue;
      }
      if (r.stat!.isDirectory()) {
        if (!recursive) continue;
        if (ancestors.includes(r.real)) {
          state.problems.push({ display: r.display, reason: 'symlink-loop', message: `${r.abs} links back to ${r.real}, a folder above it` });
          continue;
        }
        subdirs.push({ abs: r.abs, display: r.display, real: r.real });
      } else if (r.stat!.isFile()) {
        if (state.seenFiles.has(r.real)) continue;
        state.seenFiles.add(r.real);
        state.files.push({ display: r.display, abs: r.abs, real: r.real, size: r.stat!.size, kind: isManifestName(r.entry.name) ? 'manifest' : 'artifact' });
      }
      // Sockets, FIFOs and devices are not release artifacts: skipped.
    }
  }
  for (const sub of subdirs) {
    await walkDirectory(rootReal, sub.abs, sub.real, sub.display, [...ancestors, sub.real], recursive, state);
  }
}

/**
 * Walks each path: a folder (its files; with `recursive`, its subfolders too)
 * or a single file (a manifest, or an artifact together with its
 * `<artifact>.blux-manifest.json` when there is one).
 */
export async function discover(paths: readonly string[], options: { recursive?: boolean } = {}): Promise<Discovery> {
  const state: WalkState = { files: [], problems: [], seenFiles: new Set() };
  for (const given of paths) {
    const display = given.split(path.sep).join('/');
    let stat;
    let real;
    try {
      stat = await fs.stat(given);
      real = await fs.realpath(given);
    } catch (e) {
      state.problems.push({ display, reason: errorCode(e) === 'ELOOP' ? 'symlink-loop' : 'unreadable', message: `${given}: cannot read (${errorCode(e)})` });
      continue;
    }
    if (stat.isDirectory()) {
      await walkDirectory(real, path.resolve(given), real, display, [real], options.recursive === true, state);
    } else if (stat.isFile()) {
      const name = path.basename(given);
      const add = (abs: string, shown: string, size: number, fileReal: string): void => {
        if (state.seenFiles.has(fileReal)) return;
        state.seenFiles.add(fileReal);
        state.files.push({ display: shown, abs, real: fileReal, size, kind: isManifestName(path.basename(abs)) ? 'manifest' : 'artifact' });
      };
      add(path.resolve(given), display, stat.size, real);
      if (!isManifestName(name)) {
        const sibling = `${given}${MANIFEST_SUFFIX}`;
        try {
          const s = await fs.stat(sibling);
          if (s.isFile()) add(path.resolve(sibling), `${display}${MANIFEST_SUFFIX}`, s.size, await fs.realpath(sibling));
        } catch {
          // No manifest beside it: the artifact is reported as unsigned.
        }
      }
    }
  }
  return state;
}

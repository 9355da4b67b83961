/**
 * Finds what verify-batch has to check: every manifest and every other file
 * under the given paths. Symlinks are followed only while they stay inside
 * the tree they were found in; a link that leaves it, dangles, or loops back
 * is reported, never followed. An unreadable folder is reported and the walk
 * goes on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_SUFFIX } from '../formats/manifest.js';

interface DiscoveredPath {
  /** As shown in reports: the path as given plus the path below it, `/`-separated. */
  readonly display: string;
  readonly abs: string;
  /** Real path (symlinks resolved): the identity used to pair manifests with artifacts. */
  readonly real: string;
}

export interface DiscoveredArtifact extends DiscoveredPath {
  readonly kind: 'artifact';
  readonly size: number;
}

/**
 * A manifest: no size, since it is read whole later (and checked then). The
 * walk does not stat a manifest it finds as a plain file: half the stat()
 * calls of a tree where every artifact has its manifest.
 */
export interface DiscoveredManifest extends DiscoveredPath {
  readonly kind: 'manifest';
}

export type DiscoveredFile = DiscoveredArtifact | DiscoveredManifest;

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

/**
 * The walk uses synchronous calls on purpose: nothing else runs yet (the
 * hashing starts when discovery ends), and for a tree of 20,000 small files
 * one thread-pool round trip per stat costs several times the stat itself.
 */
function walkDirectory(rootReal: string, dirAbs: string, dirReal: string, dirDisplay: string, ancestors: string[], recursive: boolean, state: WalkState): void {
  let entries;
  try {
    entries = fs.readdirSync(dirAbs, { withFileTypes: true });
  } catch (e) {
    state.problems.push({ display: dirDisplay, reason: 'unreadable', message: `cannot read folder ${dirAbs} (${errorCode(e)})` });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const subdirs: { abs: string; display: string; real: string }[] = [];

  for (const entry of entries) {
    const abs = path.join(dirAbs, entry.name);
    const display = joinDisplay(dirDisplay, entry.name);
    // Sockets, FIFOs and devices are not release artifacts: skipped.
    if (!entry.isSymbolicLink() && !entry.isFile() && !entry.isDirectory()) continue;
    // A plain manifest: its Dirent says enough (see DiscoveredManifest).
    if (entry.isFile() && isManifestName(entry.name)) {
      const real = path.join(dirReal, entry.name);
      if (!state.seenFiles.has(real)) {
        state.seenFiles.add(real);
        state.files.push({ display, abs, real, kind: 'manifest' });
      }
      continue;
    }
    let real: string;
    /** Null for a plain folder: its Dirent says enough, and a stat per folder is not needed. */
    let stat: fs.Stats | null = null;
    try {
      // The real path of a plain entry is its folder's real path plus its name: one realpath() per link, not per file.
      real = entry.isSymbolicLink() ? fs.realpathSync(abs) : path.join(dirReal, entry.name);
      if (!entry.isDirectory()) stat = fs.statSync(abs);
    } catch (e) {
      const code = errorCode(e);
      const reason: DiscoveryProblemReason = code === 'ELOOP' ? 'symlink-loop' : entry.isSymbolicLink() && code === 'ENOENT' ? 'broken-symlink' : 'unreadable';
      state.problems.push({ display, reason, message: `${abs}: ${reason === 'symlink-loop' ? 'symlink loop' : reason === 'broken-symlink' ? 'symlink to nothing' : `cannot stat (${code})`}` });
      continue;
    }
    if (entry.isSymbolicLink() && !isInside(rootReal, real)) {
      state.problems.push({ display, reason: 'symlink-outside-tree', message: `${abs} links outside the tree (to ${real}); not followed` });
      continue;
    }
    const isDirectory = stat === null ? entry.isDirectory() : stat.isDirectory();
    if (isDirectory) {
      if (!recursive) continue;
      if (ancestors.includes(real)) {
        state.problems.push({ display, reason: 'symlink-loop', message: `${abs} links back to ${real}, a folder above it` });
        continue;
      }
      subdirs.push({ abs, display, real });
    } else if (stat !== null && stat.isFile()) {
      if (state.seenFiles.has(real)) continue;
      state.seenFiles.add(real);
      state.files.push(isManifestName(entry.name) ? { display, abs, real, kind: 'manifest' } : { display, abs, real, kind: 'artifact', size: stat.size });
    }
  }
  for (const sub of subdirs) {
    walkDirectory(rootReal, sub.abs, sub.real, sub.display, [...ancestors, sub.real], recursive, state);
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
      stat = fs.statSync(given);
      real = fs.realpathSync(given);
    } catch (e) {
      state.problems.push({ display, reason: errorCode(e) === 'ELOOP' ? 'symlink-loop' : 'unreadable', message: `${given}: cannot read (${errorCode(e)})` });
      continue;
    }
    if (stat.isDirectory()) {
      walkDirectory(real, path.resolve(given), real, display, [real], options.recursive === true, state);
    } else if (stat.isFile()) {
      const name = path.basename(given);
      const add = (abs: string, shown: string, size: number, fileReal: string): void => {
        if (state.seenFiles.has(fileReal)) return;
        state.seenFiles.add(fileReal);
        state.files.push(isManifestName(path.basename(abs)) ? { display: shown, abs, real: fileReal, kind: 'manifest' } : { display: shown, abs, real: fileReal, kind: 'artifact', size });
      };
      add(path.resolve(given), display, stat.size, real);
      if (!isManifestName(name)) {
        const sibling = `${given}${MANIFEST_SUFFIX}`;
        try {
          const s = fs.statSync(sibling);
          if (s.isFile()) add(path.resolve(sibling), `${display}${MANIFEST_SUFFIX}`, s.size, fs.realpathSync(sibling));
        } catch {
          // No manifest beside it: the artifact is reported as unsigned.
        }
      }
    }
  }
  return state;
}

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
 * Lists a file once per real path: a manifest by its name, anything else as
 * an artifact of `size` bytes (a manifest's size is not kept: see DiscoveredManifest).
 */
function listFile(state: WalkState, display: string, abs: string, real: string, size: number): void {
  if (state.seenFiles.has(real)) return;
  state.seenFiles.add(real);
  state.files.push(isManifestName(path.basename(abs)) ? { display, abs, real, kind: 'manifest' } : { display, abs, real, kind: 'artifact', size });
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
      listFile(state, display, abs, path.join(dirReal, entry.name), 0);
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
      listFile(state, display, abs, real, stat.size);
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
      listFile(state, display, path.resolve(given), real, stat.size);
      if (!isManifestName(name)) {
        const sibling = `${given}${MANIFEST_SUFFIX}`;
        try {
          const s = fs.statSync(sibling);
          if (s.isFile()) listFile(state, `${display}${MANIFEST_SUFFIX}`, path.resolve(sibling), fs.realpathSync(sibling), s.size);
        } catch {
          // No manifest beside it: the artifact is reported as unsigned.
        }
      }
    }
  }
  return state;
}

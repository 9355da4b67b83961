/**
 * Writes a file so that readers see either the old content or the new, never
 * half of it, and so that the new content survives a crash once we return:
 *
 *   1. create a temp file beside the target (same folder, so the final move is
 *      a rename within one file system), with the final mode from the first
 *      byte: a secret is never readable by others, not even for a moment;
 *   2. write and fsync it;
 *   3. move it over the target (rename, or a hard link when replacing is not
 *      allowed: a link fails instead of replacing a file created meanwhile);
 *   4. fsync the folder, so the new name itself is on disk, not only the bytes.
 *
 * A failure leaves no temp file behind and throws `file-unwritable` naming the
 * target (never the temp file, which the user has never heard of).
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BluxError } from '../errors.js';

export interface AtomicWriteOptions {
  /**
   * False: refuse (`file-exists`) rather than replace an existing file. The
   * check and the move are one step, so a file created meanwhile is not lost.
   * Default true.
   */
  overwrite?: boolean;
  /**
   * True: give the file exactly `mode`, even bits the umask would clear (a
   * public key must be readable by everyone). Default: the umask applies, as
   * it does to any new file.
   */
  ignoreUmask?: boolean;
}

export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  mode = 0o644,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const temp = tempPathFor(file);
  let created = false;
  try {
    const handle = await fsp.open(temp, 'wx', mode);
    created = true;
    try {
      await handle.writeFile(content);
      if (options.ignoreUmask === true) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await moveIntoPlace(temp, file, options.overwrite ?? true);
    created = false;
  } catch (e) {
    if (created) await fsp.rm(temp, { force: true }).catch(() => undefined);
    throw toWriteError(e, file);
  }
  await syncDirectory(path.dirname(temp));
}

/** The same, for callers that cannot await (the keystore's synchronous API). */
export function writeFileAtomicSync(
  file: string,
  content: string | Uint8Array,
  mode = 0o644,
  options: AtomicWriteOptions = {},
): void {
  const temp = tempPathFor(file);
  let created = false;
  try {
    const fd = fs.openSync(temp, 'wx', mode);
    created = true;
    try {
      fs.writeFileSync(fd, content);
      if (options.ignoreUmask === true) fs.fchmodSync(fd, mode);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    moveIntoPlaceSync(temp, file, options.overwrite ?? true);
    created = false;
  } catch (e) {
    if (created) {
      try {
        fs.rmSync(temp, { force: true });
      } catch {
        // the original failure is the one worth reporting
      }
    }
    throw toWriteError(e, file);
  }
  syncDirectorySync(path.dirname(temp));
}

/** A dotfile, so listings and globs (`*.pem`) pass over a leftover from a crash. */
function tempPathFor(file: string): string {
  const resolved = path.resolve(file);
  return path.join(path.dirname(resolved), `.${path.basename(resolved)}.tmp-${randomBytes(6).toString('hex')}`);
}

// ---------------------------------------------------------------------------
// The move

/** File systems without hard links (FAT, some network shares) say so with one of these. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP']);

async function moveIntoPlace(temp: string, file: string, overwrite: boolean): Promise<void> {
  if (overwrite) return fsp.rename(temp, file);
  try {
    await fsp.link(temp, file);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') throw alreadyExists(file);
    if (!NO_HARD_LINKS.has(errnoCode(e) ?? '')) throw e;
    // No hard links here: check, then rename (a small race, only on such file systems).
    if (await pathExists(file)) throw alreadyExists(file);
    return fsp.rename(temp, file);
  }
  await fsp.unlink(temp);
}

function moveIntoPlaceSync(temp: string, file: string, overwrite: boolean): void {
  if (overwrite) fs.renameSync(temp, file);
  else moveWithoutReplacingSync(temp, file);
}

/**
 * Moves `source` to `dest` unless `dest` exists (then `file-exists`): a hard
 * link, which cannot replace, then the old name is dropped. Other fs errors
 * are thrown as they are, for the caller to word. Also used to move existing
 * files (archiving a key), which is why it is exported.
 */
export function moveWithoutReplacingSync(source: string, dest: string): void {
  try {
    fs.linkSync(source, dest);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') throw alreadyExists(dest);
    if (!NO_HARD_LINKS.has(errnoCode(e) ?? '')) throw e;
    // No hard links here: check, then rename (a small race, only on such file systems).
    if (fs.existsSync(dest)) throw alreadyExists(dest);
    fs.renameSync(source, dest);
    return;
  }
  // Not swallowed: a key archived under a new name must not stay under its old one.
  fs.unlinkSync(source);
}

async function pathExists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// Folder fsync

/**
 * Makes the rename durable. Best effort: some platforms (Windows) cannot open
 * or fsync a folder, and by now the file itself is complete and in place.
 */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await fsp.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort, see above
  }
}

/** Exported for callers that move files themselves (see moveWithoutReplacingSync). */
export function syncDirectorySync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // best effort, see above
  }
}

// ---------------------------------------------------------------------------
// Errors

function alreadyExists(file: string): BluxError {
  return new BluxError('file-exists', 'already exists', { file });
}

/**
 * "cannot write (ENOENT: no such file or directory)". Node's own message also
 * names the syscall and the temp path, which would only confuse: the error
 * names the file the caller asked for.
 */
function toWriteError(e: unknown, file: string): BluxError {
  if (e instanceof BluxError) return e;
  const code = errnoCode(e);
  const message = e instanceof Error ? e.message : String(e);
  const reason = code !== undefined ? /^[A-Z0-9]+: ([^,]*)/.exec(message)?.[1] : undefined;
  const detail = code === undefined ? message : reason !== undefined ? `${code}: ${reason}` : code;
  return new BluxError('file-unwritable', `cannot write (${detail})`, { file, cause: e });
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

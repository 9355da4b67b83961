/**
 * Advisory file locks between processes (and between callers in one process)
 * on a persistent lock file such as `<ledger>.lock`.
 *
 *   withExclusiveLock  writers: creates the lock file when missing.
 *   withSharedLock     readers: never creates anything; without a lock file
 *                      (no writer of ours has run there) it reads unlocked.
 *
 * The locks come from fs-native-extensions (flock on macOS, open-file-
 * description locks on Linux, LockFileEx on Windows): they belong to the open
 * file, so two handles in one process exclude each other too, and they vanish
 * when the file is closed or the process dies, so a crash never leaves one
 * held. Lock files are never deleted: deleting a file that others hold open
 * would let the next caller lock a different file and break exclusion.
 */
import fs, { type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

import { toInputError } from '../io/read-document.js';

/** The part of fs-native-extensions we use (the package ships no type declarations). */
interface NativeFileLocks {
  /** Resolves once the lock is granted; exclusive unless `shared`. The fd must be writable for an exclusive lock, readable for a shared one. */
  waitForLock(fd: number, options?: { shared?: boolean }): Promise<void>;
  unlock(fd: number): void;
}

let nativeLocksLoaded: NativeFileLocks | undefined;

/**
 * fs-native-extensions, loaded when a lock file is first opened rather than
 * with this module: its loader takes ~14 ms here (resolving the package and
 * its prebuilt addon), which callers that find no lock file, such as an
 * audit of a ledger written by blux-reg 0.2 or copied from elsewhere, need
 * not pay.
 */
function nativeLocks(): NativeFileLocks {
  nativeLocksLoaded ??= createRequire(import.meta.url)('fs-native-extensions') as NativeFileLocks;
  return nativeLocksLoaded;
}

/**
 * Callers in this process queue here before asking the kernel. Waiting for the
 * file lock blocks a libuv pool thread; without the queue, a few concurrent
 * lockers in one process could block every pool thread while the holder needs
 * one to finish its own write — a deadlock. Shared lockers queue too: each
 * holds its lock only briefly, and a reader stuck behind a writer of another
 * process would otherwise pin a pool thread just the same.
 */
const inProcessQueues = new Map<string, Promise<void>>();

/** Runs `work` holding an exclusive lock on `lockPath`, creating the lock file if needed. */
export async function withExclusiveLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  return inQueue(lockPath, async (key) => {
    let handle: FileHandle;
    try {
      // 'a' = create if missing and open for writing, which an exclusive lock requires.
      handle = await fs.open(key, 'a');
    } catch (e) {
      throw toInputError(e, key);
    }
    return holding(handle, false, work);
  });
}

/**
 * Runs `work` holding a shared lock on `lockPath`: writers wait, other readers
 * do not. A missing lock file is not created (a reader must not leave files
 * in a folder it only reads, and an absent ledger must stay absent), nor is
 * one we may not open required: then `work` runs unlocked, as readers did
 * before locks existed, and must tolerate an append in progress.
 */
export async function withSharedLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  return inQueue(lockPath, async (key) => {
    let handle: FileHandle;
    try {
      handle = await fs.open(key, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM') return work();
      throw toInputError(e, key);
    }
    return holding(handle, true, work);
  });
}

/** Waits for this process's earlier callers on the same lock file, then runs `locked`. */
async function inQueue<T>(lockPath: string, locked: (key: string) => Promise<T>): Promise<T> {
  const key = path.resolve(lockPath);
  const before = inProcessQueues.get(key) ?? Promise.resolve();
  const run = before.then(() => locked(key));
  const done = run.then(
    () => undefined,
    () => undefined,
  );
  inProcessQueues.set(key, done);
  try {
    return await run;
  } finally {
    if (inProcessQueues.get(key) === done) inProcessQueues.delete(key);
  }
}

async function holding<T>(handle: FileHandle, shared: boolean, work: () => Promise<T>): Promise<T> {
  try {
    const locks = nativeLocks();
    await locks.waitForLock(handle.fd, { shared });
    try {
      return await work();
    } finally {
      locks.unlock(handle.fd);
    }
  } finally {
    // Closing would release the lock anyway (also when the process dies): a crash never leaves it held.
    await handle.close();
  }
}

/**
 * The lock file beside a ledger (store/ledger-file.ts takes it for appends,
 * the audit for reading). It is never deleted: deleting a lock file others
 * may hold open breaks the lock.
 */
export function ledgerLockPath(ledgerPath: string): string {
  return `${ledgerPath}.lock`;
}

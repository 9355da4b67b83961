/**
 * How a file that cannot be hashed is described, the same on the in-thread
 * path (index.ts sha256File) and in the pool's workers (worker.ts), so a
 * missing or unreadable artifact reads alike whichever path hashed it.
 */

/** Plain words for the usual reasons, so messages read well; anything else keeps Node's text. */
const OS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many symbolic links',
};

export interface FileErrorDescription {
  readonly code: 'file-not-found' | 'file-unreadable';
  readonly message: string;
}

export function describeFileError(error: unknown): FileErrorDescription {
  const errno = (error as { code?: unknown } | null)?.code;
  const known = typeof errno === 'string' ? OS_REASONS[errno] : undefined;
  const reason = known !== undefined ? `${known} (${String(errno)})` : error instanceof Error ? error.message : String(error);
  return errno === 'ENOENT'
    ? { code: 'file-not-found', message: `file not found: ${reason}` }
    : { code: 'file-unreadable', message: `cannot read file: ${reason}` };
}

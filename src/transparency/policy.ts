/** Reading a trust policy file (C2SP tlog-policy) named by the user, and where one is looked for by default. */
import path from 'node:path';
import { existsSync } from 'node:fs';

import { BluxError } from '../errors.js';
import { parseTrustPolicy, type TrustPolicy } from '../formats/trust-policy.js';
import { readTextFile } from '../store/checkpoints.js';
import type { ConfigPaths } from '../store/paths.js';

export async function readTrustPolicy(file: string): Promise<TrustPolicy> {
  const parsed = parseTrustPolicy(await readTextFile(file));
  if (!parsed.ok) throw new BluxError('malformed', `not a trust policy: ${parsed.problem}`, { file });
  return parsed.policy;
}

/** `<config>/trust/policy.txt`: used when a command is given no --policy. */
export function defaultPolicyFile(paths: Pick<ConfigPaths, 'trustDir'>): string {
  return path.join(paths.trustDir, 'policy.txt');
}

/** The policy of `--policy FILE`, else the config folder's, else a usage error saying what to pass. */
export async function resolveTrustPolicy(file: string | undefined, paths: Pick<ConfigPaths, 'trustDir'>): Promise<TrustPolicy> {
  if (file !== undefined) return readTrustPolicy(file);
  const fallback = defaultPolicyFile(paths);
  if (!existsSync(fallback)) {
    throw new BluxError('invalid-argument', `no trust policy: pass --policy FILE (or write ${fallback}); see docs/TRANSPARENCY.md`);
  }
  return readTrustPolicy(fallback);
}

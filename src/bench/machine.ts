/** What the report says about where it ran: the machine, Node, and the versions of the code doing the work. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

import type { MachineDescription } from './types.js';
import { packageVersion } from '../io/package-files.js';

/** The libraries behind the backends and the harness. */
const MEASURED_PACKAGES = ['sodium-native', 'hash-wasm', '@noble/ed25519', '@noble/hashes', 'piscina', 'tinybench'] as const;

export function describeMachine(): MachineDescription {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memory_bytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    arch: process.arch,
    node: process.version,
  };
}

/** The version in the package.json of the installed `name`, found from its entry point upwards. */
function installedVersion(name: string): string {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = path.dirname(require.resolve(name));
  } catch {
    return 'not installed';
  }
  for (; ;) {
    const candidate = path.join(dir, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json at this level
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

export function packageVersions(): Record<string, string> {
  const versions: Record<string, string> = { 'blux-reg': packageVersion() };
  for (const name of MEASURED_PACKAGES) versions[name] = installedVersion(name);
  return versions;
}

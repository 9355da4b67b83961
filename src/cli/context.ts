/**
 * What every command needs from the global options: the config folder, the
 * engine backend, and how to get a passphrase.
 */
import type { Command } from 'commander';
import { resolveBackendName } from '../engine/backend-name.js';
import type { BackendName } from '../engine/types.js';
import { configPaths, defaultConfigRoot, type ConfigPaths } from '../store/paths.js';
import { resolvePassphrase } from '../store/passphrase.js';
import { BluxError } from '../errors.js';

export interface GlobalOptions {
  configDir?: string;
  backend?: string;
}

export interface CommandContext {
  readonly paths: ConfigPaths;
  readonly backend: BackendName;
}

export function contextFrom(command: Command): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const root = globals.configDir ?? defaultConfigRoot();
  return { paths: configPaths(root), backend: resolveBackendName(globals.backend) };
}

/**
 * A passphrase getter for an existing key: `--passphrase-file`, then
 * `BLUX_REG_PASSPHRASE`, then a hidden prompt on a terminal. Asked lazily, so
 * unencrypted keys never prompt.
 */
export function passphraseGetter(passphraseFile: string | undefined, keyName: string): () => Promise<string> {
  return async () => {
    const options = passphraseFile === undefined
      ? { interactive: true, prompt: `Passphrase for key "${keyName}": ` }
      : { passphraseFile, interactive: true, prompt: `Passphrase for key "${keyName}": ` };
    const passphrase = await resolvePassphrase(options);
    if (passphrase === null) {
      throw new BluxError('passphrase-required',
        `key "${keyName}" is encrypted: give --passphrase-file FILE, set BLUX_REG_PASSPHRASE, or run in a terminal`);
    }
    return passphrase;
  };
}

/** Parses a whole number option (`--jobs 4`), refusing junk like `4x` or `-1`. */
export function parseCount(name: string, min = 0) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) {
      throw new BluxError('invalid-argument', `${name} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
    }
    return Number(value);
  };
}

/** Collects a repeatable option (`--trusted-keys A --trusted-keys B`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Where blux-reg keeps its state. The layout matches the Python original so an
 * existing config folder keeps working:
 *
 *   <root>/keys/<name>.pem, <name>.pub.pem
 *   <root>/trust/ledger.jsonl
 *   <root>/trust/token_revocations.jsonl
 *   <root>/trust/key_revocations.jsonl
 *   <root>/trust/tokens/
 */
import os from 'node:os';
import path from 'node:path';

export interface ConfigPaths {
  readonly root: string;
  readonly keysDir: string;
  readonly trustDir: string;
  readonly ledger: string;
  readonly ledgerLock: string;
  readonly tokenRevocations: string;
  readonly keyRevocations: string;
  readonly tokensDir: string;
}

/** `BLUX_REG_CONFIG_DIR`, else `~/.config/blux-reg`. */
export function defaultConfigRoot(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['BLUX_REG_CONFIG_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  return path.join(os.homedir(), '.config', 'blux-reg');
}

export function configPaths(root: string = defaultConfigRoot()): ConfigPaths {
  const abs = path.resolve(root);
  const trustDir = path.join(abs, 'trust');
  return {
    root: abs,
    keysDir: path.join(abs, 'keys'),
    trustDir,
    ledger: path.join(trustDir, 'ledger.jsonl'),
    ledgerLock: path.join(trustDir, 'ledger.jsonl.lock'),
    tokenRevocations: path.join(trustDir, 'token_revocations.jsonl'),
    keyRevocations: path.join(trustDir, 'key_revocations.jsonl'),
    tokensDir: path.join(trustDir, 'tokens'),
  };
}

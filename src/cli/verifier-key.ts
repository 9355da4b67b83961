/**
 * `ledger log-key` and `witness key`: print a local key as a C2SP verifier
 * key (vkey) for a trust policy line; the two differ only in the name and the
 * signature type (Ed25519 for the log, cosignature/v1 for witnesses).
 */
import type { Command } from 'commander';
import type { SignatureTypeByte } from '../formats/note.js';
import { contextFrom } from './context.js';
import { printJson, say } from './output.js';

export async function printVerifierKey(
  cmd: Command, keyName: string, name: string, type: SignatureTypeByte, json: boolean,
): Promise<number> {
  const { getKey } = await import('../store/keystore.js');
  const { encodeVerifierKey } = await import('../formats/note.js');
  const key = getKey(contextFrom(cmd).paths.keysDir, keyName);
  const vkey = encodeVerifierKey(name, type, key.publicKey);
  if (json) printJson({ name, vkey, fingerprint: key.fingerprint });
  else say(vkey);
  return 0;
}

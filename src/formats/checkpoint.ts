/**
 * C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint): the text of a signed note
 *
 *   <origin>\n
 *   <tree size, decimal, no leading zeros>\n
 *   <root hash, base64 of 32 bytes>\n
 *   [extension lines]\n...
 *
 * Pure: the body only; signatures are note.ts.
 */
import { decodeBase64Strict, encodeBase64 } from './base64.js';

export const ROOT_HASH_LENGTH = 32;

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Lines after the third, without their "\n" (opaque; signed along with the rest). */
  extensions: string[];
}

export type CheckpointParse = { ok: true; checkpoint: Checkpoint } | { ok: false; problem: string };

const DECIMAL = /^(0|[1-9][0-9]*)$/;

export function formatCheckpointText(checkpoint: Checkpoint): string {
  return [checkpoint.origin, String(checkpoint.size), encodeBase64(checkpoint.rootHash), ...checkpoint.extensions].map((l) => `${l}\n`).join('');
}

export function parseCheckpointText(text: string): CheckpointParse {
  if (!text.endsWith('\n')) return { ok: false, problem: 'the checkpoint text does not end with a newline' };
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) return { ok: false, problem: `a checkpoint has at least 3 lines (origin, size, root hash), this one ${lines.length}` };
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') return { ok: false, problem: 'the origin line is empty' };
  if (!DECIMAL.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    return { ok: false, problem: `the size line is not a decimal tree size: ${JSON.stringify(sizeText)}` };
  }
  const rootHash = decodeBase64Strict(rootText, ROOT_HASH_LENGTH);
  if (rootHash === null) return { ok: false, problem: `the root hash line is not base64 of ${ROOT_HASH_LENGTH} bytes: ${JSON.stringify(rootText)}` };
  if (extensions.some((l) => l === '')) return { ok: false, problem: 'an extension line is empty' };
  return { ok: true, checkpoint: { origin, size: Number(sizeText), rootHash, extensions } };
}

/**
 * A witness (C2SP tlog-witness semantics, offline): cosigns a checkpoint
 * only if it is signed by a known log and consistent with the last
 * checkpoint this witness cosigned for that origin. A smaller tree is a
 * rollback, the same size with another root or a failed consistency proof is
 * a fork: both are refused and the witness's state is left as it was.
 */
import type { EngineOptions } from '../engine/index.js';
import { SignatureType, noteKeyId, type SignedNote } from '../formats/note.js';
import type { TrustPolicy } from '../formats/trust-policy.js';
import { readWitnessState, witnessStateFile, withWitnessState, writeWitnessState } from '../store/checkpoints.js';
import { addCosignature, isVerdict, parseCheckpointNote, refused, verifyCheckpointNote, type NoteSigner, type TransparencyVerdict } from './checkpoints.js';
import { checkConsistencyProof, proveConsistency, type ConsistencyProof } from './log.js';
import { bytesEqual } from './merkle.js';
import type { TreeTiles } from './tiles.js';

export interface CosignOptions extends EngineOptions {
  /** The checkpoint note to cosign. */
  note: string;
  /** Which logs are known (the quorum line is not used: a witness judges consistency, not other witnesses). */
  policy: TrustPolicy;
  witnessName: string;
  signer: NoteSigner;
  /** The witness's state folder (one file per origin). */
  stateDir: string;
  /** A consistency proof from the last cosigned checkpoint to this one... */
  proof?: ConsistencyProof;
  /** ...or the ledger to compute it from... */
  ledger?: string;
  /** ...faster with the tiles saved with the new checkpoint (store/checkpoints.ts readTiles). */
  tiles?: TreeTiles | null;
  /** POSIX seconds of the cosignature; now unless given. */
  now?: number;
}

export interface CosignResult extends TransparencyVerdict {
  /** The checkpoint note with this witness's cosignature line added (valid only). */
  note?: string;
  previous_size?: number;
}

/** This witness's vkey, for trust policies (`witness <name> <vkey>`). */
export function witnessKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return noteKeyId(name, SignatureType.cosignatureV1, publicKey);
}

export async function cosignCheckpoint(opts: CosignOptions): Promise<CosignResult> {
  // A witness does not care whether other witnesses signed: quorum 'none' for the log check.
  const logOnly: TrustPolicy = { ...opts.policy, quorum: 'none' };
  const logVerdict = await verifyCheckpointNote(opts.note, logOnly, opts);
  if (logVerdict.status !== 'valid') return logVerdict;
  const parsed = parseCheckpointNote(opts.note);
  if (isVerdict(parsed)) return parsed;
  const { note, checkpoint } = parsed;
  const stateFile = witnessStateFile(opts.stateDir, checkpoint.origin);

  return withWitnessState(stateFile, async () => {
    const previousText = await readWitnessState(stateFile);
    let previousSize: number | undefined;
    if (previousText !== null) {
      const previous = parseCheckpointNote(previousText);
      if (isVerdict(previous)) return refused('checkpoint-malformed', `the witness state ${stateFile} is damaged: ${previous.message}`);
      const old = previous.checkpoint;
      previousSize = old.size;
      const details = { previous_size: old.size, tree_size: checkpoint.size };
      if (checkpoint.size < old.size) {
        return refused('rollback', `rollback refused: this witness already cosigned ${old.size} leaves of ${checkpoint.origin}, the checkpoint has ${checkpoint.size}`, details);
      }
      if (checkpoint.size === old.size && !bytesEqual(checkpoint.rootHash, old.rootHash)) {
        return refused('fork', `fork refused: this witness cosigned another root for ${old.size} leaves of ${checkpoint.origin}`, details);
      }
      if (checkpoint.size > old.size && old.size > 0) {
        const verdict = await consistencyWithPrevious(opts, old.size, checkpoint.size, old.rootHash, checkpoint.rootHash);
        if (verdict.status !== 'valid') return refused('fork', `fork refused: not consistent with the ${old.size}-leaf checkpoint this witness cosigned: ${verdict.message}`, details);
      }
    }
    const cosigned = addCosignature(note as SignedNote, opts.witnessName, opts.signer, opts.now ?? Math.floor(Date.now() / 1000));
    await writeWitnessState(stateFile, opts.note);
    return {
      status: 'valid',
      reason: 'ok',
      message: previousSize === undefined
        ? `cosigned ${checkpoint.origin} at ${checkpoint.size} leaves (first checkpoint this witness sees for it)`
        : `cosigned ${checkpoint.origin} at ${checkpoint.size} leaves, consistent with ${previousSize}`,
      note: cosigned,
      origin: checkpoint.origin,
      tree_size: checkpoint.size,
      ...(previousSize === undefined ? {} : { previous_size: previousSize }),
    };
  });
}

async function consistencyWithPrevious(opts: CosignOptions, oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array): Promise<TransparencyVerdict> {
  let proof = opts.proof;
  if (proof === undefined) {
    if (opts.ledger === undefined) return refused('consistency-proof-invalid', 'no consistency proof given (and no ledger to compute one from)');
    proof = await proveConsistency(opts.ledger, oldSize, newSize, { ...opts, tiles: opts.tiles ?? null });
  }
  if (proof.oldSize !== oldSize || proof.newSize !== newSize) {
    return refused('consistency-proof-invalid', `the proof goes from ${proof.oldSize} to ${proof.newSize}, not from ${oldSize} to ${newSize}`);
  }
  // The roots are the two checkpoints', never the proof file's own claims.
  return checkConsistencyProof({ ...proof, oldRoot, newRoot }, opts);
}

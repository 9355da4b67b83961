/**
 * Signing and checking checkpoints: the log's note signature, witnesses'
 * cosignatures, and the trust policy's verdict on them.
 *
 * Only signature lines whose name and key ID match a key of the policy are
 * looked at; every other line is ignored (the signed-note rule), so a
 * checkpoint can carry cosignatures from witnesses this verifier does not
 * know without harm.
 */
import { verifyEd25519Batch, type EngineOptions, type Ed25519VerifyItem } from '../engine/index.js';
import { formatCheckpointText, parseCheckpointText, type Checkpoint } from '../formats/checkpoint.js';
import { cosignedMessage, decodeTimestampedSignature, encodeTimestampedSignature } from '../formats/cosignature.js';
import {
  noteKeyId,
  parseSignedNote,
  serializeSignedNote,
  SignatureType,
  signaturesBy,
  withSignature,
  type SignedNote,
} from '../formats/note.js';
import { describeQuorum, quorumMet, type TrustPolicy } from '../formats/trust-policy.js';

/** Why a checkpoint (or a proof resting on one) is refused; `ok` when it is not. */
export type TransparencyReason =
  | 'ok'
  | 'checkpoint-malformed'
  | 'unknown-log'
  | 'log-signature-missing'
  | 'log-signature-invalid'
  | 'quorum-not-met'
  | 'root-mismatch'
  | 'size-mismatch'
  | 'inclusion-proof-invalid'
  | 'consistency-proof-invalid'
  | 'leaf-mismatch'
  | 'rollback'
  | 'fork'
  | 'bundle-malformed'
  | 'artifact-hash-mismatch'
  | 'artifact-size-mismatch'
  | 'manifest-mismatch'
  | 'bad-signature'
  | 'unknown-key'
  | 'untrusted-signer'
  | 'malformed';

export interface TransparencyVerdict {
  status: 'valid' | 'invalid';
  reason: TransparencyReason;
  message: string;
  [detail: string]: unknown;
}

export function refused(reason: TransparencyReason, message: string, details: Record<string, unknown> = {}): TransparencyVerdict {
  return { status: 'invalid', reason, message, ...details };
}

/** Something that signs bytes with an Ed25519 key (the keystore's Signer). */
export interface NoteSigner {
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** A new checkpoint note signed by the log key under the name `checkpoint.origin`. */
export function signCheckpoint(checkpoint: Checkpoint, log: NoteSigner): string {
  const text = formatCheckpointText(checkpoint);
  const signature = log.sign(new TextEncoder().encode(text));
  const keyId = noteKeyId(checkpoint.origin, SignatureType.ed25519, log.publicKey);
  return serializeSignedNote({ text, signatures: [{ name: checkpoint.origin, keyId, signature }] });
}

/** The note with a cosignature/v1 line by `witnessName` added (replacing an earlier one by the same key). */
export function addCosignature(note: SignedNote, witnessName: string, witness: NoteSigner, timestamp: number): string {
  const signature = witness.sign(cosignedMessage(note.text, timestamp));
  const keyId = noteKeyId(witnessName, SignatureType.cosignatureV1, witness.publicKey);
  return serializeSignedNote(withSignature(note, { name: witnessName, keyId, signature: encodeTimestampedSignature(timestamp, signature) }));
}

export interface ParsedCheckpointNote {
  note: SignedNote;
  checkpoint: Checkpoint;
}

export function parseCheckpointNote(text: string): ParsedCheckpointNote | TransparencyVerdict {
  const parsed = parseSignedNote(text);
  if (!parsed.ok) return refused('checkpoint-malformed', `the checkpoint is not a signed note: it ${parsed.problem}`);
  const body = parseCheckpointText(parsed.note.text);
  if (!body.ok) return refused('checkpoint-malformed', body.problem);
  return { note: parsed.note, checkpoint: body.checkpoint };
}

export function isVerdict(value: object): value is TransparencyVerdict {
  return 'status' in value;
}

/** Merges the signature lines of two notes of the same text (add-cosignature). */
export function mergeSignatures(into: SignedNote, from: SignedNote): string {
  let note = into;
  for (const signature of from.signatures) note = withSignature(note, signature);
  return serializeSignedNote(note);
}

/**
 * The policy's verdict on a checkpoint note: a valid signature by a log of
 * the policy whose name is the origin, and valid cosignatures meeting the
 * quorum. `witnesses` lists the policy witnesses that validly cosigned.
 */
export async function verifyCheckpointNote(text: string, policy: TrustPolicy, engine: EngineOptions = {}): Promise<TransparencyVerdict> {
  const parsed = parseCheckpointNote(text);
  if (isVerdict(parsed)) return parsed;
  const { note, checkpoint } = parsed;
  const details = { origin: checkpoint.origin, tree_size: checkpoint.size, root_hash: Buffer.from(checkpoint.rootHash).toString('base64') };
  const log = policy.logs.find((l) => l.name === checkpoint.origin);
  if (log === undefined) return refused('unknown-log', `no log of the trust policy has the origin ${JSON.stringify(checkpoint.origin)}`, details);
  const logSignatures = signaturesBy(note, log.name, log.keyId);
  if (logSignatures.length === 0) return refused('log-signature-missing', `no signature line by the log key ${log.name}`, details);

  const textBytes = new TextEncoder().encode(note.text);
  const items: Ed25519VerifyItem[] = logSignatures.map((s) => ({ publicKey: log.publicKey, message: textBytes, signature: s.signature }));
  const claims: string[] = [];
  for (const witness of policy.witnesses) {
    for (const line of signaturesBy(note, witness.key.name, witness.key.keyId)) {
      const decoded = decodeTimestampedSignature(line.signature);
      if (decoded === null) continue; // not a cosignature/v1 of this key: ignored like any unknown line
      items.push({ publicKey: witness.key.publicKey, message: cosignedMessage(note.text, decoded.timestamp), signature: decoded.signature });
      claims.push(witness.name);
    }
  }
  const verdicts = await verifyEd25519Batch(items, engine);
  if (!verdicts.slice(0, logSignatures.length).some(Boolean)) {
    return refused('log-signature-invalid', `the signature by the log key ${log.name} does not verify over the checkpoint text`, details);
  }
  const cosigned = new Set(claims.filter((_, i) => verdicts[logSignatures.length + i] === true));
  const badCosignatures = claims.filter((_, i) => verdicts[logSignatures.length + i] !== true);
  const witnessDetails = { ...details, witnesses: [...cosigned].sort(), bad_cosignatures: badCosignatures };
  if (!quorumMet(policy, cosigned)) {
    return refused('quorum-not-met',
      `the quorum needs ${describeQuorum(policy)}; valid cosignatures: ${cosigned.size === 0 ? 'none' : [...cosigned].sort().join(', ')}` +
      (badCosignatures.length > 0 ? `; invalid cosignatures by ${badCosignatures.join(', ')}` : ''), witnessDetails);
  }
  return { status: 'valid', reason: 'ok', message: `signed by ${log.name}, quorum met (${describeQuorum(policy)})`, ...witnessDetails };
}

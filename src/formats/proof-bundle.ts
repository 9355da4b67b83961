/**
 * The proof bundle (`schemas/proof-bundle.schema.json`), in the spirit of
 * C2SP tlog-proof: one JSON file that lets anyone check, offline, that an
 * artifact was signed and that the signing is recorded in a witnessed log.
 * Pure: shape check and typed view; verify/bundle.ts decides.
 */
import { checkSchema, type SchemaName } from './schema.js';
import { decodeBase64Strict } from './base64.js';

export const PROOF_BUNDLE_FORMAT = 'blux-reg-proof-bundle/v1';
/** Suffix of bundle files written next to a manifest by default. */
export const PROOF_BUNDLE_SUFFIX = '.proof.json';

export interface ProofBundleSigner {
  fingerprint: string;
  publicKey: Uint8Array;
}

export interface ProofBundle {
  /** The manifest file's exact text (every byte of a bundle is covered by a check; a file name would not be). */
  manifestText: string;
  signers: ProofBundleSigner[];
  ledgerEntry: string;
  leafIndex: number;
  treeSize: number;
  inclusionProof: Uint8Array[];
  checkpoint: string;
}

export function proofBundleDocument(bundle: ProofBundle): Record<string, unknown> {
  const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  return {
    format: PROOF_BUNDLE_FORMAT,
    manifest: bundle.manifestText,
    signer_keys: bundle.signers.map((s) => ({ fingerprint: s.fingerprint, public_key: b64(s.publicKey) })),
    ledger_entry: bundle.ledgerEntry,
    leaf_index: bundle.leafIndex,
    tree_size: bundle.treeSize,
    inclusion_proof: bundle.inclusionProof.map(b64),
    checkpoint: bundle.checkpoint,
  };
}

export function serializeProofBundle(bundle: ProofBundle): string {
  return `${JSON.stringify(proofBundleDocument(bundle), null, 2)}\n`;
}

export type ProofBundleRead = { ok: true; bundle: ProofBundle } | { ok: false; problem: string };

const PROOF_BUNDLE_SCHEMA: SchemaName = 'proof-bundle';

/** The typed view of a parsed bundle, or the first problem (schema first, then encodings). */
export function readProofBundle(value: unknown): ProofBundleRead {
  const problem = checkSchema(PROOF_BUNDLE_SCHEMA, value);
  if (problem !== null) return { ok: false, problem };
  const doc = value as {
    manifest: string;
    signer_keys: { fingerprint: string; public_key: string }[];
    ledger_entry: string;
    leaf_index: number;
    tree_size: number;
    inclusion_proof: string[];
    checkpoint: string;
  };
  const signers: ProofBundleSigner[] = [];
  for (const [i, s] of doc.signer_keys.entries()) {
    const publicKey = decodeBase64Strict(s.public_key, 32);
    if (publicKey === null) return { ok: false, problem: `field /signer_keys/${i}/public_key is not canonical base64 of 32 bytes` };
    signers.push({ fingerprint: s.fingerprint, publicKey });
  }
  const inclusionProof: Uint8Array[] = [];
  for (const [i, h] of doc.inclusion_proof.entries()) {
    const hash = decodeBase64Strict(h, 32);
    if (hash === null) return { ok: false, problem: `field /inclusion_proof/${i} is not canonical base64 of 32 bytes` };
    inclusionProof.push(hash);
  }
  if (doc.leaf_index >= doc.tree_size) return { ok: false, problem: `leaf_index ${doc.leaf_index} is not below tree_size ${doc.tree_size}` };
  return {
    ok: true,
    bundle: {
      manifestText: doc.manifest,
      signers,
      ledgerEntry: doc.ledger_entry,
      leafIndex: doc.leaf_index,
      treeSize: doc.tree_size,
      inclusionProof,
      checkpoint: doc.checkpoint,
    },
  };
}

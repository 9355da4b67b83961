/**
 * blux-reg's library API. The CLI is a thin layer over these functions;
 * everything it can do, a program can do by importing from `blux-reg`.
 */
export { BluxError, isBluxError, type ErrorCode, type VerdictReason } from './errors.js';

// Engine: every hash and signature check goes through here.
export {
  BACKEND_NAMES, getBackend, resolveBackendName, sha256, sha256Hex, sha256File,
  verifyEd25519, verifyEd25519Batch, sha256Files, verifyEd25519Parallel, closeEnginePool,
  type FileToHash, type FileHashResult, type ParallelOptions,
  type Backend, type BackendName, type Ed25519VerifyItem, type EngineOptions, type FileHashOptions, type Sha256Hasher,
} from './engine/index.js';

// Formats (pure).
export {
  parseJson, toPlain, fromPlain, JsonNumber, canonicalPython, canonicalJcs, canonicalFor, canonicalBytes, schemeFor,
  type JsonValue, type JsonObject, type CanonicalScheme,
} from './formats/canonical/index.js';
export { encodeBase64, decodeBase64Strict, encodeHex, decodeHex } from './formats/base64.js';
export { parsePublicKeyPem, encodePublicKeyPem, fingerprintOf } from './formats/keys.js';
export {
  MANIFEST_SUFFIX, readManifest, manifestSignedText, manifestHashText, type Manifest, type ManifestV1, type ManifestV2,
} from './formats/manifest.js';
export { readToken, tokenSignedText, tokenHashText, type CapabilityToken } from './formats/token.js';
export { parseInstant, formatInstant } from './formats/time.js';

// State in the config folder.
export { configPaths, defaultConfigRoot, type ConfigPaths } from './store/paths.js';
export * as keystore from './store/keystore.js';
export { appendLedgerEntry, readLedgerTail, repairLedger, openLedgerLines } from './store/ledger-file.js';
export { ledgerSignedBytes, type LedgerEntry, type LedgerSignFunction } from './formats/ledger-entry.js';
export { loadTokenRevocations, loadKeyRevocations } from './store/revocation-lists.js';

// Trust and verification.
export { loadTrustContext, type TrustContext, type TrustOptions } from './trust/context.js';
export { loadTrustedKeys, type TrustedKeys, type TrustedKey } from './trust/trusted-keys.js';
export { verifyFile, type VerifyFileOptions, type DocumentKind } from './verify/file.js';
export { verifyManifestDocument, type ManifestVerdict } from './verify/manifest.js';
export { verifyTokenDocument, type TokenVerdict } from './verify/token.js';
export { exitCodeFor, type Verdict, type VerdictStatus } from './verify/result.js';
export { verifyLedgerChain, type LedgerAuditResult } from './audit/verify-chain.js';
export { auditLedger, type AuditLedgerOptions } from './audit/audit-ledger.js';
export type { LedgerAuditReport, LedgerAuditProblem, SignerSummary } from './audit/report.js';
export type { AuditTrust, AuditSignerKey } from './audit/signature-policy.js';
export { renderLedgerAuditHtml } from './audit/report-html.js';

// Use-cases that write.
export { signArtifact, type SignOptions, type SignResult } from './sign/sign-artifact.js';
export { issueToken, type IssueOptions, type IssueResult } from './tokens/issue.js';
export { revokeToken } from './tokens/revoke.js';
export { createKey, revokeKey, rotateKey } from './keys/lifecycle.js';
export { addLedgerEvent, type AddEventOptions } from './audit/add-event.js';

// Whole trees.
export { verifyBatch, type VerifyBatchOptions, type BatchRun, type BatchProgress } from './batch/verify-batch.js';
export { mergeReports, type BatchReport, type ArtifactResult, type BatchTotals } from './batch/report.js';
export { parseShard, type Shard } from './batch/shard.js';
export { toJunitXml } from './batch/junit.js';

// Benchmarks (`blux-reg bench`): suites, the run, the report as markdown / SVG, the regression gate.
export {
  BENCH_SUITES, runBench, reportMarkdown, reportSvg, compareReports, comparisonLines, parseBaseline, readBaseline,
  type BenchReport, type BenchEntry, type BenchSuite, type BenchCase, type BenchSettings, type Comparison, type RunBenchOptions,
} from './bench/index.js';

// Transparency (issue 6): Merkle tree, checkpoints, witnesses, proof bundles.
export {
  CompactRange, hashLeaves, hashChildren, inclusionProofRanges, consistencyProofRanges, verifyInclusion, verifyConsistency,
  type CompactRangeState, type LeafRange, type ProofCheck, type Sha256Many,
} from './transparency/merkle.js';
export { ledgerTreeHead, ledgerTreeState, countLedgerLeaves, type LedgerTreeHead, type LedgerTreeState, type LedgerTreeOptions } from './transparency/ledger-tree.js';
export { sha256x4, type Sha256x4Options } from './transparency/sha256x4.js';
export { signCheckpoint, addCosignature, verifyCheckpointNote, type TransparencyVerdict, type TransparencyReason } from './transparency/checkpoints.js';
export {
  createCheckpoint, proveConsistency, checkConsistencyProof, auditSinceCheckpoint,
  type CreateCheckpointOptions, type ConsistencyProof, type IncrementalAuditOptions, type IncrementalAuditResult,
} from './transparency/log.js';
export { cosignCheckpoint, type CosignOptions, type CosignResult } from './transparency/witness.js';
export { buildProofBundle, verifyProofBundle, type BuildBundleOptions, type VerifyBundleOptions } from './transparency/bundle.js';
export { readTrustPolicy } from './transparency/policy.js';
export { parseTrustPolicy, quorumMet, type TrustPolicy } from './formats/trust-policy.js';
export { parseSignedNote, encodeVerifierKey, parseVerifierKey, noteKeyId, SignatureType } from './formats/note.js';
export { parseCheckpointText, formatCheckpointText, type Checkpoint } from './formats/checkpoint.js';
export { readProofBundle, serializeProofBundle, type ProofBundle } from './formats/proof-bundle.js';

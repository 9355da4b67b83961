/**
 * `verify FILE`, `verify-manifest MANIFEST`, `token verify TOKEN`: thin
 * wrappers over `verifyFile`.
 */
import type { Command } from 'commander';
import type { DocumentKind } from '../../verify/file.js';
import type { Verdict } from '../../verify/result.js';
import { collect, contextFrom, parseCount } from '../context.js';
import { complain, printJson, say, usageError } from '../output.js';

interface VerifyFlags {
  json?: boolean;
  trustedKeys?: string[];
  at?: string;
  audience?: string;
  requireSigners?: number;
  keystore?: boolean;
  proof?: string;
  policy?: string;
}

export function addVerifyOptions(command: Command): Command {
  return command
    .option('--json', 'print the verdict as JSON: {status, reason, file, ...}')
    .option('--trusted-keys <file|dir>', 'also trust this public key file or folder of *.pub.pem (repeatable)', collect)
    .option('--no-keystore', "do not trust the keystore's keys (only --trusted-keys)")
    .option('--at <iso-time>', 'judge token validity at this instant instead of now, e.g. 2026-01-21T14:27:38+00:00')
    .option('--audience <audience>', 'tokens: require this audience')
    .option('--require-signers <n>', 'manifests: distinct trusted signers required (default 1)', parseCount('--require-signers', 1));
}

export async function runVerify(file: string, expect: DocumentKind, command: Command): Promise<number> {
  const flags = command.opts<VerifyFlags>();
  if (flags.proof !== undefined) return runVerifyProof(file, flags.proof, command);
  const { parseInstant } = await import('../../formats/time.js');
  const { loadTrustContext } = await import('../../trust/context.js');
  const { verifyFile } = await import('../../verify/file.js');
  const { exitCodeFor } = await import('../../verify/result.js');
  const ctx = contextFrom(command);
  let atMillis: number | undefined;
  if (flags.at !== undefined) {
    const parsed = parseInstant(flags.at);
    if (parsed === null) throw usageError(`--at must be an ISO 8601 instant with an offset, e.g. 2026-01-21T14:27:38+00:00; got ${JSON.stringify(flags.at)}`);
    atMillis = parsed;
  }
  const trust = await loadTrustContext({ paths: ctx.paths, trustedKeys: flags.trustedKeys ?? [], useKeystore: flags.keystore !== false });
  const verdict = await verifyFile(file, trust, {
    expect,
    backend: ctx.backend,
    ...(atMillis !== undefined ? { atMillis } : {}),
    ...(flags.audience !== undefined ? { audience: flags.audience } : {}),
    ...(flags.requireSigners !== undefined ? { requireSigners: flags.requireSigners } : {}),
  });
  printVerdict(verdict, flags.json === true);
  return exitCodeFor(verdict.status);
}

/**
 * `verify ARTIFACT --proof BUNDLE [--policy FILE]`: the offline check of a
 * proof bundle (transparency/bundle.ts). Reads no config folder: trust comes
 * from the policy file and, for the manifest's signers, --trusted-keys.
 */
async function runVerifyProof(artifact: string, bundleFile: string, command: Command): Promise<number> {
  const flags = command.opts<VerifyFlags>();
  const { verifyProofBundle } = await import('../../transparency/bundle.js');
  const { resolveTrustPolicy } = await import('../../transparency/policy.js');
  const ctx = contextFrom(command);
  const policy = await resolveTrustPolicy(flags.policy, ctx.paths);
  let trustedFingerprints: Set<string> | undefined;
  if (flags.trustedKeys !== undefined) {
    const { loadTrustedKeys } = await import('../../trust/trusted-keys.js');
    trustedFingerprints = new Set([...loadTrustedKeys({ extra: flags.trustedKeys })].map((k) => k.fingerprint));
  }
  const verdict = await verifyProofBundle(bundleFile, artifact, { policy, backend: ctx.backend, ...(trustedFingerprints !== undefined ? { trustedFingerprints } : {}) });
  const { reportVerdict } = await import('./proof.js');
  return reportVerdict(artifact, verdict, flags.json === true);
}

export function printVerdict(verdict: Verdict, json: boolean): void {
  if (json) printJson(verdict);
  else if (verdict.status === 'valid') say(`${verdict.file}: valid (${verdict.message})`);
  if (verdict.status !== 'valid') complain(`${verdict.file}: ${verdict.status}: ${verdict.reason}: ${stripFile(verdict)}`);
}

function stripFile(verdict: Verdict): string {
  const prefix = `${verdict.file}: `;
  return verdict.message.startsWith(prefix) ? verdict.message.slice(prefix.length) : verdict.message;
}

export function registerVerifyCommands(program: Command, run: (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>): void {
  addVerifyOptions(
    program
      .command('verify')
      .argument('<file>', 'a manifest (*.blux-manifest.json) or a capability token; with --proof, the artifact')
      .description('verify a manifest against its artifact, or a capability token; the kind is detected from the content. With --proof, verify an artifact offline against a proof bundle (no config folder, no network)')
      .option('--proof <bundle>', 'a proof bundle (from `blux-reg proof`): checks the artifact, manifest, ledger inclusion, checkpoint and witness quorum')
      .option('--policy <file>', 'with --proof: the trust policy (C2SP tlog-policy: log key, witness keys, quorum)'),
  ).action(run((cmd) => runVerify(cmd.args[0]!, 'auto', cmd)));

  addVerifyOptions(
    program
      .command('verify-manifest')
      .argument('<manifest>', 'a manifest file (1.0 or 2.0)')
      .description('verify a manifest: artifact path, SHA-256, and signatures by trusted keys'),
  ).action(run((cmd) => runVerify(cmd.args[0]!, 'manifest', cmd)));
}

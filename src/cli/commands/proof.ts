/** `proof <artifact|manifest>`: write an offline proof bundle; and the verdict printer the transparency commands share. */
import type { Command } from 'commander';
import type { TransparencyVerdict } from '../../transparency/checkpoints.js';
import { contextFrom } from '../context.js';
import { complain, printJson, say } from '../output.js';

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

/** Prints a transparency verdict (JSON or one line) and returns its exit code: 0 valid, 1 invalid. */
export function reportVerdict(label: string, verdict: TransparencyVerdict, json: boolean): number {
  if (json) printJson({ file: label, ...verdict });
  else if (verdict.status === 'valid') say(`${label}: valid (${verdict.message})`);
  if (verdict.status !== 'valid') complain(`${label}: invalid: ${verdict.reason}: ${verdict.message}`);
  return verdict.status === 'valid' ? 0 : 1;
}

interface ProofFlags {
  output?: string;
  checkpoint?: string;
  ledger?: string;
  json?: boolean;
}

export function registerProofCommand(program: Command, run: Run): void {
  program
    .command('proof')
    .argument('<artifact|manifest>', 'a signed artifact (its <artifact>.blux-manifest.json is used) or a manifest')
    .description('write a self-contained proof bundle: manifest, signer keys, the ledger entry of the signing, its inclusion proof and the cosigned checkpoint; `verify --proof` checks it offline')
    .option('-o, --output <file>', 'bundle path (default <artifact>.proof.json)')
    .option('--checkpoint <file>', 'checkpoint to prove against (default: the newest in <config>/trust/checkpoints)')
    .option('--ledger <file>', 'ledger file (default <config>/trust/ledger.jsonl)')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<ProofFlags>();
      const ctx = contextFrom(cmd);
      const { MANIFEST_SUFFIX } = await import('../../formats/manifest.js');
      const { PROOF_BUNDLE_SUFFIX, serializeProofBundle } = await import('../../formats/proof-bundle.js');
      const { checkpointsDir, listCheckpointFiles } = await import('../../store/checkpoints.js');
      const { loadTrustedKeys } = await import('../../trust/trusted-keys.js');
      const { buildProofBundle } = await import('../../transparency/bundle.js');
      const { writeFileAtomic } = await import('../../io/atomic-write.js');
      const { BluxError } = await import('../../errors.js');
      const target = cmd.args[0]!;
      const manifestFile = target.endsWith(MANIFEST_SUFFIX) ? target : `${target}${MANIFEST_SUFFIX}`;
      const artifactBase = target.endsWith(MANIFEST_SUFFIX) ? target.slice(0, -MANIFEST_SUFFIX.length) : target;
      const checkpointFile = flags.checkpoint ?? (await listCheckpointFiles(checkpointsDir(ctx.paths))).at(-1);
      if (checkpointFile === undefined) {
        throw new BluxError('file-not-found', 'no checkpoint yet: run `blux-reg ledger checkpoint` (and have witnesses cosign it) first', { file: checkpointsDir(ctx.paths) });
      }
      const keys = loadTrustedKeys({ keysDir: ctx.paths.keysDir });
      const bundle = await buildProofBundle({
        ledger: flags.ledger ?? ctx.paths.ledger,
        manifestFile,
        checkpointFile,
        backend: ctx.backend,
        publicKeyOf: (fingerprint) => keys.get(fingerprint)?.publicKey,
      });
      const output = flags.output ?? `${artifactBase}${PROOF_BUNDLE_SUFFIX}`;
      const text = serializeProofBundle(bundle);
      await writeFileAtomic(output, text);
      if (flags.json === true) {
        printJson({ status: 'ok', bundle: output, bytes: Buffer.byteLength(text), leaf_index: bundle.leafIndex, tree_size: bundle.treeSize, checkpoint: checkpointFile });
      } else {
        say(`${output}: proof of ledger leaf ${bundle.leafIndex} of ${bundle.treeSize} (${Buffer.byteLength(text)} bytes, checkpoint ${checkpointFile})`);
      }
      return 0;
    }));
}

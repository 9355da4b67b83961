/** `witness key | cosign`: an offline witness that cosigns consistent checkpoints (C2SP tlog-cosignature v1). */
import path from 'node:path';
import type { Command } from 'commander';
import { contextFrom, passphraseGetter } from '../context.js';
import { printJson, say } from '../output.js';
import { printVerifierKey } from '../verifier-key.js';
import { reportVerdict } from './proof.js';

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

function defaultWitnessName(keyName: string): string {
  return `blux-reg-witness/${keyName}`;
}

export function registerWitnessCommands(program: Command, run: Run): void {
  const witness = program.command('witness').description('cosign checkpoints that are consistent with what this witness saw before (refuses rollbacks and forks)');

  witness
    .command('key')
    .description('print this witness\'s key as a C2SP vkey, for the `witness` line of a trust policy')
    .requiredOption('-k, --key <name>', 'the witness key')
    .option('--name <name>', 'the witness name in cosignature lines (default blux-reg-witness/<key>)')
    .option('--json', 'print {name, vkey, fingerprint} as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ key: string; name?: string; json?: boolean }>();
      const { SignatureType } = await import('../../formats/note.js');
      return printVerifierKey(cmd, flags.key, flags.name ?? defaultWitnessName(flags.key), SignatureType.cosignatureV1, flags.json === true);
    }));

  witness
    .command('cosign')
    .argument('<checkpoint>', 'the checkpoint note to cosign')
    .description('check the log signature and consistency with the last checkpoint this witness cosigned for the origin, then print (or write) the checkpoint with a cosignature/v1 line added')
    .requiredOption('-k, --key <name>', 'the witness key')
    .option('--name <name>', 'the witness name in cosignature lines (default blux-reg-witness/<key>)')
    .option('--state <dir>', 'the witness\'s memory of cosigned checkpoints (default <config>/witness)')
    .option('--policy <file>', 'trust policy naming the known logs (default <config>/trust/policy.txt)')
    .option('--ledger <file>', 'compute the consistency proof from this ledger')
    .option('--proof <file>', 'or take it from this file (ledger prove-consistency)')
    .option('-o, --output <file>', 'write the cosigned checkpoint here (default: print it)')
    .option('--in-place', 'add the cosignature to the checkpoint file itself')
    .option('--passphrase-file <file>', 'read the key passphrase from this file')
    .option('--json', 'print the verdict as JSON (with the cosigned note)')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ key: string; name?: string; state?: string; policy?: string; ledger?: string; proof?: string; output?: string; inPlace?: boolean; passphraseFile?: string; json?: boolean }>();
      const ctx = contextFrom(cmd);
      const { readTextFile, readTiles } = await import('../../store/checkpoints.js');
      const { loadSigner } = await import('../../store/keystore.js');
      const { resolveTrustPolicy } = await import('../../transparency/policy.js');
      const { cosignCheckpoint } = await import('../../transparency/witness.js');
      const { writeFileAtomic } = await import('../../io/atomic-write.js');
      const file = cmd.args[0]!;
      const policy = await resolveTrustPolicy(flags.policy, ctx.paths);
      let proof;
      if (flags.proof !== undefined) {
        const { readJsonDocument } = await import('../../io/read-document.js');
        const { toPlain } = await import('../../formats/canonical/json-value.js');
        const { readConsistencyProofDocument } = await import('../../transparency/log.js');
        proof = readConsistencyProofDocument(toPlain(await readJsonDocument(flags.proof)), flags.proof);
      }
      const signer = await loadSigner(ctx.paths.keysDir, flags.key, passphraseGetter(flags.passphraseFile, flags.key));
      const note = await readTextFile(file);
      // Tiles saved beside the log's own checkpoint file make the consistency proof a few block reads.
      const { parseCheckpointNote, isVerdict } = await import('../../transparency/checkpoints.js');
      const parsed = parseCheckpointNote(note);
      const tiles = flags.ledger === undefined || isVerdict(parsed) ? null : await readTiles(file, parsed.checkpoint.size);
      const result = await cosignCheckpoint({
        note,
        tiles,
        policy,
        witnessName: flags.name ?? defaultWitnessName(flags.key),
        signer,
        stateDir: flags.state ?? path.join(ctx.paths.root, 'witness'),
        backend: ctx.backend,
        ...(proof !== undefined ? { proof } : {}),
        ...(flags.ledger !== undefined ? { ledger: flags.ledger } : {}),
      });
      if (result.status !== 'valid' || result.note === undefined) return reportVerdict(file, result, flags.json === true);
      const target = flags.inPlace === true ? file : flags.output;
      if (target !== undefined) await writeFileAtomic(target, result.note);
      if (flags.json === true) printJson({ file, ...result, ...(target !== undefined ? { written: target } : {}) });
      else if (target === undefined) process.stdout.write(result.note);
      else say(`${target}: ${result.message}`);
      return 0;
    }));
}

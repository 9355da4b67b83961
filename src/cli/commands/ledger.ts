/**
 * `ledger checkpoint | checkpoint verify | checkpoint add-cosignature |
 * log-key | prove-consistency | verify-consistency`: the ledger as a
 * transparency log (docs/TRANSPARENCY.md).
 */
import type { Command } from 'commander';
import { contextFrom, parseCount, passphraseGetter } from '../context.js';
import { printJson, say } from '../output.js';
import { printVerifierKey } from '../verifier-key.js';
import { reportVerdict } from './proof.js';

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

interface LedgerFlags {
  ledger?: string;
  json?: boolean;
}

function ledgerOf(cmd: Command): string {
  return cmd.opts<LedgerFlags>().ledger ?? contextFrom(cmd).paths.ledger;
}

/** The default origin of a log key: the checkpoint's first line and the name of its signature lines. */
function defaultOrigin(keyName: string): string {
  return `blux-reg/${keyName}`;
}

const LEDGER_OPTION = ['--ledger <file>', 'ledger file (default <config>/trust/ledger.jsonl)'] as const;
const POLICY_OPTION = ['--policy <file>', 'trust policy (C2SP tlog-policy; default <config>/trust/policy.txt)'] as const;

export function registerLedgerCommands(program: Command, run: Run): void {
  const ledger = program.command('ledger').description('the ledger as a transparency log: Merkle checkpoints, cosignatures, consistency proofs');

  const checkpoint = ledger
    .command('checkpoint')
    .description('sign a C2SP checkpoint (origin, tree size, Merkle root) of the ledger, save it in <config>/trust/checkpoints/ and record it in the ledger')
    .option('-k, --key <name>', 'the log key', 'default')
    .option('--origin <origin>', 'the log\'s origin line (default blux-reg/<key>)')
    .option('--jobs <n>', 'threads for hashing the ledger (default: all cores)', parseCount('--jobs', 1))
    .option('--no-record', 'do not append a ledger entry recording the checkpoint')
    .option('--passphrase-file <file>', 'read the key passphrase from this file')
    .option(...LEDGER_OPTION)
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<LedgerFlags & { key: string; origin?: string; jobs?: number; record: boolean; passphraseFile?: string }>();
      const ctx = contextFrom(cmd);
      const { loadSigner } = await import('../../store/keystore.js');
      const { checkpointsDir } = await import('../../store/checkpoints.js');
      const { createCheckpoint } = await import('../../transparency/log.js');
      const { hashProgress } = await import('../progress.js');
      const signer = await loadSigner(ctx.paths.keysDir, flags.key, passphraseGetter(flags.passphraseFile, flags.key));
      const started = performance.now();
      const progress = hashProgress(ledgerOf(cmd), flags.json === true);
      let created;
      try {
        created = await createCheckpoint({
          ledger: ledgerOf(cmd), dir: checkpointsDir(ctx.paths), origin: flags.origin ?? defaultOrigin(flags.key), signer,
          record: flags.record, backend: ctx.backend, ...(flags.jobs !== undefined ? { jobs: flags.jobs } : {}),
          ...(progress !== null ? { onProgress: progress.update } : {}),
        });
      } finally {
        progress?.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      if (flags.json === true) {
        printJson({ status: 'ok', file: created.file, origin: created.origin, tree_size: created.size, root_hash: created.rootHash, recorded: created.entry !== null, seconds: Number(seconds.toFixed(3)) });
      } else {
        say(`${created.file}: checkpoint of ${created.size} entries, root ${created.rootHash} (${seconds.toFixed(2)} s)`);
      }
      return 0;
    }));

  checkpoint
    .command('verify')
    .argument('<file>', 'a checkpoint note')
    .description('check a checkpoint: log signature and witness quorum under the trust policy, and (unless --no-ledger) that the ledger\'s first <size> entries give its root')
    .option(...POLICY_OPTION)
    .option('--no-ledger', 'check the signatures only')
    .option('--jobs <n>', 'threads for hashing the ledger', parseCount('--jobs', 1))
    .option(...LEDGER_OPTION)
    .option('--json', 'print the verdict as JSON')
    .action(run(async (cmd) => {
      // optsWithGlobals: commander lets the parent `checkpoint` take the --json, --ledger and --jobs it also defines.
      const flags = cmd.optsWithGlobals<{ policy?: string; ledger?: string | false; jobs?: number; json?: boolean }>();
      const ctx = contextFrom(cmd);
      const { resolveTrustPolicy } = await import('../../transparency/policy.js');
      const { readTextFile } = await import('../../store/checkpoints.js');
      const { verifyCheckpointNote, parseCheckpointNote, isVerdict, refused } = await import('../../transparency/checkpoints.js');
      const file = cmd.args[0]!;
      const text = await readTextFile(file);
      let verdict = await verifyCheckpointNote(text, await resolveTrustPolicy(flags.policy, ctx.paths), { backend: ctx.backend });
      const parsed = parseCheckpointNote(text);
      if (verdict.status === 'valid' && !isVerdict(parsed) && flags.ledger !== false) {
        const { ledgerTreeHead } = await import('../../transparency/ledger-tree.js');
        const head = await ledgerTreeHead(typeof flags.ledger === 'string' ? flags.ledger : ctx.paths.ledger, {
          treeSize: parsed.checkpoint.size, backend: ctx.backend, ...(flags.jobs !== undefined ? { jobs: flags.jobs } : {}),
        });
        if (Buffer.compare(Buffer.from(head.root), Buffer.from(parsed.checkpoint.rootHash)) !== 0) {
          verdict = refused('root-mismatch', `the ledger's first ${parsed.checkpoint.size} entries have root ${Buffer.from(head.root).toString('base64')}, not the checkpoint's`);
        } else {
          verdict = { ...verdict, message: `${verdict.message}; the ledger's first ${parsed.checkpoint.size} entries give its root` };
        }
      }
      return reportVerdict(file, verdict, flags.json === true);
    }));

  checkpoint
    .command('add-cosignature')
    .argument('<checkpoint>', 'the checkpoint file to add to (changed in place)')
    .argument('<cosigned...>', 'copies of the same checkpoint carrying cosignatures (from `witness cosign`)')
    .description('merge the signature lines of cosigned copies into a checkpoint file; the checkpoint text must be identical')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.optsWithGlobals<LedgerFlags>();
      const { readTextFile, replaceCheckpointNote } = await import('../../store/checkpoints.js');
      const { parseCheckpointNote, isVerdict, mergeSignatures } = await import('../../transparency/checkpoints.js');
      const { BluxError } = await import('../../errors.js');
      const [target, ...sources] = cmd.args as [string, ...string[]];
      const parsedTarget = parseCheckpointNote(await readTextFile(target));
      if (isVerdict(parsedTarget)) throw new BluxError('malformed', parsedTarget.message, { file: target });
      let note = parsedTarget.note;
      for (const source of sources) {
        const parsed = parseCheckpointNote(await readTextFile(source));
        if (isVerdict(parsed)) throw new BluxError('malformed', parsed.message, { file: source });
        if (parsed.note.text !== note.text) throw new BluxError('invalid-argument', `is a different checkpoint than ${target} (the text differs)`, { file: source });
        const merged = parseCheckpointNote(mergeSignatures(note, parsed.note));
        if (isVerdict(merged)) throw new BluxError('internal', merged.message);
        note = merged.note;
      }
      const { serializeSignedNote } = await import('../../formats/note.js');
      await replaceCheckpointNote(target, serializeSignedNote(note));
      if (flags.json === true) printJson({ status: 'ok', file: target, signatures: note.signatures.map((s) => s.name) });
      else say(`${target}: ${note.signatures.length} signature lines (${note.signatures.map((s) => s.name).join(', ')})`);
      return 0;
    }));

  ledger
    .command('log-key')
    .description('print the log key as a C2SP vkey, for the `log` line of a trust policy')
    .option('-k, --key <name>', 'the log key', 'default')
    .option('--origin <origin>', 'the log\'s origin (default blux-reg/<key>)')
    .option('--json', 'print {name, vkey, fingerprint} as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ key: string; origin?: string; json?: boolean }>();
      const { SignatureType } = await import('../../formats/note.js');
      return printVerifierKey(cmd, flags.key, flags.origin ?? defaultOrigin(flags.key), SignatureType.ed25519, flags.json === true);
    }));

  ledger
    .command('prove-consistency')
    .argument('<old-size>', 'the smaller tree size (a checkpoint\'s)', parseCount('old-size', 1))
    .argument('[new-size]', 'the larger tree size (default: every entry now)', parseCount('new-size', 1))
    .description('print a consistency proof (RFC 9162) that the ledger of new-size entries extends the one of old-size entries')
    .option('-o, --output <file>', 'write the proof to this file (JSON)')
    .option(...LEDGER_OPTION)
    .option('--json', 'print the proof as JSON (the default when no --output)')
    .action(run(async (cmd) => {
      const flags = cmd.opts<LedgerFlags & { output?: string }>();
      const ctx = contextFrom(cmd);
      const { proveConsistency, consistencyProofDocument } = await import('../../transparency/log.js');
      const [oldSize, newSize] = cmd.processedArgs as [number, number | undefined];
      // A saved checkpoint of the new size has tiles: the proof is then a few block reads.
      const { checkpointFile, checkpointsDir, readTiles } = await import('../../store/checkpoints.js');
      const tiles = newSize === undefined ? null : await readTiles(checkpointFile(checkpointsDir(ctx.paths), newSize), newSize);
      const proof = await proveConsistency(ledgerOf(cmd), oldSize, newSize, { backend: ctx.backend, tiles });
      const doc = consistencyProofDocument(proof);
      if (flags.output !== undefined) {
        const { writeFileAtomic } = await import('../../io/atomic-write.js');
        await writeFileAtomic(flags.output, `${JSON.stringify(doc, null, 2)}\n`);
        if (flags.json === true) printJson({ status: 'ok', file: flags.output, ...doc });
        else say(`${flags.output}: consistency proof ${proof.oldSize} -> ${proof.newSize} (${proof.proof.length} hashes)`);
      } else {
        printJson(doc);
      }
      return 0;
    }));

  ledger
    .command('verify-consistency')
    .argument('<proof>', 'a consistency proof file (from prove-consistency)')
    .description('check a consistency proof offline; with --old/--new, against those checkpoints\' sizes and roots (verified under the policy)')
    .option('--old <checkpoint>', 'the older checkpoint')
    .option('--new <checkpoint>', 'the newer checkpoint')
    .option(...POLICY_OPTION)
    .option('--json', 'print the verdict as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<LedgerFlags & { old?: string; new?: string; policy?: string }>();
      const ctx = contextFrom(cmd);
      const { readJsonDocument } = await import('../../io/read-document.js');
      const { toPlain } = await import('../../formats/canonical/json-value.js');
      const { readConsistencyProofDocument, checkConsistencyProof } = await import('../../transparency/log.js');
      const { verifyCheckpointNote, parseCheckpointNote, isVerdict, refused } = await import('../../transparency/checkpoints.js');
      const { readTextFile } = await import('../../store/checkpoints.js');
      const file = cmd.args[0]!;
      let proof = readConsistencyProofDocument(toPlain(await readJsonDocument(file)), file);
      const pinned: [string | undefined, 'old' | 'new'][] = [[flags.old, 'old'], [flags.new, 'new']];
      if (flags.old !== undefined || flags.new !== undefined) {
        const { resolveTrustPolicy } = await import('../../transparency/policy.js');
        const policy = await resolveTrustPolicy(flags.policy, ctx.paths);
        for (const [checkpointFile, which] of pinned) {
          if (checkpointFile === undefined) continue;
          const text = await readTextFile(checkpointFile);
          const verdict = await verifyCheckpointNote(text, policy, { backend: ctx.backend });
          if (verdict.status !== 'valid') return reportVerdict(checkpointFile, verdict, flags.json === true);
          const parsed = parseCheckpointNote(text);
          if (isVerdict(parsed)) return reportVerdict(checkpointFile, parsed, flags.json === true);
          const size = which === 'old' ? proof.oldSize : proof.newSize;
          if (parsed.checkpoint.size !== size) {
            return reportVerdict(file, refused('size-mismatch', `the proof's ${which} size is ${size}, the checkpoint ${checkpointFile} has ${parsed.checkpoint.size}`), flags.json === true);
          }
          // The checkpoint's root replaces the proof file's claim: only signed roots count.
          proof = which === 'old' ? { ...proof, oldRoot: parsed.checkpoint.rootHash } : { ...proof, newRoot: parsed.checkpoint.rootHash };
        }
      }
      return reportVerdict(file, checkConsistencyProof(proof, { backend: ctx.backend }), flags.json === true);
    }));
}

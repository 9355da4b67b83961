/** `audit add-event | tail | verify-chain | repair`: the hash-chained ledger. */
import { Option, type Command } from 'commander';
import { groupDigits } from '../../formats/digit-groups.js';
import { collect, contextFrom, parseCount, passphraseGetter } from '../context.js';
import { complain, printJson, say, usageError } from '../output.js';

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

function ledgerOf(cmd: Command): string {
  return cmd.opts<{ ledger?: string }>().ledger ?? contextFrom(cmd).paths.ledger;
}

/** A bar for long audits, on a terminal only. */
async function auditProgress(quiet: boolean): Promise<{ onProgress?: (done: number, total: number) => void; stop: () => void }> {
  if (quiet || process.stderr.isTTY !== true) return { stop: () => {} };
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'auditing {bar} {percentage}% | ETA {eta}s', clearOnComplete: true, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress: (done, total) => {
      // Small ledgers finish at once: show a bar only past 32 MiB.
      if (total < 32 * 1024 * 1024) return;
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** `audit verify-chain --since CHECKPOINT`: the incremental audit of issue 6 (transparency/log.ts). */
async function incrementalAudit(
  ledger: string, checkpoint: string, policyFile: string | undefined, context: ReturnType<typeof contextFrom>, json: boolean,
): Promise<number> {
  const [{ auditSinceCheckpoint }, { resolveTrustPolicy }] = await Promise.all([
    import('../../transparency/log.js'),
    import('../../transparency/policy.js'),
  ]);
  const policy = await resolveTrustPolicy(policyFile, context.paths);
  const result = await auditSinceCheckpoint(ledger, checkpoint, { policy, backend: context.backend });
  if (json) printJson({ file: ledger, checkpoint, ...result });
  else if (result.status === 'valid') {
    say(`${ledger}: valid since ${checkpoint}: ${result.entries_checked} new entries checked, ` +
      `tree ${result.tree_size ?? result.checkpoint_size} leaves, consistent with the checkpoint's ${result.checkpoint_size} ` +
      `(${result.leaves_hashed} leaves hashed, ${result.bytes_read} bytes read)`);
  }
  if (result.status !== 'valid') {
    const where = result.first_bad_line === undefined ? '' : ` at line ${result.first_bad_line}`;
    complain(`${ledger}: invalid since ${checkpoint}: ${result.reason}${where}: ${result.message}`);
    return 1;
  }
  return 0;
}

export function registerAuditCommands(program: Command, run: Run): void {
  const audit = program.command('audit').description('the tamper-evident ledger: add events, show the tail, verify the chain, repair a torn write');

  audit
    .command('add-event')
    .argument('<message>', 'what happened')
    .description('append an event to the ledger; with --key, signed by that local key (actor = its fingerprint)')
    .option('--actor <who>', 'who did it, free text, unsigned (default "anonymous")')
    .option('-k, --key <name>', 'sign the entry with this local key; the actor is its fingerprint')
    .option('--passphrase-file <file>', 'passphrase of --key (else BLUX_REG_PASSPHRASE, else a prompt)')
    .option('--ledger <file>', 'ledger file (default <config>/trust/ledger.jsonl)')
    .option('--json', 'print the new entry as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ actor?: string; key?: string; passphraseFile?: string; json?: boolean }>();
      const { addLedgerEvent } = await import('../../audit/add-event.js');
      const signAs = flags.key === undefined
        ? undefined
        : { paths: contextFrom(cmd).paths, keyName: flags.key, getPassphrase: passphraseGetter(flags.passphraseFile, flags.key) };
      const entry = await addLedgerEvent({
        ledger: ledgerOf(cmd),
        message: cmd.args[0]!,
        ...(flags.actor !== undefined ? { actor: flags.actor } : {}),
        ...(signAs !== undefined ? { signAs } : {}),
      });
      if (flags.json === true) printJson(entry);
      else say(`appended ${entry['sig'] !== undefined ? 'signed ' : ''}event ${entry.entry_hash}`);
      return 0;
    }));

  audit
    .command('tail')
    .description('show the last entries of the ledger (read from the end: fast on any size)')
    .option('-n, --lines <n>', 'how many', parseCount('-n', 1), 10)
    .option('--ledger <file>', 'ledger file (default <config>/trust/ledger.jsonl)')
    .option('--json', 'print as a JSON array')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ lines: number; json?: boolean }>();
      const { readLedgerTail } = await import('../../store/ledger-file.js');
      const { toPlain } = await import('../../formats/canonical/json-value.js');
      const entries = (await readLedgerTail(ledgerOf(cmd), flags.lines)).map((e) => toPlain(e) as Record<string, unknown>);
      if (flags.json === true) printJson(entries);
      else {
        for (const e of entries) {
          // "signed" = carries a sig; whether it verifies is `audit verify-chain`'s job.
          const signed = e['sig'] !== undefined ? 'signed  ' : 'unsigned';
          say(`${String(e['ts'])}  ${String(e['action']).padEnd(12)} ${String(e['actor']).slice(0, 16).padEnd(16)}  ${signed}  ${String(e['payload_summary'] ?? '')}`);
        }
      }
      return 0;
    }));

  audit
    .command('verify-chain')
    .description('check the whole ledger: every entry hash, every prev_hash link and every signature, on all cores (exit 1 when broken)')
    .option('--ledger <file>', 'ledger file (default <config>/trust/ledger.jsonl)')
    .option('--json', 'print the report as JSON (schemas/ledger-audit-report.schema.json)')
    .option('--report <file>', 'also write the JSON report to this file')
    .option('--report-html <file>', 'also write a one-page HTML report (summary, signers, entries-per-day chart)')
    .option('--require-signed', 'fail (entry-unsigned) at the first entry without a sig or signed by a key that is not trusted')
    .option('--expect-head <hash[@line]>', 'fail (head-mismatch) unless the ledger still holds this entry (at this line): an earlier audit\'s head, to detect a cut or rewritten tail')
    .option('--trusted-keys <file|dir>', 'also trust this public key file or folder of *.pub.pem for sig checks (repeatable)', collect)
    .option('--no-keystore', "do not trust the keystore's keys (only --trusted-keys)")
    .option('--jobs <n>', 'threads to use (default: the number of cores)', parseCount('--jobs', 1))
    .addOption(new Option('--kernel <name>', 'entry-hash kernel: native (the compiled addon, one call per chunk), node (node:crypto, one call per entry) or wasm (default: wasm with --backend wasm, else native where built, else node)').choices(['native', 'node', 'wasm']))
    .option('--since <checkpoint>', 'incremental audit: verify this checkpoint (log signature, witness quorum) and its consistency with the ledger now, then check only the entries after it')
    .option('--policy <file>', 'with --since: the trust policy (default <config>/trust/policy.txt)')
    .addHelpText('after', `
Signatures: an entry's optional "sig" is checked under the key whose fingerprint is its actor.
Keys are the keystore's plus --trusted-keys; key revocations come from <config>/trust/key_revocations.jsonl.
Entries signed by keys you do not have are reported as unverified (not an error, unless --require-signed).
--backend (global) picks the engine for the signature checks, and with "wasm" the WebAssembly
entry-hash kernel (assembly/ledger) instead of the default native one (OpenSSL's SHA-256 through
blux-reg's addon, faster here; node:crypto where the addon is not built, see doctor); --kernel
picks the entry-hash kernel on its own.
A chain alone cannot show that entries were cut from its end: keep the head hash and line of an
audit and pass it as --expect-head next time.
--since CHECKPOINT (see \`blux-reg ledger checkpoint\`) does constant work per new entry: it checks the
checkpoint under the policy, rebuilds its root from the saved tree state, proves the ledger now extends it
(consistency proof) and checks the hashes and links of the entries after it only (signatures: run a full audit).

Exit codes: 0 valid, 1 invalid (first_bad_line and reason in the report), 2 usage or input error.`)
    .action(run(async (cmd) => {
      const flags = cmd.opts<{
        json?: boolean; report?: string; reportHtml?: string; requireSigned?: boolean; expectHead?: string;
        trustedKeys?: string[]; keystore: boolean; jobs?: number; ledger?: string; since?: string; policy?: string; kernel?: string;
      }>();
      const ledger = ledgerOf(cmd);
      const context = contextFrom(cmd);
      if (flags.since !== undefined && flags.kernel !== undefined) throw usageError('--kernel is for a full audit; --since hashes only the entries after the checkpoint');
      if (flags.since !== undefined) return incrementalAudit(ledger, flags.since, flags.policy, context, flags.json === true);
      if (flags.policy !== undefined) throw usageError('--policy goes with --since (checkpoint policies); a full audit checks signatures against trusted keys');
      const { auditLedger, emptyLedgerAuditReport, parseExpectHead, auditTrustFrom, prestartLedgerAudit } = await import('../../audit/audit-ledger.js');
      // Worker threads start while this thread loads keys and revocations (only when the ledger is big enough to use them).
      if (flags.jobs !== undefined) prestartLedgerAudit(ledger, flags.jobs);
      else prestartLedgerAudit(ledger);
      const expectHead = flags.expectHead === undefined ? undefined : parseExpectHead(flags.expectHead);
      const { loadTrustContext } = await import('../../trust/context.js');
      const trust = auditTrustFrom(
        await loadTrustContext({ paths: context.paths, trustedKeys: flags.trustedKeys ?? [], useKeystore: flags.keystore }),
        flags.requireSigned === true,
      );
      const { existsSync } = await import('node:fs');
      const progress = await auditProgress(flags.json === true);
      let report;
      try {
        // The default ledger of a fresh config folder does not exist yet: an empty chain is a valid one.
        // A ledger named with --ledger must exist.
        report = flags.ledger === undefined && !existsSync(ledger)
          ? emptyLedgerAuditReport(ledger, trust, expectHead)
          : await auditLedger(ledger, {
            backend: context.backend, trust,
            ...(flags.kernel !== undefined ? { kernel: flags.kernel } : context.backend === 'wasm' ? { kernel: 'wasm' } : {}),
            ...(expectHead !== undefined ? { expectHead } : {}),
            ...(flags.jobs !== undefined ? { jobs: flags.jobs } : {}),
            ...(progress.onProgress !== undefined ? { onProgress: progress.onProgress } : {}),
          });
      } finally {
        progress.stop();
      }
      if (flags.report !== undefined || flags.reportHtml !== undefined) {
        const { writeFileAtomic } = await import('../../io/atomic-write.js');
        if (flags.report !== undefined) await writeFileAtomic(flags.report, `${JSON.stringify(report, null, 2)}\n`);
        if (flags.reportHtml !== undefined) {
          const { renderLedgerAuditHtml } = await import('../../audit/report-html.js');
          await writeFileAtomic(flags.reportHtml, renderLedgerAuditHtml(report));
        }
      }
      const { throughput, signatures } = report;
      if (flags.json === true) printJson(report);
      else if (report.status === 'valid') {
        const head = report.last_hash === null ? '(empty)' : `${report.last_hash}@${report.last_line}`;
        say(`${ledger}: valid, ${report.entries} entries, head ${head}` +
          ` (${throughput.seconds.toFixed(2)} s, ${groupDigits(throughput.entries_per_second)} entries/s, ${report.jobs} jobs)`);
        if (signatures.signed > 0 || trust.requireSigned) {
          say(`signatures: ${signatures.valid} valid, ${signatures.unverified} unverified (no key), ${signatures.unsigned} entries unsigned`);
        }
      }
      if (report.status !== 'valid') {
        const where = report.first_bad_line === null ? '' : ` at line ${report.first_bad_line}`;
        complain(`${ledger}: invalid: ${report.reason}${where}${report.detail !== undefined ? `: ${report.detail}` : ''}` +
          (report.torn_last_line ? ' (torn last line: run `blux-reg audit repair`)' : ''));
        return 1;
      }
      return 0;
    }));

  audit
    .command('repair')
    .description('cut a torn last line (left by a crash mid-write), keeping a backup of the ledger first')
    .option('--ledger <file>', 'ledger file (default <config>/trust/ledger.jsonl)')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ json?: boolean }>();
      const ledger = ledgerOf(cmd);
      const { repairLedger } = await import('../../store/ledger-file.js');
      const result = await repairLedger(ledger);
      if (flags.json === true) printJson({ status: 'ok', file: ledger, ...result });
      else if (!result.repaired) say(`${ledger}: nothing to repair`);
      else if (result.newlineAdded) say(`${ledger}: the last entry was complete but unterminated: newline added`);
      else say(`${ledger}: removed a torn last line (${result.removedBytes} bytes); backup at ${result.backup}`);
      return 0;
    }));
}

/** `audit add-event | tail | verify-chain | repair`: the hash-chained ledger. */
import type { Command } from 'commander';
import { contextFrom, parseCount, passphraseGetter } from '../context.js';
import { complain, printJson, say } from '../output.js';

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
    .description('recompute every entry hash and prev_hash link (streaming, constant memory); exit 1 when broken')
    .option('--ledger <file>', 'ledger file (default <config>/trust/ledger.jsonl)')
    .option('--json', 'print the report as JSON (includes first_bad_line)')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ json?: boolean }>();
      const ledger = ledgerOf(cmd);
      const { verifyLedgerChain, emptyLedgerAudit } = await import('../../audit/verify-chain.js');
      const { existsSync } = await import('node:fs');
      const progress = await auditProgress(flags.json === true);
      const started = performance.now();
      let result;
      try {
        const backend = contextFrom(cmd).backend;
        // The default ledger of a fresh config folder does not exist yet: an empty chain is a valid one.
        // A ledger named with --ledger must exist.
        const isDefault = cmd.opts<{ ledger?: string }>().ledger === undefined;
        result = isDefault && !existsSync(ledger) ? emptyLedgerAudit(ledger) : await verifyLedgerChain(ledger, progress.onProgress === undefined ? { backend } : { backend, onProgress: progress.onProgress });
      } finally {
        progress.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      if (flags.json === true) printJson({ ...result, seconds: Number(seconds.toFixed(3)) });
      else if (result.status === 'valid') {
        say(`${ledger}: valid, ${result.entries} entries, head ${result.last_hash ?? '(empty)'} (${seconds.toFixed(2)} s)`);
      }
      if (result.status !== 'valid') {
        complain(`${ledger}: invalid: ${result.reason} at line ${result.first_bad_line}${result.detail !== undefined ? `: ${result.detail}` : ''}` +
          (result.torn_last_line ? ' (torn last line: run `blux-reg audit repair`)' : ''));
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

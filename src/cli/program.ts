/**
 * The `blux-reg` command line (start.ts runs it). Thin by design: parse arguments, call the library,
 * print. Exit codes: 0 ok / valid, 1 verification failed, 2 usage or input
 * error.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT_USAGE, reportError } from './output.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerBatchCommands } from './commands/batch.js';
import { registerBenchCommand } from './commands/bench.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLedgerCommands } from './commands/ledger.js';
import { registerProofCommand } from './commands/proof.js';
import { registerWitnessCommands } from './commands/witness.js';
import { registerSignCommand } from './commands/sign.js';
import { registerSystemCommands } from './commands/system.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerVerifyCommands } from './commands/verify.js';
import { packageVersion } from '../io/package-files.js';

const version = packageVersion();

/** Wraps a command body: its return value becomes the exit code, a thrown error is printed as one line (exit 2). */
function run(action: (cmd: Command) => Promise<number>) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args[args.length - 1] as Command;
    try {
      process.exitCode = await action(cmd);
    } catch (e) {
      // With the parents' options: a group that defines --json too (ledger checkpoint) takes the flag itself.
      process.exitCode = reportError(e, cmd.optsWithGlobals<{ json?: boolean }>().json === true);
    }
  };
}

export function buildProgram(): Command {
  const program = new Command('blux-reg')
    .version(version)
    .description('Local-first trust kernel: Ed25519 keys, signed artifact manifests, capability tokens, revocations and a hash-chained ledger.\nExit codes: 0 ok, 1 verification failed, 2 usage or input error.')
    .option('--config-dir <dir>', 'config folder (default $BLUX_REG_CONFIG_DIR or ~/.config/blux-reg)')
    .addOption(new Option('--backend <name>', 'crypto backend: auto picks the fastest per primitive and batch size (default $BLUX_REG_BACKEND or auto)').choices(['auto', 'native', 'wasm', 'js']))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  registerSystemCommands(program, run);
  registerKeyCommands(program, run);
  registerSignCommand(program, run);
  registerVerifyCommands(program, run);
  registerBatchCommands(program, run);
  registerTokenCommands(program, run);
  registerAuditCommands(program, run);
  registerLedgerCommands(program, run);
  registerWitnessCommands(program, run);
  registerProofCommand(program, run);
  registerBenchCommand(program, run);

  // Subcommands inherit the error policy: usage errors exit 2, help exits 0.
  const inherit = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride().showHelpAfterError('(run with --help for usage)');
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end through here with exitCode 0.
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.exitCode = reportError(e, false);
  }
}

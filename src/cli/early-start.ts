/**
 * Starts the engine's threads before the command line is loaded, for the
 * commands whose run is mostly parallel work: `verify-batch` and a full
 * `audit verify-chain`.
 *
 * Why: a pool thread takes ~70-120 ms here to start (Node's bootstrap, then
 * the worker module), and loading commander and the command modules takes
 * ~50 ms of the main thread. Started from the command's action, as before,
 * the threads were still booting when the first task was ready.
 *
 * The command is guessed from argv alone, with rules simple enough to be
 * sure of: the first words that are not global options or their values must
 * be the command, and any help flag, unusual --jobs spelling or (for the
 * audit) --since turns the guess off. A wrong guess costs idle threads only:
 * the pool never keeps the process alive (pool.ts), and the command's own
 * start of the pool reuses these threads.
 */
import { defaultJobs, prestartEnginePool } from '../engine/pool.js';
import { configPaths, defaultConfigRoot } from '../store/paths.js';

/** Global options of program.ts that take a value as the next word. */
const GLOBAL_OPTIONS_WITH_VALUE = ['--config-dir', '--backend'] as const;
const HELP_WORDS = new Set(['-h', '--help', 'help']);
const JOBS_PATTERN = /^[1-9]\d{0,3}$/;

/** What the early start does: nothing, the pool's threads, or the audit's pool decision (by ledger size). */
export type EarlyStart =
  | { readonly kind: 'verify-batch'; readonly jobs: number }
  | { readonly kind: 'audit'; readonly jobs: number; readonly ledger: string }
  | null;

interface CommandLine {
  readonly configDir: string | undefined;
  readonly words: readonly string[];
}

/** Global options first, then the command's words; null when a global option is not one we know. */
function splitGlobals(args: readonly string[]): CommandLine | null {
  let configDir: string | undefined;
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    const word = args[i]!;
    const name = GLOBAL_OPTIONS_WITH_VALUE.find((option) => word === option || word.startsWith(`${option}=`));
    if (name === undefined) return null;
    const value = word === name ? args[i + 1] : word.slice(name.length + 1);
    if (value === undefined) return null;
    if (name === '--config-dir') configDir = value;
    i += word === name ? 2 : 1;
  }
  return { configDir, words: args.slice(i) };
}

/**
 * The value of option `name` (or its short form) among the command's
 * options: undefined when absent, null when present in a form we do not
 * parse here (commander will).
 */
function optionValue(rest: readonly string[], name: string, short: string | null): string | undefined | null {
  let found: string | undefined;
  for (let j = 0; j < rest.length; j++) {
    const word = rest[j]!;
    if (word === '--') break;
    if (word === name || (short !== null && word === short)) {
      const value = rest[++j];
      if (value === undefined) return null;
      found = value;
    } else if (word.startsWith(`${name}=`)) {
      found = word.slice(name.length + 1);
    } else if (short !== null && new RegExp(`^-[a-zA-Z]*${short.slice(1)}`).test(word)) {
      return null; // inside a cluster of short flags (-rj2): let commander parse it
    }
  }
  return found;
}

function jobsOf(rest: readonly string[], short: string | null): number | null {
  const value = optionValue(rest, '--jobs', short);
  if (value === undefined) return defaultJobs();
  if (value === null || !JOBS_PATTERN.test(value)) return null;
  return Number(value);
}

/**
 * What `args` (argv without node and the script) lets us start early, or
 * null when the command is not one that starts the pool or the command line
 * is not plain enough to be sure (commander then decides everything, as usual).
 */
export function earlyStartFor(args: readonly string[], env: NodeJS.ProcessEnv = process.env): EarlyStart {
  const line = splitGlobals(args);
  if (line === null) return null;
  const [first, second] = line.words;
  if (line.words.some((word) => HELP_WORDS.has(word))) return null;
  if (first === 'verify-batch') {
    const jobs = jobsOf(line.words.slice(1), '-j');
    return jobs === null ? null : { kind: 'verify-batch', jobs };
  }
  if (first === 'audit' && second === 'verify-chain') {
    const rest = line.words.slice(2);
    // --since audits a few entries after a checkpoint: no pool.
    if (optionValue(rest, '--since', null) !== undefined) return null;
    const jobs = jobsOf(rest, null);
    const ledger = optionValue(rest, '--ledger', null);
    if (jobs === null || ledger === null) return null;
    return { kind: 'audit', jobs, ledger: ledger ?? configPaths(line.configDir ?? defaultConfigRoot(env)).ledger };
  }
  return null;
}

/**
 * Starts the pool's threads now if `args` is a command that will use them.
 * Never throws: this runs before the command line's error handling, and a
 * failure here (no worker file in the build, threads that cannot start) is
 * met again, and reported properly, when the command itself starts the pool.
 */
export async function startEngineEarly(args: readonly string[]): Promise<void> {
  try {
    const start = earlyStartFor(args);
    if (start === null) return;
    if (start.kind === 'verify-batch') {
      prestartEnginePool(start.jobs);
    } else {
      // The audit decides by the ledger's size whether the pool pays (a small ledger is checked in this thread).
      const { prestartLedgerAudit } = await import('../audit/prestart.js');
      prestartLedgerAudit(start.ledger, start.jobs);
    }
  } catch {
    // Only a head start was lost; see above.
  }
}

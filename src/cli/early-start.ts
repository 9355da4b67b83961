/**
 * Starts the engine's threads before the command line is loaded, for the
 * commands whose run is mostly parallel work (verify-batch).
 *
 * Why: a pool thread takes ~70-120 ms here to start (Node's bootstrap, then
 * the worker module), and loading commander and the command modules takes
 * ~50 ms of the main thread. Started from the command's action, as before,
 * the threads were still booting when the first hashing task was ready.
 *
 * The command is guessed from argv alone, with rules simple enough to be
 * sure of: the first word that is not a global option or its value must be
 * the command, and any help flag turns the guess off. A wrong guess costs
 * idle threads only: the pool never keeps the process alive (pool.ts), and
 * the command's own start of the pool reuses these threads.
 */
import { defaultJobs, prestartEnginePool } from '../engine/pool.js';

/** Global options of program.ts that take a value as the next word. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--config-dir', '--backend']);
const PARALLEL_COMMANDS = new Set(['verify-batch']);
const HELP_WORDS = new Set(['-h', '--help', 'help']);
const JOBS_PATTERN = /^[1-9]\d{0,3}$/;

/**
 * The thread count `args` (argv without node and the script) will ask the
 * engine for, or null when the command is not one that starts the pool, or
 * when the command line is not plain enough to be sure (commander then
 * decides everything, as usual).
 */
export function earlyEngineJobs(args: readonly string[]): number | null {
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-')) {
    const word = args[i]!;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(word)) i += 2;
    else if ([...GLOBAL_OPTIONS_WITH_VALUE].some((name) => word.startsWith(`${name}=`))) i += 1;
    else return null;
  }
  const command = args[i];
  if (command === undefined || !PARALLEL_COMMANDS.has(command)) return null;
  const rest = args.slice(i + 1);
  if (rest.some((word) => HELP_WORDS.has(word))) return null;
  let jobs: number | null = null;
  for (let j = 0; j < rest.length; j++) {
    const word = rest[j]!;
    if (word === '--') break;
    let value: string | undefined;
    if (word === '-j' || word === '--jobs') value = rest[++j];
    else if (word.startsWith('--jobs=')) value = word.slice('--jobs='.length);
    else if (/^-[a-zA-Z]*j/.test(word)) return null; // -j inside a cluster of short flags (-rj2): let commander parse it
    else continue;
    if (value === undefined || !JOBS_PATTERN.test(value)) return null;
    jobs = Number(value);
  }
  return jobs ?? defaultJobs();
}

/** Starts the pool's threads now if `args` is a command that will use them. */
export function startEngineEarly(args: readonly string[]): void {
  const jobs = earlyEngineJobs(args);
  if (jobs !== null) prestartEnginePool(jobs);
}

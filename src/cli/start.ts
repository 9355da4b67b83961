/**
 * Runs the `blux-reg` command line. Before anything else is loaded, the
 * engine's threads are started when the command line is one that needs them
 * (early-start.ts); then the command line itself (program.ts) is loaded and run.
 *
 * This is the entry point of the bundled command line
 * (dist/bundle/cli.cjs, made by scripts/build-bundle.mjs), which the bin (bin.cts) loads.
 */
import { startEngineEarly } from './early-start.js';

export async function start(args: readonly string[] = process.argv.slice(2)): Promise<void> {
  await startEngineEarly(args);
  const { main } = await import('./program.js');
  await main();
}

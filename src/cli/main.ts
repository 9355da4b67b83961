#!/usr/bin/env node
/**
 * Entry point of the `blux-reg` command. Before anything else is loaded, the
 * engine's threads are started when the command line is one that needs them
 * (early-start.ts); then the command line itself (program.ts) is loaded and run.
 */
import { startEngineEarly } from './early-start.js';

await startEngineEarly(process.argv.slice(2));
const { main } = await import('./program.js');
await main();

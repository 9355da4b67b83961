#!/usr/bin/env node
/**
 * `node dist/cli/main.js`: the `blux-reg` command as an ES module. It runs
 * the CommonJS bin (bin.cts), which package.json names and which starts
 * ~15 ms sooner (no ES module loader to start first).
 */
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./bin.cjs');

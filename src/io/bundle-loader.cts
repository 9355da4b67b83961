/**
 * Loads a bundle of dist/bundle/ (scripts/build-bundle.mjs) with V8's code
 * cache. The build compiles each bundle once, runs its module set-up, and
 * saves what V8 compiled beside it (`cli.cjs` -> `cli.cache`); loading from
 * there skips most of the parsing and compiling at every start, on the
 * command's thread and on each engine thread (measured in bench/RESULTS.md).
 *
 * The cache only makes the start faster, and only the exact source it was
 * made from uses it: the file starts with the SHA-256 of that source,
 * because V8's own check compares the source's length, not its bytes (a
 * same-length edit would run the old code). V8 then checks its version and
 * flags, and rejects a cache of another Node.js. Either way the bundle is
 * then compiled from source as usual. The cache is written by the build
 * only, beside the code it was made from, never at run time.
 *
 * CommonJS (this file compiles to bundle-loader.cjs) so that piscina's
 * worker entry can require it.
 */
import crypto = require('node:crypto');
import fs = require('node:fs');
import path = require('node:path');
import vm = require('node:vm');
import nodeModule = require('node:module');

/** Node's own CommonJS wrapper, so the bundle sees the usual module variables. */
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAPPER_TAIL = '\n});';

type ModuleFunction = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;

/** The code cache file of a bundle: `dist/bundle/cli.cjs` -> `dist/bundle/cli.cache`. */
export function codeCacheFileOf(bundle: string): string {
  return bundle.replace(/\.cjs$/, '') + '.cache';
}

/** The cache file's first bytes: the SHA-256 of the source the cache was made from. */
const SOURCE_DIGEST_BYTES = 32;

function sourceDigest(source: Buffer): Buffer {
  return crypto.createHash('sha256').update(source).digest();
}

function compile(bundle: string, source: Buffer, cachedData: Buffer | undefined): vm.Script {
  return new vm.Script(WRAPPER_HEAD + source.toString('utf8') + WRAPPER_TAIL, { filename: bundle, ...(cachedData !== undefined ? { cachedData } : {}) });
}

/** Runs the compiled bundle as a CommonJS module; returns its exports. */
function run(script: vm.Script, bundle: string): unknown {
  const module = { exports: {} };
  const moduleFunction = script.runInThisContext() as ModuleFunction;
  moduleFunction.call(module.exports, module.exports, nodeModule.createRequire(bundle), module, bundle, path.dirname(bundle));
  return module.exports;
}

/** V8's data from the cache beside `bundle`, when there is one and it was made from exactly `source`. */
function readCodeCache(bundle: string, source: Buffer): Buffer | undefined {
  let file: Buffer;
  try {
    file = fs.readFileSync(codeCacheFileOf(bundle));
  } catch {
    return undefined; // no cache (a build without one): compile from source
  }
  if (file.length <= SOURCE_DIGEST_BYTES || !file.subarray(0, SOURCE_DIGEST_BYTES).equals(sourceDigest(source))) return undefined;
  return file.subarray(SOURCE_DIGEST_BYTES);
}

/** A bundle this thread loaded, and whether its code cache was used (`doctor` reports it). */
export interface BundleLoad {
  readonly bundle: string;
  readonly codeCacheUsed: boolean;
}

const loads: BundleLoad[] = [];

/** The bundles this thread loaded through loadBundle. */
export function bundleLoads(): readonly BundleLoad[] {
  return loads;
}

/** The exports of `bundle` (an absolute path), loaded with its code cache when there is a usable one. */
export function loadBundle(bundle: string): unknown {
  const source = fs.readFileSync(bundle);
  const cachedData = readCodeCache(bundle, source);
  const script = compile(bundle, source, cachedData);
  loads.push({ bundle, codeCacheUsed: cachedData !== undefined && !script.cachedDataRejected });
  return run(script, bundle);
}

/** Whether the code cache beside `bundle` is used: made from this source, and taken by this V8 (for the tests). */
export function codeCacheAccepted(bundle: string): boolean {
  const source = fs.readFileSync(bundle);
  const cachedData = readCodeCache(bundle, source);
  return cachedData !== undefined && !compile(bundle, source, cachedData).cachedDataRejected;
}

/**
 * The build's step: compiles `bundle`, runs its module set-up (so the
 * functions that run at every start are compiled too), and writes the code
 * cache beside it. Returns the cache's size in bytes.
 */
export function writeCodeCache(bundle: string): number {
  const source = fs.readFileSync(bundle);
  const script = compile(bundle, source, undefined);
  run(script, bundle);
  const data = Buffer.concat([sourceDigest(source), script.createCachedData()]);
  fs.writeFileSync(codeCacheFileOf(bundle), data);
  return data.length;
}

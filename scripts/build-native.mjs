// Builds the native kernel (native/blux_native.c, an N-API addon) with
// node-gyp and copies it to dist/native/blux_native.node, where the library
// loads it (src/native/addon.ts). Run last by `npm run build`; skipped when
// that file is newer than the sources (`--force` rebuilds).
//
// node-gyp is the copy npm bundles (npm puts it on PATH and in
// npm_config_node_gyp for scripts); it needs python3, make, a C compiler and
// Node's headers (npm's `nodedir`, the running node's own include/node, or a
// download). Without them the build stops here with node-gyp's explanation:
// the library runs without the addon (it hashes with node:crypto instead,
// and `blux-reg doctor` says so), but a development build must have it, so
// that the tests cover it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const sources = ['blux_native.c', 'ledger_scan.c', 'ledger_scan.h', 'sha256_ni.c', 'sha256_ni.h', 'sha256_openssl.h', 'sha256_stream.c', 'sha256_stream.h', 'binding.gyp'].map((name) => path.join(root, 'native', name));
const built = path.join(root, 'native', 'build', 'Release', 'blux_native.node');
const target = path.join(root, 'dist', 'native', 'blux_native.node');

function isUpToDate() {
  if (process.argv.includes('--force') || !existsSync(target)) return false;
  const builtAt = statSync(target).mtimeMs;
  return sources.every((file) => statSync(file).mtimeMs < builtAt);
}

/** npm's node-gyp: named by npm when this runs as an npm script, else the copy beside this node's npm, else PATH's. */
function nodeGypCommand() {
  const besideNode = process.platform === 'win32'
    ? path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
    : path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  const script = [process.env.npm_config_node_gyp, besideNode].find((file) => file !== undefined && existsSync(file));
  return script !== undefined ? [process.execPath, [script]] : ['node-gyp', []];
}

/**
 * The headers of the running node when it has them (<prefix>/include/node, as
 * a node installed from a tarball or a package with headers does), unless npm
 * names a nodedir: then node-gyp needs no download, which a machine without
 * network could not do.
 */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir !== undefined) return [];
  const prefix = path.join(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

if (!isUpToDate()) {
  const [command, args] = nodeGypCommand();
  const result = spawnSync(command, [...args, 'rebuild', '--directory', path.join(root, 'native'), '--loglevel', 'warn', ...nodeDirArgs()], {
    stdio: ['ignore', 'pipe', 'inherit'],
    shell: process.platform === 'win32' && command === 'node-gyp',
  });
  if (result.status !== 0) {
    // make's progress lines only matter when something failed.
    process.stderr.write(result.stdout ?? '');
    const why = result.error?.message ?? (result.signal !== null ? `killed by ${result.signal}` : `exit ${result.status}`);
    console.error(`build-native: node-gyp failed (${why}). blux-reg's native addon needs python3, make, a C compiler and Node's headers; see README (Quick start).`);
    process.exit(1);
  }
  mkdirSync(path.dirname(target), { recursive: true });
  copyFileSync(built, target);
}

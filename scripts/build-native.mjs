// Builds the native kernel (native/blux_native.c, an N-API addon) with
// node-gyp and copies it to dist/native/blux_native.node, where the library
// loads it (src/native/addon.ts). Run by `npm run build`.
//
// node-gyp is the copy npm bundles (npm puts it on PATH and in
// npm_config_node_gyp for scripts); it needs python3, make, a C compiler and
// Node's headers (npm's `nodedir`, or downloaded). Without them the build
// fails here with node-gyp's own explanation: the library still runs without
// the addon (it hashes with node:crypto instead), but a development build
// must have it, so that the tests cover it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
/** npm's node-gyp: named by npm when this runs as an npm script, else the copy beside this node's npm, else PATH's. */
function nodeGypCommand() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const script = candidates.find((file) => file !== undefined && existsSync(file));
  return script !== undefined ? [process.execPath, [script]] : ['node-gyp', []];
}
/**
 * The headers of the running node when it has them (<prefix>/include/node, as
 * a packaged node does), unless npm names a nodedir: then node-gyp needs no
 * download, which a machine without network could not do.
 */
function nodeDirArgs() {
  if (process.env.npm_config_nodedir !== undefined) return [];
  const prefix = path.join(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const [command, args] = nodeGypCommand();
const result = spawnSync(command, [...args, 'rebuild', '--directory', path.join(root, 'native'), '--loglevel', 'warn', ...nodeDirArgs()], { stdio: ['ignore', 'pipe', 'inherit'] });
if (result.status !== 0) {
  // make's progress lines only matter when something failed.
  process.stderr.write(result.stdout ?? '');
  console.error(`build-native: node-gyp failed (${result.error?.message ?? `exit ${result.status}`}). The native kernel needs python3, make, a C compiler and Node's headers.`);
  process.exit(1);
}
mkdirSync(path.join(root, 'dist', 'native'), { recursive: true });
copyFileSync(path.join(root, 'native', 'build', 'Release', 'blux_native.node'), path.join(root, 'dist', 'native', 'blux_native.node'));

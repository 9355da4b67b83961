// The floor of what any Node program can do on this machine for verify-batch's
// hashing: N bare worker threads that only read files (1 MiB readSync into one
// reused, page-aligned buffer) and SHA-256 them (node:crypto, SHA-NI), files
// dealt big-first to the least-loaded thread. No manifests, no signatures, no
// pool library.
// bench/verify-batch.mjs times it as a process, beside verify-batch, so the
// distance from verify-batch to the hardware is measured, not guessed.
//
//   node bench/lib/hash-floor.mjs --jobs 2 --list FILE   (FILE: one path per line)
// Prints "sha256  path" per file, in the list's order.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const READ_BYTES = 1024 * 1024;
const WASM_PAGE_BYTES = 64 * 1024;

if (!isMainThread) {
  // A WebAssembly memory's bytes start on a page boundary, where a large
  // Buffer.allocUnsafeSlow block starts 16 bytes past one, and the kernel
  // copies file data 1.5x slower into that (src/io/aligned-buffer.ts).
  const buffer = Buffer.from(new WebAssembly.Memory({ initial: READ_BYTES / WASM_PAGE_BYTES }).buffer);
  const digests = [];
  for (const file of workerData.files) {
    const fd = openSync(file, 'r');
    const hash = createHash('sha256');
    for (let position = 0; ;) {
      const n = readSync(fd, buffer, 0, READ_BYTES, position);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      position += n;
    }
    closeSync(fd);
    digests.push(hash.digest('hex'));
  }
  parentPort.postMessage(digests);
} else {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: '2' }, list: { type: 'string' } } });
  const jobs = Number(values.jobs);
  if (!Number.isSafeInteger(jobs) || jobs < 1 || values.list === undefined) {
    console.error('usage: node bench/lib/hash-floor.mjs --jobs N --list FILE');
    process.exit(2);
  }
  const files = readFileSync(values.list, 'utf8').split('\n').filter((line) => line !== '');
  // Greedy big-first deal: each file to the thread with the fewest bytes so far.
  const shares = Array.from({ length: jobs }, () => ({ files: [], indexes: [], bytes: 0 }));
  const bySize = files.map((file, index) => ({ file, index, size: statSync(file).size })).sort((a, b) => b.size - a.size);
  for (const f of bySize) {
    const share = shares.reduce((least, s) => (s.bytes < least.bytes ? s : least));
    share.files.push(f.file);
    share.indexes.push(f.index);
    share.bytes += f.size;
  }
  const digests = new Array(files.length);
  await Promise.all(shares.map((share) => new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { files: share.files } });
    worker.once('message', (list) => {
      list.forEach((digest, i) => { digests[share.indexes[i]] = digest; });
      resolve();
    });
    worker.once('error', reject);
  })));
  process.stdout.write(files.map((file, i) => `${digests[i]}  ${file}\n`).join(''));
}

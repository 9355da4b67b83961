// Append latency on a big ledger: the Python original re-reads the whole file
// to find the previous hash (3.8 s per append at 1,000,000 entries); ours reads
// only the tail, so the latency should not depend on the ledger's size.
//
//   npm run build && node bench/ledger-append.mjs [--entries 1000000] [--appends 200] [--json]
//
// Uses the compiled library (dist/). The ledger is generated in a temp folder,
// which is deleted at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { buildLedgerEntry, formatLedgerTimestamp, serializeLedgerLine } from '../dist/formats/ledger-entry.js';
import { appendLedgerEntry, readLedgerTail } from '../dist/store/ledger-file.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    appends: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
  },
});
const entryCount = Number(args.entries);
const appendCount = Number(args.appends);
if (!Number.isSafeInteger(entryCount) || entryCount < 0 || !Number.isSafeInteger(appendCount) || appendCount < 1) {
  console.error('usage: node bench/ledger-append.mjs [--entries N>=0] [--appends N>=1] [--json]');
  process.exit(2);
}
const log = args.json ? () => undefined : (line) => console.log(line);

/** Writes a valid chain straight through the format module, in big buffered writes (no lock, no fsync per line). */
function generateLedger(file, count) {
  const fd = fs.openSync(file, 'w');
  const FLUSH_AT = 8 * 1024 * 1024;
  let pending = [];
  let pendingChars = 0;
  let prev = null;
  const ts = formatLedgerTimestamp(new Date());
  try {
    for (let i = 0; i < count; i++) {
      const entry = buildLedgerEntry(
        {
          action: i % 10 === 0 ? 'sign' : 'event',
          actor: `actor-${i % 7}`,
          payload_summary: `bench entry ${i}`,
          artifact_hash: i % 10 === 0 ? 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' : null,
        },
        prev,
        ts,
      );
      const line = serializeLedgerLine(entry);
      pending.push(line);
      pendingChars += line.length;
      prev = entry.entry_hash;
      if (pendingChars >= FLUSH_AT) {
        fs.writeSync(fd, pending.join(''));
        pending = [];
        pendingChars = 0;
      }
    }
    if (pending.length > 0) fs.writeSync(fd, pending.join(''));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return prev;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-ledger-bench-'));
try {
  const ledger = path.join(dir, 'trust', 'ledger.jsonl');
  fs.mkdirSync(path.dirname(ledger));

  log(`generating a ${entryCount.toLocaleString('en-US')}-entry ledger in ${dir} ...`);
  const genStart = performance.now();
  const lastGenerated = generateLedger(ledger, entryCount);
  const generateMs = performance.now() - genStart;
  const sizeBytes = fs.statSync(ledger).size;
  log(`  ${(sizeBytes / 1024 / 1024).toFixed(1)} MiB in ${(generateMs / 1000).toFixed(1)} s`);

  const timings = [];
  let prev = lastGenerated;
  for (let i = 0; i < appendCount; i++) {
    const start = performance.now();
    const entry = await appendLedgerEntry(ledger, { action: 'event', actor: 'bench', payload_summary: `append ${i}` });
    timings.push(performance.now() - start);
    if (entry.prev_hash !== prev) throw new Error(`append ${i} chained onto ${entry.prev_hash}, expected ${prev}`);
    prev = entry.entry_hash;
  }
  const [newest] = (await readLedgerTail(ledger, 1)).map((e) => e.get('entry_hash'));
  if (newest !== prev) throw new Error('tail does not end with the last appended entry');

  const sorted = [...timings].sort((a, b) => a - b);
  const result = {
    entries: entryCount,
    ledger_bytes: sizeBytes,
    generate_s: Number((generateMs / 1000).toFixed(2)),
    appends: appendCount,
    append_ms: {
      median: Number(percentile(sorted, 50).toFixed(3)),
      p95: Number(percentile(sorted, 95).toFixed(3)),
      max: Number(sorted[sorted.length - 1].toFixed(3)),
    },
    target_median_ms: 10,
  };
  result.meets_target = result.append_ms.median <= result.target_median_ms;

  if (args.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    log('');
    log(`appendLedgerEntry on a ${entryCount.toLocaleString('en-US')}-entry ledger (${appendCount} appends, lock + tail read + write + fdatasync)`);
    log('  median ms   p95 ms   max ms');
    log(`  ${result.append_ms.median.toFixed(3).padStart(9)} ${result.append_ms.p95.toFixed(3).padStart(8)} ${result.append_ms.max.toFixed(3).padStart(8)}`);
    log(`  target: median <= ${result.target_median_ms} ms -> ${result.meets_target ? 'met' : 'NOT met'}`);
    log('');
    log(JSON.stringify(result));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

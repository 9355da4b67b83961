// Cold-start wall time of `blux-reg verify <token>`: a fresh Node process each
// time, as a CI step or a git hook runs it. Measured side by side, in the same
// loop, with two references: `node -e 0` (the bare Node start-up, which no
// code of ours can remove) and `blux-reg --version` (start-up plus loading the
// CLI, without any verification).
//
//   npm run build && node bench/cold-start.mjs [--runs 30] [--revocations 1000] [--seed] [--json]
//
// Default: a throwaway config folder made with the library (one key, one
// token, --revocations lines in trust/token_revocations.jsonl). --seed: a copy
// of tests/fixtures/seed-v0.2 (files written by the Python original) and its
// tokens/release-cafe.json instead. The temp folder is deleted at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { sha256Hex } from '../dist/engine/index.js';
import { formatInstant } from '../dist/formats/time.js';
import { createKey } from '../dist/keys/lifecycle.js';
import { configPaths } from '../dist/store/paths.js';
import { canonicalJsonLine } from '../dist/store/revocation-lists.js';
import { issueToken } from '../dist/tokens/issue.js';

const TARGET_MEDIAN_MS = 200;
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist', 'cli', 'bin.cjs');
const SEED = path.join(REPO, 'tests', 'fixtures', 'seed-v0.2');

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    revocations: { type: 'string', default: '1000' },
    seed: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(args.runs);
const warmup = Number(args.warmup);
const revocationCount = Number(args.revocations);
if (
  !Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(warmup) || warmup < 0 ||
  !Number.isSafeInteger(revocationCount) || revocationCount < 0
) {
  console.error('usage: node bench/cold-start.mjs [--runs N>=1] [--warmup N>=0] [--revocations N>=0] [--seed] [--json]');
  process.exit(2);
}
const log = args.json ? () => undefined : (line) => console.log(line);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const round1 = (x) => Number(x.toFixed(1));

/**
 * CPU time (user + system) of the children waited for so far, in ms, from
 * /proc/self/stat (cutime + cstime, in clock ticks: 10 ms steps with the usual
 * USER_HZ of 100). Less sensitive to other processes on the machine than wall
 * time; null where there is no /proc.
 */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function childrenCpuMs() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    // Fields after "(comm)": state is field 3, cutime field 16, cstime field 17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[16 - 3]) + Number(fields[17 - 3])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** A config folder with one key, one valid token and a revocation list; returns [configDir, tokenFile]. */
async function makeConfig(dir) {
  const paths = configPaths(path.join(dir, 'config'));
  await createKey(paths, 'bench-issuer', { passphrase: null });
  const now = Date.now();
  const tokenFile = path.join(dir, 'publish.json');
  await issueToken({
    paths,
    keyName: 'bench-issuer',
    getPassphrase: async () => { throw new Error('the bench key is not encrypted'); },
    capability: 'publish',
    audience: 'bench/registry',
    ttlSeconds: 24 * 3600,
    nowMillis: now,
    output: tokenFile,
  });
  const lines = [];
  for (let j = 0; j < revocationCount; j++) {
    lines.push(canonicalJsonLine({
      schema_version: '1.0',
      token_hash: sha256Hex(`blux-reg bench: not a real token ${j}`),
      revoked_at: formatInstant(now),
      reason: 'bench',
      revoker: 'bench-suite',
    }));
  }
  if (lines.length > 0) fs.writeFileSync(paths.tokenRevocations, lines.join('\n') + '\n');
  return [paths.root, tokenFile];
}

/** A copy of the Python original's seed config (the copy keeps the fixture pristine). */
function copySeed(dir) {
  const copy = path.join(dir, 'seed');
  fs.cpSync(SEED, copy, { recursive: true });
  return [path.join(copy, 'config'), path.join(copy, 'tokens', 'release-cafe.json')];
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-cold-start-bench-'));
try {
  const [configDir, tokenFile] = args.seed ? copySeed(dir) : await makeConfig(dir);
  // The children see neither a backend nor a config folder from our environment: only the flags below count.
  const env = { ...process.env };
  delete env.BLUX_REG_BACKEND;
  delete env.BLUX_REG_CONFIG_DIR;

  const commands = [
    { key: 'bare_node', label: 'node -e 0 (bare Node start-up)', argv: ['-e', '0'], expect: null },
    { key: 'version', label: 'blux-reg --version', argv: [CLI, '--version'], expect: /^\d+\.\d+\.\d+/ },
    { key: 'verify', label: 'blux-reg verify <token> (native)', argv: [CLI, '--config-dir', configDir, 'verify', tokenFile], expect: /: valid \(/ },
    { key: 'verify_js', label: 'blux-reg --backend js verify <token>', argv: [CLI, '--config-dir', configDir, '--backend', 'js', 'verify', tokenFile], expect: /: valid \(/ },
  ];

  const runOnce = (command) => {
    const cpuBefore = childrenCpuMs();
    const start = performance.now();
    const child = spawnSync(process.execPath, command.argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = performance.now() - start;
    const cpuAfter = childrenCpuMs();
    if (cpuBefore !== null && cpuAfter !== null) cpuTimes[command.key]?.push(cpuAfter - cpuBefore);
    if (child.error) throw child.error;
    if (child.status !== 0 || (command.expect !== null && !command.expect.test(child.stdout))) {
      throw new Error(`${command.label}: exit ${child.status}\nstdout: ${child.stdout}\nstderr: ${child.stderr}`);
    }
    return ms;
  };
  const cpuTimes = {}; // filled only for the measured runs, not the warm-up

  log(`${runs} runs of each command (+${warmup} warm-up), interleaved; config: ${args.seed ? 'copy of tests/fixtures/seed-v0.2' : `generated, ${revocationCount} revocations`}`);
  for (let i = 0; i < warmup; i++) for (const command of commands) runOnce(command);
  const times = Object.fromEntries(commands.map((c) => [c.key, []]));
  for (const c of commands) cpuTimes[c.key] = [];
  for (let i = 0; i < runs; i++) {
    // Rotate the order so no command always runs right after the same other one.
    for (let k = 0; k < commands.length; k++) {
      const command = commands[(i + k) % commands.length];
      times[command.key].push(runOnce(command));
    }
  }

  const stats = {};
  for (const command of commands) {
    const sorted = [...times[command.key]].sort((a, b) => a - b);
    stats[command.key] = {
      command: command.label,
      median_ms: round1(percentile(sorted, 50)),
      p95_ms: round1(percentile(sorted, 95)),
      min_ms: round1(sorted[0]),
      max_ms: round1(sorted[sorted.length - 1]),
      cpu_median_ms: cpuTimes[command.key].length === runs ? round1(percentile([...cpuTimes[command.key]].sort((a, b) => a - b), 50)) : null,
    };
  }
  // Per-run differences (same iteration, neighbouring runs) are less noisy than differences of medians.
  const pairedMedian = (a, b) => {
    const diffs = times[a].map((t, i) => t - times[b][i]).sort((x, y) => x - y);
    return round1(percentile(diffs, 50));
  };
  const result = {
    runs,
    config: args.seed ? 'seed-v0.2 copy' : `generated (${revocationCount} revocations)`,
    node: process.version,
    commands: stats,
    ratio_verify_over_bare_node: Number((stats.verify.median_ms / stats.bare_node.median_ms).toFixed(2)),
    verify_minus_bare_node_ms: pairedMedian('verify', 'bare_node'),
    verify_minus_version_ms: pairedMedian('verify', 'version'),
    version_minus_bare_node_ms: pairedMedian('version', 'bare_node'),
    target_median_ms: TARGET_MEDIAN_MS,
  };
  result.meets_target = stats.verify.median_ms <= TARGET_MEDIAN_MS;

  if (args.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    log('');
    log('| command | median ms | p95 ms | min ms | max ms | CPU (user+sys) median ms |');
    log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const s of Object.values(stats)) {
      log(`| ${s.command} | ${s.median_ms} | ${s.p95_ms} | ${s.min_ms} | ${s.max_ms} | ${s.cpu_median_ms ?? '-'} |`);
    }
    log('');
    log(`verify / bare node (medians): ${result.ratio_verify_over_bare_node}x; ` +
      `paired medians: verify - bare node ${result.verify_minus_bare_node_ms} ms, ` +
      `--version - bare node ${result.version_minus_bare_node_ms} ms, verify - --version ${result.verify_minus_version_ms} ms`);
    log(`CPU time is read from /proc/self/stat in ${1000 / CLOCK_TICKS} ms ticks; wall time is what the target is about.`);
    log(`target: verify median <= ${TARGET_MEDIAN_MS} ms -> ${result.meets_target ? 'met' : 'NOT met'} (${stats.verify.median_ms} ms)`);
    log('');
    log(JSON.stringify(result));
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

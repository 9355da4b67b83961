/** `init`, `status`, `doctor`: the config folder and the health of the installation. */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { printJson, say } from '../output.js';
import { packageFile, runningFromBundle } from '../../io/package-files.js';

/** Loaded when a command runs, not at start-up (keeps `verify` fast). */
async function deps() {
  const [engine, base64, ledger, keystore, revocations, json] = await Promise.all([
    import('../../engine/index.js'),
    import('../../formats/base64.js'),
    import('../../store/ledger-file.js'),
    import('../../store/keystore.js'),
    import('../../store/revocation-lists.js'),
    import('../../formats/canonical/json-value.js'),
  ]);
  return { ...engine, ...base64, ...ledger, ...keystore, ...revocations, ...json };
}

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

const MIN_NODE = [20, 19] as const;

/** RFC 8032 section 7.1, TEST 1 (empty message): a known-good signature for the self-test. */
const RFC8032_TEST1 = {
  publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
  signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
};

export function registerSystemCommands(program: Command, run: Run): void {
  program
    .command('init')
    .description('create the config folder (keys/, trust/, trust/tokens/)')
    .option('--json', 'print the paths as JSON')
    .action(run(async (cmd) => {
      const { paths } = contextFrom(cmd);
      fs.mkdirSync(paths.keysDir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(paths.tokensDir, { recursive: true });
      if (cmd.opts<{ json?: boolean }>().json === true) printJson({ status: 'ok', ...paths });
      else say(`initialized ${paths.root}\n  keys:   ${paths.keysDir}\n  ledger: ${paths.ledger}`);
      return 0;
    }));

  program
    .command('status')
    .description('summarize the config folder: keys, revocations, ledger head')
    .option('--json', 'print as JSON')
    .action(run(async (cmd) => {
      const ctx = contextFrom(cmd);
      const { paths } = ctx;
      const { listKeys, loadKeyRevocations, loadTokenRevocations, readLedgerTail, toPlain } = await deps();
      const keys = listKeys(paths.keysDir);
      const [revokedKeys, revokedTokens] = await Promise.all([loadKeyRevocations(paths.keyRevocations), loadTokenRevocations(paths.tokenRevocations)]);
      const ledgerBytes = fs.existsSync(paths.ledger) ? fs.statSync(paths.ledger).size : 0;
      const head = ledgerBytes > 0 ? (await readLedgerTail(paths.ledger, 1)).map((e) => toPlain(e) as Record<string, unknown>)[0] : undefined;
      const report = {
        config_dir: paths.root,
        backend: ctx.backend,
        keys: keys.length,
        revoked_keys: revokedKeys.size,
        revoked_tokens: revokedTokens.size,
        ledger: { file: paths.ledger, bytes: ledgerBytes, head_hash: head?.['entry_hash'] ?? null, head_ts: head?.['ts'] ?? null },
      };
      if (cmd.opts<{ json?: boolean }>().json === true) printJson(report);
      else {
        say(`config:   ${report.config_dir}`);
        say(`backend:  ${report.backend}`);
        say(`keys:     ${report.keys} (${report.revoked_keys} revoked)`);
        say(`tokens:   ${report.revoked_tokens} revoked`);
        say(`ledger:   ${report.ledger.bytes} bytes, head ${String(report.ledger.head_hash ?? '(empty)')} ${String(report.ledger.head_ts ?? '')}`);
      }
      return 0;
    }));

  program
    .command('doctor')
    .description('check the installation: Node version, native modules, engine self-test, config folder, private key permissions')
    .option('--json', 'print the checks as JSON')
    .action(run(async (cmd) => {
      const ctx = contextFrom(cmd);
      const { BACKEND_NAMES, getBackend, sha256Hex, verifyEd25519, decodeHex, listKeys } = await deps();
      const checks: { check: string; ok: boolean; detail: string }[] = [];
      const add = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });

      const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
      add('node version', major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]), `${process.version} (need >= ${MIN_NODE.join('.')})`);

      const require = createRequire(import.meta.url);
      for (const mod of ['sodium-native', 'argon2', 'fs-native-extensions']) {
        try {
          require(mod);
          add(`native module ${mod}`, true, 'loads');
        } catch (e) {
          add(`native module ${mod}`, false, e instanceof Error ? e.message.split('\n')[0]! : String(e));
        }
      }

      for (const name of BACKEND_NAMES) {
        try {
          const shaOk = sha256Hex(new TextEncoder().encode('abc'), { backend: name }) === 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
          const sigOk = await verifyEd25519(decodeHex(RFC8032_TEST1.publicKey)!, new Uint8Array(0), decodeHex(RFC8032_TEST1.signature)!, { backend: name });
          add(`backend ${name}`, shaOk && sigOk, `${getBackend(name).name}: sha256 ${shaOk ? 'ok' : 'WRONG'}, ed25519 ${sigOk ? 'ok' : 'WRONG'}`);
        } catch (e) {
          add(`backend ${name}`, false, e instanceof Error ? e.message : String(e));
        }
      }
      // The addon is optional (without it the ledger audit hashes with node:crypto, slower): reported, not a failure.
      // Loading it already ran its self-test (native/addon.ts selfTested: a ledger line's scan and SHA-256): an addon that failed it is not in use.
      const { nativeAddonStatus } = await import('../../native/addon.js');
      const addon = nativeAddonStatus();
      add('native addon', true, addon.addon === null
        ? `not in use (${addon.unavailableBecause}); the ledger audit uses the node:crypto kernel, slower`
        : `${addon.path}: ledger scan and sha256 ok (self-test at load; the ledger audit's default kernel), hashing with ${addon.addon.hashImplementation() === 'sha-ni' ? 'the CPU\'s SHA extensions, two lines at a time' : 'OpenSSL'}`);
      // How this command line was loaded (a slow start is worth knowing about, not a failure).
      const [load] = runningFromBundle() ? (require(packageFile('dist/io/bundle-loader.cjs')) as typeof import('../../io/bundle-loader.cjs')).bundleLoads() : [];
      add('command line', true, load === undefined
        ? 'not bundled (run the blux-reg command, dist/cli/bin.cjs, for the faster start)'
        : `${load.bundle}, ${load.codeCacheUsed ? 'with its code cache' : 'without its code cache (made by another Node.js, or missing: npm run build makes it); slower to start'}`);
      const perPrimitive = ctx.backend === 'auto'
        ? 'auto: sha256 native; ed25519 native for small batches, wasm from 256 signatures per batch (from 64 when keys repeat)'
        : `${ctx.backend} for sha256 and ed25519`;
      add('selected backend', true, `${perPrimitive} (--backend or BLUX_REG_BACKEND to change)`);

      // Writable without creating anything: doctor only looks. The nearest existing folder must accept new files.
      let probe = ctx.paths.trustDir;
      while (!fs.existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
      try {
        fs.accessSync(probe, fs.constants.W_OK);
        add('config folder writable', true, probe === ctx.paths.trustDir ? ctx.paths.root : `${ctx.paths.root} (not created yet; ${probe} is writable)`);
      } catch (e) {
        add('config folder writable', false, `${probe}: ${e instanceof Error ? e.message : String(e)}`);
      }

      if (fs.existsSync(ctx.paths.keysDir)) {
        const dirMode = fs.statSync(ctx.paths.keysDir).mode & 0o777;
        add('keys folder permissions', (dirMode & 0o077) === 0, `${ctx.paths.keysDir} mode ${dirMode.toString(8).padStart(4, '0')}${(dirMode & 0o077) === 0 ? '' : ' (others can list it: chmod 700)'}`);
      }
      let keys: ReturnType<typeof listKeys> = [];
      try {
        keys = listKeys(ctx.paths.keysDir);
      } catch (e) {
        add('keystore readable', false, e instanceof Error ? e.message : String(e));
      }
      for (const key of keys) {
        if (key.privatePath === null) continue;
        const mode = fs.statSync(key.privatePath).mode & 0o777;
        add(`private key ${key.name} permissions`, (mode & 0o077) === 0,
          `${key.privatePath} mode ${mode.toString(8).padStart(4, '0')}${(mode & 0o077) === 0 ? '' : ' (readable by others: chmod 600)'}${key.encrypted ? ', encrypted' : ', unencrypted'}`);
      }

      const ok = checks.every((c) => c.ok);
      if (cmd.opts<{ json?: boolean }>().json === true) printJson({ status: ok ? 'ok' : 'problems', checks });
      else for (const c of checks) say(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.check}: ${c.detail}`);
      return ok ? 0 : 1;
    }));
}

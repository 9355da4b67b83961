/** `keygen` and the `key` group: list, export, import, revoke, rotate, change-passphrase. */
import type { Command } from 'commander';
import { BluxError } from '../../errors.js';
import type { KeyInfo } from '../../store/keystore.js';
import { resolvePassphrase } from '../../store/passphrase.js';
import { contextFrom, passphraseGetter } from '../context.js';
import { complain, printJson, say } from '../output.js';

/** The key modules load argon2 and libsodium: import them only when a key command runs (keeps `verify` start-up fast). */
async function deps() {
  const [lifecycle, keystore, revocations, atomic, input] = await Promise.all([
    import('../../keys/lifecycle.js'),
    import('../../store/keystore.js'),
    import('../../store/revocation-lists.js'),
    import('../../io/atomic-write.js'),
    import('../../io/read-document.js'),
  ]);
  return { ...lifecycle, ...keystore, ...revocations, ...atomic, ...input };
}

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

/**
 * The passphrase for a NEW private key: `--no-passphrase` means none; else the
 * file, env or a confirmed prompt. Without any of them (no terminal) the key
 * is stored unencrypted, as the original did, with a warning.
 */
async function newKeyPassphrase(flags: { passphrase?: boolean; passphraseFile?: string }, what: string): Promise<string | null> {
  if (flags.passphrase === false) return null;
  const passphrase = await resolvePassphrase({
    ...(flags.passphraseFile !== undefined ? { passphraseFile: flags.passphraseFile } : {}),
    interactive: true,
    confirm: true,
    prompt: `Passphrase to encrypt ${what} (empty for none): `,
  });
  if (passphrase === null || passphrase === '') {
    complain(`warning: ${what} is stored unencrypted (use --passphrase-file or BLUX_REG_PASSPHRASE to encrypt it, --no-passphrase to silence this)`);
    return null;
  }
  return passphrase;
}

function keyJson(key: KeyInfo, revoked: boolean): object {
  return {
    name: key.name,
    fingerprint: key.fingerprint,
    has_private_key: key.privatePath !== null,
    encrypted: key.encrypted,
    revoked,
    public_path: key.publicPath,
    private_path: key.privatePath,
  };
}

export function registerKeyCommands(program: Command, run: Run): void {
  program
    .command('keygen')
    .description('create an Ed25519 key pair in the keystore (private key encrypted under Argon2id when a passphrase is given)')
    .option('-n, --name <name>', 'key name (letters, digits, . _ -)', 'default')
    .option('--force', 'replace an existing key of that name')
    .option('--passphrase-file <file>', 'encrypt the private key with the passphrase in this file')
    .option('--no-passphrase', 'store the private key unencrypted without asking')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ name: string; force?: boolean; passphraseFile?: string; passphrase?: boolean; json?: boolean }>();
      const ctx = contextFrom(cmd);
      const passphrase = await newKeyPassphrase(flags, `key "${flags.name}"`);
      const { createKey } = await deps();
      const key = await createKey(ctx.paths, flags.name, { force: flags.force === true, passphrase });
      if (flags.json === true) printJson({ status: 'ok', ...keyJson(key, false) });
      else say(`created key "${key.name}" ${key.fingerprint}${key.encrypted ? ' (encrypted)' : ''}\n  ${key.privatePath}\n  ${key.publicPath}`);
      return 0;
    }));

  const key = program.command('key').description('manage keys: list, export, import, revoke, rotate, change-passphrase');

  key
    .command('list')
    .description('list the keystore\'s keys with their fingerprints')
    .option('--show-revoked', 'include revoked keys')
    .option('--json', 'print as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ showRevoked?: boolean; json?: boolean }>();
      const ctx = contextFrom(cmd);
      const { loadKeyRevocations, listKeys } = await deps();
      const revoked = await loadKeyRevocations(ctx.paths.keyRevocations);
      const keys = listKeys(ctx.paths.keysDir).filter((k) => flags.showRevoked === true || !revoked.has(k.fingerprint));
      if (flags.json === true) printJson(keys.map((k) => keyJson(k, revoked.has(k.fingerprint))));
      else if (keys.length === 0) say(`no keys in ${ctx.paths.keysDir} (create one with \`blux-reg keygen --name NAME\`)`);
      else {
        for (const k of keys) {
          const flagsText = [k.privatePath === null ? 'public only' : k.encrypted ? 'encrypted' : 'unencrypted', revoked.has(k.fingerprint) ? 'REVOKED' : '']
            .filter(Boolean).join(', ');
          say(`${k.name.padEnd(20)} ${k.fingerprint}  ${flagsText}`);
        }
      }
      return 0;
    }));

  key
    .command('export')
    .description('print (or write) a key as PEM; private keys are exported as stored (encrypted stays encrypted)')
    .requiredOption('-n, --name <name>', 'the key')
    .option('--public', 'the public key (default)')
    .option('--private', 'the private key')
    .option('-o, --output <file>', 'write to this file instead of stdout (private: mode 0600)')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ name: string; public?: boolean; private?: boolean; output?: string }>();
      if (flags.public === true && flags.private === true) throw new BluxError('invalid-argument', 'choose one of --public and --private');
      const ctx = contextFrom(cmd);
      const which = flags.private === true ? 'private' : 'public';
      const { exportKey, writeFileAtomic } = await deps();
      const pem = exportKey(ctx.paths.keysDir, flags.name, which);
      if (flags.output !== undefined) {
        await writeFileAtomic(flags.output, pem, which === 'private' ? 0o600 : 0o644);
        say(`wrote ${which} key "${flags.name}" to ${flags.output}`);
      } else process.stdout.write(pem);
      return 0;
    }));

  key
    .command('import')
    .argument('[path]', 'a PEM file: SPKI public key, PKCS#8 private key, or a blux-reg encrypted key')
    .description('import a key into the keystore (from a file, or --stdin for CI secrets)')
    .option('-n, --name <name>', 'key name (default imported-<fingerprint prefix>)')
    .option('--stdin', 'read the PEM from standard input')
    .option('--force', 'replace an existing key of that name')
    .option('--passphrase-file <file>', 'encrypt an imported plain private key with this passphrase')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ name?: string; stdin?: boolean; force?: boolean; passphraseFile?: string; json?: boolean }>();
      const source = cmd.args[0];
      if ((source === undefined) === (flags.stdin !== true)) throw new BluxError('invalid-argument', 'give either a PATH or --stdin');
      const { decodeUtf8, readFileForInput, importKey } = await deps();
      const pem = source !== undefined ? decodeUtf8(await readFileForInput(source), source) : await readStdin();
      const ctx = contextFrom(cmd);
      const passphrase = flags.passphraseFile !== undefined
        ? await resolvePassphrase({ passphraseFile: flags.passphraseFile, interactive: false, prompt: '' })
        : null;
      const imported = await importKey(ctx.paths.keysDir, pem, {
        ...(flags.name !== undefined ? { name: flags.name } : {}),
        force: flags.force === true,
        passphrase,
      });
      if (flags.json === true) printJson({ status: 'ok', ...keyJson(imported, false) });
      else say(`imported key "${imported.name}" ${imported.fingerprint}${imported.privatePath === null ? ' (public only)' : ''}`);
      return 0;
    }));

  key
    .command('revoke')
    .argument('<name>', 'the key to revoke')
    .description('revoke a key: anything signed by it then fails with reason key-revoked')
    .requiredOption('--reason <text>', 'why, e.g. compromised')
    .requiredOption('--revoker <who>', 'who revokes')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ reason: string; revoker: string; json?: boolean }>();
      const ctx = contextFrom(cmd);
      const { revokeKey } = await deps();
      const result = await revokeKey(ctx.paths, cmd.args[0]!, { reason: flags.reason, revoker: flags.revoker });
      if (flags.json === true) printJson({ status: 'ok', name: result.key.name, fingerprint: result.key.fingerprint, added: result.added });
      else say(result.added ? `revoked key "${result.key.name}" ${result.key.fingerprint}` : `key "${result.key.name}" was already revoked`);
      return 0;
    }));

  key
    .command('rotate')
    .argument('<name>', 'the key to replace')
    .description('revoke a key and create a new one under the same name; the ledger links old and new')
    .option('--reason <text>', 'why', 'rotation')
    .option('--revoker <who>', 'who rotates', 'blux-reg')
    .option('--passphrase-file <file>', 'encrypt the new private key with this passphrase')
    .option('--no-passphrase', 'store the new private key unencrypted without asking')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ reason: string; revoker: string; passphraseFile?: string; passphrase?: boolean; json?: boolean }>();
      const ctx = contextFrom(cmd);
      const name = cmd.args[0]!;
      const passphrase = await newKeyPassphrase(flags, `the new key "${name}"`);
      const { rotateKey } = await deps();
      const result = await rotateKey(ctx.paths, name, { reason: flags.reason, revoker: flags.revoker, passphrase });
      if (flags.json === true) {
        printJson({ status: 'ok', name, old_fingerprint: result.oldKey.fingerprint, new_fingerprint: result.newKey.fingerprint, archived_as: result.archivedAs });
      } else {
        say(`rotated "${name}": ${result.oldKey.fingerprint} (revoked, kept as "${result.archivedAs}") -> ${result.newKey.fingerprint}`);
      }
      return 0;
    }));

  key
    .command('change-passphrase')
    .argument('<name>', 'the key')
    .description('re-encrypt a private key under a new passphrase (or add or remove encryption)')
    .option('--passphrase-file <file>', 'the current passphrase (else BLUX_REG_PASSPHRASE, else a prompt)')
    .option('--new-passphrase-file <file>', 'the new passphrase (else a confirmed prompt)')
    .option('--remove', 'store the key unencrypted')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ passphraseFile?: string; newPassphraseFile?: string; remove?: boolean }>();
      const ctx = contextFrom(cmd);
      const name = cmd.args[0]!;
      const { changePassphrase, listKeys } = await deps();
      const current = (listKeys(ctx.paths.keysDir).find((k) => k.name === name)?.encrypted ?? false) ? await passphraseGetter(flags.passphraseFile, name)() : null;
      let next: string | null = null;
      if (flags.remove !== true) {
        next = await resolvePassphrase({
          ...(flags.newPassphraseFile !== undefined ? { passphraseFile: flags.newPassphraseFile } : {}),
          env: {},
          interactive: true,
          confirm: true,
          prompt: `New passphrase for key "${name}": `,
        });
        if (next === null || next === '') throw new BluxError('passphrase-required', 'give --new-passphrase-file FILE (or --remove to store the key unencrypted)');
      }
      const updated = await changePassphrase(ctx.paths.keysDir, name, current, next);
      say(`key "${updated.name}" is now ${updated.encrypted ? 'encrypted' : 'unencrypted'}`);
      return 0;
    }));
}


async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}


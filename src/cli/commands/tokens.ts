/**
 * Capability tokens: `issue`, `hash`, `revoke` (the original's top-level
 * commands) and the `token issue|verify|revoke|show` group.
 */
import type { Command } from 'commander';
import { BluxError } from '../../errors.js';
import { contextFrom, passphraseGetter } from '../context.js';
import { printJson, say, usageError } from '../output.js';
import { addVerifyOptions, runVerify } from './verify.js';

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

function defineIssue(command: Command, run: Run): void {
  command
    .argument('<key_name>', 'the issuing key')
    .argument('<capability>', 'what the token allows, e.g. publish')
    .argument('<audience>', 'who may use it, e.g. outer-void/blux-guard')
    .argument('<ttl_seconds>', 'lifetime in seconds')
    .description('issue a capability token signed by a local key')
    .option('--constraints <json>', 'a JSON object of constraints, e.g. \'{"scope":"release"}\'')
    .option('-o, --output <file>', 'write the token here too (a copy is always kept in trust/tokens/)')
    .option('--passphrase-file <file>', 'read the key passphrase from this file')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const [keyName, capability, audience, ttl] = cmd.args as [string, string, string, string];
      const { parseJson, toPlain } = await import('../../formats/canonical/json-value.js');
      const { issueToken } = await import('../../tokens/issue.js');
      const flags = cmd.opts<{ constraints?: string; output?: string; passphraseFile?: string; json?: boolean }>();
      if (!/^\d+$/.test(ttl)) throw usageError(`ttl_seconds must be a whole number of seconds, got ${JSON.stringify(ttl)}`);
      const constraints = flags.constraints === undefined ? undefined : parseJson(flags.constraints, { file: '--constraints' });
      const ctx = contextFrom(cmd);
      const result = await issueToken({
        paths: ctx.paths,
        backend: ctx.backend,
        keyName,
        getPassphrase: passphraseGetter(flags.passphraseFile, keyName),
        capability,
        audience,
        ttlSeconds: Number(ttl),
        ...(constraints !== undefined ? { constraints } : {}),
        ...(flags.output !== undefined ? { output: flags.output } : {}),
      });
      if (flags.json === true) {
        printJson({ status: 'ok', token_hash: result.tokenHash, stored_at: result.storedAt, output: result.output, token: toPlain(result.token) });
      } else {
        say(`issued token ${result.tokenHash}`);
        say(`  stored at ${result.storedAt}${result.output !== null ? `\n  written to ${result.output}` : ''}`);
      }
      return 0;
    }));
}

function defineRevoke(command: Command, run: Run): void {
  command
    .argument('<token_hash>', 'the token hash (see `blux-reg hash TOKEN`)')
    .description('revoke a capability token by its hash')
    .requiredOption('--reason <text>', 'why, e.g. compromised')
    .requiredOption('--revoker <who>', 'who revokes, e.g. security-team')
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ reason: string; revoker: string; json?: boolean }>();
      const ctx = contextFrom(cmd);
      const { revokeToken } = await import('../../tokens/revoke.js');
      const result = await revokeToken({ paths: ctx.paths, tokenHash: cmd.args[0]!, reason: flags.reason, revoker: flags.revoker });
      if (flags.json === true) printJson({ status: 'ok', token_hash: result.tokenHash, added: result.added });
      else say(result.added ? `revoked token ${result.tokenHash}` : `token ${result.tokenHash} was already revoked`);
      return 0;
    }));
}

async function tokenHashOf(file: string, backend: string): Promise<string> {
  const { readJsonDocument } = await import('../../io/read-document.js');
  const { tokenHashText } = await import('../../formats/token.js');
  const { sha256Hex } = await import('../../engine/index.js');
  const document = await readJsonDocument(file);
  if (!(document instanceof Map)) throw new BluxError('malformed', 'a token is a JSON object', { file });
  return sha256Hex(tokenHashText(document), { backend });
}

export function registerTokenCommands(program: Command, run: Run): void {
  defineIssue(program.command('issue'), run);
  defineRevoke(program.command('revoke'), run);

  program
    .command('hash')
    .argument('<token>', 'a token file')
    .description('print the token hash: SHA-256 of the canonical JSON of the whole token (what revocations list)')
    .option('--json', 'print as JSON')
    .action(run(async (cmd) => {
      const file = cmd.args[0]!;
      const tokenHash = await tokenHashOf(file, contextFrom(cmd).backend);
      if (cmd.opts<{ json?: boolean }>().json === true) printJson({ file, token_hash: tokenHash });
      else say(tokenHash);
      return 0;
    }));

  const group = program.command('token').description('capability tokens: issue, verify, revoke, show');
  defineIssue(group.command('issue'), run);
  addVerifyOptions(
    group.command('verify').argument('<token>', 'a token file').description('verify a capability token against the trusted keys'),
  ).action(run((cmd) => runVerify(cmd.args[0]!, 'token', cmd)));
  defineRevoke(group.command('revoke'), run);
  group
    .command('show')
    .argument('<token>', 'a token file')
    .description('print a token\'s fields and hash (does not verify it: use `token verify`)')
    .option('--json', 'print as JSON')
    .action(run(async (cmd) => {
      const file = cmd.args[0]!;
      const { readJsonDocument } = await import('../../io/read-document.js');
      const { tokenHashText } = await import('../../formats/token.js');
      const { sha256Hex } = await import('../../engine/index.js');
      const { toPlain } = await import('../../formats/canonical/json-value.js');
      const document = await readJsonDocument(file);
      if (!(document instanceof Map)) throw new BluxError('malformed', 'a token is a JSON object', { file });
      const tokenHash = sha256Hex(tokenHashText(document), { backend: contextFrom(cmd).backend });
      const plain = toPlain(document) as Record<string, unknown>;
      if (cmd.opts<{ json?: boolean }>().json === true) {
        printJson({ file, token_hash: tokenHash, token: plain });
      } else {
        const issuer = plain['issuer'] as Record<string, unknown> | undefined;
        say(`token ${tokenHash} (not verified)`);
        for (const key of ['capability', 'audience', 'issued_at', 'expires_at', 'ttl_seconds']) say(`  ${key}: ${String(plain[key])}`);
        say(`  constraints: ${JSON.stringify(plain['constraints'])}`);
        say(`  issuer: ${String(issuer?.['key_name'])} (${String(issuer?.['fingerprint'])})`);
      }
      return 0;
    }));
}

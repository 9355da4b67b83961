/** `sign ARTIFACT`: write (or co-sign) the artifact's manifest. */
import type { Command } from 'commander';
import type { ManifestFormat } from '../../sign/sign-artifact.js';
import { collect, contextFrom, passphraseGetter } from '../context.js';
import { printJson, say, usageError } from '../output.js';

interface SignFlags {
  keyName: string;
  output?: string;
  format: string;
  metadata?: string;
  passphraseFile?: string;
  json?: boolean;
  force?: boolean;
  trustedKeys?: string[];
}

export function registerSignCommand(program: Command, run: (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>): void {
  program
    .command('sign')
    .argument('<artifact>', 'the file to sign')
    .description('hash an artifact (streamed) and write <artifact>.blux-manifest.json signed by a local key; signing a file that already has a 2.0 manifest for the same bytes adds a co-signature')
    .option('-k, --key-name <name>', 'the signing key', 'default')
    .option('-o, --output <manifest>', 'manifest path (default <artifact>.blux-manifest.json)')
    .option('--format <version>', 'manifest format: 2.0 (co-signable, RFC 8785) or 1.0 (blux-reg 0.2)', '2.0')
    .option('--metadata <json>', '2.0 only: a JSON object stored and signed in the manifest, e.g. \'{"version":"1.2.3"}\'')
    .option('--passphrase-file <file>', 'read the key passphrase from this file (else BLUX_REG_PASSPHRASE, else a prompt)')
    .option('--force', 'replace an existing manifest that cannot be co-signed (other content or format)')
    .option('--trusted-keys <file|dir>', 'also trust this key when checking an existing manifest before co-signing (repeatable)', collect)
    .option('--json', 'print the result as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<SignFlags>();
      const { parseJson } = await import('../../formats/canonical/json-value.js');
      const { signArtifact } = await import('../../sign/sign-artifact.js');
      const { hashProgress } = await import('../progress.js');
      const ctx = contextFrom(cmd);
      if (flags.format !== '1.0' && flags.format !== '2.0') throw usageError(`--format must be 1.0 or 2.0, got ${JSON.stringify(flags.format)}`);
      const metadata = flags.metadata === undefined ? undefined : parseJson(flags.metadata, { file: '--metadata' });
      if (metadata !== undefined && !(metadata instanceof Map)) throw usageError('--metadata must be a JSON object');
      const artifact = cmd.args[0]!;
      const progress = hashProgress(artifact, flags.json === true);
      try {
        const result = await signArtifact(artifact, {
          paths: ctx.paths,
          backend: ctx.backend,
          keyName: flags.keyName,
          getPassphrase: passphraseGetter(flags.passphraseFile, flags.keyName),
          format: flags.format as ManifestFormat,
          force: flags.force === true,
          trustedKeys: flags.trustedKeys ?? [],
          ...(flags.output !== undefined ? { output: flags.output } : {}),
          ...(metadata !== undefined ? { metadata } : {}),
          ...(progress !== null ? { onHashProgress: progress.update } : {}),
        });
        progress?.stop();
        if (flags.json === true) {
          printJson({
            status: 'ok', action: result.action, format: result.format, manifest: result.manifestFile,
            artifact: result.artifact, key_fingerprint: result.keyFingerprint, manifest_hash: result.manifestHash, signers: result.signers,
          });
        }
        if (flags.json !== true) {
          const what = result.action === 'co-signed' ? `co-signed (${result.signers} signatures)`
            : result.action === 'already-signed' ? 'already signed by this key (unchanged)' : 'signed';
          say(`${result.manifestFile}: ${what} by ${flags.keyName} (${result.keyFingerprint.slice(0, 16)}…), sha256 ${result.artifact.sha256}`);
        }
        return 0;
      } finally {
        progress?.stop();
      }
    }));
}

/**
 * End to end: `verifyBatch` over a generated, signed release tree (2.0
 * manifests beside every artifact, one trusted key), per backend, against
 * hashing the same files with sha256sum (or openssl). Every run must verify
 * every artifact: a benchmark that verified nothing proves nothing.
 */
import { createHash, randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { BluxError } from '../../errors.js';
import { BACKEND_CHOICES } from '../../engine/index.js';
import { encodeBase64 } from '../../formats/base64.js';
import { canonicalFor } from '../../formats/canonical/index.js';
import { MANIFEST_SUFFIX, newManifestV2Body, serializeManifestFile, withSignaturesV2 } from '../../formats/manifest.js';
import { formatInstant } from '../../formats/time.js';
import { verifyBatch } from '../../batch/verify-batch.js';
import { generateKey, loadSigner } from '../../store/keystore.js';
import { configPaths } from '../../store/paths.js';
import { loadTrustContext } from '../../trust/context.js';
import { SCENARIO_SIZES } from '../scenario-sizes.js';
import { fileHashReference, opensslVariant } from '../tools.js';
import type { BenchSuite } from '../types.js';

const BLOCK_BYTES = 1024 * 1024;
const FOLDERS = 4;
const KEY_NAME = 'bench';

/** Writes `files` artifacts totalling about `bytes`, each signed; returns their paths relative to `tree`. */
async function writeSignedTree(tree: string, configDir: string, files: number, bytes: number): Promise<string[]> {
  const paths = configPaths(configDir);
  await generateKey(paths.keysDir, KEY_NAME, { passphrase: null });
  const signer = await loadSigner(paths.keysDir, KEY_NAME, async () => '');
  const block = randomFillSync(Buffer.alloc(BLOCK_BYTES));
  const now = formatInstant(Date.now());
  const perFile = Math.max(1, Math.floor(bytes / files));
  const written: string[] = [];
  for (let i = 0; i < files; i++) {
    const rel = path.join(`group-${i % FOLDERS}`, `artifact-${String(i).padStart(4, '0')}.bin`);
    const abs = path.join(tree, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    // Sizes vary +-50% around the mean so reads are not all alike.
    const size = Math.max(1, Math.round(perFile * (0.5 + ((i * 7919) % files) / files)));
    const hash = createHash('sha256');
    const fd = fs.openSync(abs, 'w');
    try {
      for (let done = 0; done < size;) {
        const chunk = block.subarray(0, Math.min(BLOCK_BYTES, size - done));
        chunk.writeUInt32LE(i, 0);
        fs.writeSync(fd, chunk);
        hash.update(chunk);
        done += chunk.length;
      }
    } finally {
      fs.closeSync(fd);
    }
    const body = newManifestV2Body({ path: path.basename(rel), size, sha256: hash.digest('hex') }, now, new Map());
    const signature = signer.sign(new TextEncoder().encode(canonicalFor('2.0', body)));
    const manifest = withSignaturesV2(body, [{ keyFingerprint: signer.fingerprint, signedAt: now, signature: encodeBase64(signature) }]);
    fs.writeFileSync(`${abs}${MANIFEST_SUFFIX}`, serializeManifestFile(manifest));
    written.push(rel);
  }
  return written;
}

export const verifyBatchSuite: BenchSuite = {
  id: 'verify-batch',
  title: 'verify-batch over a signed tree',
  async prepare(ctx) {
    const sizes = SCENARIO_SIZES[ctx.settings.size];
    const tree = path.join(ctx.workDir, 'tree');
    const configDir = path.join(ctx.workDir, 'tree-config');
    const files = await writeSignedTree(tree, configDir, sizes.treeFiles, sizes.treeBytes);
    const totalBytes = files.reduce((sum, rel) => sum + fs.statSync(path.join(tree, rel)).size, 0);
    const trust = await loadTrustContext({ paths: configPaths(configDir) });

    const verifyTree = (backend: string) => async (): Promise<void> => {
      const report = await verifyBatch([tree], { trust, recursive: true, backend }).report();
      if (report.totals.verified !== files.length || report.status !== 'ok') {
        throw new BluxError('internal', `bench: verify-batch verified ${report.totals.verified} of ${files.length} artifacts (${report.status})`);
      }
    };
    return {
      cases: [{
        id: 'verify-batch/tree',
        title: `verify-batch, ${files.length} files`,
        unit: 'B',
        unitsPerOp: totalBytes,
        heavy: true,
        reference: fileHashReference(ctx.tools, tree, files),
        variants: [
          ...BACKEND_CHOICES.map((name) => ({ backend: name, label: `verify-batch --backend ${name}`, fn: verifyTree(name) })),
          ...opensslVariant(ctx.tools, tree, files),
        ],
      }],
    };
  },
};

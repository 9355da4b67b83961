// prepareManifest (src/verify/manifest.ts) with and without the manifest
// hash: verify-batch skips the hash, and must get the same verdicts.
import { describe, expect, it } from 'vitest';

import { parseJson } from '../src/formats/canonical/index.js';
import { newManifestV2Body, serializeManifestFile, withSignaturesV2 } from '../src/formats/manifest.js';
import { isPrepared, prepareManifest, type ArtifactLocator } from '../src/verify/manifest.js';

const here: ArtifactLocator = async () => ({ ok: true, path: '/tree/file.bin', size: 3 });
const SIGNATURE = Buffer.alloc(64, 7).toString('base64');

function manifestText(artifactPath: string): string {
  const body = newManifestV2Body({ path: artifactPath, size: 3, sha256: 'ab'.repeat(32) }, '2026-11-23T00:00:00+00:00', new Map());
  return serializeManifestFile(withSignaturesV2(body, [{ keyFingerprint: 'cd'.repeat(32), signedAt: '2026-11-23T00:00:00+00:00', signature: SIGNATURE }]));
}

describe('prepareManifest without the manifest hash', () => {
  it('prepares the same manifest, with the same details but the hash', async () => {
    const document = parseJson(manifestText('file.bin'));
    const full = await prepareManifest('/tree/file.bin.blux-manifest.json', document, {}, here);
    const lean = await prepareManifest('/tree/file.bin.blux-manifest.json', document, {}, here, { manifestHash: false });
    expect(isPrepared(full) && isPrepared(lean)).toBe(true);
    const { manifest_hash: hash, ...rest } = full.details;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(lean.details).toEqual(rest);
  });

  it('still finds a manifest RFC 8785 cannot represent malformed (an unpaired surrogate)', async () => {
    const document = parseJson(manifestText('file.bin').replace('"file.bin"', '"file\\ud800.bin"'));
    for (const options of [{}, { manifestHash: false }]) {
      const verdict = await prepareManifest('/tree/x.blux-manifest.json', document, {}, here, options);
      expect(isPrepared(verdict)).toBe(false);
      expect(verdict).toMatchObject({ status: 'invalid', reason: 'malformed', message: expect.stringMatching(/unpaired surrogate/) });
    }
  });
});

// prepareManifest (src/verify/manifest.ts) with and without the manifest
// hash: verify-batch skips the hash and the canonical text it covers, and
// must get the same verdicts (manifestSignedTextCheckingWhole, formats/manifest.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { BluxError } from '../src/errors.js';
import { parseJson } from '../src/formats/canonical/index.js';
import {
  manifestHashText, manifestSignedText, manifestSignedTextCheckingWhole, newManifestV2Body, readManifest, serializeManifestFile, withSignaturesV2,
} from '../src/formats/manifest.js';
import { REPO_ROOT } from './helpers/cli.js';
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
    if (!isPrepared(full) || !isPrepared(lean)) throw new Error('both should be prepared');
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

describe('manifestSignedTextCheckingWhole', () => {
  const v1Text = readFileSync(path.join(REPO_ROOT, 'tests/fixtures/seed-v0.2/cases/manifest-tampered-sha256/notes.txt.blux-manifest.json'), 'utf8');
  const nested = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  const values = [
    '"plain"', '"\\ud800"', '"\\udc00x"', '"\\ud83d\\ude00"', '{"\\ud800": 1}', '9007199254740991', '9007199254740993', '-9007199254740993',
    '1e999', '-0', '1.5', '[1, {"a": null, "b": [true, false]}]', nested(505), nested(509), nested(510), nested(511),
  ];
  /** What `make` returns or throws: the same error (class, code and message) counts as the same outcome. */
  const outcome = (make: () => string) => {
    try {
      return { text: make() };
    } catch (e) {
      return { error: e instanceof BluxError ? `${e.code}: ${e.message}` : String(e) };
    }
  };

  it('gives the signed text when the whole manifest has a canonical form, else the error the whole manifest gives (1.0 and 2.0)', () => {
    const documents: string[] = [];
    for (const value of values) {
      // 1.0: an extra top-level member, before or after the others; or the signature member itself.
      documents.push(v1Text.replace('{', `{"a_extra": ${value}, `), v1Text.replace(/}\s*$/, `, "z_extra": ${value}}`));
      // 2.0: a metadata value.
      documents.push(manifestText('file.bin').replace('"metadata": {}', `"metadata": {"k": ${value}}`));
    }
    // Two faults: the whole manifest reports the first in document order.
    documents.push(manifestText('file.bin').replace('"metadata": {}', '"metadata": {"a": "\\ud800", "b": 9007199254740993}'));
    documents.push(v1Text.replace('{', '{"a_extra": 1e999, ').replace(/}\s*$/, ', "z_extra": 1e400}'));
    documents.push(v1Text.replace(/"signature": "[^"]*"/, '"signature": "\\ud800"'));

    let failing = 0;
    for (const text of documents) {
      let document;
      try {
        document = parseJson(text);
      } catch {
        continue; // deeper than the parser takes: nothing to compare
      }
      const read = readManifest(document);
      if (!read.ok) continue;
      const whole = outcome(() => manifestHashText(read.value));
      const fast = outcome(() => manifestSignedTextCheckingWhole(read.value));
      if ('error' in whole) {
        failing++;
        expect(fast, text.slice(0, 120)).toEqual(whole);
      } else {
        expect(fast, text.slice(0, 120)).toEqual({ text: manifestSignedText(read.value) });
      }
    }
    // The cases above do reach both outcomes, in both schemes.
    expect(failing).toBeGreaterThanOrEqual(8);
  });

  it('checks the signature member too, and gives the whole manifest\'s first error when both parts have one', () => {
    // Today's schemas keep signature members plain; the check holds for any document all the same.
    const read = readManifest(parseJson(manifestText('file.bin')));
    if (!read.ok) throw new Error(read.problem);
    const withRaw = (text: string) => ({ ...read.value, raw: parseJson(text) as typeof read.value.raw });
    const cases = [
      '{"schema_version": "2.0", "metadata": {}, "signatures": [{"note": "\\ud800"}]}',
      '{"schema_version": "2.0", "signatures": [9007199254740993], "metadata": {"k": "\\ud800"}}',
      '{"schema_version": "2.0", "metadata": {"k": "\\ud800"}, "signatures": [9007199254740993]}',
    ];
    for (const text of cases) {
      const manifest = withRaw(text);
      const whole = outcome(() => manifestHashText(manifest));
      expect('error' in whole, text).toBe(true);
      expect(outcome(() => manifestSignedTextCheckingWhole(manifest)), text).toEqual(whole);
    }
  });
});

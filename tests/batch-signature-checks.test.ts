// verify-batch's signature checks run apart from hashing (src/batch/signature-checks.ts):
// every group gets the same checks as the one-document path, across several
// engine slices, whatever order the groups are asked for in; an abort rejects.
import { createPrivateKey, createPublicKey, randomBytes, sign as nodeSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SIGNATURE_SLICE_ITEMS, startSignatureChecks, type SignedGroup } from '../src/batch/signature-checks.js';
import { closeEnginePool } from '../src/engine/index.js';
import { encodeBase64 } from '../src/formats/base64.js';
import { canonicalFor } from '../src/formats/canonical/index.js';
import { newManifestV2Body, readManifest, withSignaturesV2 } from '../src/formats/manifest.js';
import type { TrustContext } from '../src/trust/context.js';
import type { TrustedKey, TrustedKeys } from '../src/trust/trusted-keys.js';
import type { PreparedManifest } from '../src/verify/manifest.js';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

interface TestKey { readonly fingerprint: string; readonly publicKey: Uint8Array; sign(message: Uint8Array): Uint8Array }

function testKey(index: number): TestKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, randomBytes(32)]), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32));
  return {
    fingerprint: index.toString(16).padStart(64, '0'),
    publicKey,
    sign: (message) => new Uint8Array(nodeSign(null, message, privateKey)),
  };
}

function trustOf(trusted: readonly TestKey[], revoked: readonly TestKey[]): TrustContext {
  const keys = new Map<string, TrustedKey>(trusted.map((k, i) => [k.fingerprint, {
    fingerprint: k.fingerprint, publicKey: k.publicKey, publicKeyPem: '', name: `key-${i}`, source: 'test',
  }]));
  const trustedKeys: TrustedKeys = { get: (f) => keys.get(f), size: keys.size, skipped: [], [Symbol.iterator]: () => keys.values() };
  return { keys: trustedKeys, revokedKeys: new Map(revoked.map((k) => [k.fingerprint, {}])), revokedTokens: new Map() };
}

type Tamper = 'none' | 'flip-signature';

/** A 2.0 manifest signed by `signers`, as prepareManifest would hand it over. */
function prepared(index: number, signers: readonly { key: TestKey; tamper: Tamper }[]): PreparedManifest {
  const createdAt = '2026-11-22T00:00:00+00:00';
  const body = newManifestV2Body({ path: `file-${index}.bin`, size: index, sha256: index.toString(16).padStart(64, '0') }, createdAt, new Map());
  const message = new TextEncoder().encode(canonicalFor('2.0', body));
  const document = withSignaturesV2(body, signers.map(({ key, tamper }) => {
    const signature = key.sign(message);
    if (tamper === 'flip-signature') signature[7]! ^= 0x01;
    return { keyFingerprint: key.fingerprint, signedAt: createdAt, signature: encodeBase64(signature) };
  }));
  const read = readManifest(document);
  if (!read.ok) throw new Error(read.problem);
  return { file: `/tree/file-${index}.bin.blux-manifest.json`, manifest: read.value, artifactPath: `/tree/file-${index}.bin`, artifactSize: index, details: {}, signedText: canonicalFor('2.0', body) };
}

describe('startSignatureChecks', () => {
  const [alice, bob, carol, stranger] = [0, 1, 2, 3].map(testKey) as [TestKey, TestKey, TestKey, TestKey];
  const trust = trustOf([alice, bob, carol], [carol]);

  it('gives every group the checks of its manifests, across several engine slices, asked in any order', async () => {
    // Three slices' worth of signatures; one group of each kind in every slice.
    const kinds = [
      { signers: [{ key: alice, tamper: 'none' }], expected: [['ok']] },
      { signers: [{ key: alice, tamper: 'none' }, { key: bob, tamper: 'none' }], expected: [['ok', 'ok']] },
      { signers: [{ key: bob, tamper: 'flip-signature' }], expected: [['bad-signature']] },
      { signers: [{ key: stranger, tamper: 'none' }], expected: [['unknown-key']] },
      { signers: [{ key: carol, tamper: 'none' }], expected: [['key-revoked']] },
    ] as const;
    const groups: (SignedGroup & { expected: readonly (readonly string[])[] })[] = [];
    for (let i = 0; groups.length < 2 * SIGNATURE_SLICE_ITEMS + 100; i++) {
      const kind = kinds[i % kinds.length]!;
      groups.push({ manifests: [prepared(i, kind.signers)], expected: kind.expected });
    }
    // One group with two manifests (separate manifests for one artifact).
    groups.push({ manifests: [prepared(1e6, [{ key: alice, tamper: 'none' }]), prepared(1e6 + 1, [{ key: bob, tamper: 'flip-signature' }])], expected: [['ok'], ['bad-signature']] });

    const checks = startSignatureChecks(groups, { trust, backend: 'native', jobs: 2, signal: new AbortController().signal });
    try {
      for (const group of [...groups].reverse()) {
        const got = await checks.checksOf(group);
        expect(got.map((manifestChecks) => manifestChecks.map((c) => c.status))).toEqual(group.expected);
        expect(got.flat().map((c) => c.keyFingerprint)).toEqual(group.manifests.flatMap((m) => m.manifest.signatures.map((s) => s.keyFingerprint)));
      }
    } finally {
      await closeEnginePool();
    }
  }, 60_000);

  it('rejects the checks of groups not done when the run is aborted', async () => {
    const abort = new AbortController();
    abort.abort();
    const group = { manifests: [prepared(1, [{ key: alice, tamper: 'none' }])] };
    const checks = startSignatureChecks([group], { trust, backend: 'native', signal: abort.signal });
    await expect(checks.checksOf(group)).rejects.toThrow();
  });

  it('stop() drops the slices not checked yet: their groups reject, the ones done keep their checks', async () => {
    // Three slices of one signature per group.
    const groups: SignedGroup[] = [];
    for (let i = 0; i < 2 * SIGNATURE_SLICE_ITEMS + 10; i++) groups.push({ manifests: [prepared(i, [{ key: alice, tamper: 'none' }])] });
    const checks = startSignatureChecks(groups, { trust, backend: 'native', jobs: 1, signal: new AbortController().signal });
    try {
      const first = await checks.checksOf(groups[0]!);
      checks.stop();
      // The first slice is done; the third waits on the first one's lane, so it cannot have started.
      await expect(checks.checksOf(groups[groups.length - 1]!)).rejects.toThrow();
      expect((await checks.checksOf(groups[0]!))).toBe(first);
      expect(first[0]![0]!.status).toBe('ok');
    } finally {
      await closeEnginePool();
    }
  }, 60_000);

  it('refuses a group it was not given', async () => {
    const checks = startSignatureChecks<SignedGroup>([], { trust, backend: 'native', signal: new AbortController().signal });
    await expect(checks.checksOf({ manifests: [] })).rejects.toThrow(/not given/);
  });
});

// The pure formats of transparency: C2SP signed notes and vkeys (checked against the reference
// example of golang.org/x/mod/sumdb/note, whose doc comment and tests publish the PeterNeumann key,
// text and signature; BSD-3-Clause, The Go Authors), checkpoints, cosignature/v1 timestamps, tlog-policy.
import { createPrivateKey, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';

import { verifyEd25519 } from '../src/engine/index.js';
import { formatCheckpointText, parseCheckpointText } from '../src/formats/checkpoint.js';
import { cosignedMessage, decodeTimestampedSignature, encodeTimestampedSignature } from '../src/formats/cosignature.js';
import { privateKeyDer } from '../src/formats/keys.js';
import { encodeVerifierKey, parseSignedNote, parseVerifierKey, serializeSignedNote, SignatureType, signaturesBy, withSignature } from '../src/formats/note.js';
import { parseTrustPolicy, quorumMet } from '../src/formats/trust-policy.js';

const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_SKEY_MATERIAL = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz'; // 0x01 || Ed25519 seed
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

describe('signed notes (c2sp.org/signed-note)', () => {
  it('the Go reference note: key ID, parse, verify, and the same bytes when we sign it', async () => {
    const key = parseVerifierKey(GO_VKEY)!;
    expect(key).not.toBeNull();
    expect(Buffer.from(key.keyId).toString('hex')).toBe('c74f20a3');
    expect(encodeVerifierKey(key.name, SignatureType.ed25519, key.publicKey)).toBe(GO_VKEY);
    const parsed = parseSignedNote(GO_NOTE);
    if (!parsed.ok) throw new Error(parsed.problem);
    expect(parsed.note.text).toBe(GO_TEXT);
    const [signature] = signaturesBy(parsed.note, 'PeterNeumann', key.keyId);
    expect(await verifyEd25519(key.publicKey, new TextEncoder().encode(GO_TEXT), signature!.signature)).toBe(true);
    const seed = Buffer.from(GO_SKEY_MATERIAL, 'base64').subarray(1);
    const privateKey = createPrivateKey({ key: Buffer.from(privateKeyDer(seed)), format: 'der', type: 'pkcs8' });
    const ours = new Uint8Array(sign(null, Buffer.from(GO_TEXT), privateKey));
    expect(serializeSignedNote({ text: GO_TEXT, signatures: [{ name: 'PeterNeumann', keyId: key.keyId, signature: ours }] })).toBe(GO_NOTE);
  });

  it('vkeys whose base64 contains "+" parse; a wrong key ID, type or name does not', () => {
    expect(parseVerifierKey('TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6')).toMatchObject({ name: 'TEST', type: 1 });
    expect(parseVerifierKey(GO_VKEY.replace('c74f20a3', 'c74f20a4'))).toBeNull();
    expect(parseVerifierKey(GO_VKEY.replace('+ARpc', '+AhpC'))).toBeNull();
    expect(parseVerifierKey(`Peter Neumann+c74f20a3+${GO_VKEY.split('+')[2]}`)).toBeNull();
  });

  it('malformed notes are refused with the problem named', () => {
    const cases: [string, RegExp][] = [
      [GO_TEXT, /blank line/],
      [GO_NOTE.slice(0, -1), /newline/],
      [GO_NOTE.replace('\u2014 ', '- '), /signature line 1/],
      [GO_NOTE.replace('x08go', 'x08g'), /signature line 1/],
      [GO_NOTE.replace('problem,', 'problem,\u0007'), /control character/],
    ];
    for (const [text, problem] of cases) {
      const parsed = parseSignedNote(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.problem).toMatch(problem);
    }
  });

  it('withSignature replaces a signature of the same key in place and appends a new one', () => {
    const parsed = parseSignedNote(GO_NOTE);
    if (!parsed.ok) throw new Error(parsed.problem);
    const original = parsed.note.signatures[0]!;
    const other = { name: 'Other', keyId: new Uint8Array([1, 2, 3, 4]), signature: new Uint8Array(64) };
    const two = withSignature(parsed.note, other);
    const replaced = withSignature(two, { ...original, signature: new Uint8Array(64).fill(7) });
    expect(replaced.signatures.map((s) => s.name)).toEqual(['PeterNeumann', 'Other']);
    expect(replaced.signatures[0]!.signature[0]).toBe(7);
  });
});

describe('checkpoints and cosignatures', () => {
  it('round trip, with extension lines; malformed bodies refused', () => {
    const checkpoint = { origin: 'example.com/log', size: 20852163, rootHash: new Uint8Array(32).fill(9), extensions: ['ext one'] };
    const text = formatCheckpointText(checkpoint);
    expect(text).toBe(`example.com/log\n20852163\n${Buffer.alloc(32, 9).toString('base64')}\next one\n`);
    expect(parseCheckpointText(text)).toEqual({ ok: true, checkpoint });
    for (const bad of ['example.com/log\n012\nAAAA\n', 'example.com/log\n12\n', '\n12\n' + Buffer.alloc(32).toString('base64') + '\n', 'o\n1\n' + Buffer.alloc(31).toString('base64') + '\n']) {
      expect(parseCheckpointText(bad).ok, JSON.stringify(bad)).toBe(false);
    }
  });

  it('cosignature/v1: the signed message and the big-endian timestamp', () => {
    expect(new TextDecoder().decode(cosignedMessage('o\n1\nR\n', 1679315147))).toBe('cosignature/v1\ntime 1679315147\no\n1\nR\n');
    const blob = encodeTimestampedSignature(1679315147, new Uint8Array(64).fill(5));
    expect(Buffer.from(blob.subarray(0, 8)).readBigUInt64BE(0)).toBe(1679315147n);
    expect(decodeTimestampedSignature(blob)).toMatchObject({ timestamp: 1679315147 });
    expect(decodeTimestampedSignature(blob.subarray(1))).toBeNull();
    const tooLate = Uint8Array.from(blob);
    tooLate[0] = 0x80;
    expect(decodeTimestampedSignature(tooLate)).toBeNull();
  });
});

describe('trust policies (c2sp.org/tlog-policy)', () => {
  const key = (name: string, type: 1 | 4, fill: number): string => encodeVerifierKey(name, type, new Uint8Array(32).fill(fill));
  const policyText = [
    '# two organisations', `log ${key('example.com/log', 1, 1)} https://log.example`, '',
    `witness X1 ${key('x1', 4, 2)}`, `witness X2 ${key('x2', 4, 3)}`, `witness X3 ${key('x3', 4, 4)}`, 'group X 2 X1 X2 X3',
    `witness Y1 ${key('y1', 4, 5)}`, `witness Y2 ${key('y2', 4, 6)}`, 'group Y any Y1 Y2',
    '\tgroup XY all X Y   ', 'quorum XY', '',
  ].join('\n');

  it('nested groups: k of n, any, all', () => {
    const parsed = parseTrustPolicy(policyText);
    if (!parsed.ok) throw new Error(parsed.problem);
    const { policy } = parsed;
    expect(quorumMet(policy, new Set(['X1', 'X2', 'Y2']))).toBe(true);
    expect(quorumMet(policy, new Set(['X1', 'Y1', 'Y2']))).toBe(false);
    expect(quorumMet(policy, new Set(['X1', 'X2', 'X3']))).toBe(false);
  });

  it('refuses what the spec forbids, naming the line', () => {
    const cases: [string, RegExp][] = [
      [policyText.replace('quorum XY', ''), /no quorum line/],
      [`${policyText}quorum X\n`, /exactly one quorum/],
      [policyText.replace('group X 2 X1 X2 X3', 'group X 4 X1 X2 X3'), /line 7: the threshold/],
      [policyText.replace('group X 2 X1 X2 X3', 'group X 2 X1 X1 X3'), /same member twice/],
      [policyText.replace('group XY all X Y', 'group XY all X Z'), /"Z" is not a witness or group/],
      [policyText.replace(`witness X2 ${key('x2', 4, 3)}`, `witness X2 ${key('x2', 4, 2)}`), /listed twice/],
      [policyText.replace(`witness X2 ${key('x2', 4, 3)}`, `witness X2 ${key('x2', 1, 3)}`), /signature type 0x01, expected 0x04/],
      [policyText.replace('# two', 'logs two'), /unknown keyword "logs"/],
      [`${policyText}\u0001`, /control character/],
    ];
    for (const [text, problem] of cases) {
      const parsed = parseTrustPolicy(text);
      expect(parsed.ok, String(problem)).toBe(false);
      if (!parsed.ok) expect(parsed.problem).toMatch(problem);
    }
  });
});

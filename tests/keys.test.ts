import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BluxError } from '../src/errors.js';
import {
  decodePemBlock,
  detectPemKind,
  encodePemBlock,
  encodePrivateKeyPem,
  encodePublicKeyPem,
  fingerprintOf,
  parsePrivateKeyPem,
  parsePublicKeyPem,
} from '../src/formats/keys.js';
import { thrown } from './helpers/errors.js';

const SEED = path.resolve(__dirname, 'fixtures/seed-v0.2');
const expected = JSON.parse(fs.readFileSync(path.join(SEED, 'expected.json'), 'utf8')) as {
  keys: Record<string, { private_pem: string; public_pem: string; fingerprint: string }>;
  untrusted_keys: Record<string, { public_pem: string; fingerprint: string }>;
};
const read = (rel: string): string => fs.readFileSync(path.join(SEED, rel), 'utf8');


const publicCases = [
  ...Object.entries(expected.keys).map(([name, k]) => [name, k.public_pem, k.fingerprint] as const),
  ...Object.entries(expected.untrusted_keys).map(([name, k]) => [name, k.public_pem, k.fingerprint] as const),
];

describe('public keys (SPKI PEM)', () => {
  it('covers alice, bob and mallory', () => {
    expect(publicCases.map(([name]) => name).sort()).toEqual(['alice', 'bob', 'mallory']);
    expect(publicCases.map(([, , fp]) => fp.slice(0, 8)).sort()).toEqual(['7c81ca27', 'a1deba34', 'acf49cd9']);
  });

  it.each(publicCases)('%s parses, re-encodes byte for byte and has the expected fingerprint', (_name, rel, fp) => {
    const text = read(rel);
    const raw = parsePublicKeyPem(text, rel);
    expect(raw).toHaveLength(32);
    expect(encodePublicKeyPem(raw)).toBe(text);
    expect(fingerprintOf(raw)).toBe(fp);
    expect(fingerprintOf(raw)).toBe(crypto.createHash('sha256').update(raw).digest('hex'));
  });

  it('agrees with node:crypto about the raw key', () => {
    const text = read('config/keys/alice.pub.pem');
    const jwk = crypto.createPublicKey(text).export({ format: 'jwk' });
    expect(Buffer.from(parsePublicKeyPem(text)).toString('base64url')).toBe(jwk.x);
  });

  it('refuses a non-Ed25519 key, naming the file', () => {
    // X25519 has the same shape with OID 1.3.101.110: the prefix check must catch it.
    const x25519 = crypto.generateKeyPairSync('x25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const e = thrown(() => parsePublicKeyPem(x25519, 'x.pub.pem'));
    expect(e.code).toBe('malformed');
    expect(e.file).toBe('x.pub.pem');
    expect(e.message).toContain('x.pub.pem');

    const rsa = crypto
      .generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ format: 'pem', type: 'spki' })
      .toString();
    expect(thrown(() => parsePublicKeyPem(rsa)).code).toBe('malformed');
  });

  it('refuses trailing bytes, bad base64, a private key and no PEM at all', () => {
    const raw = parsePublicKeyPem(read('config/keys/alice.pub.pem'));
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw, Buffer.from([0])]);
    expect(thrown(() => parsePublicKeyPem(encodePemBlock('PUBLIC KEY', der))).code).toBe('malformed');
    expect(thrown(() => parsePublicKeyPem('-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n')).code).toBe(
      'malformed',
    );
    expect(thrown(() => parsePublicKeyPem(read('config/keys/alice.pem'))).code).toBe('malformed');
    expect(thrown(() => parsePublicKeyPem('hello')).code).toBe('malformed');
    const twice = read('config/keys/alice.pub.pem') + read('config/keys/bob.pub.pem');
    expect(thrown(() => parsePublicKeyPem(twice)).message).toContain('more than one');
  });

  it('tolerates CRLF line endings and explanatory text around the block', () => {
    const text = read('config/keys/bob.pub.pem');
    const crlf = 'Bob, from the 0.2 fixtures\r\n' + text.replace(/\n/g, '\r\n');
    expect(parsePublicKeyPem(crlf)).toEqual(parsePublicKeyPem(text));
  });
});

describe('private keys (PKCS#8 PEM)', () => {
  it.each(Object.entries(expected.keys))('%s parses, re-encodes byte for byte and matches its public key', (_n, k) => {
    const text = read(k.private_pem);
    const seed = parsePrivateKeyPem(text, k.private_pem);
    expect(seed).toHaveLength(32);
    expect(encodePrivateKeyPem(seed)).toBe(text);

    const derived = crypto.createPublicKey(crypto.createPrivateKey(text)).export({ format: 'pem', type: 'spki' });
    expect(derived.toString()).toBe(read(k.public_pem));
  });

  it('writes what node:crypto writes', () => {
    const { privateKey } = crypto.generateKeyPairSync('ed25519');
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(encodePrivateKeyPem(parsePrivateKeyPem(pem))).toBe(pem);
  });

  it('refuses PKCS#8 v2 (with the public key attached) and other algorithms', () => {
    const seed = parsePrivateKeyPem(read('config/keys/alice.pem'));
    const pub = parsePublicKeyPem(read('config/keys/alice.pub.pem'));
    const v2 = Buffer.concat([
      Buffer.from('3051020101300506032b657004220420', 'hex'),
      seed,
      Buffer.from('812100', 'hex'),
      pub,
    ]);
    expect(thrown(() => parsePrivateKeyPem(encodePemBlock('PRIVATE KEY', v2), 'v2.pem')).message).toContain('v2.pem');
    const x25519 = crypto.generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(thrown(() => parsePrivateKeyPem(x25519)).code).toBe('malformed');
  });
});

describe('detectPemKind', () => {
  it('tells the three kinds apart', () => {
    expect(detectPemKind(read('config/keys/alice.pub.pem'))).toBe('public');
    expect(detectPemKind(read('config/keys/alice.pem'))).toBe('private');
    expect(detectPemKind(encodePemBlock('BLUX-REG ENCRYPTED PRIVATE KEY', new Uint8Array([1, 2, 3])))).toBe(
      'encrypted-private',
    );
  });

  it('returns null for anything else', () => {
    expect(detectPemKind('')).toBeNull();
    expect(detectPemKind('just text')).toBeNull();
    expect(detectPemKind(encodePemBlock('CERTIFICATE', new Uint8Array([1])))).toBeNull();
    expect(detectPemKind(encodePemBlock('ENCRYPTED PRIVATE KEY', new Uint8Array([1])))).toBeNull();
  });
});

describe('PEM blocks', () => {
  it('wraps at 64 characters with a final newline', () => {
    const pem = encodePemBlock('TEST', new Uint8Array(100).fill(7));
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN TEST-----');
    expect(lines[1]).toHaveLength(64);
    expect(lines.at(-2)).toBe('-----END TEST-----');
    expect(lines.at(-1)).toBe('');
    expect(decodePemBlock(pem, 'TEST')).toEqual(new Uint8Array(100).fill(7));
  });

  it('refuses non-canonical base64 in the body', () => {
    // "AB==" decodes like "AA==" with stray bits: a second spelling of the same bytes.
    expect(thrown(() => decodePemBlock('-----BEGIN T-----\nAB==\n-----END T-----\n', 'T')).code).toBe('malformed');
  });
});

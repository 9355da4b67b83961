import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBase64Strict, decodeHex, encodeBase64, encodeHex } from '../src/formats/base64.js';
import { parseJson, type JsonValue } from '../src/formats/canonical/index.js';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

describe('encodeBase64', () => {
  it.each([
    [[], ''],
    [[0x66], 'Zg=='],
    [[0x66, 0x6f], 'Zm8='],
    [[0x66, 0x6f, 0x6f], 'Zm9v'],
    [[0xfb, 0xff], '+/8='],
  ])('%j -> %j', (input, output) => {
    expect(encodeBase64(bytes(...input))).toBe(output);
  });

  it('encodes only the view, not the whole underlying buffer', () => {
    const backing = bytes(1, 2, 3, 4, 5);
    expect(encodeBase64(backing.subarray(1, 3))).toBe(encodeBase64(bytes(2, 3)));
  });
});

describe('decodeBase64Strict', () => {
  it('accepts the canonical encoding', () => {
    expect(decodeBase64Strict('Zm9vYg==')).toEqual(bytes(0x66, 0x6f, 0x6f, 0x62));
    expect(decodeBase64Strict('')).toEqual(bytes());
    expect(decodeBase64Strict('+/8=')).toEqual(bytes(0xfb, 0xff));
    expect(decodeBase64Strict('AA==')).toEqual(bytes(0));
  });

  it.each([
    ['a trailing newline', 'Zm9vYg==\n'],
    ['a trailing CRLF', 'Zm9vYg==\r\n'],
    ['inner whitespace', 'Zm9v Yg=='],
    ['a line break inside', 'Zm9v\nYg=='],
    ['leading space', ' Zm9vYg=='],
    ['missing padding', 'Zm9vYg'],
    ['partial padding', 'Zm9vYg='],
    ['extra padding', 'Zm9vYg==='],
    ['padding in the middle', 'Zg==Zg=='],
    ['padding on a full group', 'Zm9v===='],
    ['the URL-safe alphabet', '-_8='],
    ['non-zero pad bits (1 byte)', 'AB=='],
    ['non-zero pad bits (2 bytes)', 'AAB='],
    ['a character outside the alphabet', 'Zm9v*g=='],
    ['a lone character', 'Z'],
    ['non-ASCII', 'Zm9vYé=='],
  ])('rejects %s', (_name, text) => {
    expect(decodeBase64Strict(text)).toBeNull();
  });

  it('enforces expectedLength', () => {
    const signature = encodeBase64(new Uint8Array(64).fill(7));
    expect(decodeBase64Strict(signature, 64)).toEqual(new Uint8Array(64).fill(7));
    expect(decodeBase64Strict(signature, 63)).toBeNull();
    expect(decodeBase64Strict(signature, 65)).toBeNull();
  });

  it('round-trips any bytes, and accepts nothing else that decodes to them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (data) => {
        const text = encodeBase64(data);
        expect(decodeBase64Strict(text, data.length)).toEqual(data);
        expect(decodeBase64Strict(`${text}\n`)).toBeNull();
        if (text.endsWith('=')) expect(decodeBase64Strict(text.replace(/=+$/, ''))).toBeNull();
      }),
    );
  });

  it('returns a plain Uint8Array', () => {
    const decoded = decodeBase64Strict('Zm9v');
    expect(decoded).not.toBeNull();
    expect(Object.getPrototypeOf(decoded)).toBe(Uint8Array.prototype);
  });
});

describe('seed-v0.2 token signatures', () => {
  const tokens = fileURLToPath(new URL('./fixtures/seed-v0.2/tokens/', import.meta.url));
  const signatureOf = (file: string): string => {
    const token = parseJson(readFileSync(`${tokens}${file}`, 'utf8'), { file }) as Map<string, JsonValue>;
    return token.get('signature') as string;
  };

  it("accepts publish-revoked.json's signature (64 bytes)", () => {
    expect(decodeBase64Strict(signatureOf('publish-revoked.json'), 64)).toHaveLength(64);
  });

  it("rejects the re-encoded copy's signature, although a lenient decoder reads the same bytes", () => {
    const reencoded = signatureOf('publish-revoked.sig-reencoded.json');
    expect(decodeBase64Strict(reencoded, 64)).toBeNull();
    expect(Buffer.from(reencoded, 'base64')).toEqual(Buffer.from(signatureOf('publish-revoked.json'), 'base64'));
  });
});

describe('hex', () => {
  it('encodes lowercase', () => {
    expect(encodeHex(bytes(0x00, 0xab, 0xff))).toBe('00abff');
    expect(encodeHex(bytes())).toBe('');
    expect(encodeHex(bytes(9, 8, 7).subarray(1))).toBe('0807');
  });

  it('decodes strictly', () => {
    expect(decodeHex('00abff')).toEqual(bytes(0x00, 0xab, 0xff));
    expect(decodeHex('')).toEqual(bytes());
    for (const bad of ['0', 'abc', '00ABFF', 'zz', '0x00', ' 00', '00\n', 'ab cd']) {
      expect(decodeHex(bad)).toBeNull();
    }
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (data) => {
        expect(decodeHex(encodeHex(data))).toEqual(data);
      }),
    );
  });
});

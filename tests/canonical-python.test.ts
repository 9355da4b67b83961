import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalPython,
  compareCodePoints,
  fromPlain,
  JsonNumber,
  parseJson,
  pythonFloatRepr,
  type JsonValue,
} from '../src/formats/canonical/index.js';
import { BluxError } from '../src/errors.js';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const seed = `${fixtures}seed-v0.2/`;

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function canonicalOf(text: string): string {
  return canonicalPython(parseJson(text));
}

describe('golden file from CPython json.dumps', () => {
  const golden = JSON.parse(readFileSync(`${fixtures}canonical-python-golden.json`, 'utf8')) as {
    input: string;
    canonical: string;
  }[];

  it('has the expected coverage', () => {
    expect(golden.length).toBeGreaterThan(2000);
  });

  it('matches every entry byte for byte', () => {
    const mismatches = golden
      .map(({ input, canonical }) => ({ input, expected: canonical, actual: canonicalOf(input) }))
      .filter(({ expected, actual }) => expected !== actual);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});

describe('seed-v0.2 fixtures written by the Python original', () => {
  const expected = JSON.parse(readFileSync(`${seed}expected.json`, 'utf8')) as {
    manifests: { file: string; signed_message?: string; manifest_hash?: string }[];
    tokens: { file: string; signed_message: string; token_hash: string }[];
  };

  function readDocument(file: string): Map<string, JsonValue> {
    const value = parseJson(readFileSync(`${seed}${file}`, 'utf8'), { file });
    if (!(value instanceof Map)) throw new Error(`${file} is not an object`);
    return value;
  }

  function withoutSignature(document: Map<string, JsonValue>): Map<string, JsonValue> {
    const copy = new Map(document);
    copy.delete('signature');
    return copy;
  }

  const manifests = expected.manifests.filter((m) => m.signed_message !== undefined);
  it.each(manifests.map((m) => [m.file, m] as const))('manifest %s: signed message and hash', (file, m) => {
    const manifest = readDocument(file);
    expect(canonicalPython(withoutSignature(manifest))).toBe(m.signed_message);
    expect(sha256Hex(canonicalPython(manifest))).toBe(m.manifest_hash);
  });

  it.each(expected.tokens.map((t) => [t.file, t] as const))('token %s: signed message and token hash', (file, t) => {
    const token = readDocument(file);
    expect(canonicalPython(withoutSignature(token))).toBe(t.signed_message);
    expect(sha256Hex(canonicalPython(token))).toBe(t.token_hash);
  });

  it('reproduces every line of the original ledger and its entry hashes', () => {
    const lines = readFileSync(`${seed}config/trust/ledger.jsonl`, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) {
      const entry = parseJson(line) as Map<string, JsonValue>;
      expect(canonicalPython(entry)).toBe(line);
      const unhashed = new Map(entry);
      unhashed.delete('entry_hash');
      expect(sha256Hex(canonicalPython(unhashed))).toBe(entry.get('entry_hash'));
    }
  });
});

describe('strings', () => {
  it('escapes like ensure_ascii=True', () => {
    expect(canonicalOf('"\\"\\\\/\\b\\t\\n\\f\\r"')).toBe('"\\"\\\\/\\b\\t\\n\\f\\r"');
    expect(canonicalOf('"\\u0000\\u001f\\u007f\\u0080"')).toBe('"\\u0000\\u001f\\u007f\\u0080"');
    expect(canonicalPython('caf\u00e9 \u2713')).toBe('"caf\\u00e9 \\u2713"');
    expect(canonicalPython('\u{1d11e}')).toBe('"\\ud834\\udd1e"');
    expect(canonicalPython('\ud800x\udfff')).toBe('"\\ud800x\\udfff"');
    expect(canonicalPython('\uABCD')).toBe('"\\uabcd"');
  });
});

describe('key order', () => {
  it('sorts by code point, not by UTF-16 unit', () => {
    const value = fromPlain({ '\ue000': 1, '\u{1d11e}': 2, '\uffff': 3, a: 4 });
    expect(canonicalPython(value)).toBe('{"a":4,"\\ue000":1,"\\uffff":3,"\\ud834\\udd1e":2}');
    // JavaScript's default sort would put the astral key first among the three.
    expect(['\ue000', '\u{1d11e}', '\uffff'].sort()).toEqual(['\u{1d11e}', '\ue000', '\uffff']);
  });

  it('treats a lone surrogate as its own code point', () => {
    expect(compareCodePoints('\ud800', '\ue000')).toBeLessThan(0);
    expect(compareCodePoints('\ud800a', '\u{10000}')).toBeLessThan(0);
    expect(compareCodePoints('\ud834\udd1e', '\ud834a')).toBeGreaterThan(0);
    expect(compareCodePoints('ab', 'abc')).toBeLessThan(0);
    expect(compareCodePoints('abc', 'abc')).toBe(0);
  });

  it('sorts nested objects too', () => {
    expect(canonicalOf('{"b":{"d":1,"c":[{"f":0,"e":0}]},"a":null}')).toBe('{"a":null,"b":{"c":[{"e":0,"f":0}],"d":1}}');
  });
});

describe('numbers', () => {
  it.each([
    ['1.0', '1.0'],
    ['-0.0', '-0.0'],
    ['1e-07', '1e-07'],
    ['1e16', '1e+16'],
    ['1e15', '1000000000000000.0'],
    ['0.30000000000000004', '0.30000000000000004'],
    ['5e-324', '5e-324'],
    ['1.7976931348623157e308', '1.7976931348623157e+308'],
    ['123456789.123', '123456789.123'],
    ['1e22', '1e+22'],
    ['0.0001', '0.0001'],
    ['0.00001', '1e-05'],
    ['1.5e300', '1.5e+300'],
    ['100000.0', '100000.0'],
    ['1E2', '100.0'],
    ['0e0', '0.0'],
    ['-0', '0'],
    ['18446744073709551616', '18446744073709551616'],
    ['-1606938044258990275541962092341162602522202993782792835301376', '-1606938044258990275541962092341162602522202993782792835301376'],
  ])('%s -> %s', (input, output) => {
    expect(canonicalOf(input)).toBe(output);
  });

  it('refuses a float literal that overflows to infinity', () => {
    expect(() => canonicalOf('1e400')).toThrow(BluxError);
    expect(() => canonicalOf('-1e400')).toThrow(/out of the range/);
    expect(() => pythonFloatRepr(Number.NaN)).toThrow(BluxError);
  });

  it('writes every double so that it reads back as the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        const text = pythonFloatRepr(x);
        expect(Object.is(Number(text), x)).toBe(true);
        // Python floats always show they are floats.
        expect(text).toMatch(/[.e]/);
        expect(canonicalPython(new JsonNumber(text))).toBe(text);
      }),
      { numRuns: 5000 },
    );
  });
});

/** JSON values in our model, including lone surrogates, astral text and big integers. */
const anyString = fc.string({
  unit: fc.oneof(
    fc.constantFrom('a', 'Z', '"', '\\', '/', '\n', '\u0000', '\u007f', '\ue000', '\uffff'),
    fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)),
    fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)),
  ),
  maxLength: 12,
});
const anyNumber = fc.oneof(
  fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map((n) => new JsonNumber(n.toString())),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => new JsonNumber(pythonFloatRepr(x))),
);
const { value: anyJson } = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom<JsonValue>(null, true, false),
    anyString,
    anyNumber,
    fc.array(tie('value'), { maxLength: 5 }),
    fc
      .array(fc.tuple(anyString, tie('value')), { maxLength: 5 })
      .map((entries) => new Map(entries) as JsonValue),
  ),
}));

describe('properties', () => {
  it('round-trips: parse(canonical(v)) serializes identically', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        const text = canonicalPython(value);
        expect(canonicalPython(parseJson(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('emits pure printable ASCII', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        expect(canonicalPython(value)).toMatch(/^[\x20-\x7e]*$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps every string exactly', () => {
    fc.assert(
      fc.property(anyString, (text) => {
        expect(parseJson(canonicalPython(text))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys by code point at the top level', () => {
    fc.assert(
      fc.property(fc.uniqueArray(anyString, { maxLength: 8 }), (keys) => {
        const object = new Map(keys.map((k) => [k, null]));
        const written = [...(parseJson(canonicalPython(object)) as Map<string, JsonValue>).keys()];
        const byCodePoint = [...keys].sort((a, b) => {
          const pa = [...a].map((c) => c.codePointAt(0) as number);
          const pb = [...b].map((c) => c.codePointAt(0) as number);
          for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
            if (pa[i] !== pb[i]) return (pa[i] as number) - (pb[i] as number);
          }
          return pa.length - pb.length;
        });
        expect(written).toEqual(byCodePoint);
      }),
      { numRuns: 2000 },
    );
  });
});

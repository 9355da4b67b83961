import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalPython,
  fromPlain,
  getField,
  getString,
  isJsonObject,
  JsonNumber,
  JsonParseError,
  MAX_DEPTH,
  parseJson,
  toPlain,
  type JsonValue,
} from '../src/formats/canonical/index.js';
import { BluxError } from '../src/errors.js';

function parseError(text: string, file?: string): JsonParseError {
  try {
    parseJson(text, file !== undefined ? { file } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(JsonParseError);
    expect(e).toBeInstanceOf(BluxError);
    expect((e as BluxError).code).toBe('malformed');
    return e as JsonParseError;
  }
  throw new Error(`parsed without error: ${JSON.stringify(text)}`);
}

describe('JsonNumber', () => {
  it('keeps the literal and knows int from float as Python does', () => {
    expect(new JsonNumber('12').isInteger).toBe(true);
    expect(new JsonNumber('-0').isInteger).toBe(true);
    expect(new JsonNumber('1.0').isInteger).toBe(false);
    expect(new JsonNumber('1E2').isInteger).toBe(false);
    expect(new JsonNumber('1e2').toNumber()).toBe(100);
    expect(new JsonNumber('123456789012345678901234567890').toBigInt()).toBe(123456789012345678901234567890n);
    expect(new JsonNumber('1.50').text).toBe('1.50');
  });

  it.each(['', '01', '+1', '1.', '.5', '1e', '1e+', 'NaN', 'Infinity', '-', '0x10', ' 1', '1 ', '١'])(
    'rejects %j',
    (text) => {
      expect(() => new JsonNumber(text)).toThrow(BluxError);
    },
  );

  it('refuses toBigInt on a float', () => {
    expect(() => new JsonNumber('1.5').toBigInt()).toThrow(BluxError);
  });
});

describe('parseJson accepts RFC 8259', () => {
  it('parses every kind of value', () => {
    const value = parseJson(' {"a": [1, -2.5e3, true, false, null, "x"], "b": {}} \r\n\t');
    expect(isJsonObject(value)).toBe(true);
    const obj = value as Map<string, JsonValue>;
    expect([...obj.keys()]).toEqual(['a', 'b']);
    const list = getField(obj, 'a') as JsonValue[];
    expect((list[1] as JsonNumber).text).toBe('-2.5e3');
    expect(list.slice(2)).toEqual([true, false, null, 'x']);
    expect(getField(obj, 'b')).toEqual(new Map());
    expect(getString(obj, 'a')).toBeUndefined();
  });

  it('accepts scalars at the top level', () => {
    expect(parseJson('"x"')).toBe('x');
    expect(parseJson('null')).toBe(null);
    expect((parseJson('0') as JsonNumber).text).toBe('0');
  });

  it('decodes escapes, keeping lone surrogates like Python', () => {
    expect(parseJson('"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD834\\uDD1E"')).toBe('"\\/\b\f\n\r\té\u{1d11e}');
    expect(parseJson('"\\ud800"')).toBe('\ud800');
    expect(parseJson('"\\uDFFFx"')).toBe('\udfffx');
  });

  it('treats __proto__ as an ordinary key', () => {
    const value = parseJson('{"__proto__": {"polluted": true}, "constructor": 1}') as Map<string, JsonValue>;
    expect([...value.keys()]).toEqual(['__proto__', 'constructor']);
    const plain = toPlain(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(plain)).toBe(null);
    expect(Object.keys(plain)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('accepts what JSON.parse accepts (duplicate-free) and reads the same values', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(() => parseJson(text)).not.toThrow();
        // Big integers come back as bigint; as doubles they must equal what JSON.parse makes of them.
        const asDoubles = (_key: string, v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);
        expect(JSON.stringify(toPlain(parseJson(text)), asDoubles)).toBe(JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: 1000 },
    );
  });

  it(`accepts nesting up to ${MAX_DEPTH}`, () => {
    expect(() => parseJson('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH))).not.toThrow();
  });
});

describe('parseJson rejects', () => {
  it.each([
    ['duplicate keys', '{"a":1,"b":2,"a":3}', /duplicate key "a"/],
    ['NaN', '[NaN]', /NaN and Infinity/],
    ['Infinity', '{"x":Infinity}', /NaN and Infinity/],
    ['-Infinity', '-Infinity', /NaN and Infinity/],
    ['leading zeros', '[01]', /leading zeros/],
    ['negative leading zeros', '-012', /leading zeros/],
    ['a plus sign', '+1', /cannot start with '\+'/],
    ['a bare decimal point', '1.', /digit after the decimal point/],
    ['a fraction without integer part', '.5', /expected a value/],
    ['an empty exponent', '1e', /exponent/],
    ['a trailing comma in an array', '[1,2,]', /trailing comma in array/],
    ['a trailing comma in an object', '{"a":1,}', /trailing comma in object/],
    ['a line comment', '// hi\n{}', /comments/],
    ['a block comment', '{"a":/* c */1}', /comments/],
    ['a byte order mark', '\ufeff{}', /byte order mark/],
    ['trailing content', '{} {}', /after the JSON value/],
    ['trailing garbage', 'true x', /after the JSON value/],
    ['a raw newline in a string', '"a\nb"', /unescaped control character U\+000A/],
    ['a raw NUL in a string', '"\u0000"', /control character U\+0000/],
    ['an invalid escape', '"\\x41"', /invalid escape '\\x'/],
    ['a short \\u escape', '"\\u12"', /four hex digits/],
    ['a non-hex \\u escape', '"\\u12G4"', /four hex digits/],
    ['an unterminated string', '"abc', /unterminated string/],
    ['a backslash at the end', '"abc\\', /unterminated string/],
    ['single quotes', "{'a':1}", /expected a string key/],
    ['an unquoted key', '{a:1}', /expected a string key/],
    ['a missing colon', '{"a" 1}', /expected ':'/],
    ['a missing comma', '[1 2]', /expected ',' or '\]'/],
    ['an unclosed array', '[1', /expected ',' or '\]'/],
    ['an empty document', '', /end of input/],
    ['only whitespace', ' \n ', /end of input/],
    ['a misspelled literal', 'tru', /expected 'true'/],
    ['capitalized literals', 'True', /expected a value/],
    ['non-JSON whitespace', '\u00a0{}', /expected a value/],
    ['too deep nesting', '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1), /nesting deeper than 512/],
  ])('%s', (_name, text, message) => {
    expect(parseError(text).message).toMatch(message);
  });

  it('says where: line, column, position and file', () => {
    const error = parseError('{\n  "a": 1,\n  "a": 2\n}', 'manifest.json');
    expect(error.message).toBe('manifest.json: invalid JSON: duplicate key "a" at line 3, column 3');
    expect(error.file).toBe('manifest.json');
    expect([error.line, error.column, error.position]).toEqual([3, 3, 14]);
    const first = parseError('[1,]');
    expect([first.line, first.column, first.position]).toEqual([1, 4, 3]);
  });

  /** Builds a valid document around a hole, then fills the hole with something malformed. */
  const validPrefixes = fc.constantFrom('', '[', '{"k":', '[1,{"a":[', '{"a":{"b":');
  const closers: Record<string, string> = { '': '', '[': ']', '{"k":': '}', '[1,{"a":[': ']}]', '{"a":{"b":': '}}' };

  it.each([
    ['leading zeros', fc.integer({ min: 0, max: 9 }).map((d) => `0${d}`)],
    ['plus signs', fc.nat().map((n) => `+${n}`)],
    ['NaN / Infinity', fc.constantFrom('NaN', 'Infinity', '-Infinity', 'nan', 'inf')],
    ['trailing commas', fc.array(fc.nat(), { minLength: 1, maxLength: 4 }).map((xs) => `[${xs.join(',')},]`)],
    ['duplicate keys', fc.string({ maxLength: 6 }).map((k) => `{${JSON.stringify(k)}:1,${JSON.stringify(k)}:2}`)],
    ['control characters', fc.integer({ min: 0, max: 0x1f }).map((c) => `"a${String.fromCharCode(c)}b"`)],
    ['comments', fc.constantFrom('/**/1', '1//x', '# 1')],
  ])('rejects %s anywhere in a document', (_name, hole) => {
    fc.assert(
      fc.property(validPrefixes, hole, (prefix, bad) => {
        expect(() => parseJson(prefix + bad + closers[prefix])).toThrow(JsonParseError);
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but JsonParseError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (text) => {
        try {
          parseJson(text);
        } catch (e) {
          expect(e).toBeInstanceOf(JsonParseError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('toPlain / fromPlain', () => {
  it('turns numbers into JS numbers, keeping big integers as bigint', () => {
    const plain = toPlain(parseJson('[1, 2.5, 9007199254740991, 9007199254740992, -1e400, 1E2]')) as unknown[];
    expect(plain).toEqual([1, 2.5, 9007199254740991, 9007199254740992n, -Infinity, 100]);
    expect(Object.is(toPlain(parseJson('-0')), 0)).toBe(true);
    expect(Object.is(toPlain(parseJson('-0.0')), -0)).toBe(true);
  });

  it('builds the model from plain JS', () => {
    const value = fromPlain({ a: 1, b: 1.5, c: [true, null, 'x'], d: 2n ** 70n, e: 1e21, f: -0, g: 1e-7 });
    expect(canonicalPython(value)).toBe('{"a":1,"b":1.5,"c":[true,null,"x"],"d":1180591620717411303424,"e":1000000000000000000000,"f":0,"g":1e-07}');
  });

  it('passes JsonNumber and Map values through', () => {
    const float = new JsonNumber('1.0');
    const value = fromPlain({ x: float, m: new Map<string, unknown>([['k', 2]]) }) as Map<string, JsonValue>;
    expect(value.get('x')).toBe(float);
    expect(canonicalPython(value)).toBe('{"m":{"k":2},"x":1.0}');
  });

  it.each([
    ['undefined', undefined],
    ['an undefined field', { a: undefined }],
    ['a function', () => 1],
    ['NaN', Number.NaN],
    ['Infinity', [Infinity]],
    ['a symbol', Symbol('s')],
    ['a Date', new Date(0)],
    ['a non-string Map key', new Map([[1, 2]])],
  ])('refuses %s', (_name, input) => {
    expect(() => fromPlain(input)).toThrow(BluxError);
  });

  it('refuses cycles instead of overflowing the stack', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => fromPlain(cyclic)).toThrow(/deeper than/);
  });

  it('round-trips through plain JS for ordinary documents', () => {
    const text = '{"a":[1,2.5,"x",null,true],"b":{"c":-3}}';
    expect(canonicalPython(fromPlain(toPlain(parseJson(text))))).toBe(text);
  });
});

describe('speed', () => {
  it('parses ledger-like text at tens of MB/s', () => {
    const line =
      '{"action":"event","actor":"a1deba34b08126c75ffa2b7158aeb11fe35498c8057880fb9f4e02e8f2b5f75d","artifact_hash":null,' +
      '"entry_hash":"956a3ccd08adb48281fd5b0e806f03f8b46af7d88d2b4280170df4cbbc365aad","n":12345,"payload_summary":"Gr\\u00fc\\u00dfe aus K\\u00f6ln","ts":"2026-01-20T14:02:46+00:00"}';
    const text = `[${Array.from({ length: 20000 }, () => line).join(',\n')}]`;
    parseJson(text); // warm up
    // Best of three, so a busy machine does not fail the test by accident.
    let seconds = Infinity;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      parseJson(text);
      seconds = Math.min(seconds, (performance.now() - start) / 1000);
    }
    const megabytesPerSecond = text.length / 1e6 / seconds;
    // Generous floor so slow CI machines pass; typical is far higher.
    expect(megabytesPerSecond).toBeGreaterThan(10);
  });
});

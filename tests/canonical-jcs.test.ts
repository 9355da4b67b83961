import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  canonicalBytes,
  canonicalFor,
  canonicalJcs,
  fromPlain,
  JsonNumber,
  parseJson,
  schemeFor,
} from '../src/formats/canonical/index.js';
import { BluxError } from '../src/errors.js';

const jcsOf = (text: string): string => canonicalJcs(parseJson(text));

describe('RFC 8785 examples', () => {
  it('§3.2.2: literals, numbers and string escapes', () => {
    const input = `{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`;
    expect(jcsOf(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('§3.2.3: keys sorted by UTF-16 code units, non-ASCII left unescaped', () => {
    const input = `{
      "\\u20ac": "Euro Sign",
      "\\r": "Carriage Return",
      "\\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\\ud83d\\ude00": "Emoji: Grinning Face",
      "\\u0080": "Control",
      "\\u00f6": "Latin Small Letter O With Diaeresis"
    }`;
    expect(jcsOf(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\u{1f600}":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('sorts by code unit, unlike the Python scheme', () => {
    // U+1D11E is stored as D834 DD1E, which comes before E000 as code units.
    const value = fromPlain({ '\ue000': 1, '\u{1d11e}': 2 });
    expect(canonicalJcs(value)).toBe('{"\u{1d11e}":2,"\ue000":1}');
    expect(canonicalFor('1.0', value)).toBe('{"\\ue000":1,"\\ud834\\udd1e":2}');
  });

  it('ignores locale when sorting', () => {
    expect(jcsOf('{"sin":1,"pêche":2,"péché":3,"peach":4}')).toBe('{"peach":4,"péché":3,"pêche":2,"sin":1}');
  });
});

describe('numbers', () => {
  it.each([
    ['1e21', '1e+21'],
    ['1E21', '1e+21'],
    ['1e20', '100000000000000000000'],
    ['0.000001', '0.000001'],
    ['1e-7', '1e-7'],
    ['1.0', '1'],
    ['-0', '0'],
    ['-0.0', '0'],
    ['5e-324', '5e-324'],
    ['1.7976931348623157e308', '1.7976931348623157e+308'],
    ['9007199254740991', '9007199254740991'],
    ['-9007199254740991', '-9007199254740991'],
    ['9007199254740992.0', '9007199254740992'],
    ['0.30000000000000004', '0.30000000000000004'],
  ])('%s -> %s', (input, output) => {
    expect(jcsOf(input)).toBe(output);
  });

  it.each(['9007199254740992', '-9007199254740992', '18446744073709551616', '1e400', '-1e400'])(
    'refuses %s',
    (input) => {
      expect(() => jcsOf(input)).toThrow(BluxError);
      try {
        jcsOf(input);
      } catch (e) {
        expect((e as BluxError).code).toBe('malformed');
      }
    },
  );

  it('writes every double as ECMAScript does', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(canonicalJcs(new JsonNumber(x.toExponential()))).toBe(JSON.stringify(x));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('strings', () => {
  it('refuses unpaired surrogates (I-JSON), in values and keys', () => {
    expect(() => jcsOf('"\\ud800"')).toThrow(/unpaired surrogate/);
    expect(() => jcsOf('{"\\udc00x":1}')).toThrow(BluxError);
    expect(jcsOf('"\\ud83d\\ude00"')).toBe('"\u{1f600}"');
  });

  it('treats __proto__ as an ordinary key', () => {
    expect(jcsOf('{"b":1,"__proto__":{"x":[]},"a":2}')).toBe('{"__proto__":{"x":[]},"a":2,"b":1}');
  });
});

describe('manifest 2.0', () => {
  const manifest = fromPlain({
    schema_version: '2.0',
    artifact_path: 'résumé café ✓.txt',
    artifact_sha256: '05a2ae6cac7083f5b8c5f105aa46adab24ffe8e6c8a71a277a2d2e89e7c3dce6',
    artifact_size: 4321,
    created_at: '2026-01-20T14:14:11Z',
    key_fingerprint: 'acf49cd95be6e16ce8eb998666d68965066ee1e1087bf9556f6839a207cee24b',
  });
  const expected =
    '{"artifact_path":"résumé café ✓.txt",' +
    '"artifact_sha256":"05a2ae6cac7083f5b8c5f105aa46adab24ffe8e6c8a71a277a2d2e89e7c3dce6",' +
    '"artifact_size":4321,"created_at":"2026-01-20T14:14:11Z",' +
    '"key_fingerprint":"acf49cd95be6e16ce8eb998666d68965066ee1e1087bf9556f6839a207cee24b","schema_version":"2.0"}';

  it('serializes as expected, non-ASCII as UTF-8', () => {
    expect(canonicalFor('2.0', manifest)).toBe(expected);
    const bytes = canonicalBytes('2.0', manifest);
    expect(Buffer.from(bytes).toString('utf8')).toBe(expected);
    expect(bytes.length).toBe(Buffer.byteLength(expected, 'utf8'));
  });

  it('is insensitive to how the file was formatted', () => {
    const pretty = JSON.stringify(JSON.parse(expected), null, 2);
    expect(canonicalFor('2.0', parseJson(pretty))).toBe(expected);
  });
});

describe('schemeFor / canonicalFor', () => {
  it.each([
    ['1.0', 'python'],
    ['2.0', 'jcs'],
    ['2.1', 'jcs'],
    ['3.0', 'jcs'],
  ])('%s -> %s', (version, scheme) => {
    expect(schemeFor(version)).toBe(scheme);
  });

  it.each(['', '1', '1.1', '0.9', '2', '02.0', '2.0.0', ' 2.0', 'v2.0', '1.00'])('refuses %j', (version) => {
    expect(() => schemeFor(version)).toThrow(BluxError);
    try {
      schemeFor(version);
    } catch (e) {
      expect((e as BluxError).code).toBe('unsupported-version');
    }
  });

  it('uses the Python form for 1.0 documents', () => {
    const value = parseJson('{"b":1.0,"a":"\u00e9"}');
    expect(canonicalFor('1.0', value)).toBe('{"a":"\\u00e9","b":1.0}');
    expect(canonicalFor('2.0', value)).toBe('{"a":"\u00e9","b":1}');
    expect(Buffer.from(canonicalBytes('1.0', value)).toString('latin1')).toBe('{"a":"\\u00e9","b":1.0}');
  });
});

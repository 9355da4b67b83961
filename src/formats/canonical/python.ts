/**
 * Canonical JSON exactly as the Python original wrote it:
 *
 *     json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
 *
 * Documents with schema_version "1.0" were signed over these bytes, so every
 * detail here — escapes, key order, float digits — must match CPython 3.
 */

import { BluxError } from '../../errors.js';
import { JsonNumber, MAX_DEPTH, type JsonValue } from './json-value.js';

export function canonicalPython(value: JsonValue): string {
  const parts: string[] = [];
  writeValue(value, parts, 0);
  return parts.join('');
}

function writeValue(value: JsonValue, parts: string[], depth: number): void {
  if (value === null) {
    parts.push('null');
  } else if (value === true) {
    parts.push('true');
  } else if (value === false) {
    parts.push('false');
  } else if (typeof value === 'string') {
    parts.push(pythonString(value));
  } else if (value instanceof JsonNumber) {
    parts.push(pythonNumber(value));
  } else if (Array.isArray(value)) {
    checkDepth(depth);
    parts.push('[');
    value.forEach((item, index) => {
      if (index > 0) parts.push(',');
      writeValue(item, parts, depth + 1);
    });
    parts.push(']');
  } else if (value instanceof Map) {
    checkDepth(depth);
    parts.push('{');
    const keys = [...value.keys()].sort(compareCodePoints);
    keys.forEach((key, index) => {
      if (index > 0) parts.push(',');
      parts.push(pythonString(key), ':');
      writeValue(value.get(key) as JsonValue, parts, depth + 1);
    });
    parts.push('}');
  } else {
    throw new BluxError('malformed', `not a JSON value: ${typeof value}`);
  }
}

/** Same limit as the parser: whatever parses also serializes, and a cycle cannot recurse forever. */
function checkDepth(depth: number): void {
  if (depth >= MAX_DEPTH) throw new BluxError('malformed', `value nests deeper than ${MAX_DEPTH}`);
}

// ---------------------------------------------------------------------------
// Strings (json.encoder.py_encode_basestring_ascii)
// ---------------------------------------------------------------------------

/**
 * Python escapes everything outside printable ASCII (U+0020..U+007E), plus
 * `"` and `\`. Matching code units rather than code points is deliberate:
 * an astral character then comes out as its two surrogates, `\ud834\udd1e`,
 * which is exactly what Python writes, and a lone surrogate as itself.
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;
const NEEDS_ESCAPE_ALL = /["\\\u0000-\u001f\u007f-\uffff]/g;

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\f': '\\f',
  '\r': '\\r',
};

function escapeCodeUnit(unit: string): string {
  return SHORT_ESCAPES[unit] ?? `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

export function pythonString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  return `"${text.replace(NEEDS_ESCAPE_ALL, escapeCodeUnit)}"`;
}

// ---------------------------------------------------------------------------
// Key order: Python sorts str by code point
// ---------------------------------------------------------------------------

/**
 * Order by Unicode code point, as Python compares str. JavaScript's default
 * sort compares UTF-16 code units, which puts an astral character (lead unit
 * U+D800..U+DBFF) before U+E000..U+FFFF although its code point is larger.
 *
 * A surrogate pair counts as one code point; an unpaired surrogate counts as
 * its own value, as it does in a Python str read from a `\ud800` escape.
 */
export function compareCodePoints(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  let i = 0;
  while (i < shorter && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === shorter) return a.length - b.length;
  const unitA = a.charCodeAt(i);
  const unitB = b.charCodeAt(i);
  // Below the surrogates, unit order is code point order (and i cannot be
  // the second half of a pair, since neither unit is a surrogate).
  if (unitA < 0xd800 && unitB < 0xd800) return unitA - unitB;
  return compareCodePointsSlowly(a, b);
}

/** Walks both strings one code point at a time; the positions stay aligned because the prefixes agree. */
function compareCodePointsSlowly(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const pointA = a.codePointAt(i) as number;
    const pointB = b.codePointAt(i) as number;
    if (pointA !== pointB) return pointA - pointB;
    i += pointA > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/** json.loads turns an integer literal into int and anything with `.`/`e` into float. */
function pythonNumber(number: JsonNumber): string {
  if (number.isInteger) {
    // The grammar forbids leading zeros, so str(int(text)) == text except for
    // "-0", which as a Python int is plain 0.
    return number.text === '-0' ? '0' : number.text;
  }
  const value = number.toNumber();
  if (!Number.isFinite(value)) {
    // Python would write the non-JSON token `Infinity`; we refuse instead.
    throw new BluxError('malformed', `number ${number.text} is out of the range of a double`);
  }
  return pythonFloatRepr(value);
}

/**
 * Python's `repr(float)` (float_repr_style "short"): the shortest digits that
 * read back as the same double, then
 *
 *   - fixed notation when the decimal exponent is in [-4, 16), always with a
 *     fractional part (`1.0`, `100000.0`, `0.0001`);
 *   - otherwise `d.ddde±XX` with at least two exponent digits, and no `.`
 *     after a single digit (`1e-05`, `1e+16`, `1.5e+300`).
 *
 * `toExponential()` with no argument yields the same shortest digits.
 */
export function pythonFloatRepr(value: number): string {
  if (!Number.isFinite(value)) throw new BluxError('malformed', `${value} has no JSON representation`);
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const sign = value < 0 ? '-' : '';
  const [mantissa = '', exponentText = ''] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  const body = exponent >= -4 && exponent < 16 ? fixedNotation(digits, exponent) : scientificNotation(digits, exponent);
  return sign + body;
}

/** `digits` are d1 d2 d3 ... meaning d1.d2d3... × 10^exponent. */
function fixedNotation(digits: string, exponent: number): string {
  if (exponent < 0) return `0.${'0'.repeat(-exponent - 1)}${digits}`;
  const integerPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fractionPart = digits.slice(exponent + 1) || '0';
  return `${integerPart}.${fractionPart}`;
}

function scientificNotation(digits: string, exponent: number): string {
  const mantissa = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const exponentSign = exponent < 0 ? '-' : '+';
  return `${mantissa}e${exponentSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

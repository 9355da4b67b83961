/**
 * RFC 8785 JSON Canonicalization Scheme, used from schema_version "2.0" on.
 *
 * The `canonicalize` package does the serializing (ECMAScript number and
 * string rules, keys sorted by UTF-16 code units). Our part is handing it a
 * value it cannot get wrong: RFC 8785 works on I-JSON (RFC 7493), so numbers
 * must be doubles that mean what they say and strings must be well-formed
 * Unicode. Anything else is refused rather than quietly changed.
 */

import canonicalizeExport from 'canonicalize';
import { BluxError } from '../../errors.js';
import { JsonNumber, MAX_DEPTH, type JsonValue } from './json-value.js';

// The package is CommonJS (`module.exports = serialize`) but its typings say
// `export default`, which NodeNext reads as `module.exports.default`. At run
// time Node hands ESM the function itself as the default import, so we give
// the import its real type here.
const canonicalize = canonicalizeExport as unknown as (input: unknown) => string | undefined;

export function canonicalJcs(value: JsonValue): string {
  const text = canonicalize(toIJson(value, 0));
  if (text === undefined) throw new BluxError('internal', 'canonicalize returned nothing');
  return text;
}

/** In a `u`-flag regex a surrogate range matches only surrogates that are not part of a pair. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;

function checkString(text: string): string {
  if (LONE_SURROGATE.test(text)) {
    // I-JSON forbids them, and UTF-8 encoding would turn them into U+FFFD.
    throw new BluxError('malformed', `string ${JSON.stringify(text)} contains an unpaired surrogate`);
  }
  return text;
}

function checkNumber(number: JsonNumber): number {
  const value = number.toNumber();
  if (!Number.isFinite(value)) {
    throw new BluxError('malformed', `number ${number.text} is out of the range of a double`);
  }
  // An integer literal that a double cannot hold exactly would be signed as a
  // different number than the one written; a float literal is a double by intent.
  if (number.isInteger && !Number.isSafeInteger(value)) {
    throw new BluxError('malformed', `integer ${number.text} is outside the safe range (±2^53-1) that RFC 8785 requires`);
  }
  return value;
}

/** Converts to plain JavaScript, validating as it goes. Objects get a null prototype so `__proto__` is just a key. */
function toIJson(value: JsonValue, depth: number): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'string') return checkString(value);
  if (value instanceof JsonNumber) return checkNumber(value);
  if (depth >= MAX_DEPTH) throw new BluxError('malformed', `value nests deeper than ${MAX_DEPTH}`);
  if (Array.isArray(value)) return value.map((item) => toIJson(item, depth + 1));
  if (value instanceof Map) {
    const members = Object.create(null) as Record<string, unknown>;
    for (const [key, member] of value) members[checkString(key)] = toIJson(member, depth + 1);
    return members;
  }
  throw new BluxError('malformed', `not a JSON value: ${typeof value}`);
}

/**
 * Which canonical form a document is signed over depends on its
 * schema_version: "1.0" documents come from the Python original and use its
 * json.dumps form; "2.0" and later use RFC 8785 (JCS).
 */

import { BluxError } from '../../errors.js';
import { canonicalJcs } from './jcs.js';
import { canonicalPython } from './python.js';
import type { JsonValue } from './json-value.js';

export * from './json-value.js';
export { canonicalPython, compareCodePoints, pythonFloatRepr, pythonString } from './python.js';
export { canonicalJcs } from './jcs.js';

export type CanonicalScheme = 'python' | 'jcs';

/** "MAJOR.MINOR", digits without leading zeros. */
const SCHEMA_VERSION = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/;

export function schemeFor(schemaVersion: string): CanonicalScheme {
  if (schemaVersion === '1.0') return 'python';
  const match = typeof schemaVersion === 'string' ? SCHEMA_VERSION.exec(schemaVersion) : null;
  if (match !== null && Number(match[1]) >= 2) return 'jcs';
  throw new BluxError('unsupported-version', `unsupported schema_version ${JSON.stringify(schemaVersion)}`);
}

export function canonicalFor(schemaVersion: string, value: JsonValue): string {
  return schemeFor(schemaVersion) === 'python' ? canonicalPython(value) : canonicalJcs(value);
}

const utf8 = new TextEncoder();

export function canonicalBytes(schemaVersion: string, value: JsonValue): Uint8Array {
  return utf8.encode(canonicalFor(schemaVersion, value));
}

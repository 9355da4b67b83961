/**
 * Shared helpers for the signed documents (manifests and tokens): schema-check
 * a parsed value and read it as a typed view, keeping the raw tree for exact
 * re-canonicalization.
 */
import { type JsonObject, type JsonValue, toPlain } from './canonical/json-value.js';
import { checkSchema, type SchemaName } from './schema.js';

export type ReadOutcome<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Schema-checks `value`; on success returns the raw object and its plain view. */
export function checkDocument(
  name: SchemaName,
  value: JsonValue,
): ReadOutcome<{ raw: JsonObject; plain: Record<string, unknown> }> {
  if (!(value instanceof Map)) return { ok: false, problem: 'the document is not a JSON object' };
  const plain = toPlain(value) as Record<string, unknown>;
  const problem = checkSchema(name, plain);
  if (problem !== null) return { ok: false, problem };
  return { ok: true, value: { raw: value, plain } };
}

/** A shallow copy of `obj` without `key` (the signature field before signing/verifying). */
export function without(obj: JsonObject, key: string): JsonObject {
  const copy: JsonObject = new Map(obj);
  copy.delete(key);
  return copy;
}

/** The `schema_version` string of a parsed object, or undefined. */
export function schemaVersionOf(value: JsonValue): string | undefined {
  if (!(value instanceof Map)) return undefined;
  const v = value.get('schema_version');
  return typeof v === 'string' ? v : undefined;
}

/** Does this parsed JSON look like a manifest (of any version)? Tells manifests from tokens without loading either module. */
export function looksLikeManifest(value: JsonValue): boolean {
  return value instanceof Map && (value.has('artifact_path') || value.has('artifact'));
}

/** Does this parsed JSON look like a capability token? */
export function looksLikeToken(value: JsonValue): boolean {
  return value instanceof Map && (value.has('token_type') || value.has('issuer'));
}

/**
 * JSON Schema checks for every document blux-reg reads. The schemas live in
 * `schemas/` (shipped with the package) and are compiled once, on first use.
 * Validation runs on the plain view of a parsed document (see `toPlain`), and
 * a failure names the file and the failing field.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, ValidateFunction, ErrorObject } from 'ajv';
import { packageFile, runningFromSources } from '../io/package-files.js';

export type SchemaName =
  | 'manifest-1.0'
  | 'manifest-2.0'
  | 'token-1.0'
  | 'token-revocation-1.0'
  | 'key-revocation-1.0'
  | 'ledger-entry'
  | 'verify-result'
  | 'verify-batch-report'
  | 'ledger-audit-report'
  | 'proof-bundle'
  | 'bench-report';

const SCHEMA_DIR = packageFile('schemas/');

const require = createRequire(import.meta.url);

/**
 * The build (`npm run build`) compiles the schemas into standalone validators
 * beside this file (scripts/compile-schemas.mjs): loading them costs ~1 ms
 * where importing ajv and compiling costs ~90 ms per process. When running
 * from the TypeScript sources (tests) there is no such file, and the same
 * schemas are compiled by ajv at first use.
 */
function loadPrecompiled(): Partial<Record<SchemaName, ValidateFunction>> | null {
  if (runningFromSources()) return null;
  try {
    return require(packageFile('dist/formats/schema-validators.cjs')) as Partial<Record<SchemaName, ValidateFunction>>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null;
    throw e;
  }
}

let precompiled: Partial<Record<SchemaName, ValidateFunction>> | null | undefined;
let ajv: Ajv | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (validate === undefined) {
    precompiled ??= loadPrecompiled();
    validate = precompiled?.[name];
    if (validate === undefined) {
      const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
      ajv ??= new AjvClass({ allErrors: false, strict: true });
      const schema = JSON.parse(fs.readFileSync(`${SCHEMA_DIR}${name}.schema.json`, 'utf8')) as object;
      validate = ajv.compile(schema);
    }
    compiled.set(name, validate);
  }
  return validate;
}

/** The schema file path, for docs and tests. */
export function schemaPath(name: SchemaName): string {
  return `${SCHEMA_DIR}${name}.schema.json`;
}

/** "field /issuer/fingerprint must match pattern ..." — the first failing field, in words. */
export function describeSchemaError(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'the document' : `field ${error.instancePath}`;
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    return `${where === 'the document' ? 'missing field' : `${where}: missing field`} "${missing}"`;
  }
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return `${where}: unexpected field "${extra}"`;
  }
  if (error.keyword === 'const') {
    return `${where} must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** Returns null when `value` conforms, else a one-line description of the first problem. */
export function checkSchema(name: SchemaName, value: unknown): string | null {
  const validate = validatorFor(name);
  if (validate(value)) return null;
  const first = validate.errors?.[0];
  return first === undefined ? `does not match schema ${name}` : describeSchemaError(first);
}

/**
 * A JSON value model that keeps numbers exactly as written, and a strict
 * RFC 8259 parser for it.
 *
 * Why not `JSON.parse`: signatures made by the Python original cover
 * `json.dumps` output, and Python tells integers (`1`, arbitrary size) from
 * floats (`1.0`, `1e2`) by their literal. `JSON.parse` loses both the
 * distinction and every digit past 2^53, and it silently keeps the last of
 * duplicate keys — an ambiguity an attacker can use to make two readers see
 * two different documents. So numbers stay text until someone asks, objects
 * are `Map`s (no `__proto__` surprises), and duplicates are an error.
 */

import { BluxError } from '../../errors.js';

// ---------------------------------------------------------------------------
// Value model
// ---------------------------------------------------------------------------

/** RFC 8259 §6: number = [ minus ] int [ frac ] [ exp ]. */
const NUMBER_GRAMMAR = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** A JSON number literal, kept exactly as written. */
export class JsonNumber {
  readonly text: string;
  readonly #isInteger: boolean;

  constructor(text: string) {
    if (typeof text !== 'string' || !NUMBER_GRAMMAR.test(text)) {
      throw new BluxError('malformed', `invalid JSON number literal ${JSON.stringify(String(text))}`);
    }
    this.text = text;
    // Python's json module reads a literal with a fraction or an exponent as
    // float, anything else as int; we follow it so re-serialization agrees.
    this.#isInteger = !/[.eE]/.test(text);
  }

  /** True iff the literal has no fraction and no exponent (a Python int). */
  get isInteger(): boolean {
    return this.#isInteger;
  }

  /** The exact integer value. Only for integer literals. */
  toBigInt(): bigint {
    if (!this.#isInteger) {
      throw new BluxError('malformed', `JSON number ${this.text} is not an integer literal`);
    }
    return BigInt(this.text);
  }

  /** The nearest double (correctly rounded, ±Infinity on overflow). */
  toNumber(): number {
    return Number(this.text);
  }

  toString(): string {
    return this.text;
  }
}

/** A JSON object: insertion order kept, and keys can never reach a prototype. */
export type JsonObject = Map<string, JsonValue>;
export type JsonArray = JsonValue[];
export type JsonValue = null | boolean | string | JsonNumber | JsonArray | JsonObject;

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof Map;
}

export function isJsonArray(value: JsonValue | undefined): value is JsonArray {
  return Array.isArray(value);
}

export function getField(obj: JsonObject, key: string): JsonValue | undefined {
  return obj.get(key);
}

/** The field's value when it is a string, otherwise undefined. */
export function getString(obj: JsonObject, key: string): string | undefined {
  const value = obj.get(key);
  return typeof value === 'string' ? value : undefined;
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/** Deeper documents are refused: no legitimate input nests this far, and the limit keeps recursion safe. */
export const MAX_DEPTH = 512;

export class JsonParseError extends BluxError {
  /** Offset in UTF-16 code units (0-based) where the problem was found. */
  readonly position: number;
  /** 1-based line (lines end at U+000A). */
  readonly line: number;
  /** 1-based column, in UTF-16 code units. */
  readonly column: number;

  constructor(what: string, text: string, position: number, file?: string) {
    const { line, column } = lineAndColumn(text, position);
    super('malformed', `invalid JSON: ${what} at line ${line}, column ${column}`, file !== undefined ? { file } : {});
    this.name = 'JsonParseError';
    this.position = position;
    this.line = line;
    this.column = column;
  }
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < position; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: position - lineStart + 1 };
}

/** How a character is named in error messages: visible ASCII as itself, the rest as U+XXXX. */
function describeChar(code: number): string {
  if (Number.isNaN(code)) return 'end of input';
  if (code > 0x20 && code < 0x7f) return `'${String.fromCharCode(code)}'`;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Parse one JSON text strictly (RFC 8259): no duplicate keys, no NaN/Infinity,
 * no leading zeros or `+`, no trailing commas, no comments, no BOM, nothing
 * but whitespace after the value, nesting at most {@link MAX_DEPTH}.
 * Escaped lone surrogates (`"\ud800"`) are accepted, as Python accepts them.
 */
export function parseJson(text: string, options: { file?: string } = {}): JsonValue {
  return new Parser(text, options.file).parseDocument();
}

/** Code units the parser looks for (a plain object: no `const enum`, so any TS transpiler can erase types file by file). */
const Char = {
  Tab: 0x09,
  LineFeed: 0x0a,
  CarriageReturn: 0x0d,
  Space: 0x20,
  Quote: 0x22,
  Plus: 0x2b,
  Comma: 0x2c,
  Minus: 0x2d,
  Dot: 0x2e,
  Slash: 0x2f,
  Zero: 0x30,
  Nine: 0x39,
  Colon: 0x3a,
  UpperE: 0x45,
  UpperI: 0x49,
  UpperN: 0x4e,
  OpenBracket: 0x5b,
  Backslash: 0x5c,
  CloseBracket: 0x5d,
  LowerE: 0x65,
  LowerF: 0x66,
  LowerN: 0x6e,
  LowerT: 0x74,
  OpenBrace: 0x7b,
  CloseBrace: 0x7d,
  ByteOrderMark: 0xfeff,
} as const;

function isDigit(code: number): boolean {
  return code >= Char.Zero && code <= Char.Nine;
}

/** The single-character escapes of RFC 8259 §7, by the character after the backslash. */
const SIMPLE_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x22, '"'],
  [0x5c, '\\'],
  [0x2f, '/'],
  [0x62, '\b'],
  [0x66, '\f'],
  [0x6e, '\n'],
  [0x72, '\r'],
  [0x74, '\t'],
]);

class Parser {
  readonly #text: string;
  readonly #file: string | undefined;
  #pos = 0;

  constructor(text: string, file: string | undefined) {
    this.#text = text;
    this.#file = file;
  }

  parseDocument(): JsonValue {
    if (this.#text.charCodeAt(0) === Char.ByteOrderMark) {
      throw this.#fail('a byte order mark (U+FEFF) is not allowed', 0);
    }
    this.#skipWhitespace();
    const value = this.#parseValue(0);
    this.#skipWhitespace();
    if (this.#pos < this.#text.length) {
      throw this.#fail(`unexpected ${describeChar(this.#peek())} after the JSON value`);
    }
    return value;
  }

  #fail(what: string, position = this.#pos): JsonParseError {
    return new JsonParseError(what, this.#text, position, this.#file);
  }

  /** The code unit at the cursor; NaN at the end of input. */
  #peek(): number {
    return this.#text.charCodeAt(this.#pos);
  }

  #skipWhitespace(): void {
    const text = this.#text;
    let pos = this.#pos;
    for (;;) {
      const code = text.charCodeAt(pos);
      if (code === Char.Space || code === Char.LineFeed || code === Char.CarriageReturn || code === Char.Tab) {
        pos++;
      } else {
        break;
      }
    }
    this.#pos = pos;
  }

  /** `depth` counts the containers already open around this value. */
  #parseValue(depth: number): JsonValue {
    const code = this.#peek();
    switch (code) {
      case Char.OpenBrace:
        return this.#parseObject(depth + 1);
      case Char.OpenBracket:
        return this.#parseArray(depth + 1);
      case Char.Quote:
        return this.#parseString();
      case Char.LowerT:
        return this.#parseLiteral('true', true);
      case Char.LowerF:
        return this.#parseLiteral('false', false);
      case Char.LowerN:
        return this.#parseLiteral('null', null);
      case Char.Minus:
        return this.#parseNumber();
      case Char.Plus:
        throw this.#fail("a number cannot start with '+'");
      case Char.UpperN:
      case Char.UpperI:
        throw this.#fail('NaN and Infinity are not JSON values');
      case Char.Slash:
        throw this.#fail('comments are not allowed');
      default:
        if (isDigit(code)) return this.#parseNumber();
        if (Number.isNaN(code)) throw this.#fail('unexpected end of input, expected a value');
        throw this.#fail(`unexpected ${describeChar(code)}, expected a value`);
    }
  }

  #parseLiteral<T extends JsonValue>(word: string, value: T): T {
    if (!this.#text.startsWith(word, this.#pos)) {
      throw this.#fail(`invalid literal, expected '${word}'`);
    }
    this.#pos += word.length;
    return value;
  }

  #enter(depth: number): void {
    if (depth > MAX_DEPTH) throw this.#fail(`nesting deeper than ${MAX_DEPTH}`);
  }

  #parseArray(depth: number): JsonArray {
    this.#enter(depth);
    this.#pos++; // '['
    const items: JsonArray = [];
    this.#skipWhitespace();
    if (this.#peek() === Char.CloseBracket) {
      this.#pos++;
      return items;
    }
    for (;;) {
      items.push(this.#parseValue(depth));
      this.#skipWhitespace();
      const code = this.#peek();
      if (code === Char.CloseBracket) {
        this.#pos++;
        return items;
      }
      if (code !== Char.Comma) throw this.#fail(`unexpected ${describeChar(code)} in array, expected ',' or ']'`);
      this.#pos++;
      this.#skipWhitespace();
      if (this.#peek() === Char.CloseBracket) throw this.#fail('trailing comma in array');
    }
  }

  #parseObject(depth: number): JsonObject {
    this.#enter(depth);
    this.#pos++; // '{'
    const members: JsonObject = new Map();
    this.#skipWhitespace();
    if (this.#peek() === Char.CloseBrace) {
      this.#pos++;
      return members;
    }
    for (;;) {
      const keyPosition = this.#pos;
      const code = this.#peek();
      if (code !== Char.Quote) {
        throw this.#fail(`unexpected ${describeChar(code)} in object, expected a string key`);
      }
      const key = this.#parseString();
      if (members.has(key)) {
        throw this.#fail(`duplicate key ${JSON.stringify(key)}`, keyPosition);
      }
      this.#skipWhitespace();
      if (this.#peek() !== Char.Colon) {
        throw this.#fail(`unexpected ${describeChar(this.#peek())} after object key, expected ':'`);
      }
      this.#pos++;
      this.#skipWhitespace();
      members.set(key, this.#parseValue(depth));
      this.#skipWhitespace();
      const next = this.#peek();
      if (next === Char.CloseBrace) {
        this.#pos++;
        return members;
      }
      if (next !== Char.Comma) throw this.#fail(`unexpected ${describeChar(next)} in object, expected ',' or '}'`);
      this.#pos++;
      this.#skipWhitespace();
      if (this.#peek() === Char.CloseBrace) throw this.#fail('trailing comma in object');
    }
  }

  /** Scans the literal by the RFC grammar, so each mistake gets its own message. */
  #parseNumber(): JsonNumber {
    const text = this.#text;
    const start = this.#pos;
    let pos = start;
    if (text.charCodeAt(pos) === Char.Minus) pos++;
    const first = text.charCodeAt(pos);
    if (first === Char.Zero) {
      pos++;
      if (isDigit(text.charCodeAt(pos))) throw this.#fail('leading zeros are not allowed in numbers', start);
    } else if (isDigit(first)) {
      while (isDigit(text.charCodeAt(pos))) pos++;
    } else if (first === Char.UpperI) {
      throw this.#fail('NaN and Infinity are not JSON values', start);
    } else {
      throw this.#fail(`unexpected ${describeChar(first)} in number, expected a digit`, pos);
    }
    if (text.charCodeAt(pos) === Char.Dot) {
      pos++;
      if (!isDigit(text.charCodeAt(pos))) throw this.#fail('expected a digit after the decimal point', pos);
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    const e = text.charCodeAt(pos);
    if (e === Char.LowerE || e === Char.UpperE) {
      pos++;
      const sign = text.charCodeAt(pos);
      if (sign === Char.Plus || sign === Char.Minus) pos++;
      if (!isDigit(text.charCodeAt(pos))) throw this.#fail('expected a digit in the exponent', pos);
      while (isDigit(text.charCodeAt(pos))) pos++;
    }
    this.#pos = pos;
    return new JsonNumber(text.slice(start, pos));
  }

  /**
   * Runs of plain characters are copied with one `slice` each; only escapes
   * are decoded piecewise, so long strings cost one pass and few allocations.
   */
  #parseString(): string {
    const text = this.#text;
    const end = text.length;
    let pos = this.#pos + 1; // past the opening quote
    let runStart = pos;
    let decoded = '';
    for (;;) {
      if (pos >= end) throw this.#fail('unterminated string', this.#pos);
      const code = text.charCodeAt(pos);
      if (code === Char.Quote) {
        this.#pos = pos + 1;
        return decoded + text.slice(runStart, pos);
      }
      if (code === Char.Backslash) {
        decoded += text.slice(runStart, pos);
        const escaped = this.#decodeEscape(pos);
        decoded += escaped.text;
        pos = escaped.next;
        runStart = pos;
      } else if (code < Char.Space) {
        throw this.#fail(`unescaped control character ${describeChar(code)} in string`, pos);
      } else {
        pos++;
      }
    }
  }

  /** Decodes the escape whose backslash is at `pos`. `\uXXXX` stays a single code unit, so lone surrogates survive. */
  #decodeEscape(pos: number): { text: string; next: number } {
    const text = this.#text;
    const kind = text.charCodeAt(pos + 1);
    const simple = SIMPLE_ESCAPES.get(kind);
    if (simple !== undefined) return { text: simple, next: pos + 2 };
    if (kind === 0x75 /* u */) {
      const hex = text.slice(pos + 2, pos + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.#fail('invalid \\u escape, expected four hex digits', pos);
      return { text: String.fromCharCode(parseInt(hex, 16)), next: pos + 6 };
    }
    if (Number.isNaN(kind)) throw this.#fail('unterminated string', pos);
    throw this.#fail(`invalid escape '\\${String.fromCharCode(kind)}' in string`, pos);
  }
}

// ---------------------------------------------------------------------------
// Conversion to and from plain JavaScript
// ---------------------------------------------------------------------------

/**
 * Plain JavaScript for schema validation and field reading: objects become
 * null-prototype objects, numbers become JS numbers — except integers past
 * 2^53, which become bigints because a double would silently change them.
 */
export function toPlain(value: JsonValue): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof JsonNumber) {
    if (!value.isInteger) return value.toNumber();
    const asNumber = value.toNumber();
    if (asNumber === 0) return 0; // "-0" as an integer is plain 0 (as in Python), not the double -0
    return Number.isSafeInteger(asNumber) ? asNumber : value.toBigInt();
  }
  if (Array.isArray(value)) return value.map(toPlain);
  const plain: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, member] of value) plain[key] = toPlain(member);
  return plain;
}

/**
 * Plain JavaScript into the value model. JS numbers that are integers become
 * integer literals (so `1.0` and `1` both become `1`: JS cannot tell them
 * apart — build a `JsonNumber('1.0')` to get a float); other numbers become
 * their shortest round-trip literal. Refuses anything JSON cannot hold.
 */
export function fromPlain(value: unknown): JsonValue {
  return convertPlain(value, 0);
}

function convertPlain(value: unknown, depth: number): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value instanceof JsonNumber) return value;
  if (typeof value === 'number') return numberLiteral(value);
  if (typeof value === 'bigint') return new JsonNumber(value.toString());
  if (typeof value !== 'object') {
    throw new BluxError('malformed', `cannot represent a ${typeof value} in JSON`);
  }
  // A depth limit also stops a cyclic structure from overflowing the stack.
  if (depth >= MAX_DEPTH) throw new BluxError('malformed', `value nests deeper than ${MAX_DEPTH}`);
  if (Array.isArray(value)) return value.map((item) => convertPlain(item, depth + 1));
  if (value instanceof Map) {
    const members: JsonObject = new Map();
    for (const [key, member] of value as Map<unknown, unknown>) {
      if (typeof key !== 'string') throw new BluxError('malformed', 'JSON object keys must be strings');
      members.set(key, convertPlain(member, depth + 1));
    }
    return members;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    throw new BluxError('malformed', 'cannot represent a non-plain object in JSON');
  }
  const members: JsonObject = new Map();
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    if (member === undefined) throw new BluxError('malformed', `field ${JSON.stringify(key)} is undefined`);
    members.set(key, convertPlain(member, depth + 1));
  }
  return members;
}

function numberLiteral(value: number): JsonNumber {
  if (!Number.isFinite(value)) throw new BluxError('malformed', `cannot represent ${value} in JSON`);
  // BigInt, not String: String(1e21) is "1e+21", which would read back as a float.
  if (Number.isInteger(value)) return new JsonNumber(BigInt(value).toString());
  return new JsonNumber(String(value));
}

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';

import { CanonicalLineScanner, copyWithoutMembers } from '../src/formats/ledger-line-scan.js';
import { ByteStringCache } from '../src/audit/byte-strings.js';
import { canonicalPython } from '../src/formats/canonical/python.js';
import { fromPlain, parseJson, type JsonObject } from '../src/formats/canonical/json-value.js';

const HASH = 'ab'.repeat(32);
const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const scanner = new CanonicalLineScanner();
const scan = (text: string): boolean => {
  const bytes = bytesOf(text);
  return scanner.scan(bytes, 0, bytes.length);
};

/** What the slow path would hash for the line: its canonical form without entry_hash. */
function canonicalWithoutHash(text: string): string {
  const entry = parseJson(text) as JsonObject;
  entry.delete('entry_hash');
  return canonicalPython(entry);
}

describe('CanonicalLineScanner', () => {
  it('accepts canonical entries and finds the top-level members', () => {
    const line = canonicalPython(fromPlain({ action: 'sign', actor: 'a\u00e9', entry_hash: HASH, nested: { entry_hash: 'x' }, prev_hash: null, sig: 'c2ln', ts: 't' }));
    expect(scan(line)).toBe(true);
    const bytes = bytesOf(line);
    expect(new TextDecoder().decode(bytes.subarray(scanner.entryHash.valueStart + 1, scanner.entryHash.memberEnd - 1))).toBe(HASH);
    expect(scanner.actor.escaped).toBe(true);
    expect(scanner.prevHash.isNull).toBe(true);
    const out = new Uint8Array(bytes.length);
    const n = copyWithoutMembers(bytes, 0, bytes.length, [scanner.entryHash], out);
    expect(new TextDecoder().decode(out.subarray(0, n))).toBe(canonicalWithoutHash(line));
  });

  it.each([
    ['whitespace', `{"entry_hash": "${HASH}","prev_hash":null}`],
    ['unsorted keys', `{"prev_hash":null,"entry_hash":"${HASH}"}`],
    ['duplicate keys', `{"entry_hash":"${HASH}","entry_hash":"${HASH}","prev_hash":null}`],
    ['a float', `{"a":1.0,"entry_hash":"${HASH}","prev_hash":null}`],
    ['-0', `{"a":-0,"entry_hash":"${HASH}","prev_hash":null}`],
    ['raw UTF-8', `{"a":"é","entry_hash":"${HASH}","prev_hash":null}`],
    ['an uppercase escape', `{"a":"\\u00E9","entry_hash":"${HASH}","prev_hash":null}`],
    ['an escaped slash', `{"a":"\\/","entry_hash":"${HASH}","prev_hash":null}`],
    ['a needless escape', `{"a":"\\u0041","entry_hash":"${HASH}","prev_hash":null}`],
    ['a surrogate escape', `{"a":"\\ud834\\udd1e","entry_hash":"${HASH}","prev_hash":null}`],
    ['an uppercase hash', `{"entry_hash":"${HASH.toUpperCase()}","prev_hash":null}`],
    ['a short hash', `{"entry_hash":"abc","prev_hash":null}`],
    ['no prev_hash', `{"entry_hash":"${HASH}"}`],
    ['a numeric prev_hash', `{"entry_hash":"${HASH}","prev_hash":1}`],
    ['only a nested entry_hash', `{"a":{"entry_hash":"${HASH}"},"prev_hash":null}`],
    ['an entry_hash inside a string', `{"a":"\\"entry_hash\\":\\"${HASH}\\"","prev_hash":null}`],
    ['trailing bytes', `{"entry_hash":"${HASH}","prev_hash":null}\r`],
    ['a trailing comma', `{"entry_hash":"${HASH}","prev_hash":null,}`],
    ['truncation', `{"entry_hash":"${HASH}","prev_hash":nul`],
  ])('is unsure of %s', (_name, line) => {
    expect(scan(line)).toBe(false);
  });

  it('never calls a line canonical unless it is exactly the canonical form (property)', () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    fc.assert(fc.property(fc.dictionary(fc.string(), value, { maxKeys: 5 }), fc.option(fc.string()), fc.boolean(), (extra, prev, mangle) => {
      const entry = fromPlain({ ...extra, entry_hash: HASH, prev_hash: prev }) as JsonObject;
      let line = canonicalPython(entry);
      // Sometimes a JSON.stringify rendering (raw UTF-8, other escapes, key order as given).
      if (mangle) line = JSON.stringify({ ...extra, entry_hash: HASH, prev_hash: prev });
      if (!scan(line)) return;
      expect(line).toBe(canonicalPython(parseJson(line)));
      const bytes = bytesOf(line);
      const out = new Uint8Array(bytes.length);
      const n = copyWithoutMembers(bytes, 0, bytes.length, [scanner.entryHash], out);
      expect(new TextDecoder().decode(out.subarray(0, n))).toBe(canonicalWithoutHash(line));
    }), { numRuns: 2000 });
  });

  it('cuts two members, adjacent or not, first or last', () => {
    for (const plain of [{ entry_hash: HASH, prev_hash: null, sig: 's' }, { a: 1, entry_hash: HASH, prev_hash: null, sig: 's' }, { entry_hash: HASH, sig: 's', prev_hash: null, z: 2 }]) {
      const line = canonicalPython(fromPlain(plain));
      expect(scan(line)).toBe(true);
      const bytes = bytesOf(line);
      const out = new Uint8Array(bytes.length);
      const n = copyWithoutMembers(bytes, 0, bytes.length, [scanner.entryHash, scanner.sig], out);
      const { entry_hash: _h, sig: _s, ...rest } = plain as Record<string, unknown>;
      expect(new TextDecoder().decode(out.subarray(0, n))).toBe(canonicalPython(fromPlain(rest)));
    }
  });
});

describe('ByteStringCache (tally names)', () => {
  it('returns the right string for names that share their ends and differ only in the middle', () => {
    const cache = new ByteStringCache();
    // Equal length, equal first and last 8 bytes: the same cache key, so a hit must still be checked byte by byte.
    const names = ['aaaaaaaa0000bbbbbbbb', 'aaaaaaaa1111bbbbbbbb', 'aaaaaaaa2222bbbbbbbb', 'short', '2026-01-20', '2026-01-21'];
    const line = bytesOf(names.join('|'));
    for (let round = 0; round < 3; round++) {
      let at = 0;
      for (const name of names) {
        expect(cache.get(line, at, at + name.length)).toBe(name);
        at += name.length + 1;
      }
    }
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BluxError } from '../src/errors.js';
import {
  appendKeyRevocation,
  appendTokenRevocation,
  canonicalJsonLine,
  loadKeyRevocations,
  loadTokenRevocations,
  type KeyRevocation,
  type TokenRevocation,
} from '../src/store/revocation-lists.js';

const FIXTURE = path.resolve(__dirname, 'fixtures/seed-v0.2/config/trust/token_revocations.jsonl');
const REVOKED_HASH = '226e3724b836f185012b7bf4b89d90deec0c2dff9948399ca8ef7ef5abdc874c';
const H = (c: string): string => c.repeat(64);

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-revocations-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function thrown(fn: () => unknown): BluxError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BluxError);
    return e as BluxError;
  }
  throw new Error('expected a BluxError');
}

const token = (hash: string, extra: Partial<TokenRevocation> = {}): TokenRevocation => ({
  schema_version: '1.0',
  token_hash: hash,
  revoked_at: '2026-01-20T14:25:32+00:00',
  reason: 'compromised',
  revoker: 'security-team',
  ...extra,
});

describe('token revocations', () => {
  it('loads the list the original wrote', () => {
    const list = loadTokenRevocations(FIXTURE);
    expect([...list.keys()]).toEqual([REVOKED_HASH]);
    expect(list.get(REVOKED_HASH)).toEqual(token(REVOKED_HASH));
  });

  it('writes the same bytes the original wrote', () => {
    const file = path.join(tmp, 'trust', 'token_revocations.jsonl');
    expect(appendTokenRevocation(file, token(REVOKED_HASH))).toBe(true);
    expect(fs.readFileSync(file)).toEqual(fs.readFileSync(FIXTURE));
  });

  it('a missing file is an empty list', () => {
    expect(loadTokenRevocations(path.join(tmp, 'nope.jsonl')).size).toBe(0);
  });

  it('does not add an already revoked hash twice', () => {
    const file = path.join(tmp, 'r.jsonl');
    expect(appendTokenRevocation(file, token(H('a')))).toBe(true);
    expect(appendTokenRevocation(file, token(H('b')))).toBe(true);
    expect(appendTokenRevocation(file, token(H('a'), { reason: 'again' }))).toBe(false);
    expect(fs.readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(2);
    const list = loadTokenRevocations(file);
    expect(list.size).toBe(2);
    expect(list.get(H('a'))?.reason).toBe('compromised');
  });

  it('skips blank lines and tolerates CRLF', () => {
    const file = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(file, `\n${canonicalJsonLine(token(H('c')))}\r\n\r\n   \n${canonicalJsonLine(token(H('d')))}`);
    expect([...loadTokenRevocations(file).keys()]).toEqual([H('c'), H('d')]);
  });

  it('names the file and the line of a malformed record', () => {
    const file = path.join(tmp, 'r.jsonl');
    const good = canonicalJsonLine(token(H('e')));
    const cases: Array<[string, string]> = [
      ['{"token_hash": ', 'not valid JSON'],
      ['[1,2]', 'not a JSON object'],
      [canonicalJsonLine({ ...token(H('f')), revoker: 3 }), '"revoker" must be a string'],
      [canonicalJsonLine(token('xyz')), '"token_hash" must be 64 lowercase hex digits'],
      [canonicalJsonLine(token(H('A'))), '"token_hash" must be 64 lowercase hex digits'],
    ];
    for (const [bad, why] of cases) {
      fs.writeFileSync(file, `${good}\n\n${bad}\n`);
      const e = thrown(() => loadTokenRevocations(file));
      expect(e.code).toBe('malformed');
      expect(e.file).toBe(file);
      expect(e.message).toBe(`${file}: line 3: ${why}`);
    }
    fs.writeFileSync(file, canonicalJsonLine(token(H('e'), { schema_version: '2.0' })) + '\n');
    expect(thrown(() => loadTokenRevocations(file)).code).toBe('unsupported-version');
  });

  it('does not glue a new line onto a last line without newline', () => {
    const file = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(file, canonicalJsonLine(token(H('1'))));
    expect(appendTokenRevocation(file, token(H('2')))).toBe(true);
    expect([...loadTokenRevocations(file).keys()]).toEqual([H('1'), H('2')]);
  });

  it('refuses to write a record it could not read back', () => {
    const file = path.join(tmp, 'r.jsonl');
    expect(thrown(() => appendTokenRevocation(file, token('not-a-hash'))).code).toBe('invalid-argument');
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('key revocations', () => {
  const key = (fp: string, extra: Partial<KeyRevocation> = {}): KeyRevocation => ({
    schema_version: '1.0',
    fingerprint: fp,
    revoked_at: '2026-02-01T00:00:00+00:00',
    reason: 'rotated',
    revoker: 'ops',
    ...extra,
  });

  it('round-trips with and without replaced_by', () => {
    const file = path.join(tmp, 'trust', 'key_revocations.jsonl');
    expect(appendKeyRevocation(file, key(H('1'), { replaced_by: H('2') }))).toBe(true);
    expect(appendKeyRevocation(file, key(H('3')))).toBe(true);
    expect(appendKeyRevocation(file, key(H('1')))).toBe(false);
    const list = loadKeyRevocations(file);
    expect(list.get(H('1'))).toEqual(key(H('1'), { replaced_by: H('2') }));
    expect(list.get(H('3'))).toEqual(key(H('3')));
    expect('replaced_by' in list.get(H('3'))!).toBe(false);
    expect(fs.readFileSync(file, 'utf8').split('\n')[0]).toBe(
      `{"fingerprint":"${H('1')}","reason":"rotated","replaced_by":"${H('2')}","revoked_at":"2026-02-01T00:00:00+00:00","revoker":"ops","schema_version":"1.0"}`,
    );
  });

  it('refuses a malformed replaced_by', () => {
    const file = path.join(tmp, 'k.jsonl');
    fs.writeFileSync(file, canonicalJsonLine(key(H('1'), { replaced_by: 'someone' })) + '\n');
    expect(thrown(() => loadKeyRevocations(file)).message).toContain('line 1: "replaced_by"');
  });
});

describe('canonicalJsonLine', () => {
  it('sorts keys and escapes like Python ensure_ascii', () => {
    expect(canonicalJsonLine({ b: 'café ✓ 😀', a: 'x"\\/\n\t\u0001\u007f' })).toBe(
      '{"a":"x\\"\\\\/\\n\\t\\u0001\\u007f","b":"caf\\u00e9 \\u2713 \\ud83d\\ude00"}',
    );
  });
});

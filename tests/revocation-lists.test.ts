import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BluxError } from '../src/errors.js';
import {
  appendKeyRevocation,
  appendTokenRevocation,
  canonicalJsonLine,
  loadKeyRevocations,
  loadTokenRevocations,
  revocationLockPath,
  type KeyRevocation,
  type TokenRevocation,
} from '../src/store/revocation-lists.js';
import { thrown, rejection } from './helpers/errors.js';
import { assertFreshBuild, startNode } from './helpers/processes.js';

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

  it('writes the same bytes the original wrote', async () => {
    const file = path.join(tmp, 'trust', 'token_revocations.jsonl');
    expect(await appendTokenRevocation(file, token(REVOKED_HASH))).toBe(true);
    expect(fs.readFileSync(file)).toEqual(fs.readFileSync(FIXTURE));
  });

  it('a missing file is an empty list', () => {
    expect(loadTokenRevocations(path.join(tmp, 'nope.jsonl')).size).toBe(0);
  });

  it('does not add an already revoked hash twice', async () => {
    const file = path.join(tmp, 'r.jsonl');
    expect(await appendTokenRevocation(file, token(H('a')))).toBe(true);
    expect(await appendTokenRevocation(file, token(H('b')))).toBe(true);
    expect(await appendTokenRevocation(file, token(H('a'), { reason: 'again' }))).toBe(false);
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
    const cases: Array<[string, string, string]> = [
      ['{"token_hash": ', 'malformed', 'invalid JSON: unexpected end of input, expected a value (column 16)'],
      ['[1,2]', 'malformed', 'not a JSON object'],
      [canonicalJsonLine({ ...token(H('f')), revoker: 3 }), 'schema-invalid', 'field /revoker must be string'],
      [canonicalJsonLine(token('xyz')), 'schema-invalid', 'field /token_hash must match pattern "^[0-9a-f]{64}$"'],
      [canonicalJsonLine(token(H('A'))), 'schema-invalid', 'field /token_hash must match pattern "^[0-9a-f]{64}$"'],
      [canonicalJsonLine({ ...token(H('f')), reason: undefined }), 'schema-invalid', 'missing field "reason"'],
    ];
    for (const [bad, code, why] of cases) {
      fs.writeFileSync(file, `${good}\n\n${bad}\n`);
      const e = thrown(() => loadTokenRevocations(file));
      expect(e.code).toBe(code);
      expect(e.file).toBe(file);
      expect(e.message).toBe(`${file}: line 3: ${why}`);
    }
    fs.writeFileSync(file, canonicalJsonLine(token(H('e'), { schema_version: '2.0' })) + '\n');
    expect(thrown(() => loadTokenRevocations(file)).code).toBe('unsupported-version');
  });

  it('refuses a line with a duplicate key, naming the file and the line', () => {
    // JSON.parse would keep the last "token_hash": a second reader could see a different revocation.
    const file = path.join(tmp, 'r.jsonl');
    const good = canonicalJsonLine(token(H('1')));
    const twoHashes = canonicalJsonLine(token(H('2'))).replace('"token_hash":', `"token_hash":"${H('3')}","token_hash":`);
    fs.writeFileSync(file, `${good}\n${twoHashes}\n`);
    const e = thrown(() => loadTokenRevocations(file));
    expect(e.code).toBe('malformed');
    expect(e.file).toBe(file);
    expect(e.message).toMatch(new RegExp(`^${file}: line 2: invalid JSON: duplicate key "token_hash" \\(column \\d+\\)$`));
  });

  it('checks lines against the schema files, naming the line', () => {
    const file = path.join(tmp, 'r.jsonl');
    const lines = [
      canonicalJsonLine(token(H('1'))),
      canonicalJsonLine(token(H('2'))),
      canonicalJsonLine({ ...token(H('3')), revoked_at: null }),
    ];
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const e = thrown(() => loadTokenRevocations(file));
    expect(e).toMatchObject({ code: 'schema-invalid', file });
    expect(e.message).toBe(`${file}: line 3: field /revoked_at must be string`);
    // Unknown extra fields are allowed by the schema, and not kept.
    fs.writeFileSync(file, canonicalJsonLine({ ...token(H('4')), note: 'x' }) + '\n');
    expect(loadTokenRevocations(file).get(H('4'))).toEqual(token(H('4')));
  });

  it('does not glue a new line onto a last line without newline', async () => {
    const file = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(file, canonicalJsonLine(token(H('1'))));
    expect(await appendTokenRevocation(file, token(H('2')))).toBe(true);
    expect([...loadTokenRevocations(file).keys()]).toEqual([H('1'), H('2')]);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${canonicalJsonLine(token(H('1')))}\n${canonicalJsonLine(token(H('2')))}\n`);
  });

  it('refuses to write a record it could not read back', async () => {
    const file = path.join(tmp, 'r.jsonl');
    expect((await rejection(appendTokenRevocation(file, token('not-a-hash')))).code).toBe('invalid-argument');
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.existsSync(revocationLockPath(file))).toBe(false);
  });

  it('reports a list it cannot write to as file-unwritable, naming it', async () => {
    const file = path.join(tmp, 'r.jsonl');
    fs.mkdirSync(file); // a folder where the list should be
    const e = await rejection(appendTokenRevocation(file, token(H('1'))));
    expect(e).toMatchObject({ code: 'file-unwritable', file });
  });
});

describe('a torn last line (a crash mid-append)', () => {
  const first = canonicalJsonLine(token(H('1')));
  const torn = canonicalJsonLine(token(H('9'))).slice(0, 57);

  it('is ignored by readers: the append it belonged to never reported success', () => {
    const file = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(file, `${first}\n${torn}`);
    expect([...loadTokenRevocations(file).keys()]).toEqual([H('1')]);
    // Even when the crash cut a multi-byte character in half.
    fs.writeFileSync(file, Buffer.concat([Buffer.from(`${first}\n{"reason":"`), Buffer.from('é').subarray(0, 1)]));
    expect([...loadTokenRevocations(file).keys()]).toEqual([H('1')]);
    // Only the last line gets this leniency: the same fragment followed by "\n" is corrupt.
    fs.writeFileSync(file, `${torn}\n${first}\n`);
    expect(thrown(() => loadTokenRevocations(file))).toMatchObject({ code: 'malformed', file });
  });

  it('is cut off by the next append, which then works as usual', async () => {
    const file = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(file, `${first}\n${torn}`);
    expect(await appendTokenRevocation(file, token(H('2')))).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${first}\n${canonicalJsonLine(token(H('2')))}\n`);
    // The revocation that was torn never happened: it can be made now.
    expect(await appendTokenRevocation(file, token(H('9')))).toBe(true);
    expect([...loadTokenRevocations(file).keys()]).toEqual([H('1'), H('2'), H('9')]);
  });

  it('is cut off even when it is all the file holds; a duplicate check still sees past it', async () => {
    const file = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(file, torn);
    expect(loadTokenRevocations(file).size).toBe(0);
    expect(await appendTokenRevocation(file, token(H('1')))).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${first}\n`);
    fs.appendFileSync(file, torn);
    expect(await appendTokenRevocation(file, token(H('1')))).toBe(false);
    // Nothing written, so nothing repaired either: readers keep ignoring it.
    expect(fs.readFileSync(file, 'utf8')).toBe(`${first}\n${torn}`);
  });

  it('does not excuse a whole last line that breaks the schema', async () => {
    const file = path.join(tmp, 'r.jsonl');
    fs.writeFileSync(file, `${first}\n${canonicalJsonLine(token('nope'))}`);
    expect(thrown(() => loadTokenRevocations(file))).toMatchObject({ code: 'schema-invalid' });
    expect((await rejection(appendTokenRevocation(file, token(H('2'))))).message).toContain('line 2: ');
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

  it('round-trips with and without replaced_by', async () => {
    const file = path.join(tmp, 'trust', 'key_revocations.jsonl');
    expect(await appendKeyRevocation(file, key(H('1'), { replaced_by: H('2') }))).toBe(true);
    expect(await appendKeyRevocation(file, key(H('3')))).toBe(true);
    expect(await appendKeyRevocation(file, key(H('1')))).toBe(false);
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
    expect(thrown(() => loadKeyRevocations(file)).message).toContain('line 1: field /replaced_by must match pattern');
  });

  it('ignores a torn last line and cuts it on the next append', async () => {
    const file = path.join(tmp, 'k.jsonl');
    const whole = canonicalJsonLine(key(H('1')));
    fs.writeFileSync(file, `${whole}\n${canonicalJsonLine(key(H('2'))).slice(0, 30)}`);
    expect([...loadKeyRevocations(file).keys()]).toEqual([H('1')]);
    expect(await appendKeyRevocation(file, key(H('3')))).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${whole}\n${canonicalJsonLine(key(H('3')))}\n`);
  });
});

describe('canonicalJsonLine', () => {
  it('sorts keys and escapes like Python ensure_ascii', () => {
    expect(canonicalJsonLine({ b: 'café ✓ 😀', a: 'x"\\/\n\t\u0001\u007f' })).toBe(
      '{"a":"x\\"\\\\/\\n\\t\\u0001\\u007f","b":"caf\\u00e9 \\u2713 \\ud83d\\ude00"}',
    );
  });
});

/**
 * Real processes, running the compiled library (dist/): `npm test` builds it;
 * when running this file alone, run `npm run build` first.
 */
describe('concurrent revokes from several processes', () => {
  const ROOT = path.resolve(__dirname, '..');
  const BUILT = path.join(ROOT, 'dist/store/revocation-lists.js');

  /**
   * Loads the library, says "ready", waits for "go" on stdin (so all start at
   * once), revokes every hash in its own order, prints how many it added.
   */
  const CHILD = `
    const [file, seed, ...hashes] = process.argv.slice(1);
    const { appendTokenRevocation } = await import(${JSON.stringify(pathToFileURL(BUILT).href)});
    let state = Number(seed);
    const order = hashes.map((h) => [((state = (state * 1103515245 + 12345) % 2147483648)), h]).sort((a, b) => a[0] - b[0]).map(([, h]) => h);
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    let added = 0;
    for (const token_hash of order) {
      const record = { schema_version: '1.0', token_hash, revoked_at: '2026-01-20T14:25:32+00:00', reason: 'race', revoker: 'p' + seed };
      if (await appendTokenRevocation(file, record)) added++;
    }
    process.stdout.write('added ' + added + '\\n');
    process.exit(0);
  `;

  function startChild(file: string, seed: number, hashes: string[]) {
    const { child, marked, closed } = startNode(['--input-type=module', '-e', CHILD, file, String(seed), ...hashes], 'ready\n');
    const finished = closed.then(({ code, stdout, stderr }) => ({ added: Number(/added (\d+)/.exec(stdout)?.[1] ?? NaN), code, stderr }));
    return { ready: marked, finished, go: () => child.stdin?.end('go\n') };
  }

  it('8 processes revoking the same 50 hashes at once leave exactly 50 lines', { timeout: 60_000 }, async () => {
    assertFreshBuild(['src/store/revocation-lists.ts', 'src/store/file-lock.ts']);
    const file = path.join(tmp, 'trust', 'token_revocations.jsonl');
    const hashes = Array.from({ length: 50 }, (_, i) => i.toString(16).padStart(64, 'c'));
    const children = Array.from({ length: 8 }, (_, i) => startChild(file, i + 1, hashes));
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const results = await Promise.all(children.map((c) => c.finished));

    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    expect(results.reduce((sum, r) => sum + r.added, 0)).toBe(50);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(50);
    expect(new Set(lines.map((line) => JSON.parse(line).token_hash))).toEqual(new Set(hashes));
    expect(loadTokenRevocations(file).size).toBe(50);
  });
});

describe('the fast path for canonical token revocation lines', () => {
  it('reads canonical lines and the strict path gives the same records; odd lines still go through the strict checks', async () => {
    const { loadTokenRevocations: load } = await import('../src/store/revocation-lists.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-rev-fast-'));
    try {
      const file = path.join(dir, 'token_revocations.jsonl');
      const canonical = '{"reason":"caf\\u00e9 \\"quoted\\"","revoked_at":"2026-01-20T14:25:32+00:00","revoker":"sec","schema_version":"1.0","token_hash":"' + 'a'.repeat(64) + '"}';
      // Same record, keys in another order and with spaces: not canonical, read by the strict parser.
      const loose = '{"token_hash": "' + 'b'.repeat(64) + '", "schema_version": "1.0", "revoker": "sec", "revoked_at": "2026-01-20T14:25:32+00:00", "reason": "café \\"quoted\\""}';
      fs.writeFileSync(file, `${canonical}\n${loose}\n`);
      const records = load(file);
      expect(records.get('a'.repeat(64))).toEqual({ schema_version: '1.0', token_hash: 'a'.repeat(64), revoked_at: '2026-01-20T14:25:32+00:00', reason: 'café "quoted"', revoker: 'sec' });
      expect(records.get('b'.repeat(64))).toEqual({ ...records.get('a'.repeat(64)), token_hash: 'b'.repeat(64) });

      // An invalid escape in a line shaped like a canonical one is still refused, naming the line.
      fs.writeFileSync(file, `${canonical}\n${canonical.replace('caf\\u00e9', 'caf\\x')}\n`);
      expect(() => load(file)).toThrow(/line 2/);
      // A duplicate key never takes the fast path.
      fs.writeFileSync(file, canonical.replace('{"reason":"caf', '{"reason":"x","reason":"caf') + '\n');
      expect(() => load(file)).toThrow(/duplicate key/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * SHA-256 through the engine, on every backend: the NIST CAVP byte-oriented
 * vectors (short, long, Monte Carlo), the incremental and batch forms, and
 * sha256File on files around the read-buffer boundaries.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BluxError } from '../src/errors.js';
import { BACKEND_NAMES, getBackend, sha256, sha256File, sha256Hex } from '../src/engine/index.js';
import { createHashWasmSha256Hasher, hashWasmSha256, loadHashWasm, wasmSha256Implementation } from '../src/engine/backends/wasm.js';

const NIST_DIR = fileURLToPath(new URL('./vectors/nist-sha256/', import.meta.url));
const MIB = 1024 * 1024;

interface MessageVector {
  lenBits: number;
  message: Uint8Array;
  digestHex: string;
}

function readRsp(fileName: string): string {
  return readFileSync(path.join(NIST_DIR, fileName), 'utf8');
}

/** `Key = value` lines of a CAVP .rsp text, LF or CRLF, skipping comments and [headers]. */
function rspFields(text: string): Array<[string, string]> {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('['))
    .map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq).trim(), line.slice(eq + 1).trim()];
    });
}

/** Len / Msg / MD triples. `Len = 0` comes with `Msg = 00`: the empty message. */
function parseMessageVectors(text: string): MessageVector[] {
  const vectors: MessageVector[] = [];
  let lenBits: number | undefined;
  let msgHex: string | undefined;
  for (const [key, value] of rspFields(text)) {
    if (key === 'Len') lenBits = Number(value);
    else if (key === 'Msg') msgHex = value;
    else if (key === 'MD') {
      if (lenBits === undefined || msgHex === undefined) throw new Error('MD before Len/Msg');
      const message = lenBits === 0 ? new Uint8Array(0) : Uint8Array.from(Buffer.from(msgHex, 'hex'));
      if (message.length * 8 !== lenBits) throw new Error(`Len = ${lenBits} but Msg has ${message.length} bytes`);
      vectors.push({ lenBits, message, digestHex: value.toLowerCase() });
      lenBits = undefined;
      msgHex = undefined;
    }
  }
  return vectors;
}

function parseMonte(text: string): { seed: Uint8Array; checkpoints: string[] } {
  let seed: Uint8Array | undefined;
  const checkpoints: string[] = [];
  for (const [key, value] of rspFields(text)) {
    if (key === 'Seed') seed = Uint8Array.from(Buffer.from(value, 'hex'));
    else if (key === 'MD') checkpoints.push(value.toLowerCase());
  }
  if (seed === undefined) throw new Error('no Seed');
  return { seed, checkpoints };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Split into chunks of awkward sizes (1, 3, 7, ... bytes) that straddle the 64-byte block boundary. */
function oddChunks(data: Uint8Array): Uint8Array[] {
  const sizes = [1, 3, 7, 13, 63, 65, 127, 200];
  const chunks: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    chunks.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

const shortVectors = parseMessageVectors(readRsp('SHA256ShortMsg.rsp'));
const longVectors = parseMessageVectors(readRsp('SHA256LongMsg.rsp'));
const monte = parseMonte(readRsp('SHA256Monte.rsp'));

describe('NIST vector files parse as SOURCE.md describes', () => {
  it('has 65 short, 64 long vectors and 100 Monte Carlo checkpoints', () => {
    expect(shortVectors).toHaveLength(65);
    expect(shortVectors[0]!.lenBits).toBe(0);
    expect(longVectors).toHaveLength(64);
    expect(monte.checkpoints).toHaveLength(100);
  });

  it('reads CRLF (as NIST ships the files) the same as LF', () => {
    const lf = readRsp('SHA256ShortMsg.rsp');
    expect(lf.includes('\r\n')).toBe(false);
    const crlf = lf.replace(/\n/g, '\r\n');
    expect(parseMessageVectors(crlf)).toEqual(shortVectors);
    expect(parseMonte(readRsp('SHA256Monte.rsp').replace(/\n/g, '\r\n'))).toEqual(monte);
  });
});

// Every wasm test below runs hash-wasm, not the node:crypto stand-in used while it loads.
beforeAll(() => loadHashWasm());

describe.each(BACKEND_NAMES)('SHA-256 on the %s backend', (backendName) => {
  const backend = getBackend(backendName);
  const allVectors = [...shortVectors, ...longVectors];

  it('reports its name', () => {
    expect(backend.name).toBe(backendName);
  });

  it.each([
    ['ShortMsg', shortVectors],
    ['LongMsg', longVectors],
  ] as const)('%s: sha256() matches every vector', (_file, vectors) => {
    for (const v of vectors) {
      expect(hex(backend.sha256(v.message)), `Len = ${v.lenBits}`).toBe(v.digestHex);
      expect(hex(sha256(v.message, { backend: backendName })), `Len = ${v.lenBits}`).toBe(v.digestHex);
    }
  });

  it('createSha256() fed in odd-sized chunks matches every vector', () => {
    for (const v of allVectors) {
      const hasher = backend.createSha256();
      for (const chunk of oddChunks(v.message)) hasher.update(chunk);
      expect(hex(hasher.digest()), `Len = ${v.lenBits}`).toBe(v.digestHex);
    }
  });

  it('createSha256() with no update is the empty-message digest, and update() chains', () => {
    expect(hex(backend.createSha256().digest())).toBe(shortVectors[0]!.digestHex);
    const abc = new TextEncoder().encode('abc');
    const chained = backend.createSha256().update(abc.subarray(0, 1)).update(abc.subarray(1)).digest();
    expect(hex(chained)).toBe(hex(backend.sha256(abc)));
  });

  it('a hasher cannot be used after digest()', () => {
    const hasher = backend.createSha256();
    hasher.digest();
    expect(() => hasher.update(new Uint8Array(1))).toThrow(BluxError);
    expect(() => hasher.digest()).toThrow(BluxError);
  });

  it('interleaved hashers keep their own state', () => {
    const messages = allVectors.slice(-3).map((v) => v.message);
    const hashers = messages.map(() => backend.createSha256());
    const longest = Math.max(...messages.map((m) => m.length));
    for (let start = 0; start < longest; start += 37) {
      hashers.forEach((hasher, i) => hasher.update(messages[i]!.subarray(start, start + 37)));
    }
    expect(hashers.map((h) => hex(h.digest()))).toEqual(allVectors.slice(-3).map((v) => v.digestHex));
  });

  it('sha256Many() hashes the whole batch in order', () => {
    const digests = backend.sha256Many(allVectors.map((v) => v.message));
    expect(digests.map(hex)).toEqual(allVectors.map((v) => v.digestHex));
    expect(backend.sha256Many([])).toEqual([]);
  });

  it('digests are plain 32-byte Uint8Arrays', () => {
    const digest = backend.sha256(new Uint8Array(3));
    expect(digest).toBeInstanceOf(Uint8Array);
    expect(digest.length).toBe(32);
    expect(Object.getPrototypeOf(digest)).toBe(Uint8Array.prototype);
  });

  it('hashes a subarray view, not the buffer behind it', () => {
    const backing = Uint8Array.from(Buffer.from('xxabcxx'));
    expect(hex(backend.sha256(backing.subarray(2, 5)))).toBe(createHash('sha256').update('abc').digest('hex'));
  });

  it('Monte Carlo: 100 checkpoints of 1000 chained hashes', () => {
    // SHAVS: MD0 = MD1 = MD2 = Seed; Mi = MD(i-3) || MD(i-2) || MD(i-1); MDi = SHA-256(Mi)
    // for i = 3..1002; the checkpoint is MD1002, which is also the next Seed.
    let seed = monte.seed;
    for (const [count, expected] of monte.checkpoints.entries()) {
      let [md0, md1, md2] = [seed, seed, seed];
      for (let i = 3; i <= 1002; i++) {
        const mi = new Uint8Array(96);
        mi.set(md0, 0);
        mi.set(md1, 32);
        mi.set(md2, 64);
        [md0, md1, md2] = [md1, md2, backend.sha256(mi)];
      }
      expect(hex(md2), `COUNT = ${count}`).toBe(expected);
      seed = md2;
    }
  });

  it('sha256Hex hashes strings as UTF-8 and returns lower-case hex', () => {
    expect(sha256Hex('abc', { backend: backendName })).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    const text = 'résumé café ✓';
    expect(sha256Hex(text, { backend: backendName })).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(sha256Hex(new Uint8Array(0), { backend: backendName })).toBe(shortVectors[0]!.digestHex);
  });
});

describe('the wasm backend hashes with hash-wasm (issue 4)', () => {
  it('wasm: sha256, sha256Many and createSha256 are hash-wasm\'s', () => {
    expect(wasmSha256Implementation()).toBe('hash-wasm');
    const wasm = getBackend('wasm');
    expect(wasm.sha256).toBe(hashWasmSha256);
    expect(wasm.createSha256).toBe(createHashWasmSha256Hasher);
    const abc = new TextEncoder().encode('abc');
    expect(hex(hashWasmSha256(abc))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe.each(BACKEND_NAMES)('sha256File on the %s backend', (backendName) => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'blux-sha256file-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const sizes = [0, 1, 64, MIB - 1, MIB, MIB + 1, 3 * MIB + 17];

  it.each(sizes)('a file of %i bytes hashes like node:crypto over the whole buffer', async (size) => {
    const content = randomBytes(size);
    const file = path.join(dir, `random-${size}.bin`);
    writeFileSync(file, content);
    const progress: number[] = [];
    const result = await sha256File(file, { backend: backendName, onProgress: (done) => progress.push(done) });
    expect(result).toEqual({ sha256: createHash('sha256').update(content).digest('hex'), size });
    // Progress only grows, one report per 1 MiB read, and ends at the size.
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.length).toBe(Math.ceil(size / MIB));
    if (size > 0) expect(progress.at(-1)).toBe(size);
  });

  it('gives the same digest with a small, odd buffer size', async () => {
    const content = randomBytes(10_000);
    const file = path.join(dir, 'small-buffer.bin');
    writeFileSync(file, content);
    const progress: number[] = [];
    const result = await sha256File(file, {
      backend: backendName,
      bufferSize: 999,
      onProgress: (done) => progress.push(done),
    });
    expect(result.sha256).toBe(createHash('sha256').update(content).digest('hex'));
    expect(result.size).toBe(10_000);
    expect(progress).toHaveLength(Math.ceil(10_000 / 999));
  });

  it('rejects a bufferSize that is not a positive integer', async () => {
    const file = path.join(dir, 'any.bin');
    writeFileSync(file, 'x');
    for (const bufferSize of [0, -1, 1.5, Number.NaN]) {
      await expect(sha256File(file, { backend: backendName, bufferSize })).rejects.toMatchObject({
        code: 'invalid-argument',
      });
    }
  });

  it('a missing file is file-not-found, naming the path', async () => {
    const missing = path.join(dir, 'does-not-exist.bin');
    const error = await sha256File(missing, { backend: backendName }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BluxError);
    expect(error).toMatchObject({ code: 'file-not-found', file: missing });
    expect((error as BluxError).message).toContain(missing);
  });

  it('a directory is file-unreadable, naming the path and the reason', async () => {
    const error = await sha256File(dir, { backend: backendName }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BluxError);
    expect(error).toMatchObject({ code: 'file-unreadable', file: dir });
    expect((error as BluxError).message).toContain(dir);
    expect((error as BluxError).message).toMatch(/EISDIR|directory/);
  });

  it('stops when the signal is aborted', async () => {
    const file = path.join(dir, 'abort.bin');
    writeFileSync(file, randomBytes(2 * MIB));
    const controller = new AbortController();
    const result = sha256File(file, {
      backend: backendName,
      bufferSize: 64 * 1024,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(result).rejects.toMatchObject({ name: 'AbortError' });
    await expect(sha256File(file, { backend: backendName, signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

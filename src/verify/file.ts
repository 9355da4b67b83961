/**
 * `verify <file>`: reads a manifest or a token (told apart by content) and
 * verifies it. Input problems (missing file, unreadable, not JSON) come back
 * as an `error` verdict so the CLI can print one line and exit 2.
 */
import { BluxError } from '../errors.js';
import { looksLikeManifest, looksLikeToken } from '../formats/document.js';
import { readJsonDocument } from '../io/read-document.js';
import type { TrustContext } from '../trust/context.js';
import type { ManifestVerifyOptions } from './manifest.js';
import type { TokenVerifyOptions } from './token.js';
import type { Verdict } from './result.js';

export type DocumentKind = 'manifest' | 'token' | 'auto';

export interface VerifyFileOptions extends ManifestVerifyOptions, TokenVerifyOptions {
  readonly expect?: DocumentKind;
}

export async function verifyFile(file: string, trust: TrustContext, options: VerifyFileOptions = {}): Promise<Verdict> {
  const expect = options.expect ?? 'auto';
  let document;
  try {
    document = await readJsonDocument(file);
  } catch (e) {
    if (e instanceof BluxError) {
      return { status: 'error', reason: e.code, file, kind: expect === 'token' ? 'token' : 'manifest', message: e.message };
    }
    throw e;
  }
  const kind = expect !== 'auto' ? expect : looksLikeManifest(document) ? 'manifest' : looksLikeToken(document) ? 'token' : null;
  if (kind === null) {
    return { status: 'invalid', reason: 'malformed', file, kind: 'manifest', message: `${file}: neither a manifest nor a capability token` };
  }
  // Loaded on demand: a one-shot `verify <token>` need not load the manifest code (RFC 8785, path checks), nor the reverse.
  if (kind === 'manifest') {
    const { verifyManifestDocument } = await import('./manifest.js');
    return verifyManifestDocument(file, document, trust, options);
  }
  const { verifyTokenDocument } = await import('./token.js');
  return verifyTokenDocument(file, document, trust, options);
}

/**
 * Both canonical JSON schemes (`formats/canonical/`): Python's json.dumps
 * form over ledger entries (what entry_hash covers) and RFC 8785 over 2.0
 * manifests (what signatures cover), against JSON.stringify of the same
 * documents as plain objects, the least any serializer must do.
 */
import { canonicalJcs, canonicalPython, fromPlain, type JsonValue } from '../../formats/canonical/index.js';
import type { BenchCase, BenchSuite } from '../types.js';
import { ledgerEntries, manifestLike } from './documents.js';

/** Documents serialized per timed operation. */
const DOCUMENTS = 200;

/** Pure TypeScript, the same on every engine backend. */
const CORE = 'core';

function serializeAll<T>(documents: readonly T[], serialize: (doc: T) => string): () => number {
  return () => {
    let length = 0;
    for (const doc of documents) length += serialize(doc).length;
    return length;
  };
}

/** One scheme over `documents`: the canonical serializer of the value model against JSON.stringify of the plain objects. */
function schemeCase(id: string, title: string, documents: readonly object[], label: string, canonical: (value: JsonValue) => string): BenchCase {
  return {
    id,
    title,
    unit: 'doc',
    unitsPerOp: documents.length,
    reference: { backend: 'reference', label: 'JSON.stringify', fn: serializeAll(documents, (d) => JSON.stringify(d)) },
    variants: [{ backend: CORE, label, fn: serializeAll(documents.map((d) => fromPlain(d)), canonical) }],
  };
}

export const canonicalSuite: BenchSuite = {
  id: 'canonical',
  title: 'Canonical JSON',
  async prepare() {
    const entries = Array.from(ledgerEntries(DOCUMENTS));
    const manifests = Array.from({ length: DOCUMENTS }, (_, i) => manifestLike(i));
    return {
      cases: [
        schemeCase('canonical/python', 'Canonical JSON, Python scheme (ledger entries)', entries, 'canonicalPython', canonicalPython),
        schemeCase('canonical/jcs', 'Canonical JSON, RFC 8785 (2.0 manifests)', manifests, 'canonicalJcs', canonicalJcs),
      ],
    };
  },
};

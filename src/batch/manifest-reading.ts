/**
 * The part of preparing a manifest that needs nothing but the file: reading
 * it, parsing it, and the checks of the document alone
 * (checkManifestDocument). verify-batch runs it in the pool's threads for
 * many manifests (engine/worker.ts readManifests) and in its own thread for
 * a few; both run this same function, so both give the same outcomes.
 *
 * Why in the pool: on a tree of 20,000 small files with a manifest each,
 * the command's thread was busy ~90 % of the run, most of it reading and
 * checking manifests, while the pool's threads waited for work.
 *
 * Every outcome is plain data (a structured clone hands it over unchanged).
 */
import { BluxError } from '../errors.js';
import { readJsonDocument } from '../io/read-document.js';
import { checkManifestDocument, isChecked, type CheckedManifest, type ManifestVerdict } from '../verify/manifest.js';

export type ManifestReading =
  /** The document passed its own checks: pairing it with its artifact is next. */
  | { readonly kind: 'checked'; readonly checked: CheckedManifest }
  /** The document fails on its own (schema, canonical form, signature encoding). */
  | { readonly kind: 'verdict'; readonly verdict: ManifestVerdict }
  /** The file could not be read or parsed as JSON. */
  | { readonly kind: 'unreadable'; readonly reason: 'malformed' | 'unreadable'; readonly message: string };

export async function readManifestFile(file: string): Promise<ManifestReading> {
  try {
    // No manifest hash: verify-batch's report has no place for it (see PrepareOptions).
    const checked = checkManifestDocument(file, await readJsonDocument(file), {}, { manifestHash: false });
    return isChecked(checked) ? { kind: 'checked', checked } : { kind: 'verdict', verdict: checked };
  } catch (e) {
    const reason = e instanceof BluxError && e.code === 'malformed' ? 'malformed' : 'unreadable';
    return { kind: 'unreadable', reason, message: e instanceof Error ? e.message : String(e) };
  }
}

/** readManifestFile over a list, in its order. */
export async function readManifestFiles(files: readonly string[]): Promise<ManifestReading[]> {
  const readings: ManifestReading[] = [];
  for (const file of files) readings.push(await readManifestFile(file));
  return readings;
}

/**
 * Timestamps as the original writes them: Python
 * `datetime.now(timezone.utc).isoformat(timespec="seconds")`, e.g.
 * `2026-01-20T14:00:44+00:00`. We parse strictly (an offset is required: the
 * original compares aware datetimes, and a naive one would make it raise).
 */

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or null when `text` is not an ISO 8601 instant with an offset. */
export function parseInstant(text: string): number | null {
  const m = ISO_INSTANT.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string, string | undefined, string];
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  let utc = Date.UTC(Number(y), month - 1, day, hour, minute, second, millis);
  // Date.UTC silently rolls Feb 30 over into March: refuse such dates.
  if (new Date(utc).getUTCDate() !== day) return null;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
    utc -= sign * offsetMinutes * 60_000;
  }
  return utc;
}

/** `2026-01-20T14:00:44+00:00` for the given instant (seconds precision, UTC), as the original writes. */
export function formatInstant(epochMillis: number): string {
  return new Date(Math.floor(epochMillis / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

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
  const year = Number(y);
  if (year < 1) return null;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  // Feb 30 would silently roll over into March: refuse such dates.
  if (date.getUTCDate() !== day) return null;
  let utc = date.getTime();
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offsetHours = Number(zone.slice(1, 3));
    const offsetMins = Number(zone.slice(4, 6));
    // As Python's fromisoformat: an offset is strictly less than 24 hours.
    if (offsetHours > 23 || offsetMins > 59) return null;
    utc -= sign * (offsetHours * 60 + offsetMins) * 60_000;
  }
  return utc;
}

/** `2026-01-20T14:00:44+00:00` for the given instant (seconds precision, UTC), as the original writes. */
export function formatInstant(epochMillis: number): string {
  return new Date(Math.floor(epochMillis / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

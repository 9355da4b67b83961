/**
 * Per-entry statistics of a ledger audit: counts per action, per actor and
 * per day, the time range and the signature counts. A range's tally is built
 * on a worker, posted back as plain data and merged in file order.
 * Maps, so names like `__proto__` are just names.
 */

export interface ActorSignatureCounts {
  entries: number;
  signed: number;
  valid: number;
  invalid: number;
  /** Signed by a key we do not have: nothing to check the signature with. */
  unverified: number;
}

/** What a signature check ended as, for the counts. */
export type SignatureOutcome = 'unsigned' | 'valid' | 'invalid' | 'unverified';

/** The posted form of a tally (structured clone keeps Maps, but arrays are cheaper to merge). */
export interface TallyData {
  entries: number;
  lastHash: string | null;
  firstTs: string | null;
  lastTs: string | null;
  actions: Array<[string, number]>;
  actors: Array<[string, ActorSignatureCounts]>;
  days: Array<[string, number]>;
}

const DAY_PREFIX = /^\d{4}-\d{2}-\d{2}/;

/** The day as written at the start of `ts` (writers use UTC, "+00:00"), or undefined. */
export function dayOf(ts: string): string | undefined {
  return DAY_PREFIX.exec(ts)?.[0];
}

function bump(counts: Map<string, number>, name: string, by = 1): void {
  counts.set(name, (counts.get(name) ?? 0) + by);
}

export class AuditTally {
  entries = 0;
  lastHash: string | null = null;
  firstTs: string | null = null;
  lastTs: string | null = null;
  readonly actions = new Map<string, number>();
  readonly actors = new Map<string, ActorSignatureCounts>();
  readonly days = new Map<string, number>();

  /** One verified entry. `ts` etc. are undefined when the entry has no such string field. */
  add(entryHash: string, action: string | undefined, actor: string | undefined, ts: string | undefined, outcome: SignatureOutcome): void {
    this.lastHash = entryHash;
    if (ts !== undefined) {
      this.firstTs ??= ts;
      this.lastTs = ts;
    }
    this.addEntry(action, actor, ts === undefined ? undefined : dayOf(ts), outcome);
  }

  /** The counts of one entry; the caller keeps lastHash, firstTs and lastTs (the range checker sets them once per batch). */
  addEntry(action: string | undefined, actor: string | undefined, day: string | undefined, outcome: SignatureOutcome): void {
    this.entries++;
    if (day !== undefined) bump(this.days, day);
    if (action !== undefined) bump(this.actions, action);
    if (actor !== undefined) this.countActor(actor, outcome);
  }

  /** `count` more entries of `action` (the caller counts `entries`). */
  countAction(action: string, count: number): void {
    bump(this.actions, action, count);
  }

  countDay(day: string, count: number): void {
    bump(this.days, day, count);
  }

  /** `count` more unsigned entries by `actor`. */
  countUnsignedActor(actor: string, count: number): void {
    this.#actor(actor).entries += count;
  }

  /** One more entry by `actor`, with its signature outcome. */
  countActor(actor: string, outcome: SignatureOutcome): void {
    const counts = this.#actor(actor);
    counts.entries++;
    this.#count(counts, outcome);
  }

  /**
   * A signature that failed on the first bad line: not an entry of the
   * verified prefix, so only `invalid` counts it (`signed` counts entries).
   */
  countInvalidSignature(actor: string | undefined): void {
    if (actor !== undefined) this.#actor(actor).invalid++;
  }

  #actor(actor: string): ActorSignatureCounts {
    let counts = this.actors.get(actor);
    if (counts === undefined) {
      counts = { entries: 0, signed: 0, valid: 0, invalid: 0, unverified: 0 };
      this.actors.set(actor, counts);
    }
    return counts;
  }

  #count(counts: ActorSignatureCounts, outcome: SignatureOutcome): void {
    if (outcome === 'unsigned') return;
    counts.signed++;
    counts[outcome]++;
  }

  toData(): TallyData {
    return {
      entries: this.entries, lastHash: this.lastHash, firstTs: this.firstTs, lastTs: this.lastTs,
      actions: [...this.actions], actors: [...this.actors], days: [...this.days],
    };
  }

  /** Appends a later range's tally (ranges are merged in file order). */
  merge(later: TallyData): void {
    this.entries += later.entries;
    if (later.lastHash !== null) this.lastHash = later.lastHash;
    this.firstTs ??= later.firstTs;
    if (later.lastTs !== null) this.lastTs = later.lastTs;
    for (const [name, n] of later.actions) bump(this.actions, name, n);
    for (const [name, n] of later.days) bump(this.days, name, n);
    for (const [name, c] of later.actors) {
      const mine = this.#actor(name);
      mine.entries += c.entries;
      mine.signed += c.signed;
      mine.valid += c.valid;
      mine.invalid += c.invalid;
      mine.unverified += c.unverified;
    }
  }
}

/**
 * Counts by interned name id (the wasm scanner's action, actor and day ids),
 * handed to a tally in first-seen order: the report lists actions and actors
 * in the order the ledger first shows them, as the sequential audit does.
 * A plain array increment per line instead of a string and a Map update.
 */
export class IdCounts {
  readonly #counts: Int32Array;
  /** Ids counted since the last flush, in first-seen order. */
  readonly #seen: number[] = [];

  constructor(ids: number) {
    this.#counts = new Int32Array(ids);
  }

  add(id: number): void {
    const before = this.#counts[id]!;
    this.#counts[id] = before + 1;
    if (before === 0) this.#seen.push(id);
  }

  /** `count` (at least 1) more of `id`: a run's count of it (line-scanner.ts). */
  addMany(id: number, count: number): void {
    const before = this.#counts[id]!;
    this.#counts[id] = before + count;
    if (before === 0) this.#seen.push(id);
  }

  /** Passes each count to `into` (first seen first) and starts again from zero. */
  flush(into: (id: number, count: number) => void): void {
    const counts = this.#counts;
    for (const id of this.#seen) {
      into(id, counts[id]!);
      counts[id] = 0;
    }
    this.#seen.length = 0;
  }

  /** Drops the counts (a check that failed half-way leaves none behind for the next). */
  clear(): void {
    this.flush(() => undefined);
  }
}

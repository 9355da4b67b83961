/**
 * Promises started now and awaited later, one by one, in order: while the
 * caller awaits an earlier one, a later one may reject, and Node reports a
 * rejection that nothing handles yet as an uncaught error (the process
 * exits). Tracking them here marks each as handled at once (the caller still
 * sees the rejection when it awaits the promise) and lets the caller wait,
 * at the end, for everything it started, without holding on to the results
 * of the ones already settled.
 */
export class StartedTasks {
  readonly #pending = new Set<Promise<unknown>>();

  /** Tracks `promise` and returns it unchanged. */
  add<T>(promise: Promise<T>): Promise<T> {
    this.#pending.add(promise);
    const forget = (): void => {
      this.#pending.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  /** Resolves once every task added so far has settled, whatever its outcome. */
  async allSettled(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }
}

// StartedTasks (src/engine/started-tasks.ts): a task that rejects while the
// caller awaits an earlier one is not an unhandled rejection (vitest fails a
// run on one), the caller still sees the rejection when it gets there, and
// allSettled waits for everything started.
import { describe, expect, it } from 'vitest';
import { StartedTasks } from '../src/engine/started-tasks.js';

const later = <T>(ms: number, value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), ms));
const failLater = (ms: number, message: string): Promise<never> => new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms));

describe('StartedTasks', () => {
  it('keeps a later rejection handled until the caller awaits it, and returns each promise unchanged', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const started = new StartedTasks();
      const slow = started.add(later(40, 'first'));
      const failing = started.add(failLater(5, 'second slice failed'));
      expect(await slow).toBe('first'); // the rejection happened meanwhile
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
      await expect(failing).rejects.toThrow('second slice failed');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('allSettled waits for every task, fulfilled or rejected', async () => {
    const started = new StartedTasks();
    const done: string[] = [];
    started.add(later(20, 'a').then((v) => { done.push(v); }));
    started.add(failLater(30, 'b').catch((e: Error) => { done.push(e.message); throw e; }));
    started.add(later(10, 'c').then((v) => { done.push(v); }));
    await started.allSettled();
    expect(done.sort()).toEqual(['a', 'b', 'c']);
  });
});

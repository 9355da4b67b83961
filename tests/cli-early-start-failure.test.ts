// startEngineEarly runs before the command line's error handling: a pool that
// cannot start (here: prestartEnginePool throws) must cost the head start
// only, never the command (the command meets the problem again and reports it).
import { describe, expect, it, vi } from 'vitest';

const prestart = vi.fn((): void => {
  throw new Error('the engine worker file is missing (run npm run build)');
});
vi.mock('../src/engine/pool.js', () => ({ defaultJobs: () => 2, prestartEnginePool: prestart }));

const { startEngineEarly } = await import('../src/cli/early-start.js');

describe('startEngineEarly', () => {
  it('swallows a failure to start the threads', async () => {
    await expect(startEngineEarly(['verify-batch', 'dist', '--jobs', '2'])).resolves.toBeUndefined();
    expect(prestart).toHaveBeenCalledWith(2);
  });

  it('does nothing for other commands', async () => {
    prestart.mockClear();
    await startEngineEarly(['verify', 'a.bin']);
    expect(prestart).not.toHaveBeenCalled();
  });
});

// The BluxError a call throws (or a promise rejects with); fails the test when it doesn't.
import { expect } from 'vitest';
import { BluxError } from '../../src/errors.js';

export function thrown(fn: () => unknown): BluxError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BluxError);
    return e as BluxError;
  }
  throw new Error('expected a BluxError');
}

export async function rejection(p: Promise<unknown>): Promise<BluxError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(BluxError);
    return e as BluxError;
  }
  throw new Error('expected a BluxError');
}

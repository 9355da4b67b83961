import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // CLI tests spawn processes and the js backend's Ed25519 is slow: allow time on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'exporter',
    root: new URL('.', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['./test/support/tempRoot.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

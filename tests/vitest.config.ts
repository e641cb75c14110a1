import { defineConfig } from 'vitest/config';

// Whole-stack checks: alert rules (promtool/amtool), dashboards, docker-compose, end-to-end runs
// against real Prometheus / Alertmanager / sipp. They use the built exporter (npm test builds first).
export default defineConfig({
  test: {
    name: 'stack',
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.test.ts'],
    environment: 'node',
    globalSetup: ['../exporter/test/support/tempRoot.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

import { defineConfig } from 'vitest/config';

// Unit and component tests run in jsdom; test/browser/*.test.ts opts into the node environment and drives
// Debian's Chromium (it builds dist/ first when it is missing or older than src/).
export default defineConfig({
  test: {
    name: 'grafana-plugin',
    root: new URL('.', import.meta.url).pathname,
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'jsdom',
    setupFiles: ['test/setup.ts'],
    globalSetup: ['../exporter/test/support/tempRoot.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // @grafana/* ship ESM that imports CommonJS packages by named export: let Vite transform them.
    server: { deps: { inline: [/@grafana\//] } },
  },
});

import { defineConfig } from 'vitest/config';

// One runner for the whole repo: each workspace brings its own project config.
export default defineConfig({
  test: {
    projects: ['exporter/vitest.config.ts', 'tests/vitest.config.ts', 'grafana-plugin/vitest.config.ts'],
  },
});

// Test settings: integration tests start child processes and a local server, so they get generous timeouts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Stage code installs SIGINT handlers and reads process.env: separate processes keep test files apart.
    pool: 'forks',
    // A developer's .env must not switch tracing on or point a test at a real API.
    env: { LOGFIRE_TOKEN: '' },
  },
});

// Test settings: integration tests start child processes and a local server, so they get generous timeouts.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Stage code installs SIGINT handlers, reads process.env and chdirs: separate processes keep test files apart
    // (isolate is vitest's default, said here because two files now run at once). Servers listen on port 0 and
    // every test writes under its own mkdtemp folder, so parallel files share no port or file.
    pool: 'forks',
    isolate: true,
    // Both cores of the 2-core machine the suite is written for (https://vitest.dev/config/maxworkers). vitest 4.1's
    // run mode defaults to availableParallelism() - 1 (resolveMaxWorkers in its cli-api chunk), which is one worker
    // there; the tests mostly wait on child processes and the local server, so a second one cuts the wall time.
    // `npx vitest run --maxWorkers=1` still runs serially on a machine shared with other work.
    maxWorkers: 2,
    // A developer's .env must not switch tracing on or point a test at a real API.
    env: { LOGFIRE_TOKEN: '' },
  },
});

import { defineConfig } from 'vitest/config';

const shared = { testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' as const };

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'core',
          include: ['test/**/*.test.ts'],
          exclude: [
            'test/e2e/**',
            'test/faults/**',
            'test/attacks/**',
            'test/cli.test.ts',
            'test/browser/**',
          ],
        },
      },
      {
        // Real processes, timed start-ups: run after everything else, one file at a time.
        test: {
          ...shared,
          name: 'processes',
          include: [
            'test/e2e/**/*.test.ts',
            'test/faults/**/*.test.ts',
            'test/attacks/**/*.test.ts',
            'test/cli.test.ts',
          ],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // A real gateway and a real browser: last of all.
        test: {
          ...shared,
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});

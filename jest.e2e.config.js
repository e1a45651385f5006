/** End-to-end tests: the built bot as a child process, two Agents Playground instances, headless Chromium. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e.test.ts'],
  testTimeout: 240_000,
  maxWorkers: 1,
  // Finds Chromium and starts it once before anything else: without a browser the run ends at once, in one line.
  // Then starts the local Microsoft stand-in for the whole run; the teardown stops it.
  globalSetup: '<rootDir>/test/e2e/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/e2e/support/global-teardown.ts',
};

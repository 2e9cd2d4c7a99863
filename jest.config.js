// Three tiers of tests, each compiled by SWC with the build's options (swc.config.js), aliases included.
const swcOptions = require('./swc.config');

const transform = { '^.+\\.ts$': ['@swc/jest', { ...swcOptions, sourceMaps: 'inline' }] };

const tier = (displayName, testMatch, settings = {}) => ({ displayName, transform, testEnvironment: 'node', testMatch, ...settings });

module.exports = {
  projects: [
    tier('unit', ['<rootDir>/{apps,libs,test}/**/*.unit.spec.ts']),
    // The repositories against a real PostgreSQL: no broker.
    tier('int', ['<rootDir>/{apps,libs}/**/*.int.spec.ts'], {
      globalSetup: '<rootDir>/test/support/int-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    }),
    tier('e2e', ['<rootDir>/test/**/*.e2e.spec.ts'], {
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    }),
  ],
  testSequencer: '<rootDir>/test/support/longest-first-sequencer.js',
  testTimeout: 120000,
};

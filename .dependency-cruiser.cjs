// Dependency rules that keep the layers apart (npm run deps:check). Paths are relative to the repository;
// the @timeline/* aliases resolve through tsconfig.json, and type-only imports count too.
// Test code that sits beside the code it tests: the specs, and the decider's given/when/then harness.
const TEST_CODE = ['\\.spec\\.ts$', '^libs/domain/src/given-when-then\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A circle has no bottom layer: neither side can be understood, tested or moved without the other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'The domain imports its own files and zod, and of Node only hashing (pure: stable ids, redaction keys that PostgreSQL ' +
        'also computes with sha256): ' +
        'no framework, no I/O, no other library of ours.',
      from: { path: '^libs/domain/src/', pathNot: TEST_CODE },
      to: { pathNot: ['^libs/domain/src/', '^node_modules/zod/', '^(node:)?crypto$'] },
    },
    {
      name: 'libs-not-apps',
      severity: 'error',
      comment: 'Libraries serve the apps; an app is never a library of another part.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'scripts-not-apps',
      severity: 'error',
      comment: 'Tools (bench, chaos, seed, rebuild, generators) use the libraries; an app is run as a process, not imported.',
      from: { path: '^scripts/' },
      to: { path: '^apps/' },
    },
    {
      name: 'production-not-test',
      severity: 'error',
      comment: 'What ships (apps, libraries) never depends on the tests or their support.',
      from: { path: '^(apps|libs)/', pathNot: TEST_CODE },
      to: { path: '^test/' },
    },
    {
      name: 'production-not-dev-stack',
      severity: 'error',
      comment: 'The development launchers (free ports, broker, PostgreSQL) are for scripts and tests, not for what ships.',
      from: { path: '^(apps|libs)/', pathNot: ['^libs/dev-stack/', ...TEST_CODE] },
      to: { path: '^libs/dev-stack/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};

// The SWC options of the build (scripts/build.js) and of the Jest transform (jest.config.js). The
// @timeline/* path aliases are read from tsconfig.json, their one list, which tsc and @swc-node/register
// read as well; SWC rewrites each to a relative path, so built files and tests need no resolver of their own.
const path = require('node:path');
const ts = require('typescript');

function tsconfigCompilerOptions() {
  // tsc's own reader: tsconfig.json may hold comments.
  const { config, error } = ts.readConfigFile(path.join(__dirname, 'tsconfig.json'), ts.sys.readFile);
  if (error) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(error.messageText, '\n')}`);
  return config.compilerOptions;
}

const { baseUrl, paths } = tsconfigCompilerOptions();

module.exports = {
  module: { type: 'commonjs' },
  sourceMaps: true,
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
    baseUrl: path.resolve(__dirname, baseUrl),
    paths,
  },
};

// Compiles TypeScript into dist/ with SWC, with the options the tests are compiled with (swc.config.js),
// and copies the other files (migrations, assets, shell scripts) beside it:
//   node scripts/build.js apps libs scripts     what `npm run build` compiles (libs/dev-stack included: the bench and chaos run on it)
const { swcDir } = require('@swc/cli');
const { DEFAULT_EXTENSIONS } = require('@swc/core');
const swcOptions = require('../swc.config');

swcDir({
  cliOptions: {
    filenames: process.argv.slice(2),
    outDir: 'dist',
    extensions: DEFAULT_EXTENSIONS,
    copyFiles: true,
    includeDotfiles: false,
    stripLeadingPaths: false,
    deleteDirOnStart: false,
    sync: false,
    watch: false,
    quiet: true,
    only: [],
    ignore: [],
  },
  swcOptions,
}).catch((error) => {
  console.error(error.message);
  process.exit(1);
});

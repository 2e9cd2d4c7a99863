// The e2e tier runs in two workers; the run ends when the last file ends, so the longest file starts first.
// Jest orders by the durations it cached on an earlier run, else by file size; a fresh clone has no cache,
// and the chaos spec (about half of the tier's time, but not its largest file) would start late.
const Sequencer = require('@jest/test-sequencer').default;

const LONGEST_FIRST = [/\/test\/chaos\.e2e\.spec\.ts$/];

class LongestFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const rank = (test) => {
      const index = LONGEST_FIRST.findIndex((pattern) => pattern.test(test.path));
      return index === -1 ? LONGEST_FIRST.length : index;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongestFirstSequencer;

/**
 * jest's test sequencer for this suite: the longest test files first, so
 * that the run does not end with one long file working on one core while
 * the other core has nothing left to do.
 *
 * jest's own sequencer orders by the durations it cached from earlier runs
 * (in its cache folder, per clone path) and, for files without one, by file
 * size. A fresh clone, as CI makes, has no cached durations, and size is a
 * poor guide here: test/imports.test.ts is 63 lines and takes ~19 s, while
 * long files of quick table tests take 1 s. So a file without a cached
 * duration gets the one recorded in test/util/test-durations.json (seconds
 * per file of a CI run on the 2-core machine, 2026-12-07, with the files
 * made faster since scaled by their measured CPU time; only the order
 * matters),
 * and a file in neither (a new one) an estimate from its size. Files that
 * failed in the last run still go first, as with jest's own sequencer.
 *
 * To refresh test-durations.json after a change in what is slow: the
 * durations of a full run are in jest's cache folder (`npx jest
 * --showConfig | grep cacheDirectory`), file `perf-cache-*`, in
 * milliseconds.
 *
 * Plain JavaScript: jest loads the sequencer without transforming it.
 */
const path = require('path');
const Sequencer = require('@jest/test-sequencer').default;
const RECORDED = require('./test-durations.json');

/** Milliseconds per byte of a test file without a recorded duration (a 20 KB file: ~5 s). */
const MS_PER_BYTE = 0.25;

class LongestFirst extends Sequencer {
  sort(tests) {
    // jest's sort sets each test's cached duration (when there is one).
    const sorted = super.sort(tests);
    const estimate = (test) => {
      if (test.duration != null) return test.duration;
      const recorded = RECORDED[path.relative(test.context.config.rootDir, test.path).split(path.sep).join('/')];
      if (recorded !== undefined) return recorded * 1000;
      return (test.context.hasteFS.getSize(test.path) ?? 0) * MS_PER_BYTE;
    };
    const failed = new Set(sorted.filter((t) => this.hasFailed(t)));
    return sorted
      .map((test) => ({ test, failed: failed.has(test), ms: estimate(test) }))
      .sort((a, b) => (a.failed !== b.failed ? (a.failed ? -1 : 1) : b.ms - a.ms))
      .map((e) => e.test);
  }
}

module.exports = LongestFirst;

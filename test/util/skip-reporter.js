/**
 * jest reporter: after the run, one line per test file that skipped tests,
 * saying why and how to run them, so a plain `npm test` never hides what it
 * did not prove behind "N skipped".
 *
 * The suites register a skip by naming its reason in the skipped test's
 * title, `… [skipped: <why>]` or `… (skipped: <why>)` (test/util/tools.ts
 * `toolTest`, test/util/nats-server.ts `natsTest`, the root-only and strace
 * tests); HOW below maps each kind of reason to the command that runs the
 * file. A skipped test without a reason is reported as such.
 *
 * Plain JavaScript: jest loads reporters without transforming them.
 */
const path = require('path');

/** How to run a file whose tests were skipped for a reason matching the pattern (FILE: the file). */
const HOW = [
  [/DSX_UPSTREAM_CHART/, 'DSX_UPSTREAM_CHART=<folder of the nats-event-bus chart> npx jest FILE (.ci/run sets it to ../shared/upstream/nats-event-bus)'],
  [/helm not found|nats-server.* not found|not found at/, 'scripts/test-tools.sh && eval "$(scripts/test-tools.sh --env)" && npx jest FILE'],
  [/needs root/, 'as root, as CI does: sudo -E npx jest FILE'],
  [/strace/, 'apt-get install strace && npx jest FILE'],
  [/tmpfs|unshare|not Linux/, 'on Linux as root (a private mount namespace with a small tmpfs): sudo -E npx jest FILE'],
];

const REASON = /[[(]skipped: (.+?)[\])](?: |$)/;

class SkipReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const lines = [];
    for (const file of results.testResults) {
      const skipped = file.testResults.filter((t) => t.status === 'pending' || t.status === 'skipped' || t.status === 'todo');
      if (!skipped.length) continue;
      const rel = path.relative(this.rootDir, file.testFilePath);
      const byReason = new Map();
      for (const t of skipped) {
        const m = REASON.exec(t.title);
        const why = m ? m[1] : 'no reason in the test\'s name (a test.skip in the file?)';
        byReason.set(why, (byReason.get(why) ?? 0) + 1);
      }
      for (const [why, n] of byReason) {
        const how = (HOW.find(([re]) => re.test(why)) ?? [undefined, 'npx jest FILE'])[1].replace('FILE', rel);
        lines.push(`skipped ${n} of ${file.testResults.length} tests in ${rel}: ${why}. To run them: ${how}`);
      }
    }
    if (lines.length) process.stderr.write(`\n${lines.join('\n')}\n`);
  }
}

module.exports = SkipReporter;

/**
 * The skip reporter (test/util/skip-reporter.js): one line per test file and
 * reason, with how to run the skipped tests; nothing when nothing skipped.
 */
import * as path from 'path';
import { REPO } from './cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const SkipReporter = require('./skip-reporter.js');

function report(files: Array<{ file: string; tests: Array<[string, string]> }>): string {
  let out = '';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((text) => {
    out += String(text);
    return true;
  });
  try {
    new SkipReporter({ rootDir: REPO }).onRunComplete(new Set(), {
      testResults: files.map((f) => ({ testFilePath: path.join(REPO, f.file), testResults: f.tests.map(([title, status]) => ({ title, status })) })),
    });
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('skip reporter', () => {
  test('one line per file and reason: the count, why, and the command that runs them', () => {
    const out = report([
      {
        file: 'test/charts/chart-values.test.ts',
        tests: [
          ['renders [skipped: DSX_UPSTREAM_CHART is unset (.ci/run sets it to ../shared/upstream/nats-event-bus)]', 'pending'],
          ['also renders [skipped: DSX_UPSTREAM_CHART is unset (.ci/run sets it to ../shared/upstream/nats-event-bus)]', 'pending'],
          ['passes', 'passed'],
        ],
      },
      { file: 'test/proof/faults.test.ts', tests: [['refused (skipped: needs root to run the CLI as uid 65534 against a root-owned output root)', 'pending']] },
      { file: 'test/keys/nkey.test.ts', tests: [['all good', 'passed']] },
      { file: 'test/x.test.ts', tests: [['no reason', 'pending']] },
    ]);
    expect(out.trim().split('\n')).toEqual([
      'skipped 2 of 3 tests in test/charts/chart-values.test.ts: DSX_UPSTREAM_CHART is unset (.ci/run sets it to ../shared/upstream/nats-event-bus). '
        + 'To run them: DSX_UPSTREAM_CHART=<folder of the nats-event-bus chart> npx jest test/charts/chart-values.test.ts (.ci/run sets it to ../shared/upstream/nats-event-bus)',
      'skipped 1 of 1 tests in test/proof/faults.test.ts: needs root to run the CLI as uid 65534 against a root-owned output root. To run them: as root, as CI does: sudo -E npx jest test/proof/faults.test.ts',
      'skipped 1 of 1 tests in test/x.test.ts: no reason in the test\'s name (a test.skip in the file?). To run them: npx jest test/x.test.ts',
    ]);
  });

  test('prints nothing when nothing was skipped', () => {
    expect(report([{ file: 'test/keys/nkey.test.ts', tests: [['all good', 'passed']] }])).toBe('');
  });
});

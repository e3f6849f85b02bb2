/**
 * The test sequencer (test/util/sequencer.js): the longest files first, by
 * jest's cached durations, else the recorded ones (test-durations.json),
 * else by size; files that failed last time before all others.
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO } from './cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const LongestFirst = require('./sequencer.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const RECORDED: Record<string, number> = require('./test-durations.json');

/** File sizes the fake haste map reports (1,000 bytes unless set). */
const sizes = new Map<string, number>();
/** One test context for all (jest's sequencer keeps its cache per context), without jest's cache file (config.cache false). */
const CONTEXT = { config: { rootDir: REPO, cache: false, id: 'fake' }, hasteFS: { getSize: (p: string) => sizes.get(p) ?? 1000 } };

/** A jest Test as the sequencer sees it. */
function fakeTest(rel: string, size?: number) {
  if (size !== undefined) sizes.set(path.join(REPO, rel), size);
  return { path: path.join(REPO, rel), context: CONTEXT };
}

function order(tests: Array<ReturnType<typeof fakeTest>>, setup?: (s: any) => void): string[] {
  const sequencer = new LongestFirst({});
  setup?.(sequencer);
  return sequencer.sort(tests).map((t: { path: string }) => path.relative(REPO, t.path));
}

describe('test sequencer', () => {
  test('without cached durations, the recorded ones order the files, longest first; a file without either goes by its size', () => {
    const [longest, second] = Object.entries(RECORDED).sort((a, b) => b[1] - a[1]).map(([f]) => f);
    const shortest = Object.entries(RECORDED).sort((a, b) => a[1] - b[1])[0][0];
    const big = 'test/new-big.test.ts'; // 400 KB: ~100 s by size
    const small = 'test/new-small.test.ts';
    expect(order([fakeTest(shortest), fakeTest(small, 10), fakeTest(second), fakeTest(big, 400_000), fakeTest(longest)]))
      .toEqual([big, longest, second, shortest, small]);
  });

  test('a cached duration wins over the recorded one, and a file that failed last time goes first', () => {
    const [longest, second] = Object.entries(RECORDED).sort((a, b) => b[1] - a[1]).map(([f]) => f);
    const cached = (rel: string, ms: number, failed = false) => (s: any) => {
      const cache = s._getCache(fakeTest(rel));
      cache[path.join(REPO, rel)] = [failed ? 0 : 1, ms];
    };
    expect(order([fakeTest(longest), fakeTest(second)], cached(second, 1_000_000))).toEqual([second, longest]);
    expect(order([fakeTest(longest), fakeTest(second)], cached(second, 1, true))).toEqual([second, longest]);
  });

  test('every file in test-durations.json exists (a renamed or removed file is taken out of it)', () => {
    expect(Object.keys(RECORDED).filter((f) => !fs.existsSync(path.join(REPO, f)))).toEqual([]);
  });
});

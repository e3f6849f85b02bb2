import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DirectoryKeyStore } from '../../src';
import { main } from '../../src/cli/run';
import { ensureBuilt, REPO } from '../util/cli';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

describe('dsx-event-bus: errors from the file system', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-run-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Found by test/proof/faults.test.ts: these printed "unexpected failure" with a stack and exited 2.
  test.each([
    // The output root is checked before anything is written: the file itself, or the file above the folder asked for.
    ['certs -o FILE', (f: string) => ['certs', '-o', f, 'csc'], 'exists and is not a directory \\(it is a regular file\\)\\. Fix: remove it or choose another -o/--output; nothing was written\\.'],
    ['certs -o FILE/below', (f: string) => ['certs', '-o', path.join(f, 'below'), 'csc'], 'exists and is not a directory \\(it is a regular file\\)\\. Fix: remove it or choose another -o/--output; nothing was written\\.'],
    ['export -o FILE', (f: string) => ['export', '-s', path.join(path.dirname(f), 'secrets'), '-o', f], 'exists and is not a directory \\(it is a regular file\\)\\. Fix: remove it or choose another -o/--output; nothing was written\\.'],
  ])('fails with one ERROR line naming the path, saying a file is in the way: %s', async (_name, args, what) => {
    DirectoryKeyStore.open(path.join(dir, 'secrets')).generateMissing({ cpcIds: [] });
    const file = path.join(dir, 'a file');
    fs.writeFileSync(file, 'keep');
    const r = await run(args(file));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^ERROR: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${what}\\n$`));
    expect(fs.readFileSync(file, 'utf8')).toBe('keep');
  });
});

describe('dsx-event-bus: each command loads what it uses', () => {
  test('nkeys and rotate load neither cdk8s nor the fleet file\'s schema; an error loads its wording then', () => {
    ensureBuilt();
    const loaded = (args: string[]) => {
      const script = `require(${JSON.stringify(path.join(REPO, 'lib', 'cli', 'run.js'))}).main(${JSON.stringify(args)}, { out() {}, err() {} })`
        + '.then(() => process.stdout.write(JSON.stringify(Object.keys(require.cache))))';
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return JSON.parse(r.stdout) as string[];
    };
    const heavy = (mods: string[]) => mods.filter((m) => /node_modules[\\/](cdk8s|ajv|yaml)[\\/]|[\\/]cli[\\/]file-terms\.js$/.test(m));
    expect(heavy(loaded(['nkeys', '-h']))).toEqual([]);
    expect(heavy(loaded(['rotate', '-h']))).toEqual([]);
    // An error is worded in the fleet file's terms, so its wording is loaded for it.
    expect(heavy(loaded(['nkeys', '--no-such-flag'])).some((m) => m.endsWith('file-terms.js'))).toBe(true);
  });
});

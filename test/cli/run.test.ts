import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DirectoryKeyStore } from '../../src';
import { main } from '../../src/cli/run';

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

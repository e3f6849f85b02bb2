/**
 * The staging writer's worker is a module of the package (src/files/staging-worker.ts),
 * not a string: it writes with the one writeNewFile and runs from lib/, as
 * the installed package runs it, whether the writer is loaded from lib/ or
 * from the TypeScript sources.
 */
import * as fs from 'fs';
import * as path from 'path';
import { StagingWriter as SourceWriter } from '../../src/files/staging-writer';
import { ensureBuilt, REPO } from '../util/cli';
import { cleanupTempDirs, tempDir } from '../util/keytree';

afterAll(() => cleanupTempDirs());

// eslint-disable-next-line @typescript-eslint/no-require-imports
const libWriter = (): typeof SourceWriter => require(path.join(REPO, 'lib', 'files', 'staging-writer.js')).StagingWriter;

const mode = (p: string) => (fs.lstatSync(p).mode & 0o7777).toString(8); // eslint-disable-line no-bitwise

describe.each([
  ['the TypeScript sources', () => SourceWriter],
  ['lib/ (as installed)', () => libWriter()],
])('StagingWriter loaded from %s', (_from, writerClass) => {
  beforeAll(() => ensureBuilt());

  test('writes folders, files and links in order, each with its mode', () => {
    const Writer = writerClass();
    const root = tempDir();
    fs.writeFileSync(path.join(root, 'mine.txt'), 'user file\n', { mode: 0o640 });
    const w = new Writer();
    w.run({ op: 'mkdir', path: path.join(root, 'out'), mode: 0o755 });
    w.run({ op: 'mkdir', path: path.join(root, 'out', 'secret'), mode: 0o700 });
    for (let i = 0; i < 200; i++) w.run({ op: 'write', path: path.join(root, 'out', `f${i}.yaml`), content: `n: ${i}\n`, mode: 0o644 });
    w.run({ op: 'write', path: path.join(root, 'out', 'secret', 's.yaml'), content: 'kind: Secret\n', mode: 0o600 });
    w.run({ op: 'link', from: path.join(root, 'mine.txt'), path: path.join(root, 'out', 'mine.txt') });
    w.finish();
    expect([mode(path.join(root, 'out')), mode(path.join(root, 'out', 'secret')), mode(path.join(root, 'out', 'secret', 's.yaml'))]).toEqual(['755', '700', '600']);
    expect(fs.readFileSync(path.join(root, 'out', 'f199.yaml'), 'utf8')).toBe('n: 199\n');
    expect(fs.statSync(path.join(root, 'out', 'mine.txt')).ino).toBe(fs.statSync(path.join(root, 'mine.txt')).ino);
  });

  test('fails with the errno and path of the first failed operation, and skips the rest', () => {
    const Writer = writerClass();
    const root = tempDir();
    const target = path.join(root, 'b.yaml');
    // A planted symlink: writeNewFile (O_EXCL|O_NOFOLLOW) never writes through it.
    fs.symlinkSync(path.join(root, 'elsewhere'), target);
    const w = new Writer();
    w.run({ op: 'write', path: path.join(root, 'a.yaml'), content: 'a\n', mode: 0o644 });
    w.run({ op: 'write', path: target, content: 'b\n', mode: 0o644 });
    w.run({ op: 'write', path: path.join(root, 'c.yaml'), content: 'c\n', mode: 0o644 });
    let error: any;
    try {
      w.finish();
    } catch (e) {
      error = e;
    }
    expect([error?.code, error?.path]).toEqual(['EEXIST', target]);
    expect(fs.existsSync(path.join(root, 'elsewhere'))).toBe(false);
    expect(fs.readdirSync(root).sort()).toEqual(['a.yaml', 'b.yaml']);
  });
});

test('the worker is the compiled module beside the writer, and writes with the package\'s writeNewFile', () => {
  ensureBuilt();
  const worker = fs.readFileSync(path.join(REPO, 'lib', 'files', 'staging-worker.js'), 'utf8');
  expect(worker).toMatch(/require\("\.\/atomic-write"\)/);
  expect(worker).toMatch(/writeNewFile\)\(m\.path, m\.content, m\.mode, \{ fsync: false \}\)/);
  expect(fs.readFileSync(path.join(REPO, 'lib', 'files', 'staging-writer.js'), 'utf8')).not.toMatch(/eval: true/);
});

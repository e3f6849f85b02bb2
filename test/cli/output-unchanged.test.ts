/**
 * Issue 17: modes are part of "unchanged", concurrent syntheses into a new
 * folder wait for each other, and a hand edit to a generated file is named
 * in the run that replaces it. Real processes of the compiled CLI.
 */
import * as fs from 'fs';
import * as path from 'path';
import { StoreLock } from '../../src/files/lock';
import { writeOutputSync } from '../../src/files/output-tree';
import { dsxEventBus, ensureBuilt, startDsxEventBus } from '../util/cli';
import { clustersYaml } from '../util/fleet-yaml';
import { cleanupTempDirs, tempDir } from '../util/keytree';

let dir: string;
beforeAll(() => ensureBuilt(), 600_000);
beforeEach(() => {
  dir = tempDir('dsx-unchanged-');
});
afterAll(() => cleanupTempDirs());

function fleetFile(): string {
  const file = path.join(dir, 'fleet.yaml');
  fs.writeFileSync(file, [
    'namespace: dsx',
    `keys: { directory: ${JSON.stringify(path.join(dir, 'ks'))}, generateMissing: true }`,
    'delivery: { type: inline }',
    'certificates: { selfSigned: true }',
    'cscTrust: { configMapName: csc-gateway-ca }',
    clustersYaml().trimEnd(),
  ].join('\n') + '\n');
  return file;
}

const mode = (p: string) => (fs.statSync(p).mode % 0o10000).toString(8);

test('a rerun restores world-readable Secret manifests to 600 (and their folder to 700) instead of "unchanged"', () => {
  const file = fleetFile();
  const out = path.join(dir, 'out');
  expect(dsxEventBus(['synth', '-c', file, '-o', out]).status).toBe(0);
  const manifests = path.join(out, 'csc', 'manifests');
  const secrets = fs.readdirSync(manifests).filter((n) => n.startsWith('Secret.'));
  expect(secrets.length).toBeGreaterThan(5);
  fs.chmodSync(manifests, 0o755);
  for (const s of secrets) fs.chmodSync(path.join(manifests, s), 0o644);
  const r = dsxEventBus(['synth', '-c', file, '-o', out]);
  expect(r.status).toBe(0);
  expect(r.stdout + r.stderr).not.toMatch(/unchanged: nothing written/);
  expect(r.stderr).toMatch(/restored the modes of .*csc\/manifests, /);
  expect(mode(manifests)).toBe('700');
  expect(secrets.map((s) => mode(path.join(manifests, s)))).toEqual(secrets.map(() => '600'));
  // Now it is unchanged.
  const again = dsxEventBus(['synth', '-c', file, '-o', out]);
  expect(again.stdout + again.stderr).toMatch(/unchanged: nothing written/);
});

test('a generated file edited by hand is named when the run replaces it', () => {
  const file = fleetFile();
  const out = path.join(dir, 'out');
  expect(dsxEventBus(['synth', '-c', file, '-o', out]).status).toBe(0);
  const values = path.join(out, 'cpc-1', 'values.event-bus.yaml');
  const original = fs.readFileSync(values, 'utf8');
  fs.appendFileSync(values, '# my change\n');
  const r = dsxEventBus(['synth', '-c', file, '-o', out]);
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`replacing ${values.replace(/[.]/g, '\\.')}: it was edited by hand after synth wrote it`));
  expect(fs.readFileSync(values, 'utf8')).toBe(original);
});

test('the output layer names a hand edit before it replaces the file (onEdited, which synth prints on stderr)', () => {
  const out = path.join(dir, 'out');
  const clusters = [{ name: 'csc', files: [{ path: 'values.event-bus.yaml', content: 'a: 1\n', secret: false }] }];
  writeOutputSync(out, clusters, { flag: 'outdir' });
  const file = path.join(out, 'csc', 'values.event-bus.yaml');
  fs.appendFileSync(file, '# mine\n');
  const seen: Array<{ line: string; onDisk: string }> = [];
  const r = writeOutputSync(out, clusters, { flag: 'outdir', onEdited: (line) => seen.push({ line, onDisk: fs.readFileSync(file, 'utf8') }) });
  expect(seen).toEqual([{ line: expect.stringMatching(/^replacing .*values\.event-bus\.yaml: it was edited by hand/), onDisk: 'a: 1\n# mine\n' }]);
  expect(r.changed).toBe(true);
  expect(fs.readFileSync(file, 'utf8')).toBe('a: 1\n');
});

test('a new output folder that another synth is swapping into (its lock held, a cluster folder in, no record yet) is waited for, not refused', () => {
  // The moment the race above can hit: the other run holds the lock and has
  // renamed a cluster folder in, but has not written its record. Checking for
  // the record and then listing the folder used to see a folder of "files
  // synth did not write" and fail before waiting for the lock.
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const other = StoreLock.tryAcquire(out);
  if (!other.acquired) throw new Error('the lock of a new folder was not free');
  fs.mkdirSync(path.join(out, 'csc'));
  const waited: string[] = [];
  const clusters = [{ name: 'csc', files: [{ path: 'values.event-bus.yaml', content: 'a: 1\n', secret: false }] }];
  const r = writeOutputSync(out, clusters, {
    flag: 'outdir',
    onWait: (holder) => {
      waited.push(holder);
      // The other run ends: its folder goes (as if it had been rolled back) and its lock is released.
      fs.rmSync(path.join(out, 'csc'), { recursive: true });
      other.lock.release();
    },
  });
  expect(waited).toHaveLength(1);
  expect(r.changed).toBe(true);
  expect(fs.readFileSync(path.join(out, 'csc', 'values.event-bus.yaml'), 'utf8')).toBe('a: 1\n');
});

test('two syntheses started at once into a new output folder wait for each other: both succeed (3 rounds)', async () => {
  const file = fleetFile();
  // The key store first, so the two runs race only on the output folder.
  expect(dsxEventBus(['nkeys', '-o', path.join(dir, 'ks'), '1']).status).toBe(0);
  for (let round = 0; round < 3; round++) {
    const out = path.join(dir, `out-${round}`);
    const runs = [startDsxEventBus(['synth', '-c', file, '-o', out]), startDsxEventBus(['synth', '-c', file, '-o', out])];
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) {
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.not.stringMatching(/ERROR/) });
    }
    expect(fs.readdirSync(out).filter((n) => n.startsWith('.dsx-event-bus-staging-'))).toEqual([]);
  }
}, 180_000);

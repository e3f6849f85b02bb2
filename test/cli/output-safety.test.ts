/**
 * Issue 11's reproductions of "output half-written or mixed" and "files
 * outside the tool's own touched", each as a regression test on real
 * processes of the compiled CLI. The kill -9 / concurrency / full-disk proof
 * is test/proof/output-faults.test.ts.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { dsxEventBus, ensureBuilt, MAIN, startDsxEventBus } from '../util/cli';
import { cleanupTempDirs, tempDir } from '../util/keytree';

const RECORD = '.dsx-event-bus-output.json';
const LOCK = '.dsx-event-bus.lock';
let store: string;

function fleet(dir: string, opts: { cpcs?: string[]; namespace?: string; gatewayName?: string } = {}): string {
  const file = path.join(dir, `fleet-${Math.random().toString(36).slice(2)}.yaml`);
  const cpcs = opts.cpcs ?? ['1', '2'];
  fs.writeFileSync(file, [
    `namespace: ${opts.namespace ?? 'dsx'}`,
    `keys: { directory: ${JSON.stringify(store)}, generateMissing: true }`,
    'delivery: { type: inline }',
    'certificates: { selfSigned: true }',
    'cscTrust: { configMapName: csc-gateway-ca }',
    ...(opts.gatewayName ? [`gateway: { name: ${opts.gatewayName} }`] : []),
    'clusters:',
    '  - type: csc',
    '    gateway: { hostnames: [csc.example.com] }',
    ...cpcs.map((id) => `  - type: cpc\n    id: "${id}"\n    gateway: { hostnames: [cpc-${id}.example.com] }`),
  ].join('\n') + '\n');
  return file;
}

const synth = (file: string, out: string, options = {}) => dsxEventBus(['synth', '-c', file, '-o', out], options);
const mode = (p: string) => (fs.lstatSync(p).mode % 0o10000).toString(8);

function expectError(r: { status: number | null; stderr: string }, about: RegExp): void {
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(/^ERROR: /) });
  expect(r.stderr).toMatch(about);
  expect(r.stderr).not.toMatch(/unexpected failure|\n\s+at /);
}

beforeAll(() => {
  ensureBuilt();
  store = path.join(tempDir('dsx-output-safety-'), 'secrets');
}, 240_000);
afterAll(cleanupTempDirs);

describe('synth deletes only what it wrote', () => {
  test('keeps a user file in manifests/ and a removed CPC folder holding a kustomization.yaml, and lists what it removed', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    expect(synth(fleet(dir), out).status).toBe(0);
    fs.writeFileSync(path.join(out, 'cpc-1', 'manifests', 'NetworkPolicy.mine.yaml'), 'mine\n');
    fs.writeFileSync(path.join(out, 'cpc-2', 'kustomization.yaml'), 'resources: []\n');
    const r = synth(fleet(dir, { cpcs: ['1'] }), out);
    expect(r.status).toBe(0);
    expect(fs.readFileSync(path.join(out, 'cpc-1', 'manifests', 'NetworkPolicy.mine.yaml'), 'utf8')).toBe('mine\n');
    expect(fs.readdirSync(path.join(out, 'cpc-2'))).toEqual(['kustomization.yaml']);
    expect(r.stderr).toMatch(new RegExp(`^removed ${out}/cpc-2/values\\.event-bus\\.yaml \\(cluster cpc-2 is no longer in the fleet\\)$`, 'm'));
    expect(r.stderr).toMatch(new RegExp(`^kept ${out}/cpc-2: it holds files synth did not write \\(kustomization\\.yaml\\)`, 'm'));
    // The CPC comes back: its folder is reused, the user's file stays.
    const back = synth(fleet(dir), out);
    expect({ status: back.status, stderr: back.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.readdirSync(path.join(out, 'cpc-2')).sort()).toEqual(['kustomization.yaml', 'manifests', 'values.event-bus.yaml']);
  });

  test('removes the folder of a removed CPC that holds only its files, saying so', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    expect(synth(fleet(dir), out).status).toBe(0);
    const r = synth(fleet(dir, { cpcs: ['1'] }), out);
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(out, 'cpc-2'))).toBe(false);
    expect(r.stderr.split('\n').filter(Boolean).sort()).toEqual([
      `removed ${out}/cpc-2/ (cluster cpc-2 is no longer in the fleet)`,
      `removed ${out}/csc/manifests/Secret.dsx.nats-leaf-cpc-2.k8s.yaml (no longer in the output)`,
    ]);
  });

  test('a rerun with nothing new writes nothing', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const file = fleet(dir);
    expect(synth(file, out).status).toBe(0);
    const before = fs.statSync(path.join(out, 'csc')).ino;
    const r = synth(file, out);
    expect(r.stdout).toMatch(/\(unchanged: nothing written\)\n$/);
    expect(fs.statSync(path.join(out, 'csc')).ino).toBe(before);
  });

  test('fails when the output folder holds files synth did not write and no record of its own', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
    expectError(synth(fleet(dir), out), new RegExp(`^ERROR: ${out}: holds files synth did not write \\(notes\\.txt\\) and no ${RECORD.replace(/\./g, '\\.')}.*Fix: choose an empty or new output directory`));
    expect(fs.readdirSync(out)).toEqual(['notes.txt']);
  });

  test('fails when a file synth would write is the user\'s', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    expect(synth(fleet(dir, { cpcs: ['1'] }), out).status).toBe(0);
    fs.mkdirSync(path.join(out, 'cpc-2'));
    expectError(synth(fleet(dir), out), new RegExp(`${out}/cpc-2: exists but synth did not create it`));
  });
});

describe('synth never writes through a symlink', () => {
  test('fails when a cluster folder is a symlink; the link\'s target is untouched', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    expect(synth(fleet(dir), out).status).toBe(0);
    const elsewhere = path.join(dir, 'elsewhere');
    fs.mkdirSync(elsewhere);
    fs.writeFileSync(path.join(elsewhere, 'precious'), 'keep');
    fs.rmSync(path.join(out, 'csc'), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(out, 'csc'));
    expectError(synth(fleet(dir), out), new RegExp(`${out}/csc: is a symbolic link; synth writes only into folders it created`));
    expect(fs.readdirSync(elsewhere)).toEqual(['precious']);
  });

  test('a values file replaced by a symlink is replaced by a regular file; the link\'s target is untouched', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    expect(synth(fleet(dir), out).status).toBe(0);
    const target = path.join(dir, 'target.yaml');
    fs.writeFileSync(target, 'keep');
    const values = path.join(out, 'csc', 'values.event-bus.yaml');
    fs.rmSync(values);
    fs.symlinkSync(target, values);
    expect(synth(fleet(dir, { namespace: 'other' }), out).status).toBe(0);
    expect(fs.readFileSync(target, 'utf8')).toBe('keep');
    expect(fs.lstatSync(values).isFile()).toBe(true);
  });

  test('fails when the output folder itself is a symlink', () => {
    const dir = tempDir();
    const real = path.join(dir, 'real');
    fs.mkdirSync(real);
    fs.symlinkSync(real, path.join(dir, 'out'));
    expectError(synth(fleet(dir), path.join(dir, 'out')), /out: the output directory is a symbolic link .*Fix: pass the real folder as -o\/--output/);
    expect(fs.readdirSync(real)).toEqual([]);
  });

  test('fails when the output folder is world-writable without the sticky bit (others could swap files in it); sticky is fine', () => {
    const dir = tempDir();
    const open = path.join(dir, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    expectError(synth(fleet(dir), open), new RegExp(`${open}: any user may write in it and it has no sticky bit \\(mode 777\\)`));
    expect([mode(open), fs.readdirSync(open)]).toEqual(['777', []]);
    const sticky = path.join(dir, 'sticky');
    fs.mkdirSync(sticky);
    fs.chmodSync(sticky, 0o1777);
    expect(synth(fleet(dir), sticky).status).toBe(0);
    expect(mode(sticky)).toBe('1777');
  });

  test('fails when the output folder is / or a system folder', () => {
    const dir = tempDir();
    expectError(synth(fleet(dir), '/'), /^ERROR: \/: \/ is a system folder/);
    expectError(synth(fleet(dir), '/usr'), /^ERROR: \/usr: \/usr is a system folder/);
  });
});

describe('synth output is complete or absent', () => {
  test('under umask 000: folders 755 and files 644, Secrets with seeds 600 in a 700 folder', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const r = spawnSync('sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, MAIN, 'synth', '-c', fleet(dir), '-o', out], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect([mode(out), mode(path.join(out, 'csc')), mode(path.join(out, 'csc', 'values.event-bus.yaml')), mode(path.join(out, RECORD))]).toEqual(['755', '755', '644', '644']);
    expect(mode(path.join(out, 'csc', 'manifests'))).toBe('700');
    const manifests = fs.readdirSync(path.join(out, 'csc', 'manifests'));
    for (const f of manifests) expect([f, mode(path.join(out, 'csc', 'manifests', f))]).toEqual([f, f.startsWith('Secret.') ? '600' : '644']);
  });

  test('a valid 253-character gateway name gets a legal file name (cut, with a hash) instead of ENAMETOOLONG', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const name = `${'a'.repeat(62)}.${'b'.repeat(62)}.${'c'.repeat(62)}.${'d'.repeat(61)}x`.slice(0, 253);
    const r = synth(fleet(dir, { gatewayName: name }), out);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const gateway = fs.readdirSync(path.join(out, 'csc', 'manifests')).find((f) => f.startsWith('Gateway.'))!;
    expect(Buffer.byteLength(gateway)).toBeLessThanOrEqual(255);
    expect(gateway).toMatch(/^Gateway\.dsx\.a+\.b+\.c+.*-[0-9a-f]{12}\.k8s\.yaml$/);
    expect(fs.readFileSync(path.join(out, 'csc', 'manifests', gateway), 'utf8')).toContain(`name: ${name}`);
  });

  test('Ctrl-C exits 130 with a message and leaves the complete earlier output, without a staging folder', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const big = fleet(dir, { cpcs: Array.from({ length: 20 }, (_, i) => String(i + 1)) });
    expect(synth(big, out, { timeout: 120_000 }).status).toBe(0);
    const before = fs.readFileSync(path.join(out, RECORD), 'utf8');
    const other = fleet(dir, { cpcs: Array.from({ length: 20 }, (_, i) => String(i + 1)), namespace: 'other' });
    let interruptedBeforeSwap = false;
    for (let attempt = 0; attempt < 5 && !interruptedBeforeSwap; attempt++) {
      const run = startDsxEventBus(['synth', '-c', other, '-o', out]);
      let exited = false;
      void run.done.then(() => (exited = true));
      // Wait for the staging folder to appear (bounded poll), then press Ctrl-C.
      while (!exited && !fs.readdirSync(out).some((n) => n.startsWith('.dsx-event-bus-staging-'))) await new Promise((r) => setTimeout(r, 2));
      run.child.kill('SIGINT');
      const r = await run.done;
      if (r.status === 0) continue; // finished before the signal: try again (the output is new now)
      expect(r.status).toBe(130);
      expect(r.stderr).toMatch(/^ERROR: interrupted (before the new output was swapped in; .* still holds the complete earlier output|after the new output was complete)/m);
      interruptedBeforeSwap = /before the new output/.test(r.stderr);
      if (interruptedBeforeSwap) expect(fs.readFileSync(path.join(out, RECORD), 'utf8')).toBe(before);
      expect(fs.readdirSync(out).filter((n) => n.startsWith('.dsx-event-bus-staging-'))).toEqual([]);
      if (!interruptedBeforeSwap) expect(synth(big, out, { timeout: 120_000 }).status).toBe(0);
    }
    expect(interruptedBeforeSwap).toBe(true);
  }, 120_000);
});

describe('no special file is opened, no symlink followed, in the lock or the key store', () => {
  test('synth fails (does not hang) when .dsx-event-bus.lock/owner is a FIFO', () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    expect(synth(fleet(dir), out).status).toBe(0);
    expect(spawnSync('mkfifo', [path.join(out, LOCK, 'owner')]).status).toBe(0);
    expectError(synth(fleet(dir), out, { timeout: 20_000 }), new RegExp(`${out}/${LOCK}/owner: is a FIFO, expected a regular file`));
  });

  test('nkeys fails (does not hang) when .dsx-event-bus.lock/owner or journal.json is a FIFO', () => {
    for (const name of ['owner', 'journal.json']) {
      const ks = path.join(tempDir(), 'ks');
      expect(dsxEventBus(['nkeys', '-o', ks, '1']).status).toBe(0);
      fs.mkdirSync(path.join(ks, LOCK), { recursive: true });
      expect(spawnSync('mkfifo', [path.join(ks, LOCK, name)]).status).toBe(0);
      const r = dsxEventBus(['nkeys', '-o', ks, '1', '2'], { timeout: 20_000 });
      expect({ name, status: r.status }).toEqual({ name, status: 1 });
      expect(r.stderr).toMatch(new RegExp(`${LOCK}/${name.replace('.', '\\.')}.*is a FIFO, expected a regular file`));
    }
  });

  test('nkeys fails when .dsx-event-bus.lock is a symlink; nothing in its target is touched', () => {
    const ks = path.join(tempDir(), 'ks');
    expect(dsxEventBus(['nkeys', '-o', ks, '1']).status).toBe(0);
    fs.rmSync(path.join(ks, LOCK), { recursive: true, force: true });
    const target = path.join(tempDir(), 'target');
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, 'owner'), 'not ours');
    fs.writeFileSync(path.join(target, '.seed.AbC123'), 'not ours either');
    fs.symlinkSync(target, path.join(ks, LOCK));
    expectError(dsxEventBus(['nkeys', '-o', ks, '1', '2']), new RegExp(`${ks}/${LOCK}: is a symbolic link, expected the lock folder`));
    expect(fs.readdirSync(target).sort()).toEqual(['.seed.AbC123', 'owner']);
  });
});

describe('export, certs and nkeys leave a root they did not create alone', () => {
  test.each([
    ['nkeys', (o: string) => ['nkeys', '-o', o, '1']],
    ['export', (o: string) => ['export', '-s', store, '-o', o, '1']],
    ['certs', (o: string) => ['certs', '-o', o, 'csc']],
  ])('%s: an existing root keeps its mode (755 stays 755)', (_name, args) => {
    const root = path.join(tempDir(), 'root');
    fs.mkdirSync(root);
    fs.chmodSync(root, 0o755);
    const r = dsxEventBus(args(root));
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(mode(root)).toBe('755');
  });

  test.each([
    ['nkeys', (o: string) => ['nkeys', '-o', o, '1']],
    ['export', (o: string) => ['export', '-s', store, '-o', o, '1']],
    ['certs', (o: string) => ['certs', '-o', o, 'csc']],
  ])('%s: fails when the root is world-writable (sticky or not), and leaves it as it was', (_name, args) => {
    for (const m of [0o1777, 0o777]) {
      const root = path.join(tempDir(), 'shared');
      fs.mkdirSync(root);
      fs.chmodSync(root, m);
      expectError(dsxEventBus(args(root)), new RegExp(`${root}: any user may write in it \\(mode ${m.toString(8)}\\).*Fix: choose a folder only you may write`));
      expect([mode(root), fs.readdirSync(root)]).toEqual([m.toString(8), []]);
    }
  });

  test.each([['nkeys'], ['export'], ['certs']])('%s: fails when the root is / or /tmp', (name) => {
    for (const root of ['/', '/tmp']) {
      const args = name === 'nkeys' ? ['nkeys', '-o', root, '1'] : name === 'export' ? ['export', '-s', store, '-o', root, '1'] : ['certs', '-o', root, 'csc'];
      const before = mode(root);
      expectError(dsxEventBus(args), new RegExp(`^ERROR: (${root}: ${root} is a system folder|refusing unsafe output root: "${root}")`));
      expect(mode(root)).toBe(before);
    }
  });
});

describe('temp files of killed runs are removed by the next run', () => {
  test('export removes the .<file>.XXXXXX and .<file>.<hex>.tmp files a killed export left (they hold seeds)', () => {
    const out = path.join(tempDir(), 'export');
    expect(dsxEventBus(['export', '-s', store, '-o', out, '1']).status).toBe(0);
    const cscDir = path.join(out, 'dsx-event-bus', 'csc');
    const left = [path.join(cscDir, '.nats-auth-signing.json.0123456789ab.tmp'), path.join(cscDir, '.nats-auth-signing.json.AbC123'), path.join(out, '.export.json.XyZ789')];
    for (const f of left) fs.writeFileSync(f, 'seed-holding leftovers');
    fs.writeFileSync(path.join(out, '.bashrc.backup'), 'not ours');
    expect(dsxEventBus(['export', '-s', store, '-o', out, '1']).status).toBe(0);
    for (const f of left) expect([f, fs.existsSync(f)]).toEqual([f, false]);
    expect(fs.existsSync(path.join(out, '.bashrc.backup'))).toBe(true);
  });

  test('certs removes the .certs.tmp-* staging folder a killed run left (it holds private keys)', () => {
    const out = path.join(tempDir(), 'certs');
    const staging = path.join(out, 'csc', '.certs.tmp-0123456789ab');
    fs.mkdirSync(path.join(staging, 'ca'), { recursive: true, mode: 0o700 });
    fs.chmodSync(out, 0o700);
    fs.writeFileSync(path.join(staging, 'ca', 'ca.key'), 'key');
    const r = dsxEventBus(['certs', '-o', out, 'csc']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.existsSync(staging)).toBe(false);
    // The new set: the fleet CA's key at the root, only its certificate per cluster.
    expect(fs.existsSync(path.join(out, 'ca', 'ca.key'))).toBe(true);
    expect(fs.readdirSync(path.join(out, 'csc', 'certs', 'ca'))).toEqual(['ca.crt']);
  });

  test('certs removes a staging folder a killed run left beside the fleet CA', () => {
    const out = path.join(tempDir(), 'certs');
    const staging = path.join(out, '.certs.tmp-0123456789ab');
    fs.mkdirSync(staging, { recursive: true, mode: 0o700 });
    fs.chmodSync(out, 0o700);
    fs.writeFileSync(path.join(staging, 'ca.key'), 'key');
    const r = dsxEventBus(['certs', '-o', out, 'csc']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.existsSync(staging)).toBe(false);
    expect(fs.existsSync(path.join(out, 'ca', 'ca.key'))).toBe(true);
  });
});

describe('a run with nothing to do writes nothing', () => {
  test('nkeys on a complete upstream-shaped tree leaves no lock folder and the root\'s mtime unchanged', () => {
    const ks = path.join(tempDir(), 'ks');
    expect(dsxEventBus(['nkeys', '-o', ks, '1']).status).toBe(0);
    fs.rmSync(path.join(ks, LOCK), { recursive: true, force: true }); // the upstream script keeps none
    const t = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(ks, t, t);
    const r = dsxEventBus(['nkeys', '-o', ks, '1']);
    expect(r.status).toBe(0);
    expect(fs.readdirSync(ks)).not.toContain(LOCK);
    expect(fs.statSync(ks).mtimeMs).toBe(t.getTime());
  });
});

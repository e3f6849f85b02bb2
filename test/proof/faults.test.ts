/**
 * Faults of the file-writing commands (`synth`, `export`, `certs`, and
 * `nkeys` alongside them), run as real processes of the compiled CLI: an
 * output root the process may not write, an output that is a file, a run
 * killed with SIGKILL and rerun, and paths with spaces and unicode. Each
 * fault ends in one `ERROR:` line naming the path (never a stack, never a
 * seed) and leaves the output exactly as it was.
 *
 * The key store's own fault table (corruption, concurrency, kill -9 at every
 * step, upstream-shaped trees) is in test/cli/nkeys.test.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { readSynthOutput, REPO, tempDir, writeProofReport } from './scenarios';
import { dsxEventBus, ensureBuilt, startDsxEventBus } from '../util/cli';
import { snapshot } from '../util/keytree';
import { validateManifests } from '../util/schema';
import { describeSeeds, findSeeds } from '../util/seeds';
import { waitFor } from '../util/wait';

// Only root can give a process an output root it may not write (as its owner,
// it could chmod the root back); CI runs as root. Elsewhere these are skipped.
const asRoot = process.getuid?.() === 0;
const canDropPrivileges = asRoot || Boolean(process.env.CI);
const NOBODY = { uid: 65534, gid: 65534, cwd: '/' };
const rootTest = (name: string, fn: jest.ProvidesCallback, timeout?: number) => (canDropPrivileges
  ? test(name, fn, timeout)
  : test.skip(`${name} (skipped: needs root to run the CLI as uid 65534 against a root-owned output root)`, fn));

const ACCOUNT = ['--extra-account', 'LaunchLayer'];
let base: string;
let store: string;
/** A copy of the store owned by uid 65534, for its runs: every reader refuses key material of another user (issue 17). */
let nobodyStore: string;
let fleetFile: string;
let faultCases = 0;

/** Recursively hands a tree to uid 65534 (the unprivileged runs must read the key store). */
function chownTree(p: string, uid: number): void {
  fs.chownSync(p, uid, uid);
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid);
}

/** A fresh directory under the suite's base, readable and traversable by everyone, owned by root. */
function dir(name: string): string {
  const d = path.join(base, name);
  fs.mkdirSync(d, { recursive: true, mode: 0o755 });
  fs.chmodSync(d, 0o755);
  return d;
}

/** The command failed with one ERROR line about `about`, no stack and no seed; `root` is unchanged. */
function expectCleanFailure(r: { status: number | null; stdout: string; stderr: string }, about: RegExp): void {
  faultCases++;
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(/^ERROR: /) });
  expect(r.stderr).toMatch(about);
  expect(r.stderr).not.toMatch(/unexpected failure|\n\s+at /);
  const seeds = findSeeds(r.stdout + r.stderr);
  if (seeds.length) throw new Error(`output holds seeds: ${describeSeeds(seeds)}`);
}

function synthArgs(out: string, secrets = store, file = fleetFile): string[] {
  return ['synth', '-c', file, '--secrets', secrets, '-o', out];
}

beforeAll(() => {
  ensureBuilt();
  base = tempDir('dsx-proof-faults-');
  fs.chmodSync(base, 0o755);
  store = path.join(base, 'secrets');
  const r = dsxEventBus(['nkeys', '-o', store, ...ACCOUNT, '1', '2']);
  if (r.status !== 0) throw new Error(`nkeys failed: ${r.stderr}`);
  fleetFile = path.join(dir('config'), 'fleet.yaml');
  fs.copyFileSync(path.join(REPO, 'examples', 'fleet.yaml'), fleetFile);
  fs.chmodSync(fleetFile, 0o644);
  // One synthesis first, so the fleet CA it makes in the store is in the copy too (both users' runs render the same output).
  const first = dsxEventBus(synthArgs(dir('first-synth')));
  if (first.status !== 0) throw new Error(`synth failed: ${first.stderr}`);
  nobodyStore = path.join(base, 'secrets-65534');
  fs.cpSync(store, nobodyStore, { recursive: true });
  if (asRoot) chownTree(nobodyStore, 65534);
}, 240_000);

afterAll(() => {
  if (base) fs.rmSync(base, { recursive: true, force: true });
  writeProofReport('faults', { cases: faultCases });
});

describe('an output root the process may not write', () => {
  rootTest('synth: fails with one ERROR line and writes nothing (empty root)', () => {
    const out = dir('ro-synth-empty');
    const before = snapshot(out);
    expectCleanFailure(dsxEventBus(synthArgs(out, nobodyStore), NOBODY), new RegExp(`${out}.*(permission denied|EACCES)`));
    expect(snapshot(out)).toEqual(before);
  });

  rootTest('synth: leaves an earlier synthesis in a read-only root exactly as it was', () => {
    const out = dir('ro-synth-earlier');
    expect(dsxEventBus(synthArgs(out)).status).toBe(0);
    const before = snapshot(out);
    expectCleanFailure(dsxEventBus(synthArgs(out, nobodyStore), NOBODY), /permission denied|EACCES/);
    expect(snapshot(out)).toEqual(before);
  });

  rootTest('synth: when one cluster folder is read-only, no cluster is rewritten (never a half-new fleet)', () => {
    const out = dir('ro-synth-one-cluster');
    expect(dsxEventBus(synthArgs(out)).status).toBe(0);
    chownTree(out, 65534);
    chownTree(path.join(out, 'cpc-2'), 0); // root's: read-only for uid 65534
    const before = snapshot(out);
    expectCleanFailure(dsxEventBus(synthArgs(out, nobodyStore), NOBODY), new RegExp(`${path.join(out, 'cpc-2')}.*(permission denied|EACCES)`));
    expect(snapshot(out)).toEqual(before);
  });

  rootTest('export: fails with one ERROR line and writes nothing', () => {
    const out = dir('ro-export');
    const before = snapshot(out);
    expectCleanFailure(dsxEventBus(['export', '-s', nobodyStore, ...ACCOUNT, '-o', out, '1', '2'], NOBODY), new RegExp(`${out}.*(permission denied|EACCES|EPERM)`));
    expect(snapshot(out)).toEqual(before);
  });

  rootTest('certs: fails with one ERROR line and writes nothing', () => {
    const out = dir('ro-certs');
    const before = snapshot(out);
    expectCleanFailure(dsxEventBus(['certs', '-o', out, 'csc', 'cpc-1'], NOBODY), new RegExp(`${out}.*(permission denied|EACCES|EPERM)`));
    expect(snapshot(out)).toEqual(before);
  });

  rootTest('nkeys: fails with one ERROR line and writes nothing', () => {
    const out = dir('ro-nkeys');
    const before = snapshot(out);
    expectCleanFailure(dsxEventBus(['nkeys', '-o', out, '1'], NOBODY), new RegExp(`${out}.*(permission denied|EACCES|EPERM)`));
    expect(snapshot(out)).toEqual(before);
  });
});

describe('an output path that is a regular file', () => {
  test.each([
    ['synth', (f: string) => synthArgs(f)],
    ['export', (f: string) => ['export', '-s', store, ...ACCOUNT, '-o', f, '1', '2']],
    ['certs', (f: string) => ['certs', '-o', f, 'csc']],
  ])('%s: fails with one ERROR line and leaves the file alone', (_name, args) => {
    const file = path.join(dir('files'), `${_name}.out`);
    fs.writeFileSync(file, 'keep me');
    expectCleanFailure(dsxEventBus(args(file)), new RegExp(`${file}.*(not a directory|ENOTDIR|EEXIST|file already exists)`, 'i'));
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
  });
});

describe('kill -9 during synth, then a rerun', () => {
  test('the rerun writes exactly what an uninterrupted run writes', async () => {
    const clean = dir('synth-clean');
    expect(dsxEventBus(synthArgs(clean)).status).toBe(0);
    const expected = contentOf(clean);
    const total = Object.keys(expected).length;
    // Kill when the run has visibly changed the first entry, a quarter, half
    // and 85 % as many entries as the output holds (below the output folder
    // or beside it, where a staging folder may go): moments picked by what
    // the run has done on disk, not by time. A bounded poll watches.
    let killedMidRun = 0;
    for (const share of [0, 0.25, 0.5, 0.85]) {
      const out = dir(`synth-killed-${share}`);
      fs.cpSync(clean, out, { recursive: true }); // an earlier synthesis to be overwritten (the same output: copied, not rerun)
      expect(contentOf(out)).toEqual(expected);
      const before = { ...stamps(out), ...stamps(path.dirname(out), 1) };
      const changed = () => {
        const now = { ...stamps(out), ...stamps(path.dirname(out), 1) };
        return new Set([...Object.keys(before), ...Object.keys(now)]).size
          - Object.keys(before).filter((p) => now[p] === before[p]).length;
      };
      const run = startDsxEventBus(synthArgs(out));
      let ended = false;
      void run.done.then(() => { ended = true; });
      await waitFor(`synth to change ${Math.max(1, Math.round(share * total))} entries (or end)`,
        () => ended || changed() >= Math.max(1, Math.round(share * total)), { intervalMs: 1, timeoutMs: 60_000 });
      run.child.kill('SIGKILL');
      if ((await run.done).signal === 'SIGKILL') killedMidRun++;
      const rerun = dsxEventBus(synthArgs(out));
      // The rerun may say that it completed the swap of the killed run (see src/files/output-tree.ts).
      expect({ share, status: rerun.status, stderr: rerun.stderr.replace(/^completed the output swap of an interrupted run .*\n/m, '') }).toEqual({ share, status: 0, stderr: '' });
      expect(contentOf(out)).toEqual(expected);
      faultCases++;
    }
    expect(killedMidRun).toBeGreaterThanOrEqual(1);
  }, 120_000);
});

/** Type, size and mtime of every entry below `root` (to `depth` levels), keyed by absolute path. */
function stamps(root: string, depth = Infinity): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (folder: string, level: number) => {
    let names: string[];
    try {
      names = fs.readdirSync(folder);
    } catch {
      return; // removed meanwhile
    }
    for (const n of names) {
      const p = path.join(folder, n);
      try {
        const st = fs.lstatSync(p);
        out[p] = `${st.isDirectory() ? 'd' : 'f'} ${st.size} ${st.mtimeMs} ${st.ino}`;
        if (st.isDirectory() && level < depth) walk(p, level + 1);
      } catch { /* removed meanwhile */ }
    }
  };
  walk(root, 1);
  return out;
}

/** File contents and modes below `root` (mtimes differ between runs by design). */
function contentOf(root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshot(root)).filter(([p]) => p !== '').map(([p, e]) => [p, `${e.type} ${e.mode} ${e.sha256 ?? ''}`]));
}

describe('paths with spaces and unicode', () => {
  test('synth, export and certs work end to end below "my dir/ключи ✓ 🔑"', () => {
    const root = path.join(dir('awkward'), 'my dir', 'ключи ✓ 🔑');
    fs.mkdirSync(root, { recursive: true });
    const secrets = path.join(root, 'key store');
    expect(dsxEventBus(['nkeys', '-o', secrets, ...ACCOUNT, '1', '2']).status).toBe(0);
    const file = path.join(root, 'fleet file.yaml');
    fs.copyFileSync(fleetFile, file);

    const out = path.join(root, 'dist out');
    const synth = dsxEventBus(synthArgs(out, secrets, file));
    expect({ status: synth.status, stderr: synth.stderr }).toEqual({ status: 0, stderr: '' });
    expect(synth.stdout).toContain(`-> ${path.join(out, 'csc')}\n`);
    const written = readSynthOutput(out);
    expect(Object.keys(written.values).sort()).toEqual(['cpc-1', 'cpc-2', 'csc']);
    expect(validateManifests(written.objects)).toBeGreaterThan(0);

    const exported = path.join(root, 'export ✓');
    const exp = dsxEventBus(['export', '-s', secrets, ...ACCOUNT, '--format', 'env', '-o', exported, '1', '2']);
    expect({ status: exp.status, stderr: exp.stderr }).toEqual({ status: 0, stderr: '' });
    const env = fs.readFileSync(path.join(exported, 'dsx-event-bus', 'cpc-2', 'nats-leaf-launchlayer-csc.env'), 'utf8');
    expect(/^seed=SU[A-Z2-7]{56}\n$/.test(env)).toBe(true); // not printed on failure: it is a seed

    const certs = path.join(root, 'certs 🔐');
    const c = dsxEventBus(['certs', '-o', certs, '--host', 'csc=csc.example.com', 'csc', 'cpc-1']);
    expect({ status: c.status, stderr: c.stderr }).toEqual({ status: 0, stderr: '' });
    expect(fs.existsSync(path.join(certs, 'cpc-1', 'certs', 'nats-mtls-server-tls', 'tls.key'))).toBe(true);
    expect(YAML.parse(fs.readFileSync(path.join(out, 'cpc-1', 'values.event-bus.yaml'), 'utf8')).global.eventBus.clusterId).toBe('1');
    faultCases += 3;
  }, 120_000);
});

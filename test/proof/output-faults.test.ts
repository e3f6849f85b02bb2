/**
 * `synth` is all-or-nothing and exclusive, proven with real processes of the
 * compiled CLI on a 1 CSC + 40 CPC fleet (857 files):
 *
 * - kill -9 at random steps of the write (the CLI kills itself with
 *   SIGKILL at step n: `DSX_EVENT_BUS_SYNTH_CRASH_AFTER`, chosen at random
 *   over the steps of a counted run, a third of them in the swap): 30 in CI
 *   (.ci/run sets FAULT_POINTS=30), 12 in a plain `npm test`, which must stay
 *   under 5 minutes on 2 cores; plus kill -9 from outside at random moments
 *   of a measured run;
 * - two runs at once on one output folder;
 * - a full disk (a small tmpfs mounted in a private mount namespace).
 *
 * Every time, each cluster folder is its complete old or complete new
 * version, and after the recovery rule (src/files/output-tree.ts, applied by
 * the next run) the whole folder is the complete old or the complete new
 * output, compared by paths, modes and sha256 with reference runs. The old
 * output holds files of the user's (one in a cluster that stays, one in a
 * cluster the new fleet removes), which must survive.
 */
import { spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir, writeProofReport } from './scenarios';
import { dsxEventBus, ensureBuilt, MAIN, REPO, startDsxEventBus } from '../util/cli';

const CRASH_ENV = 'DSX_EVENT_BUS_SYNTH_CRASH_AFTER';
const LOCK = '.dsx-event-bus.lock';
const RECORD = '.dsx-event-bus-output.json';
const JOURNAL = '.dsx-event-bus-output.swap.json';
const CPCS = 40;
/** Kill points of the self-kill test: a third in the swap (FAULT_POINTS, at least 3). */
const POINTS = Math.max(3, Number(process.env.FAULT_POINTS ?? 12));

let base: string;
let store: string;
let fleetA: string;
let fleetB: string;
let oldTree: string;
let expectedOld: Tree;
let expectedNew: Tree;
const report = { killed: 0, killedOld: 0, killedNew: 0, externalKills: 0, concurrent: 0, diskFull: 0, diskFullSkipped: '' as string, seed: 0 };

type Tree = Record<string, string>;

/**
 * The record as this test compares it: its file hashes, without the
 * renderOnlyChanged entries (`inputs`): their digests cover the key store,
 * which fleet B's run extends (CPC 41's keys), so fleet A's digests after
 * it differ from before it; test/charts/render-only-changed.test.ts checks
 * what they decide.
 */
function recordWithoutInputs(rel: string, bytes: Buffer): Buffer | string {
  if (rel !== RECORD) return bytes;
  const r = JSON.parse(bytes.toString('utf8'));
  delete r.inputs;
  return JSON.stringify(r);
}

/** Paths, types, modes and content hashes below `root` (the lock folder left out: it is the lock's). */
function treeOf(root: string): Tree {
  const out: Tree = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === LOCK) continue;
      const st = fs.lstatSync(path.join(root, r));
      const mode = (st.mode % 0o10000).toString(8);
      if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(r);
      } else {
        out[r] = `${st.isFile() ? 'file' : 'other'} ${mode} ${st.isFile() ? crypto.createHash('sha256').update(recordWithoutInputs(r, fs.readFileSync(path.join(root, r)))).digest('hex') : ''}`;
      }
    }
  };
  walk('');
  return out;
}

function clusterPart(tree: Tree, cluster: string): Tree {
  return Object.fromEntries(Object.entries(tree).filter(([p]) => p === cluster || p.startsWith(`${cluster}/`)));
}

const clusterNames = (tree: Tree) => Object.keys(tree).filter((p) => /^(csc|cpc-[a-z0-9]+)$/.test(p));

/** Each cluster folder is its complete old or new version (missing only mid-swap, or when the new output has none). */
function expectEachClusterOldOrNew(out: string, label: string): void {
  const now = treeOf(out);
  const midSwap = fs.existsSync(path.join(out, JOURNAL));
  for (const c of new Set([...clusterNames(expectedOld), ...clusterNames(expectedNew)])) {
    const have = clusterPart(now, c);
    const old = clusterPart(expectedOld, c);
    const fresh = clusterPart(expectedNew, c);
    const ok = (Object.keys(have).length === 0 && (midSwap || Object.keys(fresh).length === 0))
      || isEqual(have, old) || isEqual(have, fresh);
    if (!ok) throw new Error(`${label}: ${c} is neither its old nor its new version: ${describeDiff(have, old, fresh)}`);
  }
}

function isEqual(a: Tree, b: Tree): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function describeDiff(have: Tree, old: Tree, fresh: Tree): string {
  const diff = (x: Tree, y: Tree) => [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => x[k] !== y[k]).slice(0, 4).join(', ');
  return `vs old: ${diff(have, old)}; vs new: ${diff(have, fresh)}`;
}

/** The whole output is the complete old or the complete new one. */
function wholeOldOrNew(out: string, label: string): 'old' | 'new' {
  const now = treeOf(out);
  if (isEqual(now, expectedOld)) return 'old';
  if (isEqual(now, expectedNew)) return 'new';
  throw new Error(`${label}: the output is neither the complete old nor the complete new one: ${describeDiff(now, expectedOld, expectedNew)}`);
}

/** The recovery rule, as the next run applies it (the compiled code, in this process). */
function recover(out: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { recoverOutput } = require(path.join(REPO, 'lib', 'files', 'output-tree.js'));
  recoverOutput(out);
}

function copyOld(name: string): string {
  const dest = path.join(base, name);
  const r = spawnSync('cp', ['-a', oldTree, dest]);
  if (r.status !== 0) throw new Error(`cp failed: ${r.stderr}`);
  return dest;
}

function fleetYaml(namespace: string, cpcIds: string[]): string {
  return [
    `namespace: ${namespace}`,
    'mtls: true',
    'extraAccounts: [LaunchLayer]',
    `keys: { directory: ${JSON.stringify(store)}, generateMissing: true }`,
    'delivery: { type: inline }',
    'certificates: { selfSigned: true }',
    'cscTrust: { configMapName: csc-gateway-ca }',
    'clusters:',
    '  - type: csc',
    '    gateway: { hostnames: [csc.example.com] }',
    ...cpcIds.map((id) => `  - type: cpc\n    id: "${id}"\n    gateway: { hostnames: [cpc-${id}.example.com] }`),
  ].join('\n') + '\n';
}

const synthArgs = (fleet: string, out: string) => ['synth', '-c', fleet, '-o', out];

/** A small deterministic generator (a Park-Miller LCG; the seed is printed and reported). */
function rng(seed: number): () => number {
  let state = (seed % 2147483646) + 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

/** Runs `jobs` with at most `n` at a time. */
async function pool<T>(n: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }));
  return results;
}

beforeAll(() => {
  ensureBuilt();
  base = tempDir('dsx-output-faults-');
  store = path.join(base, 'secrets');
  const ids = Array.from({ length: CPCS }, (_, i) => String(i + 1));
  fleetA = path.join(base, 'fleet-a.yaml');
  fs.writeFileSync(fleetA, fleetYaml('dsx', ids));
  // The new fleet: another namespace, CPCs 39 and 40 removed, CPC 41 added.
  fleetB = path.join(base, 'fleet-b.yaml');
  fs.writeFileSync(fleetB, fleetYaml('dsx-b', [...ids.slice(0, CPCS - 2), String(CPCS + 1)]));

  oldTree = path.join(base, 'old');
  const a = dsxEventBus(synthArgs(fleetA, oldTree), { timeout: 120_000 });
  if (a.status !== 0) throw new Error(`synth A failed: ${a.stderr}`);
  fs.writeFileSync(path.join(oldTree, 'cpc-1', 'manifests', 'NetworkPolicy.mine.yaml'), 'kind: NetworkPolicy\n');
  fs.writeFileSync(path.join(oldTree, `cpc-${CPCS}`, 'kustomization.yaml'), 'resources: []\n');
  expectedOld = treeOf(oldTree);

  const ref = copyOld('reference-new');
  const b = dsxEventBus(synthArgs(fleetB, ref), { timeout: 120_000 });
  if (b.status !== 0) throw new Error(`synth B failed: ${b.stderr}`);
  expectedNew = treeOf(ref);
}, 240_000);

afterAll(() => {
  if (base) fs.rmSync(base, { recursive: true, force: true });
  writeProofReport('output', report);
});

describe('reference runs', () => {
  test('the new output keeps the user\'s files, removes only synth\'s, and differs from the old one everywhere', () => {
    expect(expectedNew['cpc-1/manifests/NetworkPolicy.mine.yaml']).toBe(expectedOld['cpc-1/manifests/NetworkPolicy.mine.yaml']);
    expect(clusterPart(expectedNew, `cpc-${CPCS}`)).toEqual({ [`cpc-${CPCS}`]: expect.stringMatching(/^dir /), [`cpc-${CPCS}/kustomization.yaml`]: expectedOld[`cpc-${CPCS}/kustomization.yaml`] });
    expect(clusterPart(expectedNew, `cpc-${CPCS - 1}`)).toEqual({});
    expect(Object.keys(clusterPart(expectedNew, `cpc-${CPCS + 1}`)).length).toBeGreaterThan(10);
    for (const c of clusterNames(expectedNew).filter((n) => n !== `cpc-${CPCS}`)) {
      expect(isEqual(clusterPart(expectedNew, c), clusterPart(expectedOld, c))).toBe(false);
    }
    // Inline Secrets hold seeds: 600 in a 700 folder; everything else 644 / 755.
    expect(expectedNew['csc/manifests']).toMatch(/^dir 700$/);
    expect(expectedNew['csc/manifests/Secret.dsx-b.nats-auth-signing.k8s.yaml']).toMatch(/^file 600 /);
    expect(expectedNew['csc/values.event-bus.yaml']).toMatch(/^file 644 /);
    expect(expectedNew.csc).toBe('dir 755');
  });
});

describe('kill -9 during synth', () => {
  test(`at ${POINTS} random steps (30 in CI): each cluster folder is old or new, and after recovery the whole output is`, async () => {
    const counted = copyOld('count');
    const c = dsxEventBus(synthArgs(fleetB, counted), { env: { ...process.env, [CRASH_ENV]: 'count' }, timeout: 120_000 });
    const m = /dsx-event-bus synth steps: (\d+) \(swap from step (\d+)\)/.exec(c.stderr);
    expect({ status: c.status, counted: Boolean(m) }).toEqual({ status: 0, counted: true });
    const steps = Number(m![1]);
    const swapFrom = Number(m![2]);
    expect(steps).toBeGreaterThan(800);
    report.seed = Number(process.env.DSX_FAULT_SEED ?? Date.now() % 1_000_000);
    const random = rng(report.seed);
    // Two thirds anywhere in the run, one third in the swap (a few dozen steps of ~950).
    const inSwap = Math.round(POINTS / 3);
    const points = [
      ...Array.from({ length: POINTS - inSwap }, () => 1 + Math.floor(random() * steps)),
      ...Array.from({ length: inSwap }, () => swapFrom + Math.floor(random() * (steps - swapFrom + 1))),
    ];
    process.stdout.write(`kill -9 points (seed ${report.seed}, ${steps} steps, swap from ${swapFrom}): ${points.join(' ')}\n`);
    const outcomes = await pool(2, points.map((point, i) => async () => {
      const out = copyOld(`killed-${i}`);
      const run = startDsxEventBus(synthArgs(fleetB, out), { [CRASH_ENV]: String(point) });
      const r = await run.done;
      expect({ point, signal: r.signal, stderr: r.stderr }).toEqual({ point, signal: 'SIGKILL', stderr: '' });
      expectEachClusterOldOrNew(out, `killed at step ${point}`);
      recover(out);
      const state = wholeOldOrNew(out, `killed at step ${point}, recovered`);
      fs.rmSync(out, { recursive: true, force: true });
      return state;
    }));
    report.killed += points.length;
    report.killedOld += outcomes.filter((o) => o === 'old').length;
    report.killedNew += outcomes.filter((o) => o === 'new').length;
    // Kills before the journal leave the old output, kills after it the new one: both happen.
    expect(outcomes).toContain('old');
    expect(outcomes).toContain('new');
  }, 600_000); // ~20 s on an idle 2-core machine; the bound allows for a loaded one

  test('from outside, at random moments of a measured run, then the next synth completes the output', async () => {
    const timed = copyOld('timed');
    const t0 = Date.now();
    const full = await startDsxEventBus(synthArgs(fleetB, timed)).done;
    const duration = Date.now() - t0;
    expect(full.status).toBe(0);
    const random = rng(report.seed + 1);
    for (let i = 0; i < 3; i++) {
      const out = copyOld(`external-${i}`);
      const run = startDsxEventBus(synthArgs(fleetB, out));
      const delay = Math.round((0.4 + 0.6 * random()) * duration);
      const timer = setTimeout(() => run.child.kill('SIGKILL'), delay);
      await run.done; // the exit, whenever the kill landed
      clearTimeout(timer);
      expectEachClusterOldOrNew(out, `killed after ${delay} ms`);
      if (i === 0) {
        // The next synth applies the recovery rule itself, then writes the new output.
        const rerun = dsxEventBus(synthArgs(fleetB, out), { timeout: 120_000 });
        expect({ status: rerun.status, stderr: rerun.stderr.replace(/^(removed|kept|completed) .*\n/gm, '') }).toEqual({ status: 0, stderr: '' });
        expect(wholeOldOrNew(out, `killed after ${delay} ms, rerun`)).toBe('new');
      } else {
        recover(out);
        wholeOldOrNew(out, `killed after ${delay} ms, recovered`);
      }
      fs.rmSync(out, { recursive: true, force: true });
      report.externalKills++;
    }
  }, 600_000);
});

describe('two synth runs at once on one output folder', () => {
  test('they take turns: both succeed and the output is one complete fleet, never a mix', async () => {
    for (let round = 0; round < 2; round++) {
      const out = copyOld(`concurrent-${round}`);
      const [a, b] = await Promise.all([startDsxEventBus(synthArgs(fleetA, out)).done, startDsxEventBus(synthArgs(fleetB, out)).done]);
      expect({ a: a.status, b: b.status }).toEqual({ a: 0, b: 0 });
      expect(wholeOldOrNew(out, `concurrent round ${round}`)).toMatch(/^(old|new)$/);
      expect(fs.readdirSync(path.join(out, LOCK))).toEqual([]);
      fs.rmSync(out, { recursive: true, force: true });
      report.concurrent++;
    }
  }, 600_000);
});

/** Whether this process may mount a tmpfs in a private mount namespace (root on Linux with unshare). */
function tmpfsProbe(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  const probe = path.join(tempDir('dsx-tmpfs-probe-'));
  try {
    const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs "${probe}" && umount "${probe}"`], { encoding: 'utf8' });
    if (r.error) return `unshare is not available (${r.error.message})`;
    return r.status === 0 ? undefined : `cannot mount a tmpfs in a private mount namespace (${r.stderr.trim() || `exit ${r.status}`})`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

const DISK_FULL_SCRIPT = `set -u
m="$1"; old="$2"; res="$3"; free_kb="$4"; fleet="$5"
mount -t tmpfs -o size=64m tmpfs "$m" || exit 90
cp -a "$old" "$m/out" || exit 91
avail=$(df -k --output=avail "$m" | tail -1)
fill=$((avail - free_kb))
if [ "$fill" -gt 0 ]; then dd if=/dev/zero of="$m/filler" bs=1k count="$fill" status=none 2>/dev/null; fi
"$NODE" "$MAIN" synth -c "$fleet" -o "$m/out" >"$res/stdout" 2>"$res/stderr"; echo $? >"$res/rc"
cp -a "$m/out" "$res/after" || exit 92
rm -f "$m/filler"
"$NODE" "$MAIN" synth -c "$fleet" -o "$m/out" >"$res/stdout2" 2>"$res/stderr2"; echo $? >"$res/rc2"
cp -a "$m/out" "$res/after2" || exit 93
`;

describe('a full disk (ENOSPC)', () => {
  const reason = tmpfsProbe();
  if (reason) report.diskFullSkipped = reason;
  const diskTest = reason ? test.skip : test;
  diskTest(`${reason ? `(skipped: ${reason}) ` : ''}at several fill levels: one ERROR line naming the path, the old output intact, the next run completes`, async () => {
    const script = path.join(base, 'disk-full.sh');
    fs.writeFileSync(script, DISK_FULL_SCRIPT);
    // Free space from none (the lock cannot be taken) to most of what the new output needs (~3.5 MB on tmpfs).
    const levels = [0, 256, 2048, 3072];
    await pool(2, levels.map((freeKb) => async () => {
      const mnt = path.join(base, `mnt-${freeKb}`);
      const res = path.join(base, `res-${freeKb}`);
      fs.mkdirSync(mnt);
      fs.mkdirSync(res);
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn('unshare', ['-m', 'sh', script, mnt, oldTree, res, String(freeKb), fleetB], {
          env: { ...process.env, NODE: process.execPath, MAIN }, stdio: 'ignore',
        });
        child.on('close', resolve);
      });
      expect({ freeKb, code }).toEqual({ freeKb, code: 0 });
      const stderr = fs.readFileSync(path.join(res, 'stderr'), 'utf8');
      expect({ freeKb, rc: fs.readFileSync(path.join(res, 'rc'), 'utf8').trim() }).toEqual({ freeKb, rc: '1' });
      expect(stderr).toMatch(new RegExp(`^ERROR: ${mnt}/out[^\\n]*(ENOSPC|no space left)`, 'i'));
      expect(stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(wholeOldOrNew(path.join(res, 'after'), `disk full with ${freeKb} KB free`)).toBe('old');
      expect({ freeKb, rc2: fs.readFileSync(path.join(res, 'rc2'), 'utf8').trim() }).toEqual({ freeKb, rc2: '0' });
      expect(wholeOldOrNew(path.join(res, 'after2'), `rerun after freeing space (${freeKb} KB)`)).toBe('new');
      report.diskFull++;
    }));
  }, 600_000);
});

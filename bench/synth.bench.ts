/**
 * Fleet synthesis as a whole: an EventBusFleet (1 CSC + N CPCs, LaunchLayer
 * extra account, mTLS, TLS gateway, inline Secrets from the deterministic
 * store) in an EventBusApp, written by `app.synthOutput()` (what `cdk8s
 * synth` and `dsx-event-bus synth` run) in a fresh node process per run
 * (compiled lib/), for N = 10, 100, 1000.
 *
 * Absolute times on a shared disk vary several-fold from hour to hour, so the
 * 1+1000 figure is set beside a floor measured in the same minute: `tar -x`
 * of the very same output tree followed by `sync` (creating those files and
 * making them durable, with no work of ours). The two are interleaved (ours,
 * floor, ours, floor, ...) and each is taken as the best of 5, so a burst of
 * load on this shared machine does not decide the ratio.
 *
 * Goals (issue 12): 1+1000 <= 2x the floor; 1+1000 <= 11x the 1+100 time;
 * peak RSS <= 300 MiB; a rerun with nothing changed rewrites no file.
 *
 * Issue 20 (EventBusAppProps.renderOnlyChanged, which `dsx-event-bus synth`
 * sets): on the 1+1000 output, a rerun with nothing changed and adding one
 * CPC, each rendering only what changed, timed beside the same floor. The
 * issue measured 5.9 s for the rerun rendering everything and set 1 s and
 * 1.5 s as goals; absolute times here move with the load, so the goals are
 * kept as ratios to the full-render rerun of this same run (<= 1/5.9 and
 * <= 1.5/5.9 of it) and every figure is also given against the floor.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './run';

const ROOT = path.join(__dirname, '..');

const CHILD = `
const t0 = process.hrtime.bigint();
const lib = require(${JSON.stringify(path.join(ROOT, 'lib', 'index.js'))});
const n = Number(process.argv[1]);
const out = process.argv[2];
const app = new lib.EventBusApp({ outdir: out, renderOnlyChanged: process.argv[3] === 'only-changed' });
new lib.EventBusFleet(app, 'fleet', {
  keys: new lib.testing.DeterministicKeyStore(),
  delivery: lib.SecretsDelivery.inline({ allowTestKeys: true }),
  extraAccounts: ['LaunchLayer'],
  certificates: lib.ClusterCertificates.issuer(lib.CertificateIssuer.fromIssuerName('event-bus-certificate-issuer')),
  csc: { gateway: { hostnames: ['csc.example.com'] } },
  cpcs: Array.from({ length: n }, (_, i) => ({ id: String(i + 1), gateway: { hostnames: ['cpc-' + (i + 1) + '.example.com'] } })),
});
const r = app.synthOutput();
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(JSON.stringify({ ms, objects: r.objects, files: r.files, changed: r.changed, rendered: r.clustersRendered, maxRssKiB: process.resourceUsage().maxRSS }));
`;

interface Run {
  readonly inProcess: number;
  readonly wall: number;
  readonly objects: number;
  readonly files: number;
  readonly changed: boolean;
  readonly rendered: number;
  readonly rssMiB: number;
}

/**
 * `sync` before each timed run (not timed): the files an earlier run removed
 * (`rm -rf` of 18,000 files) are otherwise flushed during the next timed
 * run, by its own sync, whichever side that is.
 */
function settle(): void {
  spawnSync('sync');
}

function synth(n: number, out: string, onlyChanged = false): Run {
  settle();
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', CHILD, String(n), out, onlyChanged ? 'only-changed' : 'all'], { encoding: 'utf8', maxBuffer: 1048576 });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`synth of 1+${n} failed: ${r.stderr}`);
  const j = JSON.parse(r.stdout);
  return { inProcess: j.ms, wall, objects: j.objects, files: j.files, changed: j.changed, rendered: j.rendered, rssMiB: j.maxRssKiB / 1024 };
}

/** Into a fresh folder, removed afterwards. */
function synthFresh(n: number): Run {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-synth-bench-'));
  try {
    return synth(n, out);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Every file of a tree with its bytes and mtime. */
function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]) {
    const st = fs.lstatSync(path.join(dir, f));
    if (st.isFile()) m.set(f, `${st.mtimeMs} ${fs.readFileSync(path.join(dir, f), 'utf8')}`);
  }
  return m;
}

/** `tar -x` + `sync` of the tree in `archive`, timed (ms). */
function floorOnce(archive: string): number {
  const to = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-synth-floor-'));
  try {
    settle();
    const t = process.hrtime.bigint();
    const r = spawnSync('sh', ['-c', 'tar -xf "$1" -C "$2" && sync', 'floor', archive, to], { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`tar -x failed: ${r.stderr}`);
    return ms;
  } finally {
    fs.rmSync(to, { recursive: true, force: true });
  }
}

function fastest(runs: Run[]): Run {
  return [...runs].sort((a, b) => a.wall - b.wall)[0];
}

/** Runs of ours and of the floor, interleaved. */
const PAIRS = 5;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const results = new Map<number, Run>();
  for (const [n, repeats] of [[10, 5], [100, 5]] as const) {
    const r = fastest(Array.from({ length: repeats }, () => synthFresh(n)));
    results.set(n, r);
    rows.push({ name: `synth 1+${n}: process wall (best of ${repeats})`, value: seconds(r.wall) });
    rows.push({ name: `synth 1+${n}: objects / files`, value: `${r.objects} / ${r.files}` });
  }

  // 1+1000 and the floor, interleaved (ours, floor, ours, floor, ...) so both
  // see the same disk and load; best of 3 each (the least disturbed run).
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-synth-bench-'));
  try {
    const archive = path.join(work, 'tree.tar');
    const runs: Run[] = [];
    const floors: number[] = [];
    const load0 = os.loadavg()[0];
    for (let i = 0; i < PAIRS; i++) {
      const out = path.join(work, `out-${i}`);
      runs.push(synth(1000, out));
      if (i === 0) {
        const tar = spawnSync('tar', ['-cf', archive, '-C', out, '.'], { encoding: 'utf8' });
        if (tar.status !== 0) throw new Error(`tar -c failed: ${tar.stderr}`);
      }
      floors.push(floorOnce(archive));
      if (i > 0) fs.rmSync(out, { recursive: true, force: true });
    }
    const best = fastest(runs);
    const floor = Math.min(...floors);
    results.set(1000, best);
    const ratio = best.wall / floor;
    rows.push({ name: 'load average (1 min) before / after', value: `${load0.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}` });
    rows.push({ name: `synth 1+1000: process wall (best of ${PAIRS})`, value: seconds(best.wall) });
    rows.push({ name: `synth 1+1000: all ${PAIRS} runs`, value: runs.map((r) => (r.wall / 1000).toFixed(2)).join(' ') });
    rows.push({ name: 'synth 1+1000: in-process (build+validate+render+write)', value: seconds(best.inProcess) });
    rows.push({ name: `floor: tar -x + sync, same tree (best of ${PAIRS})`, value: seconds(floor) });
    rows.push({ name: `floor: all ${PAIRS} runs (interleaved with ours)`, value: floors.map((f) => (f / 1000).toFixed(2)).join(' ') });
    const pairRatios = runs.map((r, i) => r.wall / floors[i]).sort((a, b) => a - b);
    rows.push({ name: 'synth 1+1000 / floor, median of the pairs', value: `${pairRatios[Math.floor(PAIRS / 2)].toFixed(2)}x` });
    rows.push({ name: 'synth 1+1000 / floor (best / best)', value: `${ratio.toFixed(2)}x`, goal: '<= 2x', ok: ratio <= 2 });
    const big = best;
    rows.push({ name: 'synth 1+1000: objects / files', value: `${big.objects} / ${big.files}` });
    rows.push({ name: 'synth 1+1000: peak RSS', value: `${big.rssMiB.toFixed(0)} MiB`, goal: '<= 300 MiB', ok: big.rssMiB <= 300 });

    // A rerun with nothing changed: no file rewritten (same bytes, same mtime).
    const first = path.join(work, 'out-0');
    const before = snapshot(first);
    const again = synth(1000, first);
    const after = snapshot(first);
    const rewritten = [...before].filter(([f, v]) => after.get(f) !== v).length + [...after.keys()].filter((f) => !before.has(f)).length;
    rows.push({ name: 'synth 1+1000 rerun, nothing changed: wall', value: seconds(again.wall) });
    rows.push({ name: 'synth 1+1000 rerun: files rewritten', value: `${rewritten}${again.changed ? ' (changed)' : ''}`, goal: '0', ok: rewritten === 0 && !again.changed });

    // renderOnlyChanged: a first run records the inputs, then (best of 3
    // each, every run beside a floor run) an unchanged rerun and adding one CPC.
    const only = path.join(work, 'only');
    synth(1000, only, true);
    const unchanged: Run[] = [];
    const added: Run[] = [];
    const floors2: number[] = [];
    for (let i = 0; i < 3; i++) {
      unchanged.push(synth(1000, only, true));
      floors2.push(floorOnce(archive));
      added.push(synth(1001, only, true));
      floors2.push(floorOnce(archive));
      synth(1000, only, true); // back to 1+1000 (renders the CSC; the CPC's folder goes)
    }
    const floor2 = Math.min(...floors2);
    const u = fastest(unchanged);
    const a = fastest(added);
    rows.push({ name: 'renderOnlyChanged: floor of these runs (best of 6)', value: seconds(floor2) });
    rows.push({ name: 'renderOnlyChanged 1+1000 rerun, nothing changed: wall (best of 3)', value: `${seconds(u.wall)}, ${u.rendered} clusters rendered` });
    rows.push({ name: 'renderOnlyChanged 1+1000 rerun / floor', value: `${(u.wall / floor2).toFixed(2)}x` });
    rows.push({
      name: 'renderOnlyChanged 1+1000 rerun / full-render rerun',
      value: `${(u.wall / again.wall).toFixed(2)}`,
      goal: `<= ${(1 / 5.9).toFixed(2)} (1 s of 5.9 s)`,
      ok: u.rendered === 0 && !u.changed && u.wall / again.wall <= 1 / 5.9,
    });
    rows.push({ name: 'renderOnlyChanged 1+1000 -> 1+1001 (one CPC added): wall (best of 3)', value: `${seconds(a.wall)}, ${a.rendered} clusters rendered` });
    rows.push({ name: 'renderOnlyChanged add one CPC / floor', value: `${(a.wall / floor2).toFixed(2)}x` });
    rows.push({
      name: 'renderOnlyChanged add one CPC / full-render rerun',
      value: `${(a.wall / again.wall).toFixed(2)}`,
      goal: `<= ${(1.5 / 5.9).toFixed(2)} (1.5 s of 5.9 s)`,
      ok: a.rendered === 2 && a.wall / again.wall <= 1.5 / 5.9,
    });
    rows.push({ name: 'renderOnlyChanged: all runs (rerun / add)', value: `${unchanged.map((r) => (r.wall / 1000).toFixed(2)).join(' ')} / ${added.map((r) => (r.wall / 1000).toFixed(2)).join(' ')}` });
    rows.push({ name: 'renderOnlyChanged: full render of the same rerun (above) / floor', value: `${(again.wall / floor2).toFixed(2)}x` });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const scale = results.get(1000)!.wall / results.get(100)!.wall;
  rows.push({ name: 'synth 1+1000 / 1+100 wall time (best / best)', value: `${scale.toFixed(1)}x`, goal: '<= 11x', ok: scale <= 11 });
  return rows;
}

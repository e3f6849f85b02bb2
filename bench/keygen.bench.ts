/**
 * `dsx-event-bus nkeys` as a whole process (the compiled CLI, lib/cli/main.js)
 * writing a fresh key store for 1 CSC + 100 CPCs + 1 extra account, in a new
 * temp directory each run: median wall time of 7 runs, keys/s, files
 * written. Then the no-op rerun and `--check` on the same tree (median of 5).
 * Goal (issue 3): <= 0.5 s wall for the fresh store; the upstream script
 * (one nsc/nk process per key) takes about 50 s here.
 *
 * The machine is shared and its disk speed varies minute to minute, so each
 * run is paired with a reference: extracting the very same tree with `tar -x`
 * (no key generation, no fsync) into a fresh directory right after it. That
 * is the file system's floor for creating 1,500 directories and 2,400 files
 * at that moment; the load average and I/O pressure are printed too.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './run';
import { BASE_SECRETS } from '../src/keys/layout';

const ROOT = path.join(__dirname, '..');
const MAIN = path.join(ROOT, 'lib', 'cli', 'main.js');
const CPCS = 100;
const ARGS = ['--extra-account', 'LaunchLayer', ...Array.from({ length: CPCS }, (_, i) => String(i + 1))];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeCli(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [MAIN, 'nkeys', ...args], { stdio: 'pipe', encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`dsx-event-bus nkeys ${args.slice(0, 3).join(' ')} … failed (${r.status}): ${r.stderr}`);
  return ms;
}

function timeTarExtract(tarFile: string, into: string): number {
  fs.mkdirSync(into, { recursive: true });
  const t = process.hrtime.bigint();
  const r = spawnSync('tar', ['-xf', tarFile, '-C', into], { stdio: 'pipe' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`tar -x failed: ${r.stderr}`);
  return ms;
}

function ioPressure(): string {
  try {
    return /avg60=([\d.]+)/.exec(fs.readFileSync('/proc/pressure/io', 'utf8'))?.[1] ?? 'n/a';
  } catch {
    return 'n/a';
  }
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.dsx-event-bus.lock') continue;
    n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  }
  return n;
}

export async function run(): Promise<BenchRow[]> {
  if (!fs.existsSync(MAIN)) {
    execFileSync('npx', ['jsii', '--silence-warnings=reserved-word'], { cwd: ROOT, stdio: 'inherit' });
  }
  const loadBefore = os.loadavg()[0];
  const ioBefore = ioPressure();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-keygen-bench-'));
  try {
    // The reference tree for tar (a warm-up run, not counted).
    const reference = path.join(work, 'reference');
    timeCli(['-o', path.join(reference, 'secrets'), ...ARGS]);
    const tarFile = path.join(work, 'reference.tar');
    execFileSync('tar', ['-cf', tarFile, '-C', reference, 'secrets']);

    const fresh: number[] = [];
    const floor: number[] = [];
    let last = '';
    for (let i = 0; i < 7; i++) {
      last = path.join(work, `run-${i}`, 'secrets');
      fresh.push(timeCli(['-o', last, ...ARGS]));
      floor.push(timeTarExtract(tarFile, path.join(work, `tar-${i}`)));
    }
    const files = countFiles(last);
    const keys = (CPCS + 1) * BASE_SECRETS.filter((s) => s.files.some((f) => f.key === 'seed')).length + CPCS * 2;
    const rerun = median(Array.from({ length: 5 }, () => timeCli(['-o', last, ...ARGS])));
    const check = median(Array.from({ length: 5 }, () => timeCli(['--check', '-o', last, ...ARGS])));
    const wall = median(fresh);
    const sorted = [...fresh].sort((a, b) => a - b);
    return [
      { name: `nkeys: fresh store, 1 CSC + ${CPCS} CPCs + 1 account`, value: `${wall.toFixed(0)} ms`, goal: '<= 500 ms', ok: wall <= 500 },
      { name: '  runs (sorted)', value: sorted.map((x) => x.toFixed(0)).join(' ') },
      { name: '  key pairs generated', value: `${keys} (${Math.round(keys / (wall / 1000))} keys/s)` },
      { name: '  files written', value: `${files}` },
      { name: '  same tree via tar -x (no keygen, no fsync)', value: `${median(floor).toFixed(0)} ms` },
      { name: 'nkeys: rerun on that store (no-op)', value: `${rerun.toFixed(0)} ms` },
      { name: 'nkeys --check on that store', value: `${check.toFixed(0)} ms` },
      { name: 'load average (1 min) before / after', value: `${loadBefore.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}` },
      { name: 'I/O pressure (some avg60 %) before / after', value: `${ioBefore} / ${ioPressure()}` },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

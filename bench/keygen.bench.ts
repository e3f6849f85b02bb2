/**
 * `dsx-event-bus nkeys` as a whole process (the compiled CLI, lib/cli/main.js)
 * writing a fresh key store for 1 CSC + 100 CPCs + 1 extra account, in a new
 * temp directory each run: median wall time of 7 runs, keys/s, files
 * written. Then the no-op rerun and `--check` on the same tree (median of 5).
 * Goal (issue 3): <= 0.5 s wall for the fresh store; the upstream script
 * (one nsc/nk process per key) takes about 50 s here.
 *
 * The machine is shared: the load average is printed with the figures.
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
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-keygen-bench-'));
  try {
    const fresh: number[] = [];
    let last = '';
    for (let i = 0; i < 7; i++) {
      last = path.join(work, `run-${i}`, 'secrets');
      fresh.push(timeCli(['-o', last, ...ARGS]));
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
      { name: 'nkeys: rerun on that store (no-op)', value: `${rerun.toFixed(0)} ms` },
      { name: 'nkeys --check on that store', value: `${check.toFixed(0)} ms` },
      { name: 'load average (1 min) before / after', value: `${loadBefore.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}` },
    ];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Cold `require('cdk8s-dsx-event-bus')` of the packed build: `npm pack` of
 * the compiled package (with its bundled dependencies), installed into a
 * fresh directory with its peer dependencies (from the npm cache when
 * possible), then the median of 15 fresh `node -e "require(...)"`
 * processes. Node's own start-up is shown for reference.
 * Goal (issue 2): <= 250 ms.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './run';

const ROOT = path.join(__dirname, '..');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeNode(code: string, cwd: string, runs = 15): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', code], { cwd, stdio: 'pipe' });
    if (r.status !== 0) throw new Error(`node -e failed: ${r.stderr}`);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

export async function run(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-require-'));
  try {
    const packed = execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const peers = Object.entries<string>(pkg.peerDependencies).map(([name, range]) => `${name}@${range}`);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'require-bench', private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', path.join(dir, packed), ...peers], { cwd: dir, stdio: 'pipe' });
    const bare = timeNode('0', dir);
    const full = timeNode("require('cdk8s-dsx-event-bus')", dir);
    const size = fs.statSync(path.join(dir, packed)).size;
    return [
      { name: 'packed tarball (npm pack, bundled deps included)', value: `${(size / 1024).toFixed(0)} KiB` },
      { name: 'node -e 0 (process start, for reference)', value: `${bare.toFixed(0)} ms` },
      { name: "cold node -e \"require('cdk8s-dsx-event-bus')\"", value: `${full.toFixed(0)} ms`, goal: '<= 250 ms', ok: full <= 250 },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

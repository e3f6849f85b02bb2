/**
 * Cold `require('cdk8s-dsx-event-bus')` of the compiled package (lib/, as
 * packed): median of 15 fresh node processes, minus nothing (node's own start
 * is shown separately). Goal (issue 2): <= 250 ms.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { BenchRow } from './run';

const ROOT = path.join(__dirname, '..');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timeNode(code: string, runs = 15): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, stdio: 'pipe' });
    if (r.status !== 0) throw new Error(`node -e failed: ${r.stderr}`);
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

export async function run(): Promise<BenchRow[]> {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'index.js'))) {
    execFileSync('npx', ['jsii', '--silence-warnings=reserved-word'], { cwd: ROOT, stdio: 'inherit' });
  }
  const bare = timeNode('0');
  const full = timeNode(`require(${JSON.stringify(path.join(ROOT, 'lib', 'index.js'))})`);
  return [
    { name: 'node -e 0 (process start, for reference)', value: `${bare.toFixed(0)} ms` },
    { name: "cold node -e \"require('cdk8s-dsx-event-bus')\"", value: `${full.toFixed(0)} ms`, goal: '<= 250 ms', ok: full <= 250 },
  ];
}

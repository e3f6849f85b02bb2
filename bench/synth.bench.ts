/**
 * Fleet synthesis as a whole: EventBusFleet (1 CSC + N CPCs, LaunchLayer
 * extra account, mTLS, TLS gateway, inline Secrets from the deterministic
 * store) built and written with `fleet.synth(dir)` in a fresh node process
 * per run (compiled lib/), for N = 10, 100, 1000. Reports the in-process
 * wall time (construct + validate + render + write), the whole process's
 * wall time, peak RSS and the object count.
 * Goals (issue 6): 1+100 <= 3 s; 1+1000 <= 11x the 1+100 time; peak RSS <= 1.5 GB.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BenchRow } from './run';

const ROOT = path.join(__dirname, '..');

const CHILD = `
const t0 = process.hrtime.bigint();
const { App } = require('cdk8s');
const lib = require(${JSON.stringify(path.join(ROOT, 'lib', 'index.js'))});
const n = Number(process.argv[1]);
const out = process.argv[2];
const app = new App({ outdir: out });
const fleet = new lib.EventBusFleet(app, 'fleet', {
  keys: new lib.testing.DeterministicKeyStore(),
  delivery: lib.SecretsDelivery.inline(),
  extraAccounts: ['LaunchLayer'],
  certificates: { issuer: lib.CertificateIssuer.fromIssuerName('event-bus-certificate-issuer') },
  csc: { gateway: { hostnames: ['csc.example.com'] } },
  cpcs: Array.from({ length: n }, (_, i) => ({ id: String(i + 1), gateway: { hostnames: ['cpc-' + (i + 1) + '.example.com'] } })),
});
const r = fleet.synth(out);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(JSON.stringify({ ms, objects: r.objects, files: r.files, maxRssKiB: process.resourceUsage().maxRSS }));
`;

function runOnce(n: number): { inProcess: number; wall: number; objects: number; files: number; rssMiB: number } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-synth-bench-'));
  try {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', CHILD, String(n), out], { encoding: 'utf8', maxBuffer: 1048576 });
    const wall = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`synth of 1+${n} failed: ${r.stderr}`);
    const j = JSON.parse(r.stdout);
    return { inProcess: j.ms, wall, objects: j.objects, files: j.files, rssMiB: j.maxRssKiB / 1024 };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function median<T>(runs: T[], key: (r: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor(runs.length / 2)];
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const results = new Map<number, ReturnType<typeof runOnce>>();
  for (const [n, repeats] of [[10, 5], [100, 5], [1000, 3]] as const) {
    const r = median(Array.from({ length: repeats }, () => runOnce(n)), (x) => x.wall);
    results.set(n, r);
    rows.push({ name: `synth 1+${n}: process wall (median of ${repeats})`, value: `${(r.wall / 1000).toFixed(2)} s`, ...(n === 100 ? { goal: '<= 3 s', ok: r.wall <= 3000 } : {}) });
    rows.push({ name: `synth 1+${n}: construct+validate+write`, value: `${(r.inProcess / 1000).toFixed(2)} s` });
    rows.push({ name: `synth 1+${n}: objects / files`, value: `${r.objects} / ${r.files}` });
    rows.push({ name: `synth 1+${n}: peak RSS`, value: `${r.rssMiB.toFixed(0)} MiB`, ...(n === 1000 ? { goal: '<= 1536 MiB', ok: r.rssMiB <= 1536 } : {}) });
  }
  const ratio = results.get(1000)!.wall / results.get(100)!.wall;
  rows.push({ name: 'synth 1+1000 / 1+100 wall time', value: `${ratio.toFixed(1)}x`, goal: '<= 11x', ok: ratio <= 11 });
  return rows;
}

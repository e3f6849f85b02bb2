/**
 * Runs the compiled CLI (`lib/cli/main.js`) as a real process. ts-node would
 * take seconds per start, too slow for 8 concurrent processes, so the suite
 * compiles lib/ once (`npx jsii`) when it is missing or older than src/.
 * Jest workers share one build through a lock directory.
 */
import { ChildProcess, execFileSync, spawn, spawnSync, SpawnSyncOptions } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPO = path.join(__dirname, '..', '..');
export const MAIN = path.join(REPO, 'lib', 'cli', 'main.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** jsii rewrites every output file on each compile, so lib/cli/main.js dates the build. */
function fresh(): boolean {
  try {
    return fs.statSync(MAIN).mtimeMs >= newestSource(path.join(REPO, 'src'));
  } catch {
    return false;
  }
}

/** Compiles lib/ with jsii unless it is up to date. Safe to call from several jest workers. */
export function ensureBuilt(): void {
  if (fresh()) return;
  const lock = path.join(os.tmpdir(), `dsx-event-bus-build-${crypto.createHash('sha1').update(REPO).digest('hex').slice(0, 12)}`);
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A build killed half-way leaves its lock behind; builds take ~10-30 s.
      if (Date.now() - fs.statSync(lock).mtimeMs > 300_000) fs.rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (fresh()) return;
    execFileSync('npx', ['jsii', '--silence-warnings=reserved-word'], { cwd: REPO, stdio: 'pipe', timeout: 170_000 });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

export interface CliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `dsx-event-bus <args>` (any command) to completion (bounded by a timeout). */
export function dsxEventBus(args: string[], options: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000, ...options });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs `dsx-event-bus nkeys <args>` to completion (bounded by a timeout). */
export function nkeys(args: string[], options: SpawnSyncOptions = {}): CliResult {
  return dsxEventBus(['nkeys', ...args], options);
}

/** Starts `dsx-event-bus <args>` (any command) in the background. */
export function startDsxEventBus(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<CliResult>((resolve) => child.on('close', (status, signal) => {
    clearTimeout(timer);
    resolve({ status, signal, stdout, stderr });
  }));
  return { child, done };
}

/** Starts `dsx-event-bus nkeys <args>` in the background. */
export function startNKeys(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  return startDsxEventBus(['nkeys', ...args], env);
}

/**
 * Runs the compiled CLI (`lib/cli/main.js`) as a real process. ts-node would
 * take seconds per start, too slow for 8 concurrent processes, so jest's
 * globalSetup (test/util/global-setup.ts) compiles lib/ once per run, before
 * any test file starts, when it is missing or older than src/; test files
 * never compile.
 *
 * A run as another user (`{ uid: 65534 }`) uses a copy of the built CLI and
 * the packages it loads in a world-readable temp folder, made once per run:
 * the clone itself may sit below a folder only its owner may enter (a home
 * folder, a `mktemp -d`), where uid 65534 could not load lib/cli/main.js.
 */
import { ChildProcess, execFileSync, spawn, spawnSync, SpawnSyncOptions } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { waitFor } from './wait';

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

/** A per-clone name in the temp folder (several clones may test at once). */
function perClone(what: string): string {
  return path.join(os.tmpdir(), `dsx-event-bus-${what}-${crypto.createHash('sha1').update(REPO).digest('hex').slice(0, 12)}`);
}

/**
 * Compiles lib/ with jsii unless it is up to date. Called once per run by
 * jest's globalSetup; the lock keeps two jest runs in one clone apart.
 */
export async function buildOnce(): Promise<void> {
  if (fresh()) return;
  const lock = perClone('build');
  await waitFor(`the build lock ${lock} (another jest run in this clone is compiling)`, () => {
    try {
      fs.mkdirSync(lock);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A build killed half-way leaves its lock behind; builds take ~10-30 s.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 300_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch { /* released meanwhile */ }
      return false;
    }
  }, { timeoutMs: 240_000, intervalMs: 200 });
  try {
    if (fresh()) return;
    execFileSync('npx', ['jsii', '--silence-warnings=reserved-word'], { cwd: REPO, stdio: 'pipe', timeout: 230_000 });
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Checks that lib/ exists. Compiling is jest's globalSetup's job (once per
 * run); a test file never compiles.
 */
export function ensureBuilt(): void {
  if (!fs.existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: jest's globalSetup (test/util/global-setup.ts) compiles lib/ once per run; run the tests with \`npx jest\` or \`npx projen test\` from ${REPO}`);
  }
}

/** The package folder `name` resolves to from `from`, as Node's resolver walks up node_modules folders. */
function packageDir(name: string, from: string): string | undefined {
  for (let d = from; ; d = path.dirname(d)) {
    const p = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (d === path.dirname(d)) return undefined;
  }
}

/** The packages the built CLI may load: the package's dependencies and peers, and theirs, transitively. */
function runtimePackages(): string[] {
  const seen = new Set<string>();
  const visit = (dir: string, fields: string[]) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const name of fields.flatMap((f) => Object.keys(pkg[f] ?? {}))) {
      const found = packageDir(name, dir);
      if (!found || seen.has(found)) continue; // an optional dependency may be absent
      seen.add(found);
      visit(found, ['dependencies', 'optionalDependencies']);
    }
  };
  visit(REPO, ['dependencies', 'peerDependencies']);
  return [...seen];
}

/** Copies a tree world-readable (folders 755, files 644); nested node_modules are left out (packages of their own). */
function copyPublic(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules') copyPublic(src, dst);
    } else if (e.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(src), dst);
    } else if (e.isFile()) {
      fs.copyFileSync(src, dst);
      fs.chmodSync(dst, 0o644);
    }
  }
}

function chmodFolders(dir: string, mode: number): void {
  fs.chmodSync(dir, mode);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) chmodFolders(path.join(dir, e.name), mode);
}

/**
 * The folders of the package the built CLI reads at run time: the compiled
 * code and the fleet-file schema (src/cli/fleet-file.ts), beside package.json.
 */
const RUNTIME_FOLDERS = ['lib', 'schemas'];

/** The folder of this run's public copy, set by jest's globalSetup ({@link reservePublicCli}); workers inherit it. */
export const PUBLIC_CLI_ENV = 'DSX_TEST_PUBLIC_CLI_DIR';

/**
 * Reserves a world-readable folder in the temp folder for this run's copy
 * of the built CLI (see {@link publicCliMain}). Called once per run by
 * jest's globalSetup, only as root (only root may run a process as another
 * user); the copy itself is made by the first test that needs it. Returns
 * the folder, for the globalTeardown to remove.
 */
export function reservePublicCli(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-event-bus-cli-'));
  fs.chmodSync(folder, 0o755);
  process.env[PUBLIC_CLI_ENV] = folder;
  return folder;
}

/**
 * lib/cli/main.js of a world-readable copy of the built CLI (lib/, schemas/,
 * package.json and the packages it loads), so that another user may run it
 * wherever the clone sits (below a folder only its owner may enter, such as
 * a home folder or a `mktemp -d`). Made once per run in the folder the
 * globalSetup reserved, by the first jest worker that needs it, under a lock
 * the other workers wait for (a bounded poll).
 */
function publicCliMain(uid: number): string {
  const folder = process.env[PUBLIC_CLI_ENV];
  if (!folder) throw new Error(`no folder for a public copy of the CLI to run as uid ${uid}: jest's globalSetup (test/util/global-setup.ts) reserves one when the tests run as root`);
  const main = path.join(folder, 'copy', 'lib', 'cli', 'main.js');
  const complete = path.join(folder, 'complete');
  const lock = path.join(folder, 'lock');
  const deadline = Date.now() + 120_000;
  while (!fs.existsSync(complete)) {
    try {
      fs.mkdirSync(lock);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() > deadline) throw new Error(`timed out waiting for another jest worker to copy the CLI into ${folder}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    try {
      if (!fs.existsSync(complete)) {
        const copy = path.join(folder, 'copy');
        fs.rmSync(copy, { recursive: true, force: true });
        for (const dir of RUNTIME_FOLDERS) copyPublic(path.join(REPO, dir), path.join(copy, dir));
        fs.copyFileSync(path.join(REPO, 'package.json'), path.join(copy, 'package.json'));
        fs.chmodSync(path.join(copy, 'package.json'), 0o644);
        for (const dir of runtimePackages()) copyPublic(dir, path.join(copy, path.relative(REPO, dir)));
        chmodFolders(copy, 0o755);
        fs.writeFileSync(complete, '');
      }
    } finally {
      fs.rmdirSync(lock);
    }
  }
  return main;
}

/** The CLI entry point a run with `options` starts: this clone's, or the public copy for a run as another user. */
function mainFor(options: { uid?: number }): string {
  if (options.uid === undefined || options.uid === process.getuid?.()) return MAIN;
  return publicCliMain(options.uid);
}

export interface CliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `dsx-event-bus <args>` (any command) to completion (bounded by a timeout). */
export function dsxEventBus(args: string[], options: SpawnSyncOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [mainFor(options), ...args], { encoding: 'utf8', timeout: 60_000, ...options });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs `dsx-event-bus nkeys <args>` to completion (bounded by a timeout). */
export function nkeys(args: string[], options: SpawnSyncOptions = {}): CliResult {
  return dsxEventBus(['nkeys', ...args], options);
}

/** A CLI process running in the background. */
export interface RunningCli {
  readonly child: ChildProcess;
  /** Settles when the process has ended and its output is closed. */
  readonly done: Promise<CliResult>;
  /** What the process has written so far. */
  output(): { readonly stdout: string; readonly stderr: string };
  /** Resolves when stdout or stderr matches `pattern` (bounded; rejects if the process ends first). */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Starts `dsx-event-bus <args>` (any command) in the background. */
export function startDsxEventBus(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let ended = false;
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<CliResult>((resolve) => child.on('close', (status, signal) => {
    clearTimeout(timer);
    ended = true;
    resolve({ status, signal, stdout, stderr });
  }));
  const output = () => ({ stdout, stderr });
  const waitForOutput = async (pattern: RegExp, timeoutMs = 30_000) => {
    await waitFor(`output matching ${pattern} from dsx-event-bus ${args.join(' ')}`, () => {
      if (pattern.test(stdout) || pattern.test(stderr)) return true;
      if (ended) throw new Error(`dsx-event-bus ${args.join(' ')} ended without output matching ${pattern}:\n${stdout}${stderr}`);
      return false;
    }, { timeoutMs });
  };
  return { child, done, output, waitForOutput };
}

/** Starts `dsx-event-bus nkeys <args>` in the background. */
export function startNKeys(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  return startDsxEventBus(['nkeys', ...args], env);
}

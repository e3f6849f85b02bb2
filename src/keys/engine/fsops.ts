/**
 * File-system steps of the key-store writer, each available synchronously
 * (for `DirectoryKeyStore.ensure`) and asynchronously (for the CLI, where
 * thousands of fsyncs run in parallel). A write is a {@link Batch} list: the
 * operations inside one batch are independent and may run in any order or in
 * parallel; batches run strictly one after another, which is where the
 * crash-safety ordering (data durable before it becomes visible) lives.
 *
 * Internal to the package (not exported from the index).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempPathFor, tempSuffix } from '../../files/safe-fs';

/** Mode of every key file. */
export const FILE_MODE = 0o600;
/** Mode of every directory of the store. */
export const DIR_MODE = 0o700;

/** The permission bits of a `stat` mode (`mode & 0o7777`). */
export function permissionBits(mode: number): number {
  return mode % 0o10000;
}

/** File content, or a function computing it when the file is written. */
export type Data = string | (() => string);

const valueOf = (d: Data): string => (typeof d === 'string' ? d : d());

/** One file-system operation, or a group of them. */
export type Op =
  /** mkdir with mode 700; an existing directory is an error unless `existingOk`. */
  | { readonly op: 'mkdir'; readonly path: string; readonly existingOk?: boolean }
  /** Creates a new file (O_EXCL), mode 600, writes `data` and fsyncs it. */
  | { readonly op: 'create'; readonly path: string; readonly data: Data }
  /** Writes `data` to a temp file in the same directory (O_EXCL, 600, fsync) and renames it over `path`. */
  | { readonly op: 'replace'; readonly path: string; readonly data: Data }
  /** fsyncs a file's data, or a directory's names (created, renamed or removed in it). */
  | { readonly op: 'fsync'; readonly path: string }
  | { readonly op: 'rename'; readonly from: string; readonly to: string }
  /** unlink; a missing file is fine. */
  | { readonly op: 'unlink'; readonly path: string }
  /** rmdir of an empty directory; a missing one is fine. */
  | { readonly op: 'rmdir'; readonly path: string }
  /** Recursive removal (stale staging directories); a missing one is fine. */
  | { readonly op: 'rmrf'; readonly path: string }
  | { readonly op: 'chmod'; readonly path: string; readonly mode: number }
  /** One after the other (each step depends on the one before). */
  | { readonly op: 'seq'; readonly ops: readonly Op[] }
  /** Independent: any order, in parallel when applied asynchronously. */
  | { readonly op: 'par'; readonly ops: readonly Op[] };

/**
 * Top-level steps, applied strictly in order; the operations of one batch
 * are independent of each other (a batch is an implicit `par`).
 */
export interface Batch {
  /** Name used by the fault-injection hook (see {@link CRASH_ENV}). */
  readonly name: string;
  readonly ops: readonly Op[];
  /**
   * Run on the calling thread even when applying asynchronously: for cheap,
   * CPU-bound metadata operations (mkdir) the thread-pool round trip costs
   * more than it saves.
   */
  readonly serial?: boolean;
}

// One temp-file naming for every command (src/files/safe-fs.ts): `.<name>.XXXXXX`,
// like the upstream script's `mktemp "${secret_dir}/.${key}.XXXXXX"`, so a run
// cleans up what either tool left behind when it was killed.
export { tempSuffix, TEMP_FILE, tempPathFor } from '../../files/safe-fs';

/** Staging directory of a cluster's base set: `<cluster>/.nkeys.tmp-XXXXXX`. */
export const STAGING_DIR = /^\.nkeys\.tmp-[A-Za-z0-9]{6}$/;

export function stagingPathFor(clusterDir: string): string {
  return path.join(clusterDir, `.nkeys.tmp-${tempSuffix()}`);
}

/**
 * Test-only fault injection: `DSX_EVENT_BUS_NKEYS_CRASH_AFTER=<batch>[:<n>]`
 * kills the process with SIGKILL after the named batch (or after its n-th
 * completed operation). The crash tests use it to stop a run at every
 * interesting point; it has no other effect.
 */
export const CRASH_ENV = 'DSX_EVENT_BUS_NKEYS_CRASH_AFTER';

function crashPoint(): { batch: string; after?: number } | undefined {
  const spec = process.env[CRASH_ENV];
  if (!spec) return undefined;
  const [batch, n] = spec.split(':');
  return { batch, after: n === undefined ? undefined : Number(n) };
}

function die(): never {
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL is delivered before this returns; keep the type checker honest.
  throw new Error('unreachable');
}

// Directory fsync is not supported everywhere (e.g. Windows); there the
// rename itself is the best we can do.
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP']);

function isCode(e: unknown, ...codes: string[]): boolean {
  return codes.includes((e as NodeJS.ErrnoException)?.code ?? '');
}

/**
 * Created files and directories get their mode from open/mkdir; an explicit
 * chmod is only needed when the umask removes owner bits (never in practice,
 * but then the mode audit of the next run would fail).
 */
function umaskNeedsChmod(): boolean {
  return process.umask() >= 0o100; // any owner bit set in the umask
}

/**
 * Test and escape hatch: `DSX_EVENT_BUS_FSYNC=each` fsyncs every file and
 * directory one by one instead of one syncfs per batch.
 */
export const FSYNC_ENV = 'DSX_EVENT_BUS_FSYNC';

let syncfsWorks: boolean | undefined;

/**
 * One syncfs(2) (GNU coreutils `sync -f DIR`): flushes every dirty file and
 * directory of the file system holding `dir`. False when unavailable.
 */
function syncfs(dir: string): boolean {
  if (syncfsWorks === false) return false;
  const r = spawnSync('sync', ['-f', dir], { stdio: 'ignore' });
  syncfsWorks = r.status === 0 && !r.error;
  return syncfsWorks;
}

/**
 * The durability barrier between batches: everything a batch wrote must be
 * on disk before a later batch makes it visible (renames it into place).
 * Fsyncing each of the ~4,000 files and directories of a 100-CPC store costs
 * most of a run even in parallel, so on Linux the files of a batch are
 * written without their own fsync and one syncfs flushes them all when the
 * batch ends. Where syncfs is unavailable (or FSYNC_ENV=each), every file
 * and directory the batch wrote is fsynced instead. `replace` always fsyncs
 * its temp file, because it renames within the same operation.
 */
class Durability {
  private readonly files: string[] = [];
  private readonly dirs: string[] = [];
  /** Something may have changed since the last syncfs (unknown at start: a killed run's leftovers). */
  private dirty = true;
  private readonly enabled: boolean;

  constructor(private readonly root: string | undefined) {
    this.enabled = root !== undefined && process.platform === 'linux' && process.env[FSYNC_ENV] !== 'each';
  }

  /** Writes skip their own fsync (false once syncfs turned out to be unavailable). */
  public get deferred(): boolean {
    return this.enabled && syncfsWorks !== false;
  }

  public changed(): void {
    this.dirty = true;
  }

  public file(p: string): void {
    this.files.push(p);
  }

  public dir(p: string): void {
    this.dirs.push(p);
  }

  public barrierSync(): void {
    if (this.flushAll()) return;
    for (const f of this.files) fsyncPathSync(f);
    for (const d of this.dirs) fsyncPathSync(d);
    this.clear();
  }

  public async barrierAsync(limit: Limiter): Promise<void> {
    if (this.flushAll()) return;
    await Promise.all([...this.files, ...this.dirs].map((p) => limit.run(() => fsyncPathAsync(p))));
    this.clear();
  }

  /**
   * One syncfs when anything changed since the last one. A batch of fsyncs
   * alone (the "-sync" steps) right after a barrier needs none: the syncfs
   * already made those directories durable. False: fsync what was recorded.
   */
  private flushAll(): boolean {
    if (!this.enabled) return true; // every operation fsynced itself
    if (!this.dirty) {
      if (syncfsWorks !== false) this.clear();
      return syncfsWorks !== false || (this.files.length === 0 && this.dirs.length === 0);
    }
    if (!syncfs(this.root!)) return false;
    this.dirty = false;
    this.clear();
    return true;
  }

  private clear(): void {
    this.files.length = 0;
    this.dirs.length = 0;
  }
}

// ---------------------------------------------------------------------------
// Synchronous

function createSync(file: string, data: Data, chmod: boolean, durability?: Durability): void {
  const text = valueOf(data);
  const fd = fs.openSync(file, 'wx', FILE_MODE);
  try {
    if (chmod) fs.fchmodSync(fd, FILE_MODE);
    fs.writeSync(fd, text);
    if (durability?.deferred) durability.file(file);
    else fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncPathSync(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch (e) {
    if (isCode(e, ...DIR_FSYNC_UNSUPPORTED)) return;
    throw e;
  }
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    if (!isCode(e, ...DIR_FSYNC_UNSUPPORTED)) throw e;
  } finally {
    fs.closeSync(fd);
  }
}

const MUTATING = new Set<Op['op']>(['mkdir', 'create', 'replace', 'rename', 'unlink', 'rmdir', 'rmrf', 'chmod']);

function runOpSync(o: Op, chmod: boolean, durability?: Durability): void {
  if (MUTATING.has(o.op)) durability?.changed();
  switch (o.op) {
    case 'seq':
    case 'par':
      for (const child of o.ops) runOpSync(child, chmod, durability);
      return;
    case 'mkdir':
      try {
        fs.mkdirSync(o.path, { mode: DIR_MODE });
      } catch (e) {
        if (!(o.existingOk && isCode(e, 'EEXIST'))) throw e;
        return;
      }
      if (chmod) fs.chmodSync(o.path, DIR_MODE);
      return;
    case 'create':
      return createSync(o.path, o.data, chmod, durability);
    case 'replace': {
      const tmp = tempPathFor(o.path);
      createSync(tmp, o.data, chmod);
      return fs.renameSync(tmp, o.path);
    }
    case 'fsync':
      if (durability?.deferred) return durability.dir(o.path);
      return fsyncPathSync(o.path);
    case 'rename':
      return fs.renameSync(o.from, o.to);
    case 'unlink':
      try {
        return fs.unlinkSync(o.path);
      } catch (e) {
        if (!isCode(e, 'ENOENT')) throw e;
        return;
      }
    case 'rmdir':
      try {
        return fs.rmdirSync(o.path);
      } catch (e) {
        if (!isCode(e, 'ENOENT')) throw e;
        return;
      }
    case 'rmrf':
      return fs.rmSync(o.path, { recursive: true, force: true });
    case 'chmod':
      return fs.chmodSync(o.path, o.mode);
  }
}

/**
 * Runs the batches in order, each operation after the other. With `root`
 * (the store root), each batch ends with one durability barrier (see
 * {@link Durability}); without it every file and directory is fsynced.
 */
export function runBatchesSync(batches: readonly Batch[], root?: string, shared?: Durability): void {
  const crash = crashPoint();
  const chmod = umaskNeedsChmod();
  const durability = shared ?? new Durability(root);
  for (const b of batches) {
    let done = 0;
    for (const o of b.ops) {
      runOpSync(o, chmod, durability);
      done++;
      if (crash?.batch === b.name && crash.after === done) die();
    }
    durability.barrierSync();
    if (crash?.batch === b.name && crash.after === undefined) die();
  }
}

// ---------------------------------------------------------------------------
// Asynchronous: the callback API on raw descriptors (cheaper than FileHandle),
// with at most `parallelism` file-system calls in flight.

function call<T = void>(fn: (cb: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

class Limiter {
  private active = 0;
  private readonly queue: Array<() => void> = [];
  constructor(private readonly max: number) {}

  public async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.queue.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.queue.shift()?.();
    }
  }
}

async function createAsync(file: string, data: Data, chmod: boolean, durability?: Durability): Promise<void> {
  const text = valueOf(data);
  const fd = await call<number>((cb) => fs.open(file, 'wx', FILE_MODE, cb));
  try {
    if (chmod) await call((cb) => fs.fchmod(fd, FILE_MODE, cb));
    await call((cb) => fs.write(fd, text, (err) => cb(err)));
    if (durability?.deferred) durability.file(file);
    else await call((cb) => fs.fsync(fd, cb));
  } finally {
    await call((cb) => fs.close(fd, cb));
  }
}

async function fsyncPathAsync(dir: string): Promise<void> {
  let fd: number;
  try {
    fd = await call<number>((cb) => fs.open(dir, 'r', cb));
  } catch (e) {
    if (isCode(e, ...DIR_FSYNC_UNSUPPORTED)) return;
    throw e;
  }
  try {
    await call((cb) => fs.fsync(fd, cb));
  } catch (e) {
    if (!isCode(e, ...DIR_FSYNC_UNSUPPORTED)) throw e;
  } finally {
    await call((cb) => fs.close(fd, cb));
  }
}

const ignore = (...codes: string[]) => (e: unknown) => {
  if (!isCode(e, ...codes)) throw e;
};

async function runOpAsync(o: Op, limit: Limiter, chmod: boolean, durability?: Durability): Promise<void> {
  if (MUTATING.has(o.op)) durability?.changed();
  switch (o.op) {
    case 'seq':
      for (const child of o.ops) await runOpAsync(child, limit, chmod, durability);
      return;
    case 'par':
      return runParallel(o.ops, limit, chmod, undefined, durability);
    case 'mkdir':
      return limit.run(async () => {
        try {
          await call((cb) => fs.mkdir(o.path, { mode: DIR_MODE }, cb));
        } catch (e) {
          if (!(o.existingOk && isCode(e, 'EEXIST'))) throw e;
          return;
        }
        if (chmod) await call((cb) => fs.chmod(o.path, DIR_MODE, cb));
      });
    case 'create':
      return limit.run(() => createAsync(o.path, o.data, chmod, durability));
    case 'replace':
      return limit.run(async () => {
        const tmp = tempPathFor(o.path);
        await createAsync(tmp, o.data, chmod);
        await call((cb) => fs.rename(tmp, o.path, cb));
      });
    case 'fsync':
      if (durability?.deferred) return durability.dir(o.path);
      return limit.run(() => fsyncPathAsync(o.path));
    case 'rename':
      return limit.run(() => call((cb) => fs.rename(o.from, o.to, cb)));
    case 'unlink':
      return limit.run(() => call<void>((cb) => fs.unlink(o.path, cb)).catch(ignore('ENOENT')));
    case 'rmdir':
      return limit.run(() => call<void>((cb) => fs.rmdir(o.path, cb)).catch(ignore('ENOENT')));
    case 'rmrf':
      return limit.run(() => call((cb) => fs.rm(o.path, { recursive: true, force: true }, cb)));
    case 'chmod':
      return limit.run(() => call((cb) => fs.chmod(o.path, o.mode, cb)));
  }
}

/** Runs independent operations concurrently; the first failure wins, after all have settled. */
async function runParallel(ops: readonly Op[], limit: Limiter, chmod: boolean, onDone?: () => void, durability?: Durability): Promise<void> {
  const results = await Promise.allSettled(ops.map(async (o) => {
    await runOpAsync(o, limit, chmod, durability);
    onDone?.();
  }));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * How many file-system calls are in flight at once. Most of them wait in
 * fsync, where the file system can commit many in one journal transaction;
 * the bound keeps open descriptors and thread-pool queues small.
 */
export const PARALLELISM = 64;

/**
 * Runs the batches in order; the operations of one batch run in parallel.
 * With `root`, each batch ends with one durability barrier (see {@link Durability}).
 */
export async function runBatches(batches: readonly Batch[], root?: string, parallelism = PARALLELISM): Promise<void> {
  const crash = crashPoint();
  const chmod = umaskNeedsChmod();
  const limit = new Limiter(parallelism);
  const durability = new Durability(root);
  for (const b of batches) {
    let done = 0;
    if (b.serial) {
      runBatchesSync([b], root, durability);
      continue;
    }
    await runParallel(b.ops, limit, chmod, () => {
      done++;
      if (crash?.batch === b.name && crash.after === done) die();
    }, durability);
    await durability.barrierAsync(limit);
    if (crash?.batch === b.name && crash.after === undefined) die();
  }
}

/** Number of files a program creates (for progress and benchmarks). */
export function countWrites(batches: readonly Batch[]): number {
  const count = (o: Op): number => (o.op === 'seq' || o.op === 'par' ? o.ops.reduce((n, c) => n + count(c), 0) : o.op === 'create' || o.op === 'replace' ? 1 : 0);
  return batches.reduce((n, b) => n + b.ops.reduce((m, o) => m + count(o), 0), 0);
}

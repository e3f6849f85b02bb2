/**
 * File-system steps of the key-store writer, written once (synchronous) for
 * `dsx-event-bus nkeys` and `DirectoryKeyStore.generateMissing` alike. A write is a
 * {@link Batch} list: the operations inside one batch are independent;
 * batches run strictly one after another, and each ends with a durability
 * barrier, which is where the crash-safety ordering (data durable before it
 * becomes visible) lives. Files are written with the package's one atomic
 * write (src/files/atomic-write.ts).
 *
 * Internal to the package (not exported from the index).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  fsyncDir, fsyncFile, SECRET_DIR_MODE, SECRET_FILE_MODE, stagingPathFor as stagingBeside, stagingPattern,
  syncFileSystem, syncFileSystemAvailable, writeFileAtomic, writeNewFile,
} from '../../files/atomic-write';
import { errnoOf } from '../../files/safe-fs';


/** File content, or a function computing it when the file is written. */
export type Data = string | (() => string);

const valueOf = (d: Data): string => (typeof d === 'string' ? d : d());

/** One file-system operation, or a group of them. */
export type Op =
  /** mkdir with mode 700; an existing directory is an error unless `existingOk`. */
  | { readonly op: 'mkdir'; readonly path: string; readonly existingOk?: boolean }
  /** Creates a new file (O_EXCL), mode 600, writes `data`; durable at the end of its batch. */
  | { readonly op: 'create'; readonly path: string; readonly data: Data }
  /** Writes `data` atomically over `path` (temp file in the same directory, 600, fsync, rename). */
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
  | { readonly op: 'seq'; readonly ops: readonly Op[] };

/**
 * Top-level steps, applied strictly in order; the operations of one batch
 * are independent of each other.
 */
export interface Batch {
  /** Name used by the fault-injection hook (see {@link CRASH_ENV}). */
  readonly name: string;
  readonly ops: readonly Op[];
}

/** Staging directory of a cluster's base set: `<cluster>/.nkeys.tmp-XXXXXX`. */
export const STAGING_DIR = stagingPattern('nkeys');

/** A staging directory for the base set of `<clusterDir>/nkeys`. */
export function stagingPathFor(clusterDir: string): string {
  return stagingBeside(path.join(clusterDir, 'nkeys'));
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

function isCode(e: unknown, ...codes: string[]): boolean {
  return codes.includes(errnoOf(e) ?? '');
}

/** Runs a removal; a path that is already gone is fine. */
function unlessMissing(remove: () => void): void {
  try {
    remove();
  } catch (e) {
    if (!isCode(e, 'ENOENT')) throw e;
  }
}

/**
 * Created directories get their mode from mkdir (files are chmod-ed by the
 * atomic write); an explicit chmod is only needed when the umask removes owner bits (never in practice,
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

/**
 * The durability barrier between batches: everything a batch wrote must be
 * on disk before a later batch makes it visible (renames it into place).
 * Fsyncing each of the ~4,000 files and directories of a 100-CPC store costs
 * most of a run, so on Linux the files of a batch are written without their
 * own fsync and one syncfs flushes them all when the batch ends. Where
 * syncfs is unavailable (or FSYNC_ENV=each), every file and directory the
 * batch wrote is fsynced instead. `replace` always fsyncs its temp file,
 * because it renames within the same operation.
 */
class Durability {
  private readonly files: string[] = [];
  private readonly dirs: string[] = [];
  /** Something may have changed since the last syncfs (unknown at start: a killed run's leftovers). */
  private dirty = true;
  private readonly enabled: boolean;

  constructor(private readonly root: string | undefined) {
    this.enabled = root !== undefined && process.env[FSYNC_ENV] !== 'each' && syncFileSystemAvailable();
  }

  /** Writes skip their own fsync (false once syncfs turned out to be unavailable). */
  public get deferred(): boolean {
    return this.enabled && syncFileSystemAvailable();
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

  /**
   * One syncfs when anything changed since the last one. A batch of fsyncs
   * alone (the "-sync" steps) right after a barrier needs none: the syncfs
   * already made those directories durable. Otherwise (or when syncfs
   * fails): fsync what was recorded.
   */
  public barrier(): void {
    if (this.enabled && (!this.dirty || syncFileSystem(this.root!))) {
      this.dirty = false;
    } else {
      for (const f of this.files) fsyncFile(f);
      for (const d of this.dirs) fsyncDir(d);
    }
    this.files.length = 0;
    this.dirs.length = 0;
  }
}

const MUTATING = new Set<Op['op']>(['mkdir', 'create', 'replace', 'rename', 'unlink', 'rmdir', 'rmrf', 'chmod']);

function runOp(o: Op, durability: Durability, chmodDirs: boolean): void {
  if (MUTATING.has(o.op)) durability.changed();
  switch (o.op) {
    case 'seq':
      for (const child of o.ops) runOp(child, durability, chmodDirs);
      return;
    case 'mkdir':
      try {
        fs.mkdirSync(o.path, { mode: SECRET_DIR_MODE });
      } catch (e) {
        if (!(o.existingOk && isCode(e, 'EEXIST'))) throw e;
        return;
      }
      if (chmodDirs) fs.chmodSync(o.path, SECRET_DIR_MODE);
      return;
    case 'create': {
      const fsync = !durability.deferred;
      writeNewFile(o.path, valueOf(o.data), SECRET_FILE_MODE, { fsync });
      if (!fsync) durability.file(o.path);
      return;
    }
    case 'replace':
      return writeFileAtomic(o.path, valueOf(o.data), SECRET_FILE_MODE);
    case 'fsync':
      if (durability.deferred) return durability.dir(o.path);
      return fsyncDir(o.path);
    case 'rename':
      return fs.renameSync(o.from, o.to);
    case 'unlink':
      return unlessMissing(() => fs.unlinkSync(o.path));
    case 'rmdir':
      return unlessMissing(() => fs.rmdirSync(o.path));
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
export function runBatches(batches: readonly Batch[], root?: string): void {
  const crash = crashPoint();
  const durability = new Durability(root);
  const chmodDirs = umaskNeedsChmod();
  for (const b of batches) {
    let done = 0;
    for (const o of b.ops) {
      runOp(o, durability, chmodDirs);
      done++;
      if (crash?.batch === b.name && crash.after === done) die();
    }
    durability.barrier();
    if (crash?.batch === b.name && crash.after === undefined) die();
  }
}

/** Number of files a program creates (for progress and benchmarks). */
export function countWrites(batches: readonly Batch[]): number {
  const count = (o: Op): number => (o.op === 'seq' ? o.ops.reduce((n, c) => n + count(c), 0) : o.op === 'create' || o.op === 'replace' ? 1 : 0);
  return batches.reduce((n, b) => n + b.ops.reduce((m, o) => m + count(o), 0), 0);
}

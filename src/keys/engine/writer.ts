/**
 * One generation run, shared by `dsx-event-bus nkeys` and
 * `DirectoryKeyStore.generateMissing`: create the root, take the lock, plan, and
 * apply the plan only if it has no defects.
 *
 * Internal to the package.
 */
import * as fs from 'fs';
import * as path from 'path';
import { countWrites, runBatches } from './fsops';
import { NKeysRequest, Plan, planKeyStore, PlanMode, programOf } from './plan';
import { EventBusError, fileSystemFix, problem } from '../../errors';
import { SECRET_DIR_MODE } from '../../files/atomic-write';
import { describeOwner, inspectLock, LOCK_DIR, lockDirOf, OwnerRecord, sleep, StoreLock } from '../../files/lock';
import { checkOutputRoot, mkdirpOwn } from '../../files/safe-fs';

/** The outcome of a run. */
export interface RunResult {
  readonly plan: Plan;
  /** Files created or replaced (0 when the plan had defects or nothing to do). */
  readonly filesWritten: number;
}

export interface RunOptions {
  /** How long to wait for another writer. @default 120 s */
  readonly lockTimeoutMs?: number;
  /** Called once if the run has to wait for the lock. */
  readonly onWait?: (holder: string) => void;
}

const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

function fsError(where: string, what: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  const { reason, fix } = fileSystemFix(code);
  return problem({ where, problem: `cannot ${what} (${reason ?? (e as Error).message})`, fix: code === 'EEXIST' || code === 'ENOTDIR' ? 'pass a folder with -o (or a path that does not exist yet), or move the file away' : fix });
}

/**
 * Checks the root (never a symlink, a system folder or a folder others may
 * write) and creates it if missing (mode 700, like `mkdir -p` under umask
 * 077); an existing root keeps its mode.
 */
function prepareRoot(root: string, display: string): void {
  try {
    if (!checkOutputRoot(root, '-o/--output', { keyMaterial: true }).exists) mkdirpOwn(root, SECRET_DIR_MODE);
  } catch (e) {
    if (e instanceof EventBusError) throw e;
    throw fsError(display, 'create the output directory', e);
  }
  try {
    fs.readdirSync(root);
  } catch (e) {
    throw fsError(display, 'read the output directory', e);
  }
}

function lock(root: string, display: string, opts: RunOptions): StoreLock {
  try {
    const onWait = (o?: OwnerRecord) => opts.onWait?.(o ? describeOwner(o) : 'another process');
    return StoreLock.acquire(root, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, onWait);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw fsError(display, `lock the key store at ${path.join(display, LOCK_DIR)}`, e);
    throw e;
  }
}

/**
 * A run with nothing to do, or one that fails on a defect, writes nothing,
 * not even the lock folder: a read-only plan first (when no writer is
 * active); only if it finds work does the run take the lock and plan again
 * there.
 */
function nothingToDo(root: string, display: string, request: NKeysRequest): RunResult | undefined {
  let rootOk: boolean;
  try {
    const st = fs.lstatSync(root);
    rootOk = st.isDirectory();
  } catch {
    return undefined;
  }
  if (!rootOk) return undefined;
  try {
    const state = inspectLock(root);
    // A live writer: wait for it under the lock. A dead one's owner file: the locked run removes it.
    if (state.present) return undefined;
    const plan = planKeyStore(root, display, request, PlanMode.GENERATE);
    // With no writer present, a defect is the store's own: report it without
    // taking the lock, so a failed run leaves the store exactly as it was (no
    // lock folder, the root's mtime unchanged).
    if (plan.defects.length) return { plan, filesWritten: 0 };
    if (programOf(plan, lockDirOf(root)).length) return undefined;
    return { plan, filesWritten: 0 };
  } catch {
    return undefined; // the locked run reports it
  }
}

/** An I/O error while applying (disk full, I/O error, …), in our error style. */
function applyError(display: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code) return e as Error;
  return problem({
    where: display,
    problem: `writing the key store failed (${(e as Error).message})`,
    fix: 'fix the cause and rerun: the next run removes temporary files and completes or discards what this one started, without touching keys that exist',
  });
}

/** Plans and (if the plan is clean) applies. */
export function generate(rootArg: string, display: string, request: NKeysRequest, opts: RunOptions = {}): RunResult {
  const root = path.resolve(rootArg);
  const idle = nothingToDo(root, display, request);
  if (idle) return idle;
  prepareRoot(root, display);
  const held = lock(root, display, opts);
  try {
    const plan = planKeyStore(root, display, request, PlanMode.GENERATE);
    if (plan.defects.length) return { plan, filesWritten: 0 };
    const program = programOf(plan, held.dir);
    try {
      runBatches(program, root);
    } catch (e) {
      throw applyError(display, e);
    }
    return { plan, filesWritten: countWrites(program) };
  } finally {
    held.release();
  }
}

/**
 * Whether a live writer holds the lock. A read-only check waits while this
 * is true, so it does not see a run half-way; it never writes itself.
 */
function writerActive(root: string, deadline: number): boolean {
  if (Date.now() > deadline) return false;
  try {
    const state = inspectLock(root);
    return state.present && state.alive !== false;
  } catch {
    return false; // unreadable: the plan reports it
  }
}

/** Read-only plan (VERIFY or CHECK), after any live writer has finished (waiting at most `timeoutMs`; 0: never). */
export function inspect(rootArg: string, display: string, request: NKeysRequest, mode: PlanMode, timeoutMs = DEFAULT_LOCK_TIMEOUT_MS): Plan {
  const root = path.resolve(rootArg);
  const deadline = Date.now() + timeoutMs;
  while (timeoutMs > 0 && writerActive(root, deadline)) sleep(20);
  return planKeyStore(root, display, request, mode);
}

/** The live writer holding the store's lock right now, described ("pid 12 on host h, started …"), if any. */
export function activeWriter(rootArg: string): string | undefined {
  try {
    const state = inspectLock(path.resolve(rootArg));
    if (!state.present || state.alive === false) return undefined;
    return state.owner ? describeOwner(state.owner) : 'another process';
  } catch {
    return undefined; // unreadable: the plan reports it
  }
}

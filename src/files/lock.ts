/**
 * The writer lock of a key-store root: `<root>/.dsx-event-bus.lock/owner`,
 * created with O_EXCL and holding the owner's pid, host, process start time
 * and a random token. The lock directory itself persists (it also holds the
 * leaf-pair journal), so taking and releasing the lock never changes the
 * root directory.
 *
 * A lock whose owner process is gone (same host; pid dead, or the pid now
 * belongs to a process that started later) is broken. Breaking happens under
 * a second, short-lived O_EXCL file (`breaker`) and removes the owner file
 * only if it is still the very file judged stale (same inode, same content),
 * so two processes breaking at once cannot remove a fresh owner.
 *
 * Internal to the package.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SECRET_DIR_MODE, SECRET_FILE_MODE } from './atomic-write';
import { describeType, lstatOrUndefined, readRegularFile } from './safe-fs';
import { problem } from '../errors';

/** Name of the lock directory inside a key-store root. */
export const LOCK_DIR = '.dsx-event-bus.lock';
const OWNER = 'owner';
const BREAKER = 'breaker';
/** A breaker is held for microseconds; one older than this was left by a killed process. */
const BREAKER_STALE_MS = 10_000;
/** An owner file still empty after this long was left by a process killed between create and write. */
const EMPTY_OWNER_STALE_MS = 5_000;

export interface OwnerRecord {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
  /** Process start time from /proc (Linux), to tell a reused pid from the owner. */
  readonly procStart?: string;
  readonly token: string;
}

function procStartOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); fields after the parenthesised command name.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** true: alive; false: gone; undefined: cannot tell (another host). */
function ownerAlive(o: OwnerRecord): boolean | undefined {
  if (o.host !== os.hostname()) return undefined;
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    // EPERM: the pid exists and belongs to someone else.
  }
  if (o.procStart !== undefined) {
    const now = procStartOf(o.pid);
    if (now !== undefined && now !== o.procStart) return false;
  }
  return true;
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` milliseconds (waiting for another writer). */
export function sleep(ms: number): void {
  Atomics.wait(SLEEPER, 0, 0, ms);
}

/** Describes who holds a lock, for messages. */
export function describeOwner(o: OwnerRecord): string {
  return `pid ${o.pid} on host ${o.host}, started ${o.started}`;
}

type Attempt =
  | { readonly acquired: true; readonly lock: StoreLock }
  | { readonly acquired: false; readonly owner?: OwnerRecord; readonly alive?: boolean };

/** Where the lock of `root` lives. */
export function lockDirOf(root: string): string {
  return path.join(root, LOCK_DIR);
}

/** Never follows a symlink nor opens a FIFO or device (which would block forever). */
function readOwner(file: string): { text: string; ino: number; mtimeMs: number } | undefined {
  const st = lstatOrUndefined(file);
  if (!st) return undefined;
  const text = readRegularFile(file, `remove it (rm ${file}); this tool only ever creates a regular file there`);
  return text === undefined ? undefined : { text, ino: st.ino, mtimeMs: st.mtimeMs };
}

/** The lock folder must be a real folder: a symlink would make us write (and remove) files elsewhere. */
function checkLockDir(dir: string): void {
  const st = lstatOrUndefined(dir);
  if (st && !st.isDirectory()) {
    throw problem({ where: dir, problem: `is ${describeType(st)}, expected the lock folder`, fix: `remove it (rm ${dir}); the next run creates a real folder there` });
  }
}

function parseOwner(text: string): OwnerRecord | undefined {
  try {
    const o = JSON.parse(text);
    return typeof o?.pid === 'number' && typeof o?.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** The current owner of the lock of `root`, if any, and whether it is alive. */
export function inspectLock(root: string): { owner?: OwnerRecord; alive?: boolean; present: boolean } {
  checkLockDir(lockDirOf(root));
  const current = readOwner(path.join(lockDirOf(root), OWNER));
  if (!current) return { present: false };
  const owner = parseOwner(current.text);
  if (!owner) return { present: true, alive: Date.now() - current.mtimeMs < EMPTY_OWNER_STALE_MS };
  return { present: true, owner, alive: ownerAlive(owner) };
}

/**
 * Removes a stale owner file, under the short-lived `breaker` file, and only
 * if it is still the very file judged stale (same inode and content).
 */
function breakStale(dir: string, staleText: string, staleIno: number): void {
  const breaker = path.join(dir, BREAKER);
  let fd: number;
  try {
    fd = fs.openSync(breaker, 'wx', SECRET_FILE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const b = readOwner(breaker);
    if (b && Date.now() - b.mtimeMs > BREAKER_STALE_MS) fs.rmSync(breaker, { force: true });
    return;
  }
  try {
    // Re-check under the breaker: remove only the very file judged stale.
    const again = readOwner(path.join(dir, OWNER));
    if (again && again.ino === staleIno && again.text === staleText) fs.unlinkSync(path.join(dir, OWNER));
  } finally {
    fs.closeSync(fd);
    fs.rmSync(breaker, { force: true });
  }
}

function timeoutError(root: string, owner: OwnerRecord | undefined, timeoutMs: number): Error {
  const file = path.join(lockDirOf(root), OWNER);
  return problem({
    where: root,
    problem: `another dsx-event-bus run holds ${file}${owner ? ` (${describeOwner(owner)})` : ''}; gave up after ${Math.round(timeoutMs / 1000)} s`,
    fix: `wait for it to finish; if that process no longer exists (e.g. it ran on another host), remove ${file} and rerun`,
  });
}

/** A held lock. */
export class StoreLock {
  /**
   * One attempt to take the lock (breaking a stale one). Creates the lock
   * directory if needed; the caller has created the root.
   */
  public static tryAcquire(root: string): Attempt {
    const dir = lockDirOf(root);
    checkLockDir(dir);
    try {
      fs.mkdirSync(dir, { mode: SECRET_DIR_MODE });
      fs.chmodSync(dir, SECRET_DIR_MODE);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      checkLockDir(dir);
    }
    const ownerFile = path.join(dir, OWNER);
    const record: OwnerRecord = {
      pid: process.pid,
      host: os.hostname(),
      started: new Date().toISOString(),
      procStart: procStartOf(process.pid),
      token: crypto.randomBytes(12).toString('hex'),
    };
    const text = JSON.stringify(record) + '\n';
    let fd: number | undefined;
    try {
      fd = fs.openSync(ownerFile, 'wx', SECRET_FILE_MODE);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (fd !== undefined) {
      try {
        fs.writeSync(fd, text);
      } catch (e) {
        // A full disk: leave no empty owner file that others would wait on.
        fs.closeSync(fd);
        fs.rmSync(ownerFile, { force: true });
        throw e;
      }
      fs.closeSync(fd);
      return { acquired: true, lock: new StoreLock(root, ownerFile, text) };
    }

    const current = readOwner(ownerFile);
    if (!current) return { acquired: false }; // released meanwhile: retry at once
    const owner = parseOwner(current.text);
    const alive = owner ? ownerAlive(owner) : Date.now() - current.mtimeMs < EMPTY_OWNER_STALE_MS;
    if (alive === false) {
      breakStale(dir, current.text, current.ino);
      return { acquired: false };
    }
    return { acquired: false, owner, alive };
  }

  /**
   * Takes the lock, waiting (blocking the thread: the writers that call it
   * have nothing else to do meanwhile) while a live process holds it;
   * `onWait` is called once when waiting starts.
   */
  public static acquire(root: string, timeoutMs: number, onWait?: (owner?: OwnerRecord) => void): StoreLock {
    const deadline = Date.now() + timeoutMs;
    let told = false;
    for (;;) {
      const a = StoreLock.tryAcquire(root);
      if (a.acquired) return a.lock;
      if (Date.now() > deadline) throw timeoutError(root, a.owner, timeoutMs);
      if (!told && a.owner) {
        onWait?.(a.owner);
        told = true;
      }
      sleep(15 + Math.random() * 15);
    }
  }

  private released = false;

  private constructor(public readonly root: string, private readonly file: string, private readonly text: string) {}

  /** The lock directory (also home of the leaf-pair journal). */
  public get dir(): string {
    return path.dirname(this.file);
  }

  /** Releases the lock if this process still owns it. */
  public release(): void {
    if (this.released) return;
    this.released = true;
    const current = readOwner(this.file);
    if (current?.text === this.text) fs.rmSync(this.file, { force: true });
  }
}

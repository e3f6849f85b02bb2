/**
 * The file-system rules every writing command shares (key store, lock,
 * `export`, `certs`, `synth`):
 *
 * - atomic writes live beside it, in ./atomic-write.ts;
 * - nothing is read or written through a symlink, and a FIFO or device is
 *   refused before it is opened (an open of a FIFO would block forever);
 * - an output root is checked before anything is written: never `/` or a
 *   system folder, never a folder others may rename things in, never a
 *   symlink; a folder the tool did not create is never chmod-ed.
 *
 * Internal to the package (not exported from the index).
 */
/* eslint-disable no-bitwise */ // open(2) flags and mode bits are bit sets
import * as fs from 'fs';
import * as path from 'path';
import { problem } from '../errors';

const C = fs.constants;
/** O_NOFOLLOW where the platform has it (0 elsewhere). */
const NOFOLLOW = C.O_NOFOLLOW ?? 0;
/** O_NONBLOCK: opening a FIFO that slipped past lstat returns at once instead of blocking. */
const NONBLOCK = C.O_NONBLOCK ?? 0;

export function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** lstat, or undefined when nothing is there. */
export function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Whether group or others may write (`mode & 0o022`). */
export function groupOrOthersMayWrite(mode: number): boolean {
  return (mode & 0o022) !== 0;
}

/** The permission bits of a mode (`mode & 0o7777`). */
export function modeBits(mode: number): number {
  return mode & 0o7777;
}

/** What an entry is, for messages. */
export function describeType(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a directory';
  if (st.isFile()) return 'a regular file';
  return 'a special file';
}

/**
 * Reads a regular file without following a symlink and without opening a
 * FIFO or device; undefined when it does not exist. Anything else is an
 * error naming the path.
 */
export function readRegularFile(file: string, fix = 'remove it; this tool never creates one there'): string | undefined {
  const st = lstatOrUndefined(file);
  if (!st) return undefined;
  if (!st.isFile()) throw problem({ where: file, problem: `is ${describeType(st)}, expected a regular file`, fix });
  let fd: number;
  try {
    fd = fs.openSync(file, C.O_RDONLY | NOFOLLOW | NONBLOCK);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return undefined;
    if (errnoOf(e) === 'ELOOP') throw problem({ where: file, problem: 'is a symbolic link, expected a regular file', fix });
    throw e;
  }
  try {
    const now = fs.fstatSync(fd);
    if (!now.isFile()) throw problem({ where: file, problem: `is ${describeType(now)}, expected a regular file`, fix });
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** Creates one folder with an explicit mode (we created it, so we may set its mode). */
export function mkdirOwn(dir: string, mode: number): void {
  fs.mkdirSync(dir, { mode });
  fs.chmodSync(dir, mode);
}

/**
 * Creates `dir` and its missing parents, each with `mode` (only the folders
 * created here get a mode; existing ones are left exactly as they are).
 * Returns whether `dir` itself was created.
 */
export function mkdirpOwn(dir: string, mode: number): boolean {
  const missing: string[] = [];
  let p = path.resolve(dir);
  while (!lstatOrUndefined(p)) {
    missing.unshift(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const m of missing) {
    try {
      mkdirOwn(m, mode);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw e;
    }
  }
  return missing.length > 0;
}

/** Folders no output may be written into directly. */
const SYSTEM_FOLDERS = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/opt', '/proc', '/root', '/run', '/sbin', '/sys', '/usr', '/var', '/home', '/tmp', '/var/tmp', '/usr/local', '/usr/bin', '/usr/lib', '/mnt', '/media']);

/** What {@link checkOutputRoot} found. */
export interface OutputRootState {
  /** The root exists (as a real folder). */
  readonly exists: boolean;
}

/**
 * Checks an output root before anything is written. Refused: a symlink (pass
 * the real path), anything but a folder, `/` and system folders (`/etc`,
 * `/tmp`, …: the output would mix with the system's files), a folder others
 * may write without the sticky bit (they could swap our files), and, for key
 * material, any folder others may write. A root the tool did not create is
 * never chmod-ed: its mode belongs to its owner.
 */
export function checkOutputRoot(root: string, flag: string, options: { keyMaterial: boolean }): OutputRootState {
  const abs = path.resolve(root);
  const st = lstatOrUndefined(abs);
  const refuse = (what: string, fix: string): never => {
    throw problem({ where: root, problem: what, fix: `${fix}; nothing was written` });
  };
  let real: string;
  if (st) {
    if (st.isSymbolicLink()) refuse(`the output directory is a symbolic link (to ${fs.readlinkSync(abs)})`, `pass the real folder as ${flag}`);
    if (!st.isDirectory()) refuse(`exists and is not a directory (it is ${describeType(st)})`, `remove it or choose another ${flag}`);
    real = fs.realpathSync(abs);
  } else {
    // The nearest existing parent decides where the new folder lands.
    let parent = path.dirname(abs);
    while (!lstatOrUndefined(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
    const pst = fs.statSync(parent);
    if (!pst.isDirectory()) {
      throw problem({ where: parent, problem: `exists and is not a directory (it is ${describeType(pst)})`, fix: `remove it or choose another ${flag}; nothing was written` });
    }
    real = path.join(fs.realpathSync(parent), path.relative(parent, abs));
  }
  if (SYSTEM_FOLDERS.has(real)) refuse(`${real} is a system folder; writing the output straight into it would mix it with the system's files`, `choose a folder of your own, e.g. ${flag} ${path.join(real === '/' ? '/srv' : real, 'dsx-event-bus')}`);
  if (st) {
    const others = (st.mode & 0o002) !== 0;
    const sticky = (st.mode & 0o1000) !== 0;
    if (others && options.keyMaterial) {
      refuse(`any user may write in it (mode ${(st.mode & 0o7777).toString(8)}), so key material there could be renamed or replaced by others`, `choose a folder only you may write (e.g. a new folder inside it: ${flag} ${path.join(root, 'dsx-event-bus')})`);
    }
    if (others && !sticky) {
      refuse(`any user may write in it and it has no sticky bit (mode ${(st.mode & 0o7777).toString(8)}), so others could replace what is written there`, `choose a folder only you may write, or chmod o-w ${root}`);
    }
  }
  return { exists: st !== undefined };
}

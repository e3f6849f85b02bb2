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

/**
 * Whether a file or folder of key material may be trusted by its owner:
 * it belongs to the user running the tool, or to root (who could replace
 * anything anyway). A file of another user could hold that user's keys.
 */
export function ownerTrusted(st: fs.Stats): boolean {
  const me = process.geteuid?.();
  return me === undefined || st.uid === me || st.uid === 0;
}

/** Who owns it, for messages ("uid 65534, not you (uid 0)"). */
export function describeOwner(st: fs.Stats): string {
  return `uid ${st.uid}, not you (uid ${process.geteuid?.()}) or root`;
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

/** The default size cap of {@link readRegularFile}: PEM bundles and records of large fleets fit. */
export const MAX_READ_BYTES = 1024 * 1024;

/** Options of {@link readRegularFile}. */
export interface ReadOptions {
  /**
   * A folder this tool owns or checks (a key store, an output root): no
   * component of the path below it may be a symbolic link, so nothing is read
   * from elsewhere through a link planted there.
   */
  readonly below?: string;
  /**
   * The path was named by the user (a fleet file, a PEM file given by path):
   * a symbolic link at the named path itself is the user's choice and is
   * followed; what it leads to must still be a regular file.
   * @default false - a symbolic link is refused
   */
  readonly followNamed?: boolean;
  /** @default MAX_READ_BYTES */
  readonly maxBytes?: number;
  /** What the file is, for the size message (e.g. "a key file"). */
  readonly what?: string;
  /**
   * Key material: the file must belong to the user running the tool or to
   * root ({@link ownerTrusted}).
   * @default false
   */
  readonly ownFile?: boolean;
}

/**
 * The one read discipline: reads a regular file without following a
 * symlink (at the file, and at any folder below `options.below`), opened
 * non-blocking (a FIFO or device is refused, never waited on), its size
 * checked before reading and the read itself capped. Undefined when the file
 * does not exist. Anything else is an error naming the path.
 */
export function readRegularFile(file: string, fix = 'remove it; this tool never creates one there', options: ReadOptions = {}): string | undefined {
  const buffer = readRegularBytes(file, fix, options);
  return buffer === undefined ? undefined : buffer.toString('utf8');
}

/** {@link readRegularFile} as bytes. */
export function readRegularBytes(file: string, fix: string, options: ReadOptions = {}): Buffer | undefined {
  if (options.below !== undefined) refuseLinksBelow(options.below, path.dirname(file), 'replace the link with the real folder, or pass the real path');
  const follow = options.followNamed === true;
  let st: fs.Stats | undefined;
  try {
    st = follow ? fs.statSync(file) : fs.lstatSync(file);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
    throw e;
  }
  if (!st.isFile()) throw problem({ where: file, problem: `is ${describeType(st)}, expected a regular file`, fix });
  let fd: number;
  try {
    fd = fs.openSync(file, C.O_RDONLY | (follow ? 0 : NOFOLLOW) | NONBLOCK);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return undefined;
    if (errnoOf(e) === 'ELOOP') throw problem({ where: file, problem: 'is a symbolic link, expected a regular file', fix });
    throw e;
  }
  try {
    const now = fs.fstatSync(fd);
    if (!now.isFile()) throw problem({ where: file, problem: `is ${describeType(now)}, expected a regular file`, fix });
    if (options.ownFile && !ownerTrusted(now)) {
      throw problem({ where: file, problem: `belongs to ${describeOwner(now)}; that user could have put their own key there`, fix: 'check where it came from; remove it and regenerate it (or restore it from your backup)' });
    }
    const max = options.maxBytes ?? MAX_READ_BYTES;
    const tooLarge = (): never => {
      throw problem({
        where: file,
        problem: `is larger than ${max} bytes`,
        allowed: `${options.what ?? 'a file read here'} of at most ${max} bytes`,
        fix: 'check that the path names the right file',
      });
    };
    if (now.size > max) tooLarge();
    // The size may change after fstat: read at most max + 1 bytes.
    const buffer = Buffer.alloc(Math.min(max + 1, now.size + 1 + 64 * 1024));
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > max) tooLarge();
        break;
      }
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > max) tooLarge();
    return buffer.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuses a symbolic link (or anything but a folder) at any existing path
 * component of `target` below `root`, `target` included; `root` itself has
 * its own checks ({@link checkOutputRoot}). A path outside `root` is left to
 * the caller.
 */
export function refuseLinksBelow(root: string, target: string, fix: string): void {
  const base = path.resolve(root);
  const rel = path.relative(base, path.resolve(target));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return;
  let p = base;
  for (const part of rel.split(path.sep)) {
    p = path.join(p, part);
    const st = lstatOrUndefined(p);
    if (!st) return;
    if (st.isSymbolicLink()) {
      throw problem({ where: p, problem: `is a symbolic link (to ${fs.readlinkSync(p)}); nothing below ${base} is read or written through a link`, fix });
    }
    if (!st.isDirectory()) throw problem({ where: p, problem: `is ${describeType(st)}, expected a directory`, fix: 'move it away' });
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

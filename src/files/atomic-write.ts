/**
 * The one way every writing command (key store, lock, `export`, `certs`,
 * `synth`) makes a file or a folder of files appear atomically:
 *
 * - a file: a new temp file beside the target (O_EXCL|O_NOFOLLOW, so nothing
 *   is written through a planted symlink), an explicit mode whatever the
 *   umask, fsync, rename over the target ({@link writeFileAtomic});
 * - a folder of files: staged complete in a private folder beside the
 *   target, every file and folder fsynced, renamed into place
 *   ({@link writeTreeAtomic});
 * - the names a killed run leaves (`.<name>.XXXXXX` temp files,
 *   `.<name>.tmp-XXXXXX` staging folders) are recognised by the next run.
 *
 * Internal to the package (not exported from the index).
 */
/* eslint-disable no-bitwise */ // open(2) flags are bit sets
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { describeType, errnoOf, lstatOrUndefined, mkdirOwn, mkdirpOwn } from './safe-fs';
import { problem } from '../errors';

/** Mode of folders and files that hold no key material. */
export const PUBLIC_DIR_MODE = 0o755;
export const PUBLIC_FILE_MODE = 0o644;
/** Mode of files holding key material (key files, inline Secrets) and of the folders holding them. */
export const SECRET_DIR_MODE = 0o700;
export const SECRET_FILE_MODE = 0o600;

const C = fs.constants;
/** O_NOFOLLOW where the platform has it (0 elsewhere). */
const NOFOLLOW = C.O_NOFOLLOW ?? 0;

const TEMP_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Six random characters, like mktemp's `XXXXXX`. */
export function tempSuffix(): string {
  const bytes = crypto.randomBytes(6);
  let s = '';
  for (const b of bytes) s += TEMP_CHARS[b % TEMP_CHARS.length];
  return s;
}

/**
 * Temp files next to a target are `.<name>.XXXXXX` (like the upstream
 * script's `mktemp "${dir}/.${key}.XXXXXX"`), so the next run of any command
 * recognises and removes what a killed run left.
 */
export const TEMP_FILE = /^\.[^/]+\.[A-Za-z0-9]{6}$/;

/** A temp path next to `target` (see {@link TEMP_FILE}). */
export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tempSuffix()}`);
}

/** A staging folder beside `target`: `.<name of target>.tmp-XXXXXX` (see {@link stagingPattern}). */
export function stagingPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${tempSuffix()}`);
}

/** The names {@link stagingPathFor} gives the staging folders of a target called `name`. */
export function stagingPattern(name: string): RegExp {
  return new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.tmp-[A-Za-z0-9]{6}$`);
}

/** Options of the writes. */
export interface WriteOptions {
  /**
   * fsync the file before it is renamed or closed. False when the caller
   * makes it durable later (one syncfs for many files, see {@link syncFileSystem}).
   * @default true
   */
  readonly fsync?: boolean;
}

/**
 * Creates a new file (never replacing anything, never through a symlink)
 * with an explicit mode, writes it and (by default) fsyncs it. A failed
 * write removes the file and names it in the error.
 */
export function writeNewFile(file: string, content: string | Buffer, mode: number, options: WriteOptions = {}): void {
  const fd = fs.openSync(file, C.O_WRONLY | C.O_CREAT | C.O_EXCL | NOFOLLOW, mode);
  try {
    fs.fchmodSync(fd, mode);
    fs.writeFileSync(fd, content);
    if (options.fsync ?? true) fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    // write(2) errors (ENOSPC, EIO) carry no path: name the file the user must look at.
    if (e && typeof e === 'object' && !(e as NodeJS.ErrnoException).path) (e as NodeJS.ErrnoException).path = file;
    throw e;
  }
  fs.closeSync(fd);
}

/**
 * Writes `content` to `file` atomically: a new temp file in the same folder
 * ({@link writeNewFile}, always fsynced: it is renamed at once), then rename
 * over the target. A failed write removes its temp file; a killed one
 * leaves a {@link TEMP_FILE} the next run removes. Anything but a regular
 * file at `file` is refused, never replaced.
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode: number): void {
  const existing = lstatOrUndefined(file);
  if (existing && !existing.isFile()) {
    throw problem({ where: file, problem: `is ${describeType(existing)}; refusing to replace it`, fix: 'remove it, or choose another output directory' });
  }
  const tmp = tempPathFor(file);
  writeNewFile(tmp, content, mode);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Modes of {@link writeTreeAtomic}. */
export interface TreeModes {
  readonly dirMode: number;
  readonly fileMode: number;
}

/**
 * Makes the folder `dir` appear with exactly `files` (path relative to `dir`
 * → text) in one step: staged in full beside it ({@link stagingPathFor}),
 * every file and folder fsynced, renamed into place, the parent fsynced. A
 * failure never leaves a half-written folder; a killed run's staging folder
 * is removed by the next run ({@link stagingPattern}). `dir` must not exist.
 */
export function writeTreeAtomic(dir: string, files: Readonly<Record<string, string>>, modes: TreeModes): void {
  mkdirpOwn(path.dirname(dir), modes.dirMode);
  const staging = stagingPathFor(dir);
  mkdirOwn(staging, modes.dirMode);
  try {
    const dirs = new Set<string>([staging]);
    for (const [rel, text] of Object.entries(files)) {
      const file = path.join(staging, rel);
      mkdirpOwn(path.dirname(file), modes.dirMode);
      dirs.add(path.dirname(file));
      writeNewFile(file, text, modes.fileMode);
    }
    for (const d of [...dirs].sort().reverse()) fsyncDir(d);
    fs.renameSync(staging, dir);
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  fsyncDir(path.dirname(dir));
}

// Directory fsync is not supported everywhere (e.g. Windows); there the
// rename itself is the best we can do.
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP']);

/**
 * fsyncs a folder's names (created, renamed or removed in it); ignored where
 * folders cannot be fsynced. Opened without following a symlink.
 */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, C.O_RDONLY | NOFOLLOW);
  } catch (e) {
    if (DIR_FSYNC_UNSUPPORTED.has(errnoOf(e) ?? '')) return;
    throw e;
  }
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    if (!DIR_FSYNC_UNSUPPORTED.has(errnoOf(e) ?? '')) throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/** fsyncs one file's data (opened without following a symlink). */
export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, C.O_RDONLY | NOFOLLOW);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

let syncfsWorks: boolean | undefined;

/**
 * One syncfs(2) (GNU coreutils `sync -f DIR`): flushes every dirty file and
 * folder of the file system holding `dir`. False when unavailable (then
 * fsync each file and folder).
 */
export function syncFileSystem(dir: string): boolean {
  if (syncfsWorks === false || process.platform !== 'linux') return false;
  const r = spawnSync('sync', ['-f', dir], { stdio: 'ignore' });
  syncfsWorks = r.status === 0 && !r.error;
  return syncfsWorks;
}

/** Whether {@link syncFileSystem} may work here (false once it failed, and off Linux). */
export function syncFileSystemAvailable(): boolean {
  return process.platform === 'linux' && syncfsWorks !== false;
}

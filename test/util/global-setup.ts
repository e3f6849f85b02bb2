/**
 * jest's globalSetup: runs once per `jest` run, before any test file.
 * Compiles lib/ when it is missing or older than src/ (test files never
 * compile), puts the tests' scratch trees on a RAM file system when there
 * is one, and, as root, reserves the world-readable folder where the first
 * run as uid 65534 puts a copy of the built CLI (see test/util/cli.ts).
 */
import * as fs from 'fs';
import { buildOnce, PUBLIC_CLI_ENV, reservePublicCli } from './cli';

/**
 * The folder for the tests' scratch trees (TMPDIR, which jest's workers and
 * the processes they start inherit): a RAM file system (/dev/shm) when there
 * is one and TMPDIR is not set. The key store ends each batch of writes with
 * syncfs(2), which on a disk shared with other work waits for all of that
 * work's writes: nkeys' crash table took 243 s on disk and 67 s on /dev/shm
 * (same CPU time) on a loaded 2-core machine. Nothing the tests prove
 * depends on the file system being a disk (the durability tests count the
 * syncfs and fsync calls).
 */
function scratchOnRamDisk(): void {
  if (process.env.TMPDIR || process.platform !== 'linux') return;
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    if (fs.statSync('/dev/shm').isDirectory()) process.env.TMPDIR = '/dev/shm';
  } catch { /* no RAM file system: the default temp folder */ }
}

export default async function globalSetup(): Promise<void> {
  scratchOnRamDisk();
  await buildOnce();
  reservePublicCli();
}

/** jest's globalTeardown: removes the copy (globalSetup and globalTeardown share jest's parent process). */
export async function globalTeardown(): Promise<void> {
  const folder = process.env[PUBLIC_CLI_ENV];
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
}

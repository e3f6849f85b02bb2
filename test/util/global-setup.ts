/**
 * jest's globalSetup: runs once per `jest` run, before any test file.
 * Compiles lib/ when it is missing or older than src/ (test files never
 * compile), and, as root, reserves the world-readable folder where the
 * first run as uid 65534 puts a copy of the built CLI (see test/util/cli.ts).
 */
import * as fs from 'fs';
import { buildOnce, PUBLIC_CLI_ENV, reservePublicCli } from './cli';

export default async function globalSetup(): Promise<void> {
  await buildOnce();
  reservePublicCli();
}

/** jest's globalTeardown: removes the copy (globalSetup and globalTeardown share jest's parent process). */
export async function globalTeardown(): Promise<void> {
  const folder = process.env[PUBLIC_CLI_ENV];
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
}

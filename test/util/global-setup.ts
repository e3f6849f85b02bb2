/**
 * jest's globalSetup: runs once per `jest` run, before any test file.
 * Compiles lib/ when it is missing or older than src/ (test files never
 * compile), and, as root, makes the world-readable copy of the built CLI
 * that runs as uid 65534 use (see test/util/cli.ts).
 */
import * as fs from 'fs';
import { buildOnce, makePublicCli } from './cli';

const COPY_ENV = 'DSX_TEST_PUBLIC_CLI_DIR';

export default async function globalSetup(): Promise<void> {
  await buildOnce();
  const copy = makePublicCli();
  if (copy) process.env[COPY_ENV] = copy;
}

/** jest's globalTeardown: removes the copy. */
export async function globalTeardown(): Promise<void> {
  const copy = process.env[COPY_ENV];
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
}

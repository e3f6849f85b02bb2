/**
 * Where the tests find the real tools and the real chart.
 *
 * - `HELM_BIN`, else `.cache/test-tools/helm` (put there by
 *   `scripts/test-tools.sh`, which `.ci/run` calls).
 * - `NATS_SERVER_BIN`, else `.cache/test-tools/nats-server`, else a
 *   nats-server on PATH (see ./nats-server.ts).
 * - `KUSTOMIZE_BIN`, else `.cache/test-tools/kustomize` (Debian sid's 5.8.x).
 * - `DSX_UPSTREAM_CHART`: the real `nats-event-bus` chart with its subcharts.
 *   Only that variable says where it is: the repository never holds a copy.
 *
 * `toolTest(...)` runs a test when its tools are there and otherwise skips it
 * with the reason in its name; under CI a missing tool fails the test instead.
 */
import * as fs from 'fs';
import * as path from 'path';

/** The clone's root. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Where scripts/test-tools.sh puts helm and nats-server. */
export const TOOLS_CACHE = path.join(REPO_ROOT, '.cache', 'test-tools');

/** Whether `file` is a regular file this process may execute. */
export function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Path of helm. */
export const HELM_BIN = process.env.HELM_BIN || path.join(TOOLS_CACHE, 'helm');

/** Path of kustomize. */
export const KUSTOMIZE_BIN = process.env.KUSTOMIZE_BIN || path.join(TOOLS_CACHE, 'kustomize');

/** Why kustomize cannot be used, or undefined when it can. */
export function kustomizeMissing(): string | undefined {
  return executable(KUSTOMIZE_BIN) ? undefined : `kustomize not found at ${KUSTOMIZE_BIN} (run scripts/test-tools.sh or set KUSTOMIZE_BIN)`;
}

/** Path of the upstream chart folder, or undefined when DSX_UPSTREAM_CHART is unset. */
export const UPSTREAM_CHART: string | undefined = process.env.DSX_UPSTREAM_CHART
  ? path.resolve(process.env.DSX_UPSTREAM_CHART)
  : undefined;

/** Why helm cannot be used, or undefined when it can. */
export function helmMissing(): string | undefined {
  return executable(HELM_BIN) ? undefined : `helm not found at ${HELM_BIN} (run scripts/test-tools.sh or set HELM_BIN)`;
}

/** Why the upstream chart cannot be used, or undefined when it can. */
export function chartMissing(): string | undefined {
  if (!UPSTREAM_CHART) return 'DSX_UPSTREAM_CHART is unset (.ci/run sets it to ../shared/upstream/nats-event-bus)';
  if (!fs.existsSync(path.join(UPSTREAM_CHART, 'Chart.yaml'))) return `DSX_UPSTREAM_CHART=${UPSTREAM_CHART} holds no Chart.yaml`;
  return undefined;
}

/**
 * `test(name, fn)` when every reason in `missing` is undefined; otherwise a
 * skipped test whose name says why (printed by jest), or, under CI, a test
 * that fails with the reason.
 */
export function toolTest(name: string, missing: Array<string | undefined>, fn: () => Promise<void>, timeoutMs?: number): void {
  const reasons = missing.filter((m): m is string => m !== undefined);
  if (reasons.length === 0) {
    test(name, fn, timeoutMs);
  } else if (process.env.CI) {
    test(name, () => { throw new Error(`cannot run under CI: ${reasons.join('; ')}`); });
  } else {
    test.skip(`${name} [skipped: ${reasons.join('; ')}]`, () => undefined);
  }
}

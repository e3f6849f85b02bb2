/**
 * Bounded waiting for a condition the test can observe (a file, a log line,
 * a child's output), instead of a fixed sleep: returns as soon as the
 * condition holds, fails with `what` when it does not hold within the bound.
 */
export interface WaitOptions {
  /** Give up after this long. @default 30_000 */
  readonly timeoutMs?: number;
  /** How often to look. @default 10 */
  readonly intervalMs?: number;
}

/** Resolves with the first truthy value `check` returns; rejects naming `what` after the timeout. */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 10));
  }
}

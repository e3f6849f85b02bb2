/**
 * The warning a process that synthesizes from a test key store prints once
 * on stderr (Node's format of a process warning), for tests whose apps use
 * `DeterministicKeyStore` and otherwise expect a quiet stderr.
 */
const WARNING = /^\(node:\d+\) \[DSX_TEST_KEYS\] DsxEventBusWarning: keys \([^\n]*\) is a test key store: [^\n]*\n\(Use `node --trace-warnings \.\.\.` to show where the warning was created\)\n/m;

/** `stderr` without the test-keys warning, which must be in it exactly once. */
export function withoutTestKeysWarning(stderr: string): string {
  expect(stderr).toMatch(WARNING);
  const rest = stderr.replace(WARNING, '');
  expect(rest).not.toMatch(/DSX_TEST_KEYS/);
  return rest;
}

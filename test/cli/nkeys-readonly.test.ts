/**
 * Issue 17: a read-only `nkeys --check` never waits on a writer's lock (it
 * used to wait up to 120 s on a lock any live process held).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureBuilt, nkeys } from '../util/cli';
import { cleanupTempDirs, nkeysPair, snapshot, tempDir } from '../util/keytree';

beforeAll(() => ensureBuilt(), 600_000);
afterAll(() => cleanupTempDirs());

test('--check does not wait while a live process holds the lock: it checks at once and says a writer is active', () => {
  const root = path.join(tempDir('dsx-check-'), 'ks');
  expect(nkeys(['-o', root, '1']).status).toBe(0);
  // This jest worker is alive for the whole test: a lock it "holds" never goes stale.
  fs.mkdirSync(path.join(root, '.dsx-event-bus.lock'), { mode: 0o700, recursive: true });
  fs.writeFileSync(path.join(root, '.dsx-event-bus.lock', 'owner'), JSON.stringify({ pid: process.pid, host: os.hostname(), started: 'now', token: 'y' }), { mode: 0o600 });
  // A timeout of 20 s: the old wait (120 s) would end it by signal.
  const r = nkeys(['--check', '-o', root], { timeout: 20_000 });
  expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
  expect(r.stderr).toMatch(new RegExp(`WARNING: another run \\(pid ${process.pid} on host .*\\) is writing .*ks now; --check does not wait for it`));
  expect(r.stdout).toMatch(/OK: \d+ key files under .*ks verified/);
});

test('a failed run (the mismatched leaf pair of the upstream error table) leaves the store exactly as it was', () => {
  const root = path.join(tempDir('dsx-failed-'), 'ks');
  expect(nkeys(['-o', root, '1']).status).toBe(0);
  // The CSC side of the pair holds another user's public key.
  fs.writeFileSync(path.join(root, 'csc', 'nkeys', 'nats-leaf-cpc-1', 'pubkey'), `${nkeysPair('user').pub}\n`);
  const before = snapshot(root);
  const listing = fs.readdirSync(root, { recursive: true }).sort();
  const rootMtime = fs.statSync(root).mtimeMs;
  const r = nkeys(['-o', root, '1', '2']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/ERROR: mismatched leaf secret output for CPC-1: .*nats-leaf-csc\/seed derives/);
  expect(r.stderr).toMatch(/nothing was written/);
  // Nothing added, not even in the lock folder; the root's mtime unchanged.
  expect(fs.readdirSync(root, { recursive: true }).sort()).toEqual(listing);
  expect(fs.statSync(root).mtimeMs).toBe(rootMtime);
  expect(snapshot(root)).toEqual(before);
});

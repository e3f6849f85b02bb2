/**
 * `dsx-event-bus rotate` and `dsx-event-bus revoke` (the built CLI): each
 * step prints what to deploy where, `--status` lists every rotation in
 * progress, errors name the value and the fix, no seed is ever printed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { StoreLock } from '../../src/files/lock';
import { dsxEventBus, ensureBuilt, nkeys } from '../util/cli';
import { cleanupTempDirs, read, tempDir } from '../util/keytree';
import { findSeeds } from '../util/seeds';

beforeAll(() => ensureBuilt());
afterAll(() => cleanupTempDirs());

function store(): string {
  const root = path.join(tempDir('dsx-rotate-cli-'), 'secrets');
  expect(nkeys(['-o', root, '--extra-account', 'LaunchLayer', '1', '2']).status).toBe(0);
  return root;
}

function run(args: string[]): { status: number | null; out: string; err: string } {
  const r = dsxEventBus(args);
  expect(findSeeds(r.stdout + r.stderr)).toEqual([]);
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('dsx-event-bus rotate', () => {
  test('walks a leaf rotation of CPC 1, saying at every step what to deploy where', () => {
    const root = store();
    expect(run(['rotate', '-s', root])).toMatchObject({ status: 0, out: `No rotation in progress in ${root}.\n` });

    const start = run(['rotate', '-s', root, '--start', 'cpc-1']);
    expect(start.status).toBe(0);
    expect(start.out).toMatch(/^Started the rotation of cpc-1: new keys stored beside the current ones\.\ncpc-1: stage overlap since /);
    expect(start.out).toContain('  deploy the output of this stage, in this order: csc\n');
    expect(start.out).toContain(`  next step: dsx-event-bus rotate -s ${root} --advance cpc-1 (changes the output of cpc-1, then csc)\n`);

    const status = run(['rotate', '-s', root, '--status']);
    expect(status.out).toMatch(new RegExp(`^1 rotation in progress in ${root}:\ncpc-1: stage overlap since .*\n  old public keys: U[A-Z2-7]{55}, U[A-Z2-7]{55}\n  new public keys: U[A-Z2-7]{55}, U[A-Z2-7]{55}\n`));
    expect(status.out).toContain('  before the next step, confirm: csc is deployed and its auth-callout restarted: it accepts the current and the new key\n');

    const switched = run(['rotate', '-s', root, '--advance', 'cpc-1']);
    expect(switched.out).toMatch(/^Advanced the rotation of cpc-1 to switched\./);
    expect(switched.out).toContain('  deploy the output of this stage, in this order: cpc-1, then csc\n');
    expect(switched.out).toContain('(changes the output of csc; ends the rotation)');
    // The layout the upstream script reads is consistent at every stage.
    expect(nkeys(['--check', '-o', root, '--extra-account', 'LaunchLayer', '1', '2']).status).toBe(0);

    const done = run(['rotate', '-s', root, '--advance', 'cpc-1']);
    expect(done.out).toBe(`Finished the rotation of cpc-1: only the new keys are accepted; the old pair is archived under ${root}/.dsx-event-bus.state/archive.\nNow: run synth and deploy csc.\n`);
    expect(run(['rotate', '-s', root]).out).toBe(`No rotation in progress in ${root}.\n`);
    expect(nkeys(['--check', '-o', root, '--extra-account', 'LaunchLayer', '1', '2']).status).toBe(0);
  });

  test('fails on a bad target, a combined step or a missing store, naming the fix', () => {
    const root = store();
    const bad = run(['rotate', '-s', root, '--start', 'csc/nats-xkey']);
    expect(bad.status).toBe(1);
    expect(bad.err).toMatch(/^ERROR: RotationTarget.clusterKey: key "nats-xkey" cannot be rotated in stages\. Allowed: nats-nack-user, nats-surveyor, nats-mtls-leaf, nats-mtls-authx-leaf, nats-mtls-sys-leaf, nats-authx-user, auth-callout-issuer\./);
    const both = run(['rotate', '-s', root, '--start', 'cpc-1', '--advance', 'cpc-1']);
    expect(both.status).toBe(1);
    expect(both.err).toMatch(/^ERROR: --start and --advance cannot be combined\. Fix: run one step at a time\./);
    const none = run(['rotate', '-s', path.join(root, 'nope'), '--start', 'cpc-1']);
    expect(none.status).toBe(1);
    expect(none.err).toMatch(/the key store does not exist\. Fix: create it with `dsx-event-bus nkeys -o /);
    expect(fs.existsSync(path.join(root, 'nope'))).toBe(false);
  });

  test('--status takes no lock: it answers while another process holds the store\'s writer lock', () => {
    const root = store();
    expect(run(['rotate', '-s', root, '--start', 'cpc-1']).status).toBe(0);
    // This test process is the live owner; a writer would wait for it (up to 60 s).
    const lock = StoreLock.acquire(root, 5_000);
    try {
      // Bounded well under the writers' 60 s wait: a status that queued behind the lock would be killed here.
      const status = dsxEventBus(['rotate', '-s', root, '--status'], { timeout: 20_000 });
      expect(status.signal).toBeNull();
      expect(status.status).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`^1 rotation in progress in ${root}:\ncpc-1: stage overlap since `));
    } finally {
      lock.release();
    }
  });

  test('the issuer and xkey: overlap and done deploy nothing, switched is the one deploy, and the plan names the interruption', () => {
    const root = store();
    const start = run(['rotate', '-s', root, '--start', 'csc/auth-callout-issuer']);
    expect(start.status).toBe(0);
    expect(start.out).toContain('  this stage changes no output: nothing to deploy\n');
    expect(start.out).toMatch(/before the next step, confirm: a maintenance window on csc has begun: .* no client, leaf or service can log in/);
    expect(start.out).toContain(`next step: dsx-event-bus rotate -s ${root} --advance csc/auth-callout-issuer (changes the output of csc)`);
    const switched = run(['rotate', '-s', root, '--advance', 'csc/auth-callout-issuer']);
    expect(switched.out).toContain('  deploy the output of this stage, in this order: csc\n');
    expect(switched.out).toContain('(changes no output; ends the rotation)');
    expect(run(['rotate', '-s', root, '--advance', 'csc/auth-callout-issuer']).out).toMatch(/^Finished the rotation of csc\/auth-callout-issuer: .*\nThe output does not change: nothing to deploy\.\n$/);
    expect(nkeys(['--check', '-o', root, '--extra-account', 'LaunchLayer', '1', '2']).status).toBe(0);
  });

  test('an intra-cluster rotation deploys one cluster per step', () => {
    const root = store();
    const start = run(['rotate', '-s', root, '--start', 'csc/nats-surveyor']);
    expect(start.out).toContain('  deploy the output of this stage, in this order: csc\n');
    expect(run(['rotate', '-s', root, '--advance', 'csc/nats-surveyor']).out)
      .toContain('  before the next step, confirm: the csc pods that present nats-surveyor (Surveyor) restarted with the new seed and reconnected\n');
  });
});

describe('dsx-event-bus revoke', () => {
  test('archives the CPC\'s keys and refuses the id until reinstated, which brings new keys', () => {
    const root = store();
    const oldSeed = read(root, 'cpc-2/nkeys/nats-leaf-csc/seed');
    const r = run(['revoke', '-s', root, '2']);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Revoked CPC 2: its keys are archived in ${root}/\\.dsx-event-bus\\.state/archive/.*-revoked-cpc-2\\.\nNow: remove CPC 2 from the fleet file, run synth`));
    expect(fs.existsSync(path.join(root, 'cpc-2'))).toBe(false);

    const again = nkeys(['-o', root, '1', '2']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^ERROR: .*: CPC "2" was revoked on .*Fix: remove CPC "2" from the fleet; to use the id again with new keys, run `dsx-event-bus revoke -s .* --reinstate 2`/m);
    expect(fs.existsSync(path.join(root, 'cpc-2'))).toBe(false);
    expect(run(['rotate', '-s', root]).out).toMatch(/Revoked CPCs: 2 \(/);
    // export names the revocation and the way back, not a missing file of the archived folder.
    const exported = run(['export', '-s', root, '-o', path.join(root, '..', 'export'), '1', '2']);
    expect(exported.status).toBe(1);
    expect(exported.err).toMatch(/^ERROR: .*: CPC "2" was revoked on .* \(its keys are archived in \.dsx-event-bus\.state\/archive\/.*-revoked-cpc-2\)\. Fix: remove CPC "2" from the fleet; to use the id again with new keys, run `dsx-event-bus revoke -s .* --reinstate 2`/);
    expect(exported.err).not.toMatch(/missing/);
    expect(fs.existsSync(path.join(root, '..', 'export'))).toBe(false);

    expect(run(['revoke', '-s', root, '--reinstate', '2']).status).toBe(0);
    expect(nkeys(['-o', root, '--extra-account', 'LaunchLayer', '1', '2']).status).toBe(0);
    expect(read(root, 'cpc-2/nkeys/nats-leaf-csc/seed')).not.toBe(oldSeed);
  });

  test('fails without an id, with a bad id, or for a CPC the store does not hold', () => {
    const root = store();
    expect(run(['revoke', '-s', root]).err).toMatch(/^ERROR: a CPC id is required/);
    expect(run(['revoke', '-s', root, 'CPC_1']).err).toMatch(/^ERROR: revoke: CPC id "CPC_1" is invalid/);
    expect(run(['revoke', '-s', root, '9']).err).toMatch(/holds no keys of CPC "9"/);
    expect(run(['revoke', '-s', root, '--reinstate', '1']).err).toMatch(/CPC "1": is not revoked\. Allowed: no CPC is revoked/);
  });
});

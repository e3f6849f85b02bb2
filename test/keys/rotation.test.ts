import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import {
  CpcChart, EventBusCluster, CscChart, DirectoryKeyStore, NKeySeed, RotatableClusterKey, RotationStage, RotationTarget, SecretsDelivery,
} from '../../src';
import { PlanMode } from '../../src/keys/engine/plan';
import { RotationBook, STATE_DIR } from '../../src/keys/engine/rotation-state';
import { inspect } from '../../src/keys/engine/writer';
import { cleanupTempDirs, listFiles, read, tempDir, write } from '../util/keytree';

afterAll(() => cleanupTempDirs());

const REQUEST = { cpcIds: ['1', '2'], extraAccounts: ['LaunchLayer'] };
const ACCOUNTS = [{ name: 'LaunchLayer', token: 'launchlayer' }];

function generated(): { root: string; store: DirectoryKeyStore } {
  const root = path.join(tempDir('dsx-rotate-'), 'secrets');
  DirectoryKeyStore.open(root).generateMissing(REQUEST);
  return { root, store: DirectoryKeyStore.open(root) };
}

/** The layout as the upstream script sees it: every file outside our dot-folders. */
function layout(root: string): Record<string, string> {
  return Object.fromEntries(listFiles(root).filter((f) => !f.startsWith('.')).map((f) => [f, read(root, f)]));
}

/** What `dsx-event-bus nkeys --check` finds: defects of the layout (none means the upstream script accepts it too). */
function checkDefects(root: string): readonly string[] {
  return inspect(root, root, { cpcIds: ['1', '2'], accounts: ACCOUNTS }, PlanMode.CHECK).defects;
}

const seedPub = (root: string, file: string) => NKeySeed.parse(read(root, file)).publicKey.value;

describe('leaf rotation of a CPC (overlap -> switched -> done)', () => {
  test('each stage keeps a consistent layout, accepts the right keys and says what to deploy where', () => {
    const { root, store } = generated();
    const before = layout(root);
    const old = [read(root, 'csc/nkeys/nats-leaf-cpc-1/pubkey'), read(root, 'csc/nkeys/nats-leaf-launchlayer-cpc-1/pubkey')];

    const overlap = store.startRotation(RotationTarget.leaf('1'));
    expect(overlap.stage).toBe(RotationStage.OVERLAP);
    expect(overlap.oldPublicKeys).toEqual(old);
    expect(overlap.newPublicKeys).toHaveLength(2);
    expect(overlap.newPublicKeys.some((k) => old.includes(k))).toBe(false);
    expect(overlap.deployOrder).toEqual(['csc']);
    expect(overlap.nextStepChanges).toEqual(['cpc-1', 'csc']);
    // overlap: the layout is untouched; the CSC accepts the new keys beside it.
    expect(layout(root)).toEqual(before);
    expect(checkDefects(root)).toEqual([]);
    expect(store.acceptedRotationKeys('csc')).toEqual([
      { permissionName: 'rotation-leaf-cpc-1', generatedEntry: 'leaf-cpc-1', publicKey: overlap.newPublicKeys[0] },
      { permissionName: 'rotation-leaf-launchlayer-cpc-1', generatedEntry: 'leaf-launchlayer-cpc-1', accountToken: 'launchlayer', publicKey: overlap.newPublicKeys[1] },
    ]);
    expect(store.acceptedRotationKeys('cpc-1')).toEqual([]);
    // The new seeds are kept out of the upstream layout, mode 600.
    const next = path.join(root, STATE_DIR, 'rotations', 'cpc-1', 'next', 'cpc-1', 'nats-leaf-csc', 'seed');
    expect((fs.statSync(next).mode % 0o1000).toString(8)).toBe('600');
    expect((fs.statSync(path.join(root, STATE_DIR)).mode % 0o1000).toString(8)).toBe('700');

    const switched = store.advanceRotation(RotationTarget.leaf('1'))!;
    expect(switched.stage).toBe(RotationStage.SWITCHED);
    expect(switched.deployOrder).toEqual(['cpc-1', 'csc']);
    expect(switched.nextStepChanges).toEqual(['csc']);
    // switched: the layout holds the new pairs (both sides), so the CPC presents the new seed.
    expect(read(root, 'csc/nkeys/nats-leaf-cpc-1/pubkey')).toBe(overlap.newPublicKeys[0]);
    expect(seedPub(root, 'cpc-1/nkeys/nats-leaf-csc/seed')).toBe(overlap.newPublicKeys[0]);
    expect(seedPub(root, 'cpc-1/nkeys/nats-leaf-launchlayer-csc/seed')).toBe(overlap.newPublicKeys[1]);
    expect(checkDefects(root)).toEqual([]);
    expect(store.readSeed('cpc-1', 'nats-leaf-csc').publicKey.value).toBe(overlap.newPublicKeys[0]);
    expect(store.acceptedRotationKeys('csc').map((k) => k.publicKey)).toEqual(old);
    // Nothing else changed: CPC 2's pair and every base set are byte-identical.
    const now = layout(root);
    for (const f of Object.keys(before).filter((x) => !/nats-leaf(-launchlayer)?-(csc|cpc-1)\//.test(x) || x.startsWith('cpc-2/'))) {
      expect([f, now[f]]).toEqual([f, before[f]]);
    }

    expect(store.advanceRotation(RotationTarget.leaf('1'))).toBeUndefined();
    expect(store.rotations()).toEqual([]);
    expect(store.acceptedRotationKeys('csc')).toEqual([]);
    expect(checkDefects(root)).toEqual([]);
    store.ensure(REQUEST);
    // The old pair is archived with its dates, the live one is not copied there.
    const archives = fs.readdirSync(path.join(root, STATE_DIR, 'archive'));
    expect(archives).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT.*-rotation-cpc-1$/)]);
    const archive = path.join(STATE_DIR, 'archive', archives[0]);
    expect(read(root, `${archive}/previous/csc/nats-leaf-cpc-1/pubkey`)).toBe(old[0]);
    expect(seedPub(root, `${archive}/previous/cpc-1/nats-leaf-csc/seed`)).toBe(old[0]);
    expect(fs.existsSync(path.join(root, archive, 'next'))).toBe(false);
    const record = JSON.parse(read(root, `${archive}/rotation.json`));
    expect(record).toMatchObject({ target: 'cpc-1', started: overlap.started, switched: switched.stageSince, finished: expect.any(String) });
    expect(JSON.stringify(record)).not.toMatch(/"S[UAX]/);
    expect(fs.existsSync(path.join(root, STATE_DIR, 'rotations', 'cpc-1'))).toBe(false);
  });

  test('fails when a rotation of the target is already in progress, or none is', () => {
    const { store } = generated();
    expect(() => store.advanceRotation(RotationTarget.leaf('1'))).toThrow(/cpc-1: no rotation is in progress.*Fix: start one with `dsx-event-bus rotate -s .* --start cpc-1`/);
    store.startRotation(RotationTarget.leaf('1'));
    expect(() => store.startRotation(RotationTarget.leaf('1'))).toThrow(/cpc-1: a rotation is already in progress \(stage overlap since .*\)\. Fix: finish it first/);
    expect(() => store.startRotation(RotationTarget.leaf('9'))).toThrow(/cpc-9: the key store holds no leaf pair of CPC "9"/);
  });

  test('fails on a target that names nothing rotatable', () => {
    expect(() => RotationTarget.parse('csc')).toThrow(/"csc" names no rotatable keys.*Allowed: cpc-<id>/);
    expect(() => RotationTarget.parse('csc/nats-auth-signing')).toThrow(/key "nats-auth-signing" cannot be rotated in stages.*Allowed: nats-nack-user, .*Fix: the issuer \(nats-auth-signing\) and the xkey \(nats-xkey\) are replaced together, with an interruption, as <cluster>\/auth-callout-issuer/);
    expect(() => RotationTarget.parse('cpc-A')).toThrow(/CPC id "A" is invalid/);
    expect(() => RotationTarget.clusterKey('dc', RotatableClusterKey.NACK)).toThrow(/cluster "dc" is unknown/);
  });

  test('a step cut off half-way is refused by every read and completed by the next rotate run', () => {
    const { root, store } = generated();
    const s = store.startRotation(RotationTarget.leaf('1'));
    // What a run killed during the switch leaves: the step recorded, the old pair copied out,
    // the CSC side already new, the CPC side still old.
    const previous = `${STATE_DIR}/rotations/cpc-1/previous`;
    for (const f of ['csc/nats-leaf-cpc-1/pubkey', 'csc/nats-leaf-launchlayer-cpc-1/pubkey', 'cpc-1/nats-leaf-csc/seed', 'cpc-1/nats-leaf-launchlayer-csc/seed']) {
      const [cluster, secret, key] = f.split('/');
      fs.mkdirSync(path.join(root, previous, cluster, secret), { recursive: true, mode: 0o700 });
      write(root, `${previous}/${f}`, read(root, `${cluster}/nkeys/${secret}/${key}`));
    }
    const stateFile = path.join(root, STATE_DIR, 'state.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    state.pending = { op: 'switch', target: 'cpc-1' };
    fs.writeFileSync(stateFile, JSON.stringify(state));
    fs.writeFileSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-1/pubkey'), s.newPublicKeys[0]);
    expect(() => DirectoryKeyStore.open(root).ensure(REQUEST)).toThrow(/a switch step of cpc-1 was interrupted.*Fix: complete it with `dsx-event-bus rotate -s .* --status`/);
    expect(new RotationBook(root, root).complete()).toEqual(['Completing the interrupted switch step of cpc-1.']);
    const after = DirectoryKeyStore.open(root);
    after.ensure(REQUEST);
    expect(after.rotations()[0].stage).toBe(RotationStage.SWITCHED);
    expect(seedPub(root, 'cpc-1/nkeys/nats-leaf-csc/seed')).toBe(s.newPublicKeys[0]);
    // The copy of the old pair was made before the layout changed.
    expect(read(root, `${previous}/csc/nats-leaf-cpc-1/pubkey`)).toBe(s.oldPublicKeys[0]);
    expect(checkDefects(root)).toEqual([]);
  });
});

describe('intra-cluster rotation', () => {
  test('NACK: the cluster accepts both keys, then presents the new seed (copy included), then accepts only it', () => {
    const { root, store } = generated();
    const target = RotationTarget.clusterKey('cpc-2', RotatableClusterKey.NACK);
    expect(target.name).toBe('cpc-2/nats-nack-user');
    const old = read(root, 'cpc-2/nkeys/nats-nack-user/pubkey');
    const s = store.startRotation(target);
    expect(s.deployOrder).toEqual(['cpc-2']);
    expect(s.nextStepChanges).toEqual(['cpc-2']);
    expect(store.acceptedRotationKeys('cpc-2')).toEqual([{ permissionName: 'rotation-nack-controller', generatedEntry: 'nack-controller', publicKey: s.newPublicKeys[0] }]);
    expect(store.acceptedRotationKeys('csc')).toEqual([]);
    store.advanceRotation(target);
    expect(seedPub(root, 'cpc-2/nkeys/nats-nack-user/seed')).toBe(s.newPublicKeys[0]);
    expect(read(root, 'cpc-2/nkeys/nats-nack-user/nack-user.nk')).toBe(read(root, 'cpc-2/nkeys/nats-nack-user/seed'));
    expect(read(root, 'cpc-2/nkeys/nats-nack-user/pubkey')).toBe(s.newPublicKeys[0]);
    expect(store.acceptedRotationKeys('cpc-2').map((k) => k.publicKey)).toEqual([old]);
    expect(checkDefects(root)).toEqual([]);
    store.advanceRotation(target);
    expect(store.acceptedRotationKeys('cpc-2')).toEqual([]);
    DirectoryKeyStore.open(root).ensure(REQUEST);
  });
});

describe('revoke', () => {
  test('archives both sides of every leaf pair and the CPC folder, and refuses the id until reinstated with new keys', () => {
    const { root, store } = generated();
    const before = layout(root);
    store.startRotation(RotationTarget.leaf('2'));
    const r = store.revokeCpc('2');
    expect(r).toEqual({ cpcId: '2', revoked: expect.any(String), archive: expect.stringMatching(/^\.dsx-event-bus\.state\/archive\/.*-revoked-cpc-2$/) });
    expect(fs.existsSync(path.join(root, 'cpc-2'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-2'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'csc/nkeys/nats-leaf-launchlayer-cpc-2'))).toBe(false);
    // Archived, not deleted; the rotation of the revoked CPC ends with it.
    expect(read(root, `${r.archive}/cpc-2/nkeys/nats-leaf-csc/seed`)).toBe(before['cpc-2/nkeys/nats-leaf-csc/seed']);
    expect(read(root, `${r.archive}/csc/nkeys/nats-leaf-launchlayer-cpc-2/pubkey`)).toBe(before['csc/nkeys/nats-leaf-launchlayer-cpc-2/pubkey']);
    expect(fs.existsSync(path.join(root, r.archive, 'rotation-cpc-2', 'next'))).toBe(true);
    expect(JSON.parse(read(root, `${r.archive}/revoked.json`))).toEqual(r);
    expect(store.rotations()).toEqual([]);
    expect(store.acceptedRotationKeys('csc')).toEqual([]);
    // CPC 1 and the CSC are untouched.
    const now = layout(root);
    for (const f of Object.keys(before).filter((x) => !x.startsWith('cpc-2/') && !/-cpc-2\//.test(x))) expect([f, now[f]]).toEqual([f, before[f]]);
    DirectoryKeyStore.open(root).ensure({ cpcIds: ['1'], extraAccounts: ['LaunchLayer'] });

    // Never quietly back with keys: not by ensure(), not even with generateMissing.
    expect(() => DirectoryKeyStore.open(root).ensure(REQUEST)).toThrow(/CPC "2" was revoked on .* \(its keys are archived in .*\)\. Fix: remove CPC "2" from the fleet; to use the id again with new keys, run `dsx-event-bus revoke -s .* --reinstate 2`/);
    expect(() => DirectoryKeyStore.open(root).generateMissing(REQUEST)).toThrow(/CPC "2" was revoked/);
    expect(fs.existsSync(path.join(root, 'cpc-2'))).toBe(false);
    expect(() => store.revokeCpc('2')).toThrow(/CPC "2": was already revoked on/);
    expect(() => store.startRotation(RotationTarget.clusterKey('cpc-2', RotatableClusterKey.NACK))).toThrow(/CPC "2" was revoked/);
    expect(() => store.revokeCpc('7')).toThrow(/holds no keys of CPC "7"/);

    expect(store.reinstateCpc('2').cpcId).toBe('2');
    expect(store.revokedCpcs()).toEqual([]);
    DirectoryKeyStore.open(root).generateMissing(REQUEST);
    expect(read(root, 'cpc-2/nkeys/nats-leaf-csc/seed')).not.toBe(before['cpc-2/nkeys/nats-leaf-csc/seed']);
    expect(read(root, 'cpc-2/nkeys/nats-nack-user/seed')).not.toBe(before['cpc-2/nkeys/nats-nack-user/seed']);
    expect(() => store.reinstateCpc('2')).toThrow(/CPC "2": is not revoked/);
  });

  test('an interrupted revoke is completed, never left half-way', () => {
    const { root } = generated();
    const stateFile = path.join(root, STATE_DIR, 'state.json');
    fs.mkdirSync(path.dirname(stateFile), { recursive: true, mode: 0o700 });
    const archive = `${STATE_DIR}/archive/x-revoked-cpc-1`;
    // Killed after moving the CPC folder, before moving the CSC sides.
    fs.mkdirSync(path.join(root, archive), { recursive: true });
    fs.renameSync(path.join(root, 'cpc-1'), path.join(root, archive, 'cpc-1'));
    write(root, `${STATE_DIR}/state.json`, JSON.stringify({
      version: 1,
      rotations: [],
      revoked: [],
      pending: { op: 'revoke', cpcId: '1', archive, revoked: '2026-12-07T00:00:00.000Z', moves: [['cpc-1', 'cpc-1'], ['csc/nkeys/nats-leaf-cpc-1', 'csc/nkeys/nats-leaf-cpc-1'], ['csc/nkeys/nats-leaf-launchlayer-cpc-1', 'csc/nkeys/nats-leaf-launchlayer-cpc-1']] },
    }));
    expect(() => DirectoryKeyStore.open(root).ensure({ cpcIds: ['2'] })).toThrow(/a revoke step of revoke 1 was interrupted/);
    new RotationBook(root, root).complete();
    expect(fs.existsSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-1'))).toBe(false);
    expect(fs.existsSync(path.join(root, archive, 'csc/nkeys/nats-leaf-launchlayer-cpc-1/pubkey'))).toBe(true);
    expect(DirectoryKeyStore.open(root).revokedCpcs().map((r) => r.cpcId)).toEqual(['1']);
    DirectoryKeyStore.open(root).ensure({ cpcIds: ['2'], extraAccounts: ['LaunchLayer'] });
  });
});

describe('charts render the stage the store is in', () => {
  const permissions = (chart: CscChart | CpcChart) => chart.helmValues().global.eventBus.auth?.permissions?.nkey;

  test('the CSC accepts the new leaf keys in overlap and the old ones when switched; the CPC presents them from switched on', () => {
    const { root, store } = generated();
    const common = { keys: store, delivery: SecretsDelivery.inline(), mtls: false, gateway: { enabled: false }, createLeafConnections: true, extraAccounts: ['LaunchLayer'] };
    const csc = () => new CscChart(Testing.app(), 'csc', { ...common, cluster: EventBusCluster.csc({ cpcIds: ['1', '2'] }) });
    const cpcSeed = () => {
      const chart = new CpcChart(Testing.app(), 'cpc', { ...common, cluster: EventBusCluster.cpc('1'), cscEndpoint: 'tls://csc.example.com:7422' });
      const secret = Testing.synth(chart).find((o) => o.kind === 'Secret' && o.metadata.name === 'nats-leaf-csc');
      return NKeySeed.parse(Buffer.from(secret.data.seed, 'base64').toString()).publicKey.value;
    };
    expect(permissions(csc())).toBeUndefined();
    const old = cpcSeed();
    const s = store.startRotation(RotationTarget.leaf('1'));
    expect(permissions(csc())).toEqual({
      'rotation-leaf-cpc-1': { public_key: s.newPublicKeys[0], account: 'CSC' },
      'rotation-leaf-launchlayer-cpc-1': { public_key: s.newPublicKeys[1], account: 'LaunchLayer' },
    });
    expect(cpcSeed()).toBe(old);
    store.advanceRotation(RotationTarget.leaf('1'));
    expect(permissions(csc())['rotation-leaf-cpc-1']).toEqual({ public_key: old, account: 'CSC' });
    expect(cpcSeed()).toBe(s.newPublicKeys[0]);
    store.advanceRotation(RotationTarget.leaf('1'));
    expect(permissions(csc())).toBeUndefined();
    expect(root).toBeTruthy();
  });

  test('an intra-cluster rotation adds the entry in the account of the generated one', () => {
    const { store } = generated();
    const s = store.startRotation(RotationTarget.clusterKey('cpc-1', RotatableClusterKey.SURVEYOR));
    store.startRotation(RotationTarget.clusterKey('cpc-1', RotatableClusterKey.MTLS_AUTHX_LEAF));
    const chart = new CpcChart(Testing.app(), 'cpc', { keys: store, delivery: SecretsDelivery.existing(), gateway: { enabled: false }, cluster: EventBusCluster.cpc('1'), cscEndpoint: 'tls://csc.example.com:7422' });
    expect(permissions(chart)).toEqual({
      'rotation-surveyor': { public_key: s.newPublicKeys[0], account: 'SYS' },
      'rotation-mtls-authx-leaf': { public_key: expect.stringMatching(/^U/), account: 'AUTHX' },
    });
  });

  test('fails when a permission of the user takes a name the rotations use', () => {
    const { store } = generated();
    expect(() => new CscChart(Testing.app(), 'csc', {
      keys: store,
      delivery: SecretsDelivery.existing(),
      cluster: EventBusCluster.csc({ cpcIds: ['1'] }),
      nkeyPermissions: [{ name: 'rotation-x', publicKey: store.readPublicKey('csc', 'nats-surveyor').value, account: 'CSC' }],
    })).toThrow(/permission name "rotation-x" is reserved.*rotation-<name>/);
  });
});

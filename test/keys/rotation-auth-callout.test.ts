/**
 * Rotation of the auth-callout user (`nats-authx-user`, presented by the
 * auth-callout service from `auth-callout-keys` `nkey-seed`): NATS itself
 * accepts it (AUTHX `users` and `auth_callout.auth_users` of the chart's
 * values.yaml), so while it rotates the charts replace both lists by the
 * current and the new key, for `nats` and `nats-mtls`; the rendered NATS
 * configs of the real chart list both keys, and list the chart's env
 * reference again once the rotation is done.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { CpcChart, EventBusCluster, CscChart, DirectoryKeyStore, LeafTrust, NKeySeed, RotatableClusterKey, RotationStage, RotationTarget, SecretsDelivery } from '../../src';
import { PlanMode } from '../../src/keys/engine/plan';
import { RotationBook, STATE_DIR } from '../../src/keys/engine/rotation-state';
import { inspect } from '../../src/keys/engine/writer';
import { helmTemplate } from '../util/helm-template';
import { cleanupTempDirs, read, tempDir, write } from '../util/keytree';
import { chartMissing, helmMissing, toolTest } from '../util/tools';

afterAll(() => cleanupTempDirs());

const REQUEST = { cpcIds: ['1'] };
const target = RotationTarget.clusterKey('csc', RotatableClusterKey.AUTH_CALLOUT_USER);

function generated(): { root: string; store: DirectoryKeyStore } {
  const root = path.join(tempDir('dsx-rotate-authx-'), 'secrets');
  DirectoryKeyStore.open(root).generateMissing(REQUEST);
  return { root, store: DirectoryKeyStore.open(root) };
}

const seedPub = (root: string, file: string) => NKeySeed.parse(read(root, file)).publicKey.value;
const csc = (store: DirectoryKeyStore, mtls = true) => new CscChart(Testing.app(), 'csc', {
  keys: store, delivery: SecretsDelivery.existing(), gateway: { enabled: false }, cluster: EventBusCluster.csc({ cpcIds: ['1'] }), mtls,
});
const natsConfs = (chart: CscChart): Record<string, string> => Object.fromEntries(
  helmTemplate([chart.valuesYaml()]).filter((o) => o.kind === 'ConfigMap' && /^nats(-mtls)?-config$/.test(o.metadata.name))
    .map((o) => [o.metadata.name, o.data['nats.conf']]),
);

describe('rotation of the auth-callout user (nats-authx-user)', () => {
  test('the service\'s copy switches with the pair; the layout stays consistent at every stage; status says what to restart', () => {
    const { root, store } = generated();
    const old = read(root, 'csc/nkeys/nats-authx-user/pubkey');
    const overlap = store.startRotation(target);
    expect(overlap).toMatchObject({ target: 'csc/nats-authx-user', stage: RotationStage.OVERLAP, oldPublicKeys: [old], deployOrder: ['csc'], nextStepChanges: ['csc'] });
    expect(overlap.confirmBeforeNextStep).toBe('csc is deployed and every nats (and nats-mtls) pod runs the new config: AUTHX users and auth_callout auth_users list the current and the new key');
    // Accepted by NATS, not by the auth-callout: no extra permission entry for it.
    expect(store.acceptedRotationKeys('csc')).toEqual([{ permissionName: 'rotation-authx-user', generatedEntry: 'authx-user', publicKey: overlap.newPublicKeys[0] }]);
    expect(read(root, 'csc/nkeys/nats-authx-user/pubkey')).toBe(old);

    const switched = store.advanceRotation(target)!;
    expect(switched.stage).toBe(RotationStage.SWITCHED);
    expect(switched.confirmBeforeNextStep).toMatch(/^every csc nats pod restarted \(its env holds the new public key, which done's config reads\) and the csc pods that present nats-authx-user \(the auth-callout\) restarted/);
    const fresh = overlap.newPublicKeys[0];
    expect(read(root, 'csc/nkeys/nats-authx-user/pubkey')).toBe(fresh);
    expect(seedPub(root, 'csc/nkeys/nats-authx-user/seed')).toBe(fresh);
    expect(seedPub(root, 'csc/nkeys/auth-callout-keys/nkey-seed')).toBe(fresh);
    expect(inspect(root, root, { cpcIds: ['1'], accounts: [] }, PlanMode.CHECK).defects).toEqual([]);
    expect(store.advanceRotation(target)).toBeUndefined();
    expect(seedPub(root, 'csc/nkeys/auth-callout-keys/nkey-seed')).toBe(fresh);
    expect(inspect(root, root, { cpcIds: ['1'], accounts: [] }, PlanMode.CHECK).defects).toEqual([]);
  });

  test('the charts list the current and the new key in AUTHX users and auth_users (nats and nats-mtls) until done, and add no auth-callout entry', () => {
    const { root, store } = generated();
    const old = read(root, 'csc/nkeys/nats-authx-user/pubkey');
    expect(csc(store).helmValues().nats).toBeUndefined();
    const fresh = store.startRotation(target).newPublicKeys[0];
    const both = [old, fresh].sort();
    const expected = {
      'nats': { config: { merge: { accounts: { AUTHX: { users: both.map((nkey) => ({ nkey })) } }, authorization: { auth_callout: { auth_users: both } } } } },
      'nats-mtls': { config: { merge: { authorization: { auth_callout: { auth_users: both } } } } },
    };
    const values = csc(store).helmValues();
    expect({ 'nats': values.nats, 'nats-mtls': values['nats-mtls'] }).toEqual(expected);
    expect(values.global.eventBus.auth).toBeUndefined();
    expect(csc(store, false).helmValues()['nats-mtls']).toBeUndefined();
    // A CPC's own values beside them stay (maps merge as Helm merges them); other clusters are untouched.
    const cpc = new CpcChart(Testing.app(), 'cpc', { keys: store, delivery: SecretsDelivery.existing(), gateway: { enabled: false }, cluster: EventBusCluster.cpc('1'), cscEndpoint: 'tls://csc.example.com:7422' });
    expect(cpc.helmValues().nats?.config).toBeUndefined();
    // Switched: the same two keys (sorted), so the NATS config does not change, only the Secrets.
    store.advanceRotation(target);
    const switched = csc(store).helmValues();
    expect({ 'nats': switched.nats, 'nats-mtls': switched['nats-mtls'] }).toEqual(expected);
    store.advanceRotation(target);
    expect(csc(store).helmValues().nats).toBeUndefined();
  });

  test('a CPC\'s rotation renders beside its trust values (merged, not replaced)', () => {
    const { store } = generated();
    const fresh = store.startRotation(RotationTarget.clusterKey('cpc-1', RotatableClusterKey.AUTH_CALLOUT_USER)).newPublicKeys[0];
    const cpc = new CpcChart(Testing.app(), 'cpc', {
      keys: store,
      delivery: SecretsDelivery.existing(),
      gateway: { enabled: false },
      cluster: EventBusCluster.cpc('1'),
      cscEndpoint: 'tls://csc.example.com:7422',
      cscTrust: LeafTrust.fromExistingConfigMap('trust-bundle'),
    });
    const nats = cpc.helmValues().nats;
    expect(nats.tlsCA).toBeDefined();
    expect(nats.config.merge.authorization.auth_callout.auth_users).toContain(fresh);
    expect(csc(store).helmValues().nats).toBeUndefined();
  });

  toolTest('the real chart renders both keys into the NATS configs of nats and nats-mtls, and its env reference again when done', [helmMissing(), chartMissing()], async () => {
    const { root, store } = generated();
    const old = read(root, 'csc/nkeys/nats-authx-user/pubkey');
    const before = natsConfs(csc(store));
    expect(Object.keys(before).sort()).toEqual(['nats-config', 'nats-mtls-config']);
    for (const conf of Object.values(before)) expect(conf).toContain('$AUTHX_USER_NKEY');
    const fresh = store.startRotation(target).newPublicKeys[0];
    const during = natsConfs(csc(store));
    // nats: AUTHX users + auth_users; nats-mtls: auth_users (it has no AUTHX users of its own).
    for (const [name, times] of [['nats-config', 2], ['nats-mtls-config', 1]] as const) {
      expect(during[name]).not.toContain('$AUTHX_USER_NKEY');
      for (const k of [old, fresh]) expect(during[name].split(k).length - 1).toBe(times);
    }
    store.advanceRotation(target);
    expect(natsConfs(csc(store))).toEqual(during);
    store.advanceRotation(target);
    expect(natsConfs(csc(store))).toEqual(before);
  }, 60_000);
});

describe('replacement of the auth-callout issuer and xkey (auth-callout-issuer)', () => {
  const issuer = RotationTarget.clusterKey('csc', RotatableClusterKey.AUTH_CALLOUT_ISSUER);

  test('overlap stores the new pairs and changes no output; switched replaces both pairs and their copies in one deploy; done changes no output', () => {
    const { root, store } = generated();
    const old = [read(root, 'csc/nkeys/nats-auth-signing/pubkey'), read(root, 'csc/nkeys/nats-xkey/pubkey')];
    const values = () => JSON.stringify(csc(store).helmValues());
    const before = values();
    const overlap = store.startRotation(issuer);
    expect(overlap).toMatchObject({ target: 'csc/auth-callout-issuer', stage: RotationStage.OVERLAP, oldPublicKeys: old, deployOrder: [], nextStepChanges: ['csc'] });
    expect(overlap.newPublicKeys[0]).toMatch(/^A[A-Z2-7]{55}$/); // an account key, as the issuer must be
    expect(overlap.newPublicKeys[1]).toMatch(/^X[A-Z2-7]{55}$/); // a curve key
    expect(overlap.confirmBeforeNextStep).toMatch(/^a maintenance window on csc has begun: .*no client, leaf or service can log in/);
    expect(store.acceptedRotationKeys('csc')).toEqual([]);
    expect(values()).toBe(before);

    const switched = store.advanceRotation(issuer)!;
    expect(switched).toMatchObject({ stage: RotationStage.SWITCHED, deployOrder: ['csc'], nextStepChanges: [] });
    expect(read(root, 'csc/nkeys/nats-auth-signing/pubkey')).toBe(overlap.newPublicKeys[0]);
    expect(seedPub(root, 'csc/nkeys/auth-callout-keys/issuer-seed')).toBe(overlap.newPublicKeys[0]);
    expect(read(root, 'csc/nkeys/nats-xkey/pubkey')).toBe(overlap.newPublicKeys[1]);
    expect(seedPub(root, 'csc/nkeys/auth-callout-keys/xkey-seed')).toBe(overlap.newPublicKeys[1]);
    expect(inspect(root, root, { cpcIds: ['1'], accounts: [] }, PlanMode.CHECK).defects).toEqual([]);
    // The output changes only through the Secrets (existing delivery: the values do not hold keys).
    expect(values()).toBe(before);
    expect(store.advanceRotation(issuer)).toBeUndefined();
    expect(store.rotations()).toEqual([]);
  });

  test('a switch cut off half-way (the issuer new, its copy and the xkey old) is refused by readers and completed by the next rotate run', () => {
    const { root, store } = generated();
    const s = store.startRotation(issuer);
    // What a run killed during the switch leaves: the step recorded, the old pairs copied out, one file already new.
    const previous = `${STATE_DIR}/rotations/csc.auth-callout-issuer/previous`;
    const files = ['nats-auth-signing/seed', 'nats-auth-signing/pubkey', 'auth-callout-keys/issuer-seed', 'nats-xkey/seed', 'nats-xkey/pubkey', 'auth-callout-keys/xkey-seed'];
    for (const f of files) {
      fs.mkdirSync(path.join(root, previous, 'csc', path.dirname(f)), { recursive: true, mode: 0o700 });
      write(root, `${previous}/csc/${f}`, read(root, `csc/nkeys/${f}`));
    }
    const stateFile = path.join(root, STATE_DIR, 'state.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    state.pending = { op: 'switch', target: 'csc/auth-callout-issuer' };
    fs.writeFileSync(stateFile, JSON.stringify(state));
    const next = read(root, `${STATE_DIR}/rotations/csc.auth-callout-issuer/next/csc/nats-auth-signing/seed`);
    fs.writeFileSync(path.join(root, 'csc/nkeys/nats-auth-signing/seed'), next);
    expect(() => DirectoryKeyStore.open(root).ensure(REQUEST)).toThrow(/a switch step of csc\/auth-callout-issuer was interrupted/);
    expect(new RotationBook(root, root).complete()).toEqual(['Completing the interrupted switch step of csc/auth-callout-issuer.']);
    DirectoryKeyStore.open(root).ensure(REQUEST);
    expect(seedPub(root, 'csc/nkeys/auth-callout-keys/issuer-seed')).toBe(s.newPublicKeys[0]);
    expect(seedPub(root, 'csc/nkeys/auth-callout-keys/xkey-seed')).toBe(s.newPublicKeys[1]);
    expect(read(root, `${previous}/csc/nats-xkey/pubkey`)).toBe(s.oldPublicKeys[1]);
    expect(inspect(root, root, { cpcIds: ['1'], accounts: [] }, PlanMode.CHECK).defects).toEqual([]);
  });

  test('fails to stage the issuer or the xkey alone, naming the combined target', () => {
    expect(() => RotationTarget.parse('csc/nats-xkey')).toThrow(/key "nats-xkey" cannot be rotated in stages\. Allowed: .*auth-callout-issuer\. Fix: the issuer \(nats-auth-signing\) and the xkey \(nats-xkey\) are replaced together, with an interruption, as <cluster>\/auth-callout-issuer/);
  });
});

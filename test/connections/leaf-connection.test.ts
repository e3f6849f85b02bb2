import { ApiObject, App, Chart, Testing } from 'cdk8s';
import {
  EventBusCluster, EventBusSecrets, IKeyStore, LeafConnection, NKeySeed, SecretsDelivery,
} from '../../src';
import { DeterministicKeyStore } from '../../src/testing';
import { validateManifests } from '../util/schema';

const keys = new DeterministicKeyStore();

interface Sides {
  readonly app: App;
  readonly csc: EventBusSecrets;
  readonly cpc: EventBusSecrets;
  readonly cscChart: Chart;
  readonly cpcChart: Chart;
}

interface SidesOptions {
  readonly cscKeys?: IKeyStore;
  readonly cpcKeys?: IKeyStore;
  readonly cscAccounts?: string[];
  readonly cpcAccounts?: string[];
  readonly cpcIds?: string[];
  readonly cpcId?: string;
  readonly cscDelivery?: SecretsDelivery;
}

function sides(o: SidesOptions = {}): Sides {
  const app = Testing.app();
  const cscChart = new Chart(app, 'csc');
  const cpcChart = new Chart(app, 'cpc');
  const csc = new EventBusSecrets(cscChart, 'Secrets', {
    cluster: EventBusCluster.csc({ cpcIds: o.cpcIds ?? ['1', '2'] }), delivery: o.cscDelivery ?? SecretsDelivery.inline({ allowTestKeys: true }), keys: o.cscKeys ?? keys, mtls: false, extraAccounts: o.cscAccounts,
  });
  const cpc = new EventBusSecrets(cpcChart, 'Secrets', {
    cluster: EventBusCluster.cpc(o.cpcId ?? '1'), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys: o.cpcKeys ?? keys, mtls: false, extraAccounts: o.cpcAccounts,
  });
  return { app, csc, cpc, cscChart, cpcChart };
}

// The objects of one chart, without the app-wide validation of Testing.synth
// (these tests join only some of the CPCs).
const secretsOf = (chart: Chart) => Object.fromEntries(chart.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)
  .map((o) => o.toJson()).map((m: any) => [m.metadata.name, m]));
const value = (m: any, key: string) => Buffer.from(m.data[key], 'base64').toString('utf8');

describe('LeafConnection', () => {
  test('one pair, two halves: seed into the CPC chart, its public key into the CSC chart', () => {
    const s = sides({ cscAccounts: ['LaunchLayer'], cpcAccounts: ['LaunchLayer'] });
    const leaf = new LeafConnection(s.app, 'Leaf', { csc: s.csc, cpc: s.cpc, cscEndpoint: 'tls://csc.example.com:7422' });
    const csc = secretsOf(s.cscChart);
    const cpc = secretsOf(s.cpcChart);
    const seed = NKeySeed.parse(value(cpc['nats-leaf-csc'], 'seed'));
    expect(value(csc['nats-leaf-cpc-1'], 'pubkey')).toBe(seed.publicKey.value);
    const extra = NKeySeed.parse(value(cpc['nats-leaf-launchlayer-csc'], 'seed'));
    expect(value(csc['nats-leaf-launchlayer-cpc-1'], 'pubkey')).toBe(extra.publicKey.value);
    expect(extra.publicKey.value).not.toBe(seed.publicKey.value);
    expect(validateManifests([...Object.values(csc), ...Object.values(cpc)] as any)).toBeGreaterThan(0);

    // What the charts need next.
    expect(leaf.cpcId).toBe('1');
    expect(leaf.cscEndpoint).toBe('tls://csc.example.com:7422');
    expect(leaf.extraAccounts).toEqual(['LaunchLayer']);
    expect(leaf.pairs).toEqual([
      { account: undefined, secretToken: undefined, envToken: undefined, cscSecretName: 'nats-leaf-cpc-1', cpcSecretName: 'nats-leaf-csc', publicKey: seed.publicKey.value },
      { account: 'LaunchLayer', secretToken: 'launchlayer', envToken: 'LAUNCHLAYER', cscSecretName: 'nats-leaf-launchlayer-cpc-1', cpcSecretName: 'nats-leaf-launchlayer-csc', publicKey: extra.publicKey.value },
    ]);
    expect(s.csc.leafCpcIds).toEqual(['1']);
    expect(s.cpc.leafCpcIds).toEqual(['1']);
  });

  test('a fully joined fleet synthesizes (validation passes)', () => {
    const s = sides({ cpcIds: ['1'] });
    new LeafConnection(s.app, 'Leaf', { csc: s.csc, cpc: s.cpc });
    expect(() => s.app.synthYaml()).not.toThrow();
  });

  test('reads nothing when constructed, and each pair once at synthesis', () => {
    const reads: string[] = [];
    const counting: IKeyStore = {
      description: 'counting store',
      ensure: (r) => keys.ensure(r),
      readSeed: (c, n, k) => { reads.push(`${c}/${n}/${k}`); return keys.readSeed(c, n, k); },
      readPublicKey: (c, n, k) => { reads.push(`${c}/${n}/${k}`); return keys.readPublicKey(c, n, k); },
    };
    const s = sides({ cscKeys: counting, cpcKeys: counting, cpcIds: ['1'], cscDelivery: SecretsDelivery.existing() });
    const leaf = new LeafConnection(s.app, 'Leaf', { csc: s.csc, cpc: s.cpc });
    expect(reads).toEqual([]);
    s.app.synthYaml();
    expect(leaf.pairs[0].publicKey).toMatch(/^U/);
    expect(reads.filter((r) => r.includes('nats-leaf'))).toEqual(['cpc-1/nats-leaf-csc/seed', 'csc/nats-leaf-cpc-1/pubkey']);
  });

  test('a one-sided connection (CSC only) needs the CPC id', () => {
    const s = sides();
    const leaf = new LeafConnection(s.app, 'Leaf', { csc: s.csc, cpcId: '2' });
    expect(leaf.cpc).toBeUndefined();
    expect(leaf.pairs[0].cpcSecretName).toBe('nats-leaf-csc');
    expect(Object.keys(secretsOf(s.cscChart))).toContain('nats-leaf-cpc-2');
  });

  test('without any key store nothing is read and references are emitted', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'csc');
    const csc = new EventBusSecrets(chart, 'S', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.externalSecrets({ storeName: 'v' }) });
    const leaf = new LeafConnection(app, 'Leaf', { csc, cpcId: '1' });
    expect(leaf.pairs[0].publicKey).toBeUndefined();
    const es = Testing.synth(chart).find((o: any) => o.metadata.name === 'nats-leaf-cpc-1');
    expect(es.spec.data).toEqual([{ secretKey: 'pubkey', remoteRef: { key: 'dsx-event-bus/csc/nats-leaf-cpc-1', property: 'pubkey' } }]);
  });

  test('fails when the CPC seed does not derive the CSC public key, naming both sides and no seed', () => {
    const other = new DeterministicKeyStore({ phrase: 'another fleet' });
    const s = sides({ cpcKeys: other, cpcIds: ['1'] });
    new LeafConnection(s.app, 'Leaf', { csc: s.csc, cpc: s.cpc });
    let message = '';
    try {
      s.app.synthYaml();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^CPC-1: mismatched leaf secret output for CPC-1: the CPC side cpc-1\/nkeys\/nats-leaf-csc\/seed derives U[A-Z2-7]{55}, but the CSC side csc\/nkeys\/nats-leaf-cpc-1\/pubkey holds U[A-Z2-7]{55} \(CPC side from .*; CSC side from .*\)\. Fix: restore both files/);
    expect(message).not.toMatch(/S[UAXONCP][A-Z2-7]{56}/);
    // Refused before any manifest is rendered.
    expect(() => Testing.synth(s.cpcChart)).toThrow(/mismatched leaf secret output/);
  });

  test('fails when neither side is given', () => {
    expect(() => new LeafConnection(Testing.app(), 'Leaf', {})).toThrow(/^Leaf: neither csc nor cpc is set/);
  });

  test('fails when the sides are swapped', () => {
    const s = sides();
    expect(() => new LeafConnection(s.app, 'Leaf', { csc: s.cpc, cpc: s.csc })).toThrow(/Leaf: csc is the EventBusSecrets of CPC-1 \(cpc\/Secrets\), not of the CSC/);
  });

  test('fails when cpcId is missing, invalid or disagrees with cpc', () => {
    const s = sides();
    expect(() => new LeafConnection(s.app, 'A', { csc: s.csc })).toThrow(/A: cpcId is missing\. Fix: pass cpcId when there is no cpc side/);
    expect(() => new LeafConnection(s.app, 'B', { csc: s.csc, cpcId: 'One' })).toThrow(/B: cpcId: CPC id "One" is invalid/);
    expect(() => new LeafConnection(s.app, 'C', { cpc: s.cpc, cpcId: '2' })).toThrow(/C: cpcId "2" differs from the id of cpc \("1"\)/);
  });

  test('fails when the CPC is not among the CSC cpcIds', () => {
    const s = sides({ cpcIds: ['2'] });
    expect(() => new LeafConnection(s.app, 'Leaf', { csc: s.csc, cpc: s.cpc }))
      .toThrow(/Leaf: CPC id "1" is not among the cpcIds of the CSC Secrets at csc\/Secrets \("2"\)\. Fix: add "1" to EventBusCluster\.csc\(\{ cpcIds \}\)/);
  });

  test('fails when a CPC is joined twice', () => {
    const s = sides();
    new LeafConnection(s.app, 'First', { csc: s.csc, cpc: s.cpc });
    expect(() => new LeafConnection(s.app, 'Second', { csc: s.csc, cpcId: '1' })).toThrow(/Second: CSC at csc\/Secrets is already joined to CPC-1 by First/);
  });

  test('fails when the two sides have different extra accounts', () => {
    const s = sides({ cscAccounts: ['LaunchLayer'] });
    expect(() => new LeafConnection(s.app, 'Leaf', { csc: s.csc, cpc: s.cpc }))
      .toThrow(/Leaf: the extra accounts differ between the two sides: \[\] versus \[LaunchLayer\] on CSC at csc\/Secrets/);
  });

  test('fails when cscEndpoint is empty or has whitespace', () => {
    const s = sides();
    expect(() => new LeafConnection(s.app, 'Leaf', { cpc: s.cpc, cscEndpoint: 'csc example:7422' })).toThrow(/cscEndpoint "csc example:7422" is empty or contains whitespace/);
  });
});

/**
 * `dsx-event-bus export` cannot miss: for every example (the quickstart and
 * production apps and examples/fleet.yaml) and every remote delivery
 * (External Secrets, Vault Secrets Operator), each remote key an
 * ExternalSecret or VaultStaticSecret of the synthesized charts references
 * exists in what `export` writes from a key store `nkeys` made for that
 * fleet, with export's defaults (no --extra-account: every account the store
 * holds). The examples run with their delivery replaced by the one under
 * test (module mock of EventBusFleet); everything else is theirs.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import type { EventBusFleet as Fleet, EventBusFleetProps } from '../../src';

/** The delivery the examples' fleets get instead of their own (undefined: their own). */
const mockDelivery: { current?: unknown; vso?: boolean } = {};
jest.mock('../../src/charts/fleet', () => {
  const actual = jest.requireActual('../../src/charts/fleet');
  class EventBusFleet extends actual.EventBusFleet {
    constructor(scope: unknown, id: string, props: EventBusFleetProps) {
      // The Vault Secrets Operator cannot make immutable Secrets (the production example asks for them).
      const immutableSecrets = mockDelivery.vso ? undefined : props.immutableSecrets;
      super(scope, id, mockDelivery.current ? { ...props, delivery: mockDelivery.current, immutableSecrets } : props);
    }
  }
  return { ...actual, EventBusFleet };
});

// After the mock: the examples and the index see the class that swaps the delivery.
/* eslint-disable import/order */
import { DirectoryKeyStore, EventBusFleet, IKeyStore, SecretsDelivery, SecretStoreKind, testing } from '../../src';
import { loadFleetDoc, readFleetFile } from '../../src/cli/fleet-file';
import * as production from '../../examples/production/main';
import * as quickstart from '../../examples/quickstart/main';
import { ensureClusterIntermediates, ensureFleetCa } from '../../src/cli/certs';
import { main } from '../../src/cli/run';
/* eslint-enable import/order */

const EXAMPLES = path.join(__dirname, '..', '..', 'examples');

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-export-covers-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Example {
  readonly name: string;
  /** The example's CPC ids and extra accounts. */
  readonly shape: () => { cpcIds: string[]; extraAccounts: string[] };
  /** Its fleet, with the key store `store` (the fleet CA included). */
  readonly build: (store: string) => Fleet;
}

/** A TypeScript example's shape, from the example itself (its own delivery, test keys). */
function shapeOf(build: (keys: IKeyStore) => Fleet) {
  const fleet = build(new testing.DeterministicKeyStore());
  return { cpcIds: fleet.cpcs.map((c) => c.cluster.cpcId!), extraAccounts: fleet.csc.extraAccounts };
}

const FLEET_FILE = path.join(EXAMPLES, 'fleet.yaml');
const examples: Example[] = [
  {
    name: 'examples/quickstart',
    shape: () => shapeOf((keys) => quickstart.buildFleet(new App(), keys)),
    build: (store) => quickstart.buildFleet(new App(), DirectoryKeyStore.open(store)),
  },
  {
    name: 'examples/production',
    shape: () => shapeOf((keys) => production.buildFleet(new App(), keys)),
    build: (store) => production.buildFleet(new App(), DirectoryKeyStore.open(store)),
  },
  {
    name: 'examples/fleet.yaml',
    shape: () => {
      const doc = loadFleetDoc(FLEET_FILE);
      return { cpcIds: doc.clusters.filter((c) => c.type === 'cpc').map((c) => c.id!), extraAccounts: doc.extraAccounts ?? [] };
    },
    build: (store) => new EventBusFleet(new App(), 'event-bus', readFleetFile(FLEET_FILE, { secretsDirectory: store, generateMissing: false })),
  },
];

const deliveries: Array<[string, () => SecretsDelivery]> = [
  ['External Secrets', () => SecretsDelivery.externalSecrets({ storeName: 'vault-backend', storeKind: SecretStoreKind.CLUSTER_SECRET_STORE })],
  ['Vault Secrets Operator', () => SecretsDelivery.vaultStaticSecrets({ vaultAuthRef: 'event-bus' })],
];

/** Every remote key (path and property) the charts' ExternalSecrets and VaultStaticSecrets read. */
function remoteReferences(fleet: Fleet): Array<{ object: string; path: string; property: string }> {
  const refs: Array<{ object: string; path: string; property: string }> = [];
  for (const chart of fleet.charts) {
    for (const o of chart.toJson()) {
      const object = `${chart.cluster.directory}/${o.kind}/${o.metadata.name}`;
      if (o.kind === 'ExternalSecret') {
        expect(o.spec.dataFrom).toBeUndefined();
        for (const d of o.spec.data) refs.push({ object, path: d.remoteRef.key, property: d.remoteRef.property });
      } else if (o.kind === 'VaultStaticSecret') {
        const t = o.spec.destination.transformation;
        const included = (t.includes ?? []).map((re: string) => /^\^(.*)\$$/.exec(re)![1].replace(/\\(.)/g, '$1'));
        const templated = Object.values(t.templates ?? {}).map((x: any) => /get \.Secrets "([^"]+)"/.exec(x.text)![1]);
        expect(included.length + templated.length).toBeGreaterThan(0);
        for (const property of [...included, ...templated]) refs.push({ object, path: o.spec.path, property });
      }
    }
  }
  return refs;
}

describe.each(examples)('$name', (example) => {
  let store: string;
  let exported: Record<string, Record<string, string>>;
  beforeAll(async () => {
    const { cpcIds, extraAccounts } = example.shape();
    const accounts = extraAccounts.flatMap((a) => ['--extra-account', a]);
    store = path.join(work, example.name.replace(/\W/g, '-'), 'secrets');
    // A key store as the docs make it: nkeys, and certs (the fleet CA) into the same folder.
    const made = await cli(['nkeys', '-o', store, ...accounts, ...cpcIds]);
    expect(made.code).toBe(0);
    const certs = await cli(['certs', '-o', store, 'csc', ...cpcIds.map((id) => `cpc-${id}`)]);
    expect(certs.code).toBe(0);
    // What synth does next with certificates.ca: {}: one intermediate per cluster beside the root.
    await issueIntermediates(store, ['csc', ...cpcIds.map((id) => `cpc-${id}`)]);
    // export's defaults: no --extra-account.
    const r = await cli(['export', '-s', store, '--format', 'json', '-o', '-', ...cpcIds]);
    expect(r.code).toBe(0);
    expect(r.err).not.toMatch(/warning/);
    exported = JSON.parse(r.out);
  });
  afterEach(() => { mockDelivery.current = undefined; mockDelivery.vso = undefined; });

  test.each(deliveries)('every remote key the %s objects reference is in export\'s output', (name, delivery) => {
    mockDelivery.current = delivery();
    mockDelivery.vso = name === 'Vault Secrets Operator';
    const fleet = example.build(store);
    const refs = remoteReferences(fleet);
    // Every Secret of every cluster is delivered: at least the 9 NKey Secrets per cluster read something.
    expect(new Set(refs.map((r) => r.object)).size).toBeGreaterThanOrEqual(9 * fleet.charts.length);
    const missing = refs.filter((r) => exported[r.path]?.[r.property] === undefined).map((r) => `${r.object}: ${r.path} ${r.property}`);
    expect(missing).toEqual([]);
    for (const a of fleet.csc.extraAccounts) expect(refs.some((r) => r.path.includes(`/nats-leaf-${a.toLowerCase()}-`))).toBe(true);
  });
});

describe('export and the extra accounts a key store holds', () => {
  test('without --extra-account every account the store holds is exported; a list that leaves one out warns and names it', async () => {
    const store = path.join(work, 'two-accounts');
    expect((await cli(['nkeys', '-o', store, '--extra-account', 'LaunchLayer', '--extra-account', 'Kiwi', '1', '2'])).code).toBe(0);

    const all = await cli(['export', '-s', store, '--format', 'json', '-o', '-', '1', '2']);
    expect(all.code).toBe(0);
    const paths = Object.keys(JSON.parse(all.out));
    expect(paths.filter((p) => /nats-leaf-(kiwi|launchlayer)-/.test(p)).sort()).toEqual([
      'dsx-event-bus/cpc-1/nats-leaf-kiwi-csc', 'dsx-event-bus/cpc-1/nats-leaf-launchlayer-csc',
      'dsx-event-bus/cpc-2/nats-leaf-kiwi-csc', 'dsx-event-bus/cpc-2/nats-leaf-launchlayer-csc',
      'dsx-event-bus/csc/nats-leaf-kiwi-cpc-1', 'dsx-event-bus/csc/nats-leaf-kiwi-cpc-2',
      'dsx-event-bus/csc/nats-leaf-launchlayer-cpc-1', 'dsx-event-bus/csc/nats-leaf-launchlayer-cpc-2',
    ]);
    expect(all.err).toBe('Exported 39 remote secrets (csc, cpc-1, cpc-2, extra accounts kiwi, launchlayer) to stdout.\n');

    const some = await cli(['export', '-s', store, '--extra-account', 'Kiwi', '--format', 'json', '-o', '-', '1', '2']);
    expect(some.code).toBe(0);
    expect(Object.keys(JSON.parse(some.out)).filter((p) => p.includes('launchlayer'))).toEqual([]);
    const warnings = some.err.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toEqual([
      `warning: the key store ${store} holds leaf keys of the extra account "launchlayer" (Secrets nats-leaf-launchlayer-*) for csc, cpc-1, cpc-2, but --extra-account does not name it, so they were not exported; add --extra-account for it, or leave out --extra-account to export every account the store holds`,
    ]);

    // Only the clusters asked for count: CPC 2's accounts are not CPC 1's.
    const one = await cli(['export', '-s', store, '--format', 'json', '-o', '-', '1']);
    expect(Object.keys(JSON.parse(one.out)).filter((p) => p.includes('cpc-2'))).toEqual([]);
    expect(one.err).toContain('extra accounts kiwi, launchlayer');
  });
});

/** Each cluster's intermediate CA beside the root in `store`, as `dsx-event-bus synth` issues them. */
async function issueIntermediates(store: string, clusters: string[]): Promise<void> {
  const root = await ensureFleetCa(store, { generate: false });
  await ensureClusterIntermediates(path.join(store, 'ca'), root, clusters.map((cluster) => ({ cluster, dnsNames: [`${cluster}.event-bus.example.com`], ipAddresses: [] })));
}

describe('export and the fleet CA a key store holds', () => {
  test('each cluster gets its own intermediate as <prefix>/<cluster>/<ca-secret> (tls.crt, tls.key, ca.crt = the root), never the root key; --ca-secret renames it, --no-ca leaves it out; a cluster without an intermediate is left out with a warning', async () => {
    const store = path.join(work, 'with-ca');
    expect((await cli(['nkeys', '-o', store, '1', '2'])).code).toBe(0);
    expect((await cli(['certs', '-o', store, 'csc'])).code).toBe(0);
    const ca = path.join(store, 'ca');
    await issueIntermediates(store, ['csc', 'cpc-1']);
    const rootCrt = fs.readFileSync(path.join(ca, 'ca.crt'), 'utf8');
    const rootKey = fs.readFileSync(path.join(ca, 'ca.key'), 'utf8');
    const r = await cli(['export', '-s', store, '--format', 'json', '-o', '-', '1']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    const keys = new Set<string>();
    for (const cluster of ['csc', 'cpc-1']) {
      const pem = fs.readFileSync(path.join(ca, 'clusters', `${cluster}.pem`), 'utf8');
      const secret = out[`dsx-event-bus/${cluster}/event-bus-certificate-issuer-ca`];
      expect(pem.startsWith(secret['tls.crt'])).toBe(true);
      expect(pem.endsWith(secret['tls.key'])).toBe(true);
      expect(secret['ca.crt']).toBe(rootCrt);
      expect(secret['tls.crt']).not.toBe(rootCrt);
      keys.add(secret['tls.key']);
    }
    expect(keys.size).toBe(2); // one intermediate per cluster
    expect(r.out).not.toContain(rootKey.trim().split('\n')[1]); // the root's key is never exported
    expect(r.err).toBe('Exported 22 remote secrets (csc, cpc-1, each cluster\'s intermediate CA as event-bus-certificate-issuer-ca) to stdout.\n');

    const renamed = JSON.parse((await cli(['export', '-s', store, '--ca-secret', 'fleet-ca', '--format', 'json', '-o', '-', '1'])).out);
    expect(Object.keys(renamed).filter((p) => p.endsWith('-ca'))).toEqual(['dsx-event-bus/csc/fleet-ca', 'dsx-event-bus/cpc-1/fleet-ca']);
    const without = JSON.parse((await cli(['export', '-s', store, '--no-ca', '--format', 'json', '-o', '-', '1'])).out);
    expect(Object.keys(without).filter((p) => p.endsWith('-ca'))).toEqual([]);

    // CPC 2 has no intermediate yet: left out, with the command that issues it.
    const two = await cli(['export', '-s', store, '--format', 'json', '-o', '-', '1', '2']);
    expect(two.code).toBe(0);
    expect(Object.keys(JSON.parse(two.out)).filter((p) => p.endsWith('-ca')).sort()).toEqual(['dsx-event-bus/cpc-1/event-bus-certificate-issuer-ca', 'dsx-event-bus/csc/event-bus-certificate-issuer-ca']);
    expect(two.err).toMatch(/^warning: cpc-2 has no intermediate CA in .* yet, so its CA issuer Secret event-bus-certificate-issuer-ca was not exported \(the fleet root's key never is\); run dsx-event-bus synth/m);

    // export never reads the root's key: without it, the same output.
    fs.rmSync(path.join(ca, 'ca.key'));
    const noKey = await cli(['export', '-s', store, '--format', 'json', '-o', '-', '1']);
    expect(noKey.code).toBe(0);
    expect(JSON.parse(noKey.out)).toEqual(out);
  });
});

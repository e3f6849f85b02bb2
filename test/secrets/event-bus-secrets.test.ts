import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { decoded, expectedTable, fleet, inlineTable, SHAPES, synth } from './helpers';
import { TlsFixture, tlsFixture } from './tls-fixture';
import {
  IKeyStore, EventBusCluster, EventBusSecrets, MtlsServerTls, NKeySeed, SecretOverride, SecretsDelivery,
} from '../../src';
import { describeKeyFile } from '../../src/keys/layout';
import { DeterministicKeyStore } from '../../src/testing';
import { standardLabels } from '../util/labels';
import { validateManifests } from '../util/schema';
import { describeSeeds, findSeeds } from '../util/seeds';

/** The standard labels of every Secret object. */
const SECRET_LABELS = standardLabels('secrets');

const keys = new DeterministicKeyStore();
let tls: TlsFixture;
beforeAll(async () => {
  tls = await tlsFixture();
});
const pem = () => MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: tls.tlsCrt, tlsKey: tls.tlsKey });

describe('EventBusSecrets: the required-Secrets table of the upstream pre-deployment page, exactly', () => {
  describe.each(SHAPES)('mTLS $mtls, extra accounts $accounts', ({ mtls, accounts }) => {
    const build = () => fleet({
      keys,
      delivery: () => SecretsDelivery.inline({ allowTestKeys: true }),
      mtls,
      extraAccounts: accounts,
      mtlsServerTls: () => (mtls ? pem() : undefined),
    });
    const tokens = accounts.map((a) => a.toLowerCase());

    test('CSC: names and keys, nothing more', () => {
      const f = build();
      expect(inlineTable(synth(f.cscChart))).toEqual(expectedTable('csc', { cpcIds: ['1', '2'], mtls, accounts: tokens }));
    });

    test('each CPC: names and keys, nothing more', () => {
      const f = build();
      f.cpcCharts.forEach((chart, i) => {
        expect(inlineTable(synth(chart))).toEqual(expectedTable('cpc', { cpcId: String(i + 1), mtls, accounts: tokens }));
      });
    });

    test('every value decodes to the store value byte-for-byte', () => {
      const f = build();
      let checked = 0;
      for (const [chart, cluster] of [[f.cscChart, 'csc'], ...f.cpcCharts.map((c, i) => [c, `cpc-${i + 1}`])] as Array<[Chart, string]>) {
        for (const m of synth(chart)) {
          for (const [key, value] of Object.entries(decoded(m))) {
            const name = m.metadata!.name!;
            let expected: string;
            if (name === 'nats-mtls-server-tls') {
              expected = { 'ca.crt': tls.caCrt, 'tls.crt': tls.tlsCrt, 'tls.key': tls.tlsKey }[key]!;
            } else {
              expected = describeKeyFile(cluster, name, key).form === 'seed'
                ? keys.readSeed(cluster, name, key).reveal()
                : keys.readPublicKey(cluster, name, key).value;
            }
            expect(value.equals(Buffer.from(expected, 'utf8'))).toBe(true);
            checked++;
          }
        }
      }
      // 10 keys per cluster (+9 with mTLS) on 3 clusters; per CPC and account one CSC pubkey and one CPC seed.
      expect(checked).toBe(3 * (10 + (mtls ? 9 : 0)) + 2 * 2 * (1 + accounts.length));
    });

    test('schema-valid Secrets, each annotated as key material', () => {
      const f = build();
      const objects = [f.cscChart, ...f.cpcCharts].flatMap(synth);
      expect(validateManifests(objects)).toBe(objects.length);
      for (const m of objects) {
        const material = m.metadata!.annotations!['cdk8s-dsx-event-bus/inline-key-material'];
        const keysOf = Object.keys(decoded(m));
        const expected = m.metadata!.name === 'nats-mtls-server-tls' ? 'tls-private-key'
          : keysOf.some((k) => /seed|\.nk$/.test(k)) ? 'seeds' : 'public-keys';
        expect(material).toBe(expected);
      }
    });
  });
});

describe('EventBusSecrets: leaf pairs', () => {
  test('the CSC leaf public key derives from the seed on the matching CPC, per account', () => {
    const f = fleet({ keys, delivery: () => SecretsDelivery.inline({ allowTestKeys: true }), extraAccounts: ['LaunchLayer', 'Ops'], mtls: false });
    const csc = Object.fromEntries(synth(f.cscChart).map((m) => [m.metadata!.name!, decoded(m)]));
    let pairs = 0;
    f.cpcCharts.forEach((chart, i) => {
      const id = String(i + 1);
      const cpc = Object.fromEntries(synth(chart).map((m) => [m.metadata!.name!, decoded(m)]));
      for (const token of [undefined, 'launchlayer', 'ops']) {
        const seed = NKeySeed.parse(cpc[token ? `nats-leaf-${token}-csc` : 'nats-leaf-csc'].seed.toString('utf8'));
        const pub = csc[token ? `nats-leaf-${token}-cpc-${id}` : `nats-leaf-cpc-${id}`].pubkey.toString('utf8');
        expect(seed.publicKey.value).toBe(pub);
        pairs++;
      }
    });
    expect(pairs).toBe(6);
    // Different pairs really are different keys.
    expect(new Set(Object.entries(csc).filter(([n]) => n.startsWith('nats-leaf-')).map(([, d]) => d.pubkey.toString())).size).toBe(6);
  });

  test('createLeafConnections emits one side alone, the same values as a joined fleet', () => {
    const joined = fleet({ keys, delivery: () => SecretsDelivery.inline({ allowTestKeys: true }), extraAccounts: ['LaunchLayer'], mtls: false });
    const chart = Testing.chart();
    const csc = new EventBusSecrets(chart, 'Secrets', {
      cluster: EventBusCluster.csc({ cpcIds: ['1', '2'] }), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys, extraAccounts: ['LaunchLayer'], mtls: false, createLeafConnections: true,
    });
    expect(csc.leafCpcIds).toEqual(['1', '2']);
    expect(synth(chart)).toEqual(synth(joined.cscChart));

    const cpcChart = Testing.chart();
    const cpc = new EventBusSecrets(cpcChart, 'Secrets', {
      cluster: EventBusCluster.cpc('2'), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys, extraAccounts: ['LaunchLayer'], mtls: false, createLeafConnections: true,
    });
    expect(cpc.leafCpcIds).toEqual(['2']);
    expect(synth(cpcChart)).toEqual(synth(joined.cpcCharts[1]));
  });

  test('fails when a CPC id of the CSC has no LeafConnection (at synthesis)', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'csc');
    new EventBusSecrets(chart, 'Secrets', { cluster: EventBusCluster.csc({ cpcIds: ['1', '2'] }), delivery: SecretsDelivery.existing(), extraAccounts: ['LaunchLayer'] });
    expect(() => app.synthYaml()).toThrow(
      /\[csc\/Secrets\] no LeafConnection joins the CSC to CPC-1, so nats-leaf-cpc-1, nats-leaf-launchlayer-cpc-1 are missing\. Fix: add new LeafConnection\(.*\), or set createLeafConnections: true/,
    );
    expect(() => app.synthYaml()).toThrow(/CPC-2/);
  });

  test('fails when a CPC has no LeafConnection (at synthesis)', () => {
    const app = Testing.app();
    new EventBusSecrets(new Chart(app, 'cpc'), 'Secrets', { cluster: EventBusCluster.cpc('7'), delivery: SecretsDelivery.existing() });
    expect(() => app.synthYaml()).toThrow(/\[cpc\/Secrets\] no LeafConnection joins CPC-7 to the CSC, so nats-leaf-csc is missing/);
  });
});

describe('EventBusSecrets: no seed outside inline', () => {
  const strategies = {
    externalSecrets: () => SecretsDelivery.externalSecrets({ storeName: 'vault-backend' }),
    clusterExternalSecrets: () => SecretsDelivery.externalSecrets({ storeName: 'vault-backend', storeKind: 'ClusterSecretStore' as any }),
    vaultStaticSecrets: () => SecretsDelivery.vaultStaticSecrets({ vaultAuthRef: 'dsx/event-bus' }),
    existing: () => SecretsDelivery.existing(),
  };

  test.each(Object.entries(strategies))('%s: no seed-shaped string anywhere, plain or base64, with a key store attached', (_name, delivery) => {
    const f = fleet({ keys, delivery, extraAccounts: ['LaunchLayer'], extra: { metadata: { labels: { team: 'bus' }, annotations: { 'example.com/owner': 'ops' } } } });
    const objects = [f.cscChart, ...f.cpcCharts].flatMap(synth);
    const text = JSON.stringify(objects) + f.app.synthYaml();
    const seeds = findSeeds(text);
    expect(seeds).toEqual([]);
    if (seeds.length) throw new Error(`seeds found: ${describeSeeds(seeds)}`);
    expect(validateManifests(objects)).toBe(objects.length);
  });

  test('the scanner does find the seeds of the inline strategy (positive control)', () => {
    const f = fleet({ keys, delivery: () => SecretsDelivery.inline({ allowTestKeys: true }), mtls: false });
    const seeds = findSeeds(JSON.stringify(synth(f.cpcCharts[0])));
    expect(seeds).toContain(keys.readSeed('cpc-1', 'nats-leaf-csc').reveal());
    expect(seeds).toContain(keys.readSeed('cpc-1', 'nats-surveyor').reveal());
  });

  test('existing() emits nothing, but names and overrides still flow', () => {
    const f = fleet({ delivery: SecretsDelivery.existing, extra: { secretOverrides: [{ secret: 'nats-surveyor', name: 'surveyor-nkey' }] } });
    expect([f.cscChart, ...f.cpcCharts].flatMap(synth)).toEqual([]);
    expect(f.csc.secretName('nats-surveyor')).toBe('surveyor-nkey');
    expect(f.csc.listSecrets().every((s) => !s.emitted)).toBe(true);
    expect(f.csc.listSecrets().map((s) => s.name)).toContain('nats-leaf-cpc-2');
  });
});

describe('EventBusSecrets: ExternalSecret and VaultStaticSecret objects', () => {
  test('one ExternalSecret per Secret: remote key <prefix>/<cluster>/<secret>, one property per key', () => {
    const f = fleet({
      delivery: () => SecretsDelivery.externalSecrets({ storeName: 'vault-backend', storeKind: 'ClusterSecretStore' as any, prefix: 'prod/event-bus' }),
      extra: { metadata: { namespace: 'dsx' }, immutableSecrets: true },
    });
    const objects = synth(f.cpcCharts[0]);
    expect(objects.map((o) => o.kind)).toEqual(Array(objects.length).fill('ExternalSecret'));
    const nack = objects.find((o) => o.metadata!.name === 'nats-nack-user') as any;
    expect(nack.metadata.namespace).toBe('dsx');
    expect(nack.spec).toEqual({
      secretStoreRef: { name: 'vault-backend', kind: 'ClusterSecretStore' },
      target: {
        name: 'nats-nack-user',
        creationPolicy: 'Owner',
        immutable: true,
        template: { type: 'Opaque', metadata: { labels: SECRET_LABELS } },
      },
      data: [
        { secretKey: 'nack-user.nk', remoteRef: { key: 'prod/event-bus/cpc-1/nats-nack-user', property: 'nack-user.nk' } },
        { secretKey: 'pubkey', remoteRef: { key: 'prod/event-bus/cpc-1/nats-nack-user', property: 'pubkey' } },
      ],
    });
    expect(validateManifests(objects)).toBe(objects.length);
  });

  test('one VaultStaticSecret per Secret: kv-v2, same path, operator-created destination without _raw', () => {
    const f = fleet({ delivery: () => SecretsDelivery.vaultStaticSecrets({ mount: 'kv', vaultAuthRef: 'vault/event-bus', vaultNamespace: 'team-a' }) });
    const objects = synth(f.cscChart);
    const leaf = objects.find((o) => o.metadata!.name === 'nats-leaf-cpc-2') as any;
    expect(leaf.spec).toEqual({
      type: 'kv-v2',
      mount: 'kv',
      path: 'dsx-event-bus/csc/nats-leaf-cpc-2',
      namespace: 'team-a',
      vaultAuthRef: 'vault/event-bus',
      destination: {
        name: 'nats-leaf-cpc-2',
        create: true,
        labels: SECRET_LABELS,
        transformation: { excludeRaw: true, includes: ['^pubkey$'] },
      },
    });
    expect(validateManifests(objects)).toBe(objects.length);
  });

  test('refresh intervals are rendered as whole seconds', () => {
    const { Duration } = jest.requireActual('cdk8s');
    const eso = fleet({ delivery: () => SecretsDelivery.externalSecrets({ storeName: 's', refreshInterval: Duration.hours(1) }) });
    expect((synth(eso.cscChart)[0] as any).spec.refreshInterval).toBe('3600s');
    const vso = fleet({ delivery: () => SecretsDelivery.vaultStaticSecrets({ refreshAfter: Duration.minutes(5) }) });
    const objects = synth(vso.cscChart);
    expect((objects[0] as any).spec.refreshAfter).toBe('300s');
    expect(validateManifests(objects)).toBe(objects.length);
  });
});

describe('EventBusSecrets: overrides', () => {
  const overrides: SecretOverride[] = [
    { secret: 'nats-nack-user', name: 'nack-nkey', keys: { 'nack-user.nk': 'nkey' } },
    { secret: 'nats-leaf-cpc-1', keys: { pubkey: 'key' } },
    { secret: 'auth-callout-keys', keys: { 'nkey-seed': 'user.nk', 'issuer-seed': 'issuer.nk', 'xkey-seed': 'xkey.nk' } },
  ];

  test('names and keys after overrides, and the nkeySecretRefOverrides values tree', () => {
    const f = fleet({ delivery: SecretsDelivery.existing, cpcIds: ['1'], extra: {}, mtls: false });
    const chart = Testing.chart();
    const csc = new EventBusSecrets(chart, 'S', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.existing(), secretOverrides: overrides, createLeafConnections: true });
    expect(csc.secretName('nats-nack-user')).toBe('nack-nkey');
    expect(csc.secretKey('nats-nack-user', 'nack-user.nk')).toBe('nkey');
    expect(csc.secretKey('nats-nack-user', 'pubkey')).toBe('pubkey');
    expect(csc.secretName('nats-xkey')).toBe('nats-xkey');
    expect(csc.nkeySecretRefOverrides()).toEqual({
      'nats-nack-user': {
        'nack-user.nk': { valueFrom: { secretKeyRef: { name: 'nack-nkey', key: 'nkey' } } },
        'pubkey': { valueFrom: { secretKeyRef: { name: 'nack-nkey', key: 'pubkey' } } },
      },
      'auth-callout-keys': {
        'nkey-seed': { valueFrom: { secretKeyRef: { name: 'auth-callout-keys', key: 'user.nk' } } },
        'issuer-seed': { valueFrom: { secretKeyRef: { name: 'auth-callout-keys', key: 'issuer.nk' } } },
        'xkey-seed': { valueFrom: { secretKeyRef: { name: 'auth-callout-keys', key: 'xkey.nk' } } },
      },
      'nats-leaf-cpc-1': { pubkey: { valueFrom: { secretKeyRef: { name: 'nats-leaf-cpc-1', key: 'key' } } } },
    });
    expect(f.csc.nkeySecretRefOverrides()).toEqual({});
    expect(csc.secretName('nats-leaf-cpc-1')).toBe('nats-leaf-cpc-1');
  });

  test('inline: renamed Secrets carry renamed keys with the same values', () => {
    const chart = Testing.chart();
    new EventBusSecrets(chart, 'S', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys, mtls: false, secretOverrides: overrides, createLeafConnections: true });
    const byName = Object.fromEntries(synth(chart).map((m) => [m.metadata!.name!, decoded(m)]));
    expect(Object.keys(byName['nack-nkey']).sort()).toEqual(['nkey', 'pubkey']);
    expect(byName['nack-nkey'].nkey.toString()).toBe(keys.readSeed('csc', 'nats-nack-user', 'nack-user.nk').reveal());
    expect(byName['nats-leaf-cpc-1'].key.toString()).toBe(keys.readPublicKey('csc', 'nats-leaf-cpc-1').value);
    expect(byName['nats-nack-user']).toBeUndefined();
  });

  test('externalSecrets: remote layout keeps upstream names; the target gets the new ones', () => {
    const chart = Testing.chart();
    new EventBusSecrets(chart, 'S', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.externalSecrets({ storeName: 'v' }), secretOverrides: overrides, createLeafConnections: true });
    const objects = synth(chart);
    const nack = objects.find((o) => o.metadata!.name === 'nack-nkey') as any;
    expect(nack.spec.target.name).toBe('nack-nkey');
    expect(nack.spec.data[0]).toEqual({ secretKey: 'nkey', remoteRef: { key: 'dsx-event-bus/csc/nats-nack-user', property: 'nack-user.nk' } });
    expect(validateManifests(objects)).toBe(objects.length);
  });

  test('vaultStaticSecrets: renamed keys are templates, the rest is included by exact name', () => {
    const chart = Testing.chart();
    new EventBusSecrets(chart, 'S', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.vaultStaticSecrets(), secretOverrides: overrides, createLeafConnections: true });
    const objects = synth(chart);
    const nack = objects.find((o) => o.metadata!.name === 'nack-nkey') as any;
    expect(nack.spec.path).toBe('dsx-event-bus/csc/nats-nack-user');
    expect(nack.spec.destination.transformation).toEqual({
      excludeRaw: true, includes: ['^pubkey$'], templates: { nkey: { text: '{{- get .Secrets "nack-user.nk" -}}' } },
    });
    const callout = objects.find((o) => o.metadata!.name === 'auth-callout-keys') as any;
    expect(callout.spec.destination.transformation.excludes).toEqual(['.*']);
    expect(validateManifests(objects)).toBe(objects.length);
  });

  test('fails when an override names an unknown Secret', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), secretOverrides: [{ secret: 'nats-leaf-cpc-1', name: 'x' }] }))
      .toThrow(/test\/S: secretOverrides: "nats-leaf-cpc-1" is not a Secret of CPC-1\. Allowed: nats-auth-signing, .*nats-leaf-csc\. Fix: use the upstream Secret name/);
  });

  test('fails when an override names an mTLS Secret while mTLS is off', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), mtls: false, secretOverrides: [{ secret: 'nats-mtls-leaf', name: 'x' }] }))
      .toThrow(/Secret "nats-mtls-leaf" is not used because mtls is false/);
  });

  test('fails when an override renames a key the Secret does not carry', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), secretOverrides: [{ secret: 'nats-auth-signing', keys: { seed: 'x' } }] }))
      .toThrow(/Secret nats-auth-signing has no key "seed"\. Allowed: pubkey/);
  });

  test('fails when an override gives an invalid name or key', () => {
    const make = (o: any) => () => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), secretOverrides: [o] });
    expect(make({ secret: 'nats-xkey', name: 'Bad_Name' })).toThrow(/new name of nats-xkey "Bad_Name" is not a valid Kubernetes object name/);
    expect(make({ secret: 'nats-xkey', keys: { pubkey: 'a/b' } })).toThrow(/Secret key "a\/b" is invalid/);
  });

  test('fails when two overrides collide', () => {
    const make = (list: any[]) => () => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), secretOverrides: list });
    expect(make([{ secret: 'nats-xkey', name: 'a' }, { secret: 'nats-xkey', name: 'b' }])).toThrow(/Secret nats-xkey is overridden twice/);
    expect(make([{ secret: 'nats-xkey', name: 'nats-surveyor' }])).toThrow(/Secrets nats-xkey and nats-surveyor would both be named "nats-surveyor"/);
    expect(make([{ secret: 'nats-surveyor', keys: { seed: 'pubkey' } }])).toThrow(/Secret nats-surveyor would have the key "pubkey" twice/);
  });

  test('fails when the keys of nats-mtls-server-tls are renamed', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), secretOverrides: [{ secret: 'nats-mtls-server-tls', keys: { 'tls.key': 'key' } }] }))
      .toThrow(/the keys of nats-mtls-server-tls cannot be renamed/);
  });

  test('fails when asked for the name of a Secret the cluster does not have', () => {
    const s = new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), mtls: false });
    expect(() => s.secretName('nats-mtls-leaf')).toThrow(/S: secretName: "nats-mtls-leaf" is not a Secret of CPC-1 \(mtls is false\)/);
    expect(() => s.secretKey('nats-xkey', 'seed')).toThrow(/Secret nats-xkey has no key "seed"\. Allowed: pubkey/);
  });
});

describe('EventBusSecrets: the mTLS server certificate', () => {
  const tlsSource = (name: string, namespace?: string) => ({ tlsSecretName: name, tlsSecretNamespace: namespace });

  test('from a TLS Secret source: nothing emitted, name checked', () => {
    const f = fleet({ delivery: () => SecretsDelivery.externalSecrets({ storeName: 'v' }), mtlsServerTls: () => MtlsServerTls.fromTlsSecretSource(tlsSource('nats-mtls-server-tls', 'dsx')), extra: { metadata: { namespace: 'dsx' } } });
    expect(synth(f.cscChart).map((o) => o.metadata!.name)).not.toContain('nats-mtls-server-tls');
    expect(f.csc.listSecrets().find((s) => s.defaultName === 'nats-mtls-server-tls')).toEqual({
      defaultName: 'nats-mtls-server-tls', name: 'nats-mtls-server-tls', keys: ['ca.crt', 'tls.crt', 'tls.key'].map((k) => ({ defaultKey: k, key: k })), emitted: false,
    });
  });

  test('fails when the TLS Secret source writes another name than the chart reads', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), mtlsServerTls: MtlsServerTls.fromTlsSecretSource(tlsSource('event-bus-mtls')) }))
      .toThrow(/S: mtlsServerTls: the TLS Secret source writes the Secret "event-bus-mtls", but the chart is told to read "nats-mtls-server-tls"\. Fix: name the certificate's Secret "nats-mtls-server-tls" \(the chart mounts that name and it cannot be renamed\)/);
  });

  test('fails when the TLS Secret source writes to another namespace', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), metadata: { namespace: 'dsx' }, mtlsServerTls: MtlsServerTls.fromTlsSecretSource(tlsSource('nats-mtls-server-tls', 'cert-manager')) }))
      .toThrow(/is written to namespace "cert-manager", but the chart reads Secrets from "dsx"/);
  });

  test('from the delivery: an ExternalSecret / VaultStaticSecret for ca.crt, tls.crt, tls.key', () => {
    const eso = fleet({ delivery: () => SecretsDelivery.externalSecrets({ storeName: 'v' }) });
    const es = synth(eso.cscChart).find((o) => o.metadata!.name === 'nats-mtls-server-tls') as any;
    expect(es.spec.data.map((d: any) => [d.secretKey, d.remoteRef.key, d.remoteRef.property])).toEqual(
      ['ca.crt', 'tls.crt', 'tls.key'].map((k) => [k, 'dsx-event-bus/csc/nats-mtls-server-tls', k]));
    const vso = fleet({ delivery: () => SecretsDelivery.vaultStaticSecrets() });
    const vs = synth(vso.cpcCharts[1]).find((o) => o.metadata!.name === 'nats-mtls-server-tls') as any;
    expect(vs.spec.path).toBe('dsx-event-bus/cpc-2/nats-mtls-server-tls');
  });

  test('from PEM files: emitted byte-for-byte', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pem-'));
    const write = (n: string, t: string) => { fs.writeFileSync(`${dir}/${n}`, t); return `${dir}/${n}`; };
    const files = { caFile: write('ca.pem', tls.caCrt), certFile: write('server.pem', tls.tlsCrt), keyFile: write('server-key.pem', tls.tlsKey) };
    const chart = Testing.chart();
    new EventBusSecrets(chart, 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys, mtlsServerTls: MtlsServerTls.fromPemFiles(files), createLeafConnections: true });
    const secret = synth(chart).find((o) => o.metadata!.name === 'nats-mtls-server-tls')!;
    const data = decoded(secret);
    expect(data['tls.key'].equals(fs.readFileSync(files.keyFile))).toBe(true);
    expect(data['tls.crt'].equals(fs.readFileSync(files.certFile))).toBe(true);
    expect(data['ca.crt'].equals(fs.readFileSync(files.caFile))).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });

  test('fails when PEM would go into the manifest of a non-inline delivery', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.vaultStaticSecrets(), mtlsServerTls: pem() }))
      .toThrow(/mtlsServerTls: PEM files would put the TLS private key into the manifest, but delivery vaultStaticSecrets keeps key material out of manifests/);
  });

  test('fails when inline delivery has no value for the server certificate', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys }))
      .toThrow(/mTLS is enabled and nats-mtls-server-tls is to come from the delivery strategy, but inline delivery has no value for it\. Fix: set it to MtlsServerTls\.fromPemFiles.*or set mtls: false/);
  });

  test('fails when mtlsServerTls is set but mTLS is off', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), mtls: false, mtlsServerTls: MtlsServerTls.fromDelivery() }))
      .toThrow(/mtlsServerTls is set, but mtls is false/);
  });
});

describe('EventBusSecrets: metadata', () => {
  test('namespace, labels, annotations and immutable reach every object and the operator-made Secrets', () => {
    const extra = { metadata: { namespace: 'dsx', labels: { team: 'bus' }, annotations: { 'example.com/owner': 'ops' } }, immutableSecrets: true };
    const inline = synth(fleet({ keys, delivery: () => SecretsDelivery.inline({ allowTestKeys: true }), mtls: false, extra }).cpcCharts[0]);
    for (const m of inline as any[]) {
      expect(m.metadata).toMatchObject({ namespace: 'dsx', labels: { 'team': 'bus', 'app.kubernetes.io/part-of': 'dsx-event-bus' }, annotations: { 'example.com/owner': 'ops' } });
      expect(m.immutable).toBe(true);
    }
    const eso = synth(fleet({ delivery: () => SecretsDelivery.externalSecrets({ storeName: 'v' }), extra }).cpcCharts[0]) as any[];
    for (const m of eso) {
      expect(m.spec.target).toMatchObject({ immutable: true, template: { metadata: { labels: { team: 'bus' }, annotations: { 'example.com/owner': 'ops' } } } });
    }
    const { immutableSecrets: _, ...mutable } = extra;
    const vso = synth(fleet({ delivery: () => SecretsDelivery.vaultStaticSecrets(), extra: mutable }).cpcCharts[0]) as any[];
    for (const m of vso) expect(m.spec.destination).toMatchObject({ labels: { team: 'bus' }, annotations: { 'example.com/owner': 'ops' } });
    expect(validateManifests([...inline, ...eso, ...vso])).toBeGreaterThan(0);
  });

  const make = (props: any) => () => new EventBusSecrets(Testing.chart(), 'S', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), ...props });

  test('fails when the namespace is invalid', () => {
    expect(make({ metadata: { namespace: 'DSX' } })).toThrow(/S: metadata\.namespace: namespace "DSX" is not a valid Kubernetes namespace\. Allowed: lower-case letters, digits and .-., starting and ending with a letter or digit, at most 63 characters/);
  });

  test('fails when a label or annotation is invalid', () => {
    expect(make({ metadata: { labels: { 'bad key!': 'x' } } })).toThrow(/S: metadata\.labels: label key "bad key!" is invalid/);
    expect(make({ metadata: { labels: { team: 'not a label value' } } })).toThrow(/label team has the invalid value "not a label value"/);
    expect(make({ metadata: { annotations: { '/x': 'y' } } })).toThrow(/S: metadata\.annotations: annotation key "\/x" is invalid/);
  });

  test('fails when metadata names the Secrets: each has the chart\'s name', () => {
    expect(make({ metadata: { name: 'my-secrets' } }))
      .toThrow(/S: metadata\.name: it is "my-secrets", but EventBusSecrets makes many Secrets, each named as the chart expects\. Fix: remove metadata\.name; rename a Secret with secretOverrides/);
  });

  test('fails when immutable is asked of a delivery that cannot honour it', () => {
    expect(make({ immutableSecrets: true })).toThrow(/immutableSecrets: it is true, but delivery existing creates no Secrets/);
    expect(make({ immutableSecrets: true, delivery: SecretsDelivery.vaultStaticSecrets() })).toThrow(/delivery vaultStaticSecrets cannot create immutable Secrets/);
  });

  test('fails when inline delivery has no key store', () => {
    expect(make({ delivery: SecretsDelivery.inline({ allowTestKeys: true }), mtls: false })).toThrow(/S: keys: inline delivery needs the key values, but keys is not set/);
  });

  test('fails when cluster or delivery is missing', () => {
    expect(make({ cluster: undefined })).toThrow(/S: cluster is missing/);
    expect(make({ delivery: undefined })).toThrow(/S: delivery is missing/);
  });

  test('fails when an extra account is invalid', () => {
    expect(make({ extraAccounts: ['SYS'] })).toThrow(/S: extraAccounts: extra account "SYS" conflicts with a built-in NATS account name/);
    expect(make({ extraAccounts: ['Launch', 'launch'] })).toThrow(/normalizes to secret token launch, which is already used by extra account "Launch"/);
  });

  test('constructors read nothing; synthesis ensures the store once per app for every cluster that uses it, then reads each key once', () => {
    const calls: unknown[] = [];
    const reads: string[] = [];
    const store = new DeterministicKeyStore();
    const spy: IKeyStore = {
      description: store.description,
      ensure: (r) => { calls.push(r); store.ensure(r); },
      readSeed: (c, n, k) => { reads.push(`${c}/${n}/${k}`); return store.readSeed(c, n, k); },
      readPublicKey: (c, n, k) => { reads.push(`${c}/${n}/${k}`); return store.readPublicKey(c, n, k); },
    };
    const app = Testing.app();
    const cscChart = new Chart(app, 'csc');
    new EventBusSecrets(cscChart, 'S', { cluster: EventBusCluster.csc({ cpcIds: ['1', '2'] }), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys: spy, mtls: false, extraAccounts: ['Ops'], createLeafConnections: true });
    for (const id of ['1', '2']) {
      new EventBusSecrets(new Chart(app, `cpc-${id}`), 'S', { cluster: EventBusCluster.cpc(id), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys: spy, mtls: false, extraAccounts: ['Ops'], createLeafConnections: true });
    }
    new EventBusSecrets(new Chart(app, 'other'), 'S', { cluster: EventBusCluster.cpc('3'), delivery: SecretsDelivery.existing(), keys: spy, createLeafConnections: true });
    expect([calls, reads]).toEqual([[], []]);
    app.synthYaml();
    expect(calls).toEqual([{ cpcIds: ['1', '2'], extraAccounts: ['Ops'] }, { cpcIds: ['3'], extraAccounts: [] }]);
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads).size).toBe(reads.length);
    Testing.synth(cscChart);
    expect(calls).toHaveLength(2);
  });
});

describe('EventBusSecrets: snapshots (deterministic keys, stable names)', () => {
  test.each([
    ['inline', () => SecretsDelivery.inline({ allowTestKeys: true }), true],
    ['externalSecrets', () => SecretsDelivery.externalSecrets({ storeName: 'vault-backend', storeKind: 'ClusterSecretStore' as any }), false],
    ['vaultStaticSecrets', () => SecretsDelivery.vaultStaticSecrets({ vaultAuthRef: 'event-bus' }), false],
  ] as const)('%s fleet (1 CSC + 2 CPCs, one extra account)', (_name, delivery, isInline) => {
    const f = fleet({
      keys,
      delivery,
      extraAccounts: ['LaunchLayer'],
      extra: { metadata: { namespace: 'dsx' } },
      mtlsServerTls: () => (isInline ? MtlsServerTls.fromTlsSecretSource({ tlsSecretName: 'nats-mtls-server-tls' }) : undefined),
    });
    // Inline values are pinned by their SHA-256, so no key material (not even
    // deterministic test seeds in base64) is committed in the snapshot file.
    const pin = (m: any) => (m.data ? { ...m, data: Object.fromEntries(Object.entries(m.data as Record<string, string>).map(([k, v]) => [k, `sha256:${createHash('sha256').update(Buffer.from(v, 'base64')).digest('hex')}`])) } : m);
    const out = Object.fromEntries([f.cscChart, ...f.cpcCharts].map((c) => [c.node.id, synth(c).map(pin)]));
    expect(findSeeds(JSON.stringify(out))).toEqual([]);
    expect(out).toMatchSnapshot();
  });
});

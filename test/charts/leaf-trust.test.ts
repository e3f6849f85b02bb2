import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { testFleetProps } from './fleet-props';
import {
  CpcChart, EventBusCluster, GatewayTransport, EventBusFleet, EventBusFleetProps, LeafTrust, SecretsDelivery,
} from '../../src';
import { DeterministicKeyStore } from '../../src/testing';
import { tlsFixture, TlsFixture } from '../secrets/tls-fixture';
import { standardLabels, TEST_KEYS } from '../util/labels';

const keys = new DeterministicKeyStore();
let tls: TlsFixture;
beforeAll(async () => {
  tls = await tlsFixture();
});

const fleetProps = (extra: Partial<EventBusFleetProps> = {}) => testFleetProps({ extraAccounts: ['LaunchLayer'], ...extra });

function objects(chart: CpcChart): any[] {
  return chart.toJson();
}

describe('LeafTrust', () => {
  test('fromPem: a ConfigMap with the bundle in each CPC, mounted by tlsCA and named by ca_file', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ cscTrust: LeafTrust.fromPem(tls.caCrt) }));
    for (const cpc of fleet.cpcs) {
      const values = cpc.helmValues();
      expect(values.global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/ca.crt' });
      expect(values.nats.tlsCA).toEqual({ enabled: true, configMapName: 'nats-csc-gateway-ca', dir: '/etc/nats-ca-cert', key: 'ca.crt' });
      const cms = objects(cpc).filter((o) => o.kind === 'ConfigMap');
      expect(cms).toEqual([{
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'nats-csc-gateway-ca',
          namespace: 'dsx',
          labels: { ...standardLabels('trust'), ...TEST_KEYS },
        },
        data: { 'ca.crt': tls.caCrt },
      }]);
    }
    // The CSC accepts through its gateway: it needs no client trust.
    expect(fleet.csc.helmValues().global.eventBus.cpcLeafClientTLS).toBeUndefined();
    expect(fleet.csc.helmValues().nats).toBeUndefined();
    expect(fleet.csc.toJson().filter((o: any) => o.kind === 'ConfigMap')).toEqual([]);
  });

  test('fromPem takes a bundle of several CAs and another ConfigMap name', () => {
    const bundle = `${tls.caCrt}${tls.otherCaCrt}`;
    const trust = LeafTrust.fromPem(bundle, { configMapName: 'csc-ca-bundle' });
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ cscTrust: trust }));
    const cm = objects(fleet.cpc('1')).find((o) => o.kind === 'ConfigMap');
    expect(cm.metadata.name).toBe('csc-ca-bundle');
    expect(cm.data['ca.crt']).toBe(bundle);
    expect(fleet.cpc('1').helmValues().nats.tlsCA.configMapName).toBe('csc-ca-bundle');
  });

  test('fromPemFile reads the file now', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leaf-trust-'));
    try {
      const file = path.join(dir, 'ca.crt');
      fs.writeFileSync(file, tls.caCrt);
      const trust = LeafTrust.fromPemFile(file);
      expect(trust.kind).toBe('pem');
      expect(trust.pem).toBe(tls.caCrt);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fromExistingSecret: mounts the Secret, emits nothing', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ cscTrust: LeafTrust.fromExistingSecret('vault-pki-ca', 'issuing_ca') }));
    const cpc = fleet.cpc('2');
    expect(cpc.helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/issuing_ca' });
    expect(cpc.helmValues().nats.tlsCA).toEqual({ enabled: true, secretName: 'vault-pki-ca', dir: '/etc/nats-ca-cert', key: 'issuing_ca' });
    expect(objects(cpc).filter((o) => o.kind === 'ConfigMap')).toEqual([]);
  });

  test('fromExistingConfigMap: mounts the ConfigMap (key ca.crt by default), emits nothing', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ cscTrust: LeafTrust.fromExistingConfigMap('trust-bundle') }));
    const cpc = fleet.cpc('1');
    expect(cpc.helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/ca.crt' });
    expect(cpc.helmValues().nats.tlsCA).toEqual({ enabled: true, configMapName: 'trust-bundle', dir: '/etc/nats-ca-cert', key: 'ca.crt' });
    expect(objects(cpc).filter((o) => o.kind === 'ConfigMap')).toEqual([]);
  });

  test('publicRoots: handshake_first only, nothing mounted; never assumed for an issuer the library did not make', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ cscTrust: LeafTrust.publicRoots() }));
    const values = fleet.cpc('1').helmValues();
    expect(values.global.eventBus.cscEndpoint).toBe('tls://csc.example.com:7422');
    expect(values.global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true });
    expect(values.nats).toBeUndefined();
    expect(() => new EventBusFleet(Testing.app(), 'fleet', fleetProps({ cscTrust: undefined }))).toThrow(/CPC "1" states no cscTrust/);
  });

  test('a per-CPC cscTrust replaces the fleet\'s', () => {
    const props = fleetProps({ cscTrust: LeafTrust.fromExistingConfigMap('fleet-ca') });
    const fleet = new EventBusFleet(Testing.app(), 'fleet', { ...props, cpcs: [props.cpcs[0], { ...props.cpcs[1], cscTrust: LeafTrust.fromExistingSecret('own-ca') }] });
    expect(fleet.cpc('1').helmValues().nats.tlsCA.configMapName).toBe('fleet-ca');
    expect(fleet.cpc('2').helmValues().nats.tlsCA.secretName).toBe('own-ca');
  });

  test('transport tcp: a nats:// endpoint and no tls block', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ gateway: { transport: GatewayTransport.TCP } }));
    const values = fleet.cpc('1').helmValues();
    expect(values.global.eventBus.cscEndpoint).toBe('nats://csc.example.com:7422');
    expect(values.global.eventBus.cpcLeafClientTLS).toBeUndefined();
    expect(values.nats).toBeUndefined();
    expect(fleet.cpc('1').cscTrust).toBeUndefined();
  });

  test('a CpcChart alone takes cscTrust too', () => {
    const chart = new CpcChart(Testing.app(), 'cpc-7', {
      cluster: EventBusCluster.cpc('7'),
      cscEndpoint: 'tls://10.0.0.1:7422',
      delivery: SecretsDelivery.existing(),
      createLeafConnections: true,
      keys,
      gateway: { enabled: false },
      mtls: false,
      cscTrust: LeafTrust.fromExistingSecret('csc-ca'),
    });
    expect(chart.helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/ca.crt' });
    expect(chart.helmValues().nats.tlsCA.secretName).toBe('csc-ca');
  });

  test('the values file header tells NATS clients of a terminating gateway to speak TLS first; a TCP gateway\'s does not', () => {
    const tlsFleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps());
    for (const chart of tlsFleet.charts) {
      const header = chart.valuesYaml().split('\n').filter((l) => l.startsWith('#')).join('\n');
      expect(header).toMatch(/must start with the TLS handshake \(TLS-first\)/);
      expect(header).toMatch(/https:\/\/docs\.nats\.io\/running-a-nats-service\/configuration\/securing_nats\/tls \(TLS-first handshake\)/);
    }
    const tcpFleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ gateway: { transport: GatewayTransport.TCP } }));
    expect(tcpFleet.cpc('1').valuesYaml()).not.toMatch(/TLS-first/);
  });

  test('fails when cscTrust is set with transport tcp', () => {
    expect(() => new EventBusFleet(Testing.app(), 'fleet', fleetProps({
      gateway: { transport: GatewayTransport.TCP }, cscTrust: LeafTrust.fromPem(tls.caCrt),
    }))).toThrow(/cscTrust is set, but cscEndpoint "nats:\/\/csc\.example\.com:7422" uses nats:\/\/.*Fix: remove cscTrust for a plain TCP gateway/);
  });

  test('fails when the PEM bundle holds a private key, without echoing it', () => {
    let message = '';
    try {
      LeafTrust.fromPem(`${tls.caCrt}${tls.tlsKey}`);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/pemBundle holds a PRIVATE KEY block; a trust bundle is public.*Fix: remove the PRIVATE KEY/);
    const keyBody = tls.tlsKey.split('\n')[1];
    expect(message).not.toContain(keyBody);
  });

  test('fails when the PEM bundle is empty or not a certificate', () => {
    expect(() => LeafTrust.fromPem('')).toThrow(/LeafTrust.fromPem: pemBundle is empty/);
    expect(() => LeafTrust.fromPem('hello')).toThrow(/pemBundle holds no PEM certificate.*Allowed: one or more "-----BEGIN CERTIFICATE-----" blocks/);
    expect(() => LeafTrust.fromPem('-----BEGIN CERTIFICATE-----\nnotbase64!!\n-----END CERTIFICATE-----\n')).toThrow(/certificate 1 of 1 cannot be parsed/);
  });

  test('fails when a PEM file is missing', () => {
    expect(() => LeafTrust.fromPemFile('/nonexistent/ca.crt')).toThrow(/LeafTrust.fromPemFile: file "\/nonexistent\/ca.crt" cannot be read \(ENOENT\)/);
  });

  test('fails when a Secret or ConfigMap name or key is invalid', () => {
    expect(() => LeafTrust.fromExistingSecret('Bad_Name')).toThrow(/Bad_Name/);
    expect(() => LeafTrust.fromExistingConfigMap('ca', 'a/b')).toThrow(/LeafTrust.fromExistingConfigMap: key "a\/b" is invalid/);
    expect(() => LeafTrust.fromPem(tls.caCrt, { configMapName: 'UPPER' })).toThrow(/UPPER/);
  });
});

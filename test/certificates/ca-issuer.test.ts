import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as util from 'util';
import { Duration, Testing } from 'cdk8s';
import { Intermediates, issueIntermediates, withIntermediates } from './intermediates';
import {
  CaIssuer, CertificateAuthority, ClusterCertificates, EventBusFleet, EventBusFleetProps, GatewayTransport, ICertificateIssuer, LeafTrust,
  PrivateKeyAlgorithm,
  SecretsDelivery, SecretStoreKind,
} from '../../src';
import { EvaluationCa, generateEvaluationCa } from '../../src/cli/evaluation';
import { testFleetProps } from '../charts/fleet-props';
import { tlsFixture, TlsFixture } from '../secrets/tls-fixture';
import { standardLabels, TEST_KEYS } from '../util/labels';
import { validateManifests } from '../util/schema';

/** The standard labels of every certificates object. */
const CERT_LABELS = standardLabels('certificates');

let ca: EvaluationCa;
let other: EvaluationCa;
let tls: TlsFixture;
let intermediates: Intermediates;
let otherIntermediates: Intermediates;

const keyBody = (pem: string) => pem.split('\n')[1];

const baseProps = (extra: Partial<EventBusFleetProps> = {}) => testFleetProps({
  certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromPem(ca.certPem)),
  csc: { gateway: { hostnames: ['csc.example.com'], mtlsClientUrls: ['mqtts://csc.example.com:8883'] } },
  ...extra,
});
/** The test fleet with the root's certificate and one intermediate per cluster (as synth makes them). */
const fleetProps = (extra: Partial<EventBusFleetProps> = {}) => {
  const props = baseProps(extra);
  return props.certificates?.ca?.kind === 'pem' ? withIntermediates(props, ca, intermediates) : props;
};
/** One cluster's intermediate as a CertificateAuthority. */
const intermediateOf = (cluster: string) => {
  const own = intermediates.get(cluster)!;
  return CertificateAuthority.intermediateFromPem(own.certPem, own.keyPem, ca.certPem);
};

beforeAll(async () => {
  [ca, other, tls] = await Promise.all([generateEvaluationCa('ecdsa-p256'), generateEvaluationCa('rsa-2048'), tlsFixture()]);
  [intermediates, otherIntermediates] = await Promise.all([issueIntermediates(baseProps(), ca), issueIntermediates(baseProps(), other)]);
});

const byKind = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind);

describe('CertificateAuthority and CaIssuer', () => {
  test('one fleet root: a CA Issuer in every cluster whose Secret holds that cluster\'s intermediate, never the root\'s key; each CPC trusts the root only', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps());
    for (const chart of fleet.charts) {
      const own = intermediates.get(chart.cluster.directory)!;
      const objects = chart.toJson();
      expect(byKind(objects, 'Issuer')).toEqual([{
        apiVersion: 'cert-manager.io/v1', kind: 'Issuer', metadata: { name: 'event-bus-certificate-issuer', namespace: 'dsx', labels: { ...CERT_LABELS, ...TEST_KEYS } }, spec: { ca: { secretName: 'event-bus-certificate-issuer-ca' } },
      }]);
      const secret = objects.find((o: any) => o.kind === 'Secret' && o.metadata.name === 'event-bus-certificate-issuer-ca');
      expect(secret.metadata.namespace).toBe('dsx');
      expect(secret.metadata.annotations['cdk8s-dsx-event-bus/inline-key-material']).toBe('tls-private-key');
      // As cert-manager's CA issuer reads it: tls.crt = the signing intermediate, tls.key its key, ca.crt = the root.
      expect(Buffer.from(secret.data['tls.crt'], 'base64').toString()).toBe(own.certPem);
      expect(Buffer.from(secret.data['tls.key'], 'base64').toString()).toBe(own.keyPem);
      expect(Buffer.from(secret.data['ca.crt'], 'base64').toString()).toBe(ca.certPem);
      // Every certificate of the cluster is issued by it.
      for (const cert of byKind(objects, 'Certificate')) expect(cert.spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'Issuer', name: 'event-bus-certificate-issuer' });
      expect(validateManifests(objects)).toBe(objects.length);
    }
    for (const cpc of fleet.cpcs) {
      expect(cpc.helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/ca.crt' });
      expect(cpc.helmValues().nats.tlsCA).toEqual({ enabled: true, configMapName: 'nats-csc-gateway-ca', dir: '/etc/nats-ca-cert', key: 'ca.crt' });
      const trust = byKind(cpc.toJson(), 'ConfigMap').find((o: any) => o.metadata.name === 'nats-csc-gateway-ca');
      expect(trust.data).toEqual({ 'ca.crt': ca.certPem });
      // What the NATS pods mount holds no key.
      expect(JSON.stringify(trust)).not.toMatch(/PRIVATE KEY/);
    }
  });

  test.each([
    ['externalSecrets', SecretsDelivery.externalSecrets({ storeName: 'vault-backend', storeKind: SecretStoreKind.CLUSTER_SECRET_STORE })],
    ['vaultStaticSecrets', SecretsDelivery.vaultStaticSecrets()],
    ['existing', SecretsDelivery.existing()],
  ])('with delivery %s, the CA key never reaches the output; the CPCs still trust the CA certificate', (kind, delivery) => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ delivery }));
    for (const chart of fleet.charts) {
      const objects = chart.toJson();
      const text = JSON.stringify(objects) + chart.valuesYaml();
      expect(text).not.toMatch(/PRIVATE KEY/);
      expect(text).not.toContain(keyBody(ca.keyPem));
      expect(text).not.toContain(Buffer.from(ca.keyPem).toString('base64').slice(0, 40));
      const delivered = objects.filter((o: any) => o.metadata?.name === 'event-bus-certificate-issuer-ca');
      if (kind === 'externalSecrets') {
        expect(delivered).toHaveLength(1);
        expect(delivered[0].kind).toBe('ExternalSecret');
        expect(delivered[0].spec.data).toEqual(['tls.crt', 'tls.key', 'ca.crt'].map((p) => ({ secretKey: p, remoteRef: { key: `dsx-event-bus/${chart.cluster.directory}/event-bus-certificate-issuer-ca`, property: p } })));
      } else if (kind === 'vaultStaticSecrets') {
        expect(delivered.map((o: any) => [o.kind, o.spec.path])).toEqual([['VaultStaticSecret', `dsx-event-bus/${chart.cluster.directory}/event-bus-certificate-issuer-ca`]]);
      } else {
        expect(delivered).toEqual([]);
      }
      expect(byKind(objects, 'Issuer')).toHaveLength(1);
    }
    expect(fleet.cpc('1').helmValues().nats.tlsCA.configMapName).toBe('nats-csc-gateway-ca');
  });

  test('fromPem without the key: fine for externalSecrets, refused for inline', () => {
    const delivery = SecretsDelivery.externalSecrets({ storeName: 'vault-backend' });
    const certOnly = CertificateAuthority.fromPem(ca.certPem);
    expect(certOnly.hasPrivateKey).toBe(false);
    expect(() => new EventBusFleet(Testing.app(), 'fleet', fleetProps({ delivery, certificates: ClusterCertificates.fleetCa(certOnly) }))).not.toThrow();
  });

  test('fails when the CA has no key and the delivery is inline', () => {
    expect(() => new EventBusFleet(Testing.app(), 'fleet', baseProps({ certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromPem(ca.certPem)) })))
      .toThrow(/fleet\/csc\/Issuer: the CA has no private key, and inline delivery has no other source for the CA Secret\. Fix: pass the CA key/);
  });

  test('fromExistingSecret: nothing emitted, the Issuer names that Secret; CPC trust from the given certificate, else public roots', () => {
    const withPem = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromExistingSecret('company-ca', ca.certPem)) }));
    const objects = withPem.cpc('1').toJson();
    expect(byKind(objects, 'Issuer')[0].spec).toEqual({ ca: { secretName: 'company-ca' } });
    expect(objects.filter((o: any) => o.metadata.name === 'company-ca')).toEqual([]);
    expect(withPem.cpc('1').helmValues().nats.tlsCA.configMapName).toBe('nats-csc-gateway-ca');
    const noPem = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromExistingSecret('company-ca')) }));
    expect(noPem.cpc('1').helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true });
    expect(CertificateAuthority.fromExistingSecret('company-ca').kind).toBe('existingSecret');
  });

  test('an explicit cscTrust wins over the fleet CA; transport tcp trusts nothing', () => {
    const explicit = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ cscTrust: LeafTrust.fromExistingConfigMap('bundle') }));
    expect(explicit.cpc('2').helmValues().nats.tlsCA.configMapName).toBe('bundle');
    expect(byKind(explicit.cpc('2').toJson(), 'ConfigMap')).toEqual([]);
    const tcp = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ gateway: { transport: GatewayTransport.TCP } }));
    expect(tcp.cpc('1').helmValues().global.eventBus.cpcLeafClientTLS).toBeUndefined();
    expect(tcp.cpc('1').helmValues().nats).toBeUndefined();
  });

  test('a gateway in another namespace: a ClusterIssuer whose CA Secret lives in cert-manager\'s namespace', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ gateway: { namespace: 'envoy-gateway-system' } }));
    const objects = fleet.csc.toJson();
    const issuer = byKind(objects, 'ClusterIssuer')[0];
    expect(issuer.metadata).toEqual({ name: 'event-bus-certificate-issuer', labels: { ...CERT_LABELS, ...TEST_KEYS } });
    expect(issuer.spec).toEqual({ ca: { secretName: 'event-bus-certificate-issuer-ca' } });
    expect(objects.find((o: any) => o.kind === 'Secret' && o.metadata.name === 'event-bus-certificate-issuer-ca').metadata.namespace).toBe('cert-manager');
  });

  test('CaIssuer alone, with its own names', () => {
    const chart = Testing.chart();
    const issuer = new CaIssuer(chart, 'Issuer', {
      metadata: { name: 'fleet-ca', namespace: 'certs' }, ca: intermediateOf('csc'), delivery: SecretsDelivery.inline(), secretName: 'fleet-ca-keypair',
    });
    expect(issuer.caSecretName).toBe('fleet-ca-keypair');
    const objects = Testing.synth(chart);
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['Secret/certs/fleet-ca-keypair', 'Issuer/certs/fleet-ca']);
  });

  test('labels: the CA Secret and the Issuer carry the standard labels (component: certificates) and the user\'s', () => {
    const chart = Testing.chart();
    new CaIssuer(chart, 'Issuer', {
      metadata: { labels: { team: 'pki' }, annotations: { owner: 'ops' } }, ca: intermediateOf('csc'), delivery: SecretsDelivery.inline(),
    });
    const objects = Testing.synth(chart);
    expect(objects.map((o) => o.kind)).toEqual(['Secret', 'Issuer']);
    for (const o of objects) expect(o.metadata.labels).toEqual({ ...CERT_LABELS, team: 'pki' });
    expect(objects[1].metadata.annotations).toEqual({ owner: 'ops' });
  });

  test('fromPemFiles reads the files written by dsx-event-bus certs', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-issuer-'));
    try {
      fs.writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
      fs.writeFileSync(path.join(dir, 'ca.key'), ca.keyPem);
      const authority = CertificateAuthority.fromPemFiles(path.join(dir, 'ca.crt'), path.join(dir, 'ca.key'));
      expect(authority.certificatePem).toBe(ca.certPem);
      expect(authority.hasPrivateKey).toBe(true);
      expect(CertificateAuthority.fromPemFiles(path.join(dir, 'ca.crt')).hasPrivateKey).toBe(false);
      expect(() => CertificateAuthority.fromPemFiles(path.join(dir, 'missing.crt'))).toThrow(/certFile ".*missing\.crt" cannot be read \(ENOENT\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fails when the key does not belong to the CA certificate, without echoing the key', () => {
    let message = '';
    try {
      CertificateAuthority.fromPem(ca.certPem, other.keyPem);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/CertificateAuthority\.fromPem: privateKeyPem is not the private key of certificatePem \(CN=DSX Event Bus evaluation fleet CA, O=DSX Event Bus\)/);
    expect(message).not.toContain(keyBody(other.keyPem));
  });

  test('fails when the certificate is not a CA, or several, or the key is not a key', () => {
    expect(() => CertificateAuthority.fromPem(tls.tlsCrt)).toThrow(/certificatePem \(CN=event-bus\.example\.com\) is not a CA certificate/);
    expect(() => CertificateAuthority.fromPem(ca.certPem + other.certPem)).toThrow(/certificatePem holds 2 certificates\. Allowed: exactly one/);
    expect(() => CertificateAuthority.fromPem(ca.certPem, 'not a key')).toThrow(/privateKeyPem is not an unencrypted PEM private key/);
    expect(() => CertificateAuthority.fromPem(`${ca.certPem}${ca.keyPem}`)).toThrow(/certificatePem holds a PRIVATE KEY block/);
  });

  // A second issuer source cannot be written (test/types/certificates.ts); plain JavaScript can still pass a wrong value.
  test('fails when ClusterCertificates.fleetCa is given something else than a CertificateAuthority', () => {
    expect(() => ClusterCertificates.fleetCa({ certificatePem: ca.certPem } as unknown as CertificateAuthority))
      .toThrow(/ClusterCertificates\.fleetCa: ca is a "object", not a CertificateAuthority\. Allowed: a CertificateAuthority\. Fix: pass CertificateAuthority\.fromPemFiles/);
    expect(() => ClusterCertificates.fleetCa(undefined as unknown as CertificateAuthority)).toThrow(/ca is undefined/);
    expect(() => ClusterCertificates.issuer('vault-pki' as unknown as ICertificateIssuer))
      .toThrow(/ClusterCertificates\.issuer: issuer is not a certificate issuer .*Fix: pass CertificateIssuer\.fromIssuerName\(name\)/);
  });

  test('a cluster\'s intermediate keeps the fleet\'s certificate options', () => {
    const options = { duration: Duration.days(30), privateKey: PrivateKeyAlgorithm.ECDSA_P256 };
    const fleet = ClusterCertificates.fleetCa(CertificateAuthority.fromPem(ca.certPem), options);
    const intermediate = CertificateAuthority.fromPem(ca.certPem);
    const moved = fleet._withCa(intermediate);
    expect([moved.kind, moved.ca, moved.duration, moved.privateKey, moved.renewBefore])
      .toEqual(['fleetCa', intermediate, fleet.duration, PrivateKeyAlgorithm.ECDSA_P256, undefined]);
  });

  test('fails when the fleet root\'s key would be delivered inline to a cluster: the root stays out, each cluster needs its intermediate', () => {
    const withKey = baseProps({ certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromPem(ca.certPem, ca.keyPem)) });
    expect(() => new EventBusFleet(Testing.app(), 'fleet', withKey)).toThrow(
      /fleet: csc\.intermediateCa: certificates\.ca is the fleet's self-signed root with its private key, and inline delivery would put that key into this cluster .*Allowed: one name-constrained intermediate per cluster.*Fix: set intermediateCa on the CSC and on every CPC/);
    // One CPC without its intermediate is enough to refuse.
    const partial = withIntermediates(baseProps(), ca, intermediates);
    const missingOne = {
      ...partial,
      certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromPem(ca.certPem, ca.keyPem)),
      cpcs: [partial.cpcs[0], { ...partial.cpcs[1], intermediateCa: undefined }],
    };
    expect(() => new EventBusFleet(Testing.app(), 'fleet', missingOne)).toThrow(/fleet: cpcs\[1\]\.intermediateCa: certificates\.ca is the fleet's self-signed root/);
    // CaIssuer alone refuses it as well.
    expect(() => new CaIssuer(Testing.chart(), 'Issuer', { ca: CertificateAuthority.fromPem(ca.certPem, ca.keyPem), delivery: SecretsDelivery.inline() }))
      .toThrow(/the CA is a self-signed root, and inline delivery would put the root's private key into this cluster.*CertificateAuthority\.intermediateFromPem/);
  });

  test('fails when an intermediate belongs to another root, or is not an intermediate', () => {
    const props = withIntermediates(baseProps(), ca, intermediates);
    const foreign = CertificateAuthority.intermediateFromPem(otherIntermediates.get('cpc-1')!.certPem, otherIntermediates.get('cpc-1')!.keyPem, other.certPem);
    expect(() => new EventBusFleet(Testing.app(), 'fleet', { ...props, cpcs: [{ ...props.cpcs[0], intermediateCa: foreign }, props.cpcs[1]] }))
      .toThrow(/fleet: cpcs\[0\]\.intermediateCa: intermediateCa was signed by another root than certificates\.ca/);
    expect(() => new EventBusFleet(Testing.app(), 'fleet', { ...props, csc: { ...props.csc, intermediateCa: CertificateAuthority.fromPem(ca.certPem, ca.keyPem) } }))
      .toThrow(/fleet: csc\.intermediateCa: intermediateCa is a CertificateAuthority of kind "pem"\. Allowed: CertificateAuthority\.intermediateFromPem/);
    const own = intermediates.get('csc')!;
    expect(() => CertificateAuthority.intermediateFromPem(own.certPem, own.keyPem, other.certPem))
      .toThrow(/certificatePem \(CN=DSX Event Bus csc intermediate CA, O=DSX Event Bus\) is not signed by rootCertificatePem/);
    expect(() => CertificateAuthority.intermediateFromPem(own.certPem, intermediates.get('cpc-1')!.keyPem, ca.certPem)).toThrow(/privateKeyPem is not the private key of certificatePem/);
  });

  test('fails when a cluster is given an intermediate that does not permit its names (another cluster\'s, or one issued before the names changed)', () => {
    const props = withIntermediates(baseProps(), ca, intermediates);
    expect(() => new EventBusFleet(Testing.app(), 'fleet', { ...props, csc: { ...props.csc, intermediateCa: intermediateOf('cpc-1') } })).toThrow(
      /fleet\/csc: certificates\.ca is an intermediate whose name constraints permit "cpc-1\.example\.com", "nats-mtls", "nats-mtls\.dsx", "nats-mtls\.dsx\.svc", "nats-mtls\.dsx\.svc\.cluster\.local", but ServerCertificate asks for "csc\.example\.com": cert-manager would issue it and every client would refuse it\. Allowed: an intermediate issued for csc's current names\. Fix: reissue csc's intermediate/);
    const moved = { ...props, cpcs: [{ ...props.cpcs[0], gateway: { hostnames: ['cpc-1.example.org'] } }, props.cpcs[1]] };
    expect(() => new EventBusFleet(Testing.app(), 'fleet', moved)).toThrow(/fleet\/cpc-1: .* but ServerCertificate asks for "cpc-1\.example\.org"/);
  });

  test('a CA private key is not enumerable and never shown by util.inspect or JSON.stringify', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-issuer-'));
    try {
      fs.writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
      fs.writeFileSync(path.join(dir, 'ca.key'), ca.keyPem);
      const own = intermediates.get('cpc-2')!;
      for (const authority of [
        CertificateAuthority.fromPemFiles(path.join(dir, 'ca.crt'), path.join(dir, 'ca.key')),
        CertificateAuthority.fromPem(ca.certPem, ca.keyPem),
        CertificateAuthority.intermediateFromPem(own.certPem, own.keyPem, ca.certPem),
      ]) {
        const key = authority.kind === 'intermediate' ? own.keyPem : ca.keyPem;
        const shown = [
          util.inspect(authority, { showHidden: true, depth: 10 }), JSON.stringify(authority),
          String(Object.values(authority)), Object.keys(authority).join(),
        ];
        for (const text of shown) {
          expect(text).not.toContain(keyBody(key));
          expect(text).not.toMatch(/PRIVATE KEY-----/);
        }
        expect(JSON.parse(JSON.stringify(authority)).privateKey).toBe('<redacted private key>');
        expect(Object.getOwnPropertyNames(authority).some((n) => /key/i.test(n))).toBe(false);
        expect(authority.hasPrivateKey).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

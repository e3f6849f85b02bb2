import { Duration, Testing } from 'cdk8s';
import {
  CertificateIssuer, CertificateUsage, EventBusGateway, MtlsServerCertificate, PrivateKeyAlgorithm,
  RouteBackend, RouteRendering, SelfSignedCaIssuer, ServerCertificate,
} from '../../src';
import { standardLabels, testChart } from '../util/labels';
import { validateManifests } from '../util/schema';

/** The standard labels of every certificates object. */
const CERT_LABELS = standardLabels('certificates');

const issuer = CertificateIssuer.fromIssuerName('event-bus-certificate-issuer');

const chart = testChart;

describe('ServerCertificate', () => {
  test('renders the pre-deployment page\'s Certificate, with rotationPolicy Always', () => {
    const c = chart();
    new ServerCertificate(c, 'Cert', { issuer, dnsNames: ['event-bus.example.com'] });
    const manifests = Testing.synth(c);
    expect(validateManifests(manifests)).toBe(1);
    expect(manifests[0]).toEqual({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name: 'event-bus-server-tls-certificate', namespace: 'dsx', labels: CERT_LABELS },
      spec: {
        secretName: 'event-bus-server-tls-certificate',
        issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: 'event-bus-certificate-issuer' },
        commonName: 'event-bus.example.com',
        dnsNames: ['event-bus.example.com'],
        duration: '2160h',
        renewBefore: '720h',
        privateKey: { algorithm: 'RSA', size: 2048, rotationPolicy: 'Always' },
        usages: ['server auth', 'digital signature', 'key encipherment'],
      },
    });
  });

  test('puts IPs in ipAddresses and names in dnsNames, also when added later', () => {
    const c = chart();
    const cert = new ServerCertificate(c, 'Cert', { issuer, ipAddresses: ['172.18.200.1'] });
    cert.addSubjectAlternativeName('mqtt.example.com');
    cert.addSubjectAlternativeName('2001:db8::1');
    cert.addSubjectAlternativeName('[2001:db8:0::1]'); // same address: not repeated
    cert.addDnsName('*.example.com');
    cert.addDnsName('mqtt.example.com'); // repeated: kept once
    const [m] = Testing.synth(c);
    validateManifests([m]);
    expect(m.spec.dnsNames).toEqual(['mqtt.example.com', '*.example.com']);
    expect(m.spec.ipAddresses).toEqual(['172.18.200.1', '2001:db8::1']);
    expect(m.spec.commonName).toBe('mqtt.example.com');
    expect(cert.dnsNames).toEqual(['mqtt.example.com', '*.example.com']);
  });

  test('secretName, namespace, durations, key algorithm, usages and ClusterIssuer are configurable', () => {
    const c = chart();
    const cert = new ServerCertificate(c, 'Cert', {
      issuer: CertificateIssuer.fromClusterIssuerName('vault-pki'),
      metadata: { name: 'gw-cert', namespace: 'envoy-gateway-system' },
      secretName: 'gw-tls',
      dnsNames: ['a.example.com'],
      commonName: 'gateway',
      duration: Duration.days(30),
      renewBefore: Duration.hours(36),
      privateKey: PrivateKeyAlgorithm.ECDSA_P384,
      usages: [CertificateUsage.SERVER_AUTH, CertificateUsage.CLIENT_AUTH, CertificateUsage.DIGITAL_SIGNATURE],
    });
    const [m] = Testing.synth(c);
    validateManifests([m]);
    expect(m.metadata).toEqual({ name: 'gw-cert', namespace: 'envoy-gateway-system', labels: CERT_LABELS });
    expect(m.spec).toMatchObject({
      secretName: 'gw-tls',
      commonName: 'gateway',
      issuerRef: { kind: 'ClusterIssuer', name: 'vault-pki' },
      duration: '720h',
      renewBefore: '36h',
      privateKey: { algorithm: 'ECDSA', size: 384, rotationPolicy: 'Always' },
      usages: ['server auth', 'client auth', 'digital signature'],
    });
    expect(cert.tlsSecretName).toBe('gw-tls');
    expect(cert.tlsSecretNamespace).toBe('envoy-gateway-system');
  });

  test('ECDSA and Ed25519 keys drop key encipherment from the default usages', () => {
    const c = chart();
    new ServerCertificate(c, 'A', { issuer, metadata: { name: 'a' }, dnsNames: ['a.example.com'], privateKey: PrivateKeyAlgorithm.ECDSA_P256 });
    new ServerCertificate(c, 'B', { issuer, metadata: { name: 'b' }, dnsNames: ['b.example.com'], privateKey: PrivateKeyAlgorithm.ED25519 });
    const [a, b] = Testing.synth(c);
    validateManifests([a, b]);
    expect(a.spec.usages).toEqual(['server auth', 'digital signature']);
    expect(b.spec.privateKey).toEqual({ algorithm: 'Ed25519', rotationPolicy: 'Always' });
  });

  test('a listener given the certificate references exactly its Secret', () => {
    const c = chart();
    const cert = new ServerCertificate(c, 'Cert', { issuer, secretName: 'custom-tls', dnsNames: ['a.example.com'] });
    const gw = new EventBusGateway(c, 'Gw', { routeRendering: RouteRendering.MANIFESTS });
    gw.addTlsTerminateListener('mqtt', { port: 1883, certificate: cert }).addRoute('R', { backend: RouteBackend.natsMqtt() });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    const certificate = manifests.find((m) => m.kind === 'Certificate')!;
    const gateway = manifests.find((m) => m.kind === 'Gateway')!;
    expect(gateway.spec.listeners[0].tls.certificateRefs).toEqual([{ kind: 'Secret', name: certificate.spec.secretName }]);
  });

  test('fails when an IP address is given as a DNS name', () => {
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, dnsNames: ['172.18.200.1'] }))
      .toThrow(/test\/Cert: "172.18.200.1" is an IP address, not a DNS name\. Allowed: DNS names in dnsNames; IP addresses in ipAddresses .* Fix: pass it in ipAddresses/);
  });

  test('fails when a DNS name is given as an IP address', () => {
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, ipAddresses: ['mqtt.example.com'] }))
      .toThrow(/"mqtt.example.com" is not an IP address\. Allowed: IPv4 or IPv6 literals in ipAddresses; DNS names in dnsNames\. Fix: pass it in dnsNames/);
  });

  test('fails when a DNS name is invalid (and suggests the lower-case form)', () => {
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, dnsNames: ['Event-Bus.example.com'] }))
      .toThrow(/DNS SAN "Event-Bus.example.com" is not a valid DNS name\. .* Fix: write it as "event-bus.example.com"/);
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, dnsNames: ['a..b'] })).toThrow(/DNS SAN "a..b" is not a valid DNS name/);
  });

  test('fails at synthesis when the certificate has no SANs', () => {
    const c = chart();
    new ServerCertificate(c, 'Cert', { issuer });
    expect(() => Testing.synth(c)).toThrow(/\[test\/Cert\] the certificate has no subject alternative names\. Allowed: at least one DNS name or IP address/);
  });

  test('fails when renewBefore does not fit the duration', () => {
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, dnsNames: ['a.example.com'], duration: Duration.days(10), renewBefore: Duration.days(10) }))
      .toThrow(/renewBefore: 240h does not fit the duration 240h\. Allowed: at least 5 minutes and less than the duration/);
  });

  test('fails when the duration is shorter than cert-manager allows', () => {
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, dnsNames: ['a.example.com'], duration: Duration.minutes(30), renewBefore: Duration.minutes(10) }))
      .toThrow(/duration: 30m is shorter than cert-manager's minimum duration\. Allowed: at least 1 hour/);
  });

  test('fails when the Issuer is in another namespace', () => {
    expect(() => new ServerCertificate(chart('dsx'), 'Cert', { issuer: CertificateIssuer.fromIssuerName('pki', 'other'), dnsNames: ['a.example.com'] }))
      .toThrow(/Issuer "pki" is in namespace "other" but the Certificate is in "dsx"\. Allowed: a namespaced Issuer signs Certificates of its own namespace only/);
  });

  // Found by test/proof/fuzz.test.ts: an unknown algorithm crashed with a TypeError in isRsa().
  test('fails when the private key algorithm is not one of the enum (plain JavaScript)', () => {
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, dnsNames: ['a.example.com'], privateKey: 'DSA' as PrivateKeyAlgorithm }))
      .toThrow(/test\/Cert: privateKey "DSA" is unknown\. Allowed: RSA_2048, RSA_3072, RSA_4096, ECDSA_P256, ECDSA_P384, ED25519\./);
  });

  test('fails when the common name is longer than 64 characters', () => {
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, dnsNames: ['a.example.com'], commonName: 'x'.repeat(65) }))
      .toThrow(/commonName "x{65}" has 65 characters\. Allowed: 1 to 64 characters/);
  });

  test('fails when names are not Kubernetes object names', () => {
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, metadata: { name: 'Bad_Name' }, dnsNames: ['a.example.com'] })).toThrow(/Certificate name "Bad_Name" is not a valid Kubernetes object name/);
    expect(() => new ServerCertificate(chart(), 'Cert', { issuer, secretName: 'bad name', dnsNames: ['a.example.com'] })).toThrow(/secretName "bad name" is not a valid Kubernetes object name/);
    expect(() => CertificateIssuer.fromIssuerName('Bad')).toThrow(/Issuer name "Bad" is not a valid Kubernetes object name/);
  });
});

describe('MtlsServerCertificate', () => {
  test('writes Secret nats-mtls-server-tls with the nats-mtls Service names and the external hosts as SANs', () => {
    const c = chart('dsx');
    const ca = new SelfSignedCaIssuer(c, 'Ca');
    const cert = new MtlsServerCertificate(c, 'Mtls', { issuer: ca, externalHostnames: ['mqtt-mtls.example.com', '172.18.200.1'] });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    const m = manifests.find((x) => x.metadata.name === 'nats-mtls-server-tls')!;
    expect(m.spec).toMatchObject({
      secretName: 'nats-mtls-server-tls',
      commonName: 'nats-mtls.dsx.svc.cluster.local',
      dnsNames: ['nats-mtls', 'nats-mtls.dsx', 'nats-mtls.dsx.svc', 'nats-mtls.dsx.svc.cluster.local', 'mqtt-mtls.example.com'],
      ipAddresses: ['172.18.200.1'],
      issuerRef: { kind: 'Issuer', name: 'event-bus-certificate-issuer' },
      privateKey: { rotationPolicy: 'Always' },
    });
    expect(cert.tlsSecretName).toBe('nats-mtls-server-tls');
  });

  test('uses the namespace and cluster domain given', () => {
    const c = chart(null);
    new MtlsServerCertificate(c, 'Mtls', { issuer, metadata: { namespace: 'event-bus' }, clusterDomain: 'k8s.internal', externalHostnames: ['m.example.com'] });
    const [m] = Testing.synth(c);
    expect(m.metadata.namespace).toBe('event-bus');
    expect(m.spec.dnsNames).toContain('nats-mtls.event-bus.svc.k8s.internal');
  });

  test('fails when no external hostname is given', () => {
    expect(() => new MtlsServerCertificate(chart(), 'Mtls', { issuer, externalHostnames: [] }))
      .toThrow(/test\/Mtls: externalHostnames is empty\. Allowed: the DNS names or IP addresses mTLS clients connect to/);
  });

  test('fails when the namespace is unknown', () => {
    expect(() => new MtlsServerCertificate(chart(null), 'Mtls', { issuer, externalHostnames: ['m.example.com'] }))
      .toThrow(/the namespace of the mTLS NATS service is unknown\. .* Fix: set namespace, or give the chart a namespace/);
  });
});

import { Chart, Duration, Testing } from 'cdk8s';
import { CertificateIssuer, IssuerKind, PrivateKeyAlgorithm, SelfSignedCaIssuer, ServerCertificate, VaultAuth, VaultIssuer } from '../../src';
import { standardLabels, testChart } from '../util/labels';
import { validateManifests } from '../util/schema';

/** The standard labels of every certificates object. */
const CERT_LABELS = standardLabels('certificates');

const chart = testChart;

describe('CertificateIssuer importers', () => {
  test('reference existing issuers', () => {
    expect(CertificateIssuer.fromIssuerName('pki')).toEqual({ issuerName: 'pki', issuerKind: IssuerKind.ISSUER, issuerNamespace: undefined });
    expect(CertificateIssuer.fromIssuerName('pki', 'dsx').issuerNamespace).toBe('dsx');
    expect(CertificateIssuer.fromClusterIssuerName('vault')).toEqual({ issuerName: 'vault', issuerKind: IssuerKind.CLUSTER_ISSUER });
  });

  test('fails when the namespace is invalid', () => {
    expect(() => CertificateIssuer.fromIssuerName('pki', 'Bad_NS')).toThrow(/CertificateIssuer.fromIssuerName\(\): namespace "Bad_NS" is not a valid Kubernetes namespace/);
  });
});

describe('SelfSignedCaIssuer', () => {
  test('bootstraps SelfSigned issuer -> CA Certificate -> CA Issuer, and signs server certificates', () => {
    const c = chart();
    const ca = new SelfSignedCaIssuer(c, 'Ca');
    new ServerCertificate(c, 'Cert', { issuer: ca, dnsNames: ['event-bus.example.com'] });
    const manifests = Testing.synth(c);
    expect(validateManifests(manifests)).toBe(4);
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'Issuer/event-bus-certificate-issuer-selfsigned',
      'Certificate/event-bus-certificate-issuer-ca',
      'Issuer/event-bus-certificate-issuer',
      'Certificate/event-bus-server-tls-certificate',
    ]);
    expect(manifests[0].spec).toEqual({ selfSigned: {} });
    expect(manifests[1].spec).toEqual({
      isCA: true,
      commonName: 'DSX Event Bus CA',
      secretName: 'event-bus-certificate-issuer-ca',
      duration: '87600h',
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Never' },
      issuerRef: { group: 'cert-manager.io', kind: 'Issuer', name: 'event-bus-certificate-issuer-selfsigned' },
    });
    expect(manifests[2].spec).toEqual({ ca: { secretName: 'event-bus-certificate-issuer-ca' } });
    expect(manifests[3].spec.issuerRef).toEqual({ group: 'cert-manager.io', kind: 'Issuer', name: 'event-bus-certificate-issuer' });
    expect(ca.issuerNamespace).toBe('dsx');
    expect(ca.caSecretName).toBe('event-bus-certificate-issuer-ca');
  });

  test('as ClusterIssuers, with the CA in cert-manager\'s cluster resource namespace', () => {
    const c = chart();
    const ca = new SelfSignedCaIssuer(c, 'Ca', {
      clusterScoped: true, metadata: { name: 'dsx-ca' }, caCommonName: 'Example CA', caDuration: Duration.days(365), caPrivateKey: PrivateKeyAlgorithm.RSA_4096,
    });
    new ServerCertificate(c, 'Cert', { issuer: ca, dnsNames: ['a.example.com'] });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    expect(manifests.map((m) => `${m.kind}/${m.metadata.namespace ?? '-'}/${m.metadata.name}`)).toEqual([
      'ClusterIssuer/-/dsx-ca-selfsigned',
      'Certificate/cert-manager/dsx-ca-ca',
      'ClusterIssuer/-/dsx-ca',
      'Certificate/dsx/event-bus-server-tls-certificate',
    ]);
    expect(manifests[1].spec).toMatchObject({ commonName: 'Example CA', duration: '8760h', privateKey: { algorithm: 'RSA', size: 4096 }, issuerRef: { kind: 'ClusterIssuer' } });
    expect(manifests[3].spec.issuerRef.kind).toBe('ClusterIssuer');
  });

  test('fails when clusterResourceNamespace is set for a namespaced Issuer', () => {
    expect(() => new SelfSignedCaIssuer(chart(), 'Ca', { clusterResourceNamespace: 'cert-manager' }))
      .toThrow(/clusterResourceNamespace is set for a namespaced Issuer\. Allowed: clusterResourceNamespace only with clusterScoped: true/);
  });

  test('fails when the CA common name is too long', () => {
    expect(() => new SelfSignedCaIssuer(chart(), 'Ca', { caCommonName: 'c'.repeat(70) })).toThrow(/caCommonName "c{70}" has 70 characters/);
  });
});

describe('VaultIssuer', () => {
  test('renders a Vault-backed Issuer with Kubernetes service-account auth', () => {
    const c = chart();
    const vault = new VaultIssuer(c, 'Vault', {
      server: 'https://vault.example.com:8200',
      path: 'pki_int/sign/event-bus',
      auth: VaultAuth.kubernetes({ role: 'cert-manager', serviceAccountName: 'vault-issuer' }),
      vaultNamespace: 'admin',
      caBundleSecretName: 'vault-ca',
    });
    new ServerCertificate(c, 'Cert', { issuer: vault, dnsNames: ['a.example.com'] });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    expect(manifests[0]).toEqual({
      apiVersion: 'cert-manager.io/v1',
      kind: 'Issuer',
      metadata: { name: 'event-bus-certificate-issuer', namespace: 'dsx', labels: CERT_LABELS },
      spec: {
        vault: {
          server: 'https://vault.example.com:8200',
          path: 'pki_int/sign/event-bus',
          namespace: 'admin',
          caBundleSecretRef: { name: 'vault-ca', key: 'ca.crt' },
          auth: { kubernetes: { role: 'cert-manager', mountPath: '/v1/auth/kubernetes', serviceAccountRef: { name: 'vault-issuer' } } },
        },
      },
    });
  });

  test('token and AppRole auth, as a ClusterIssuer', () => {
    const c = chart();
    new VaultIssuer(c, 'A', { metadata: { name: 'a' }, clusterScoped: true, server: 'https://v:8200', path: 'pki/sign/x', auth: VaultAuth.token('vault-token') });
    new VaultIssuer(c, 'B', { metadata: { name: 'b' }, server: 'http://v:8200', path: 'pki/sign/x', auth: VaultAuth.appRole({ roleId: 'r-1', secretName: 'approle' }) });
    const manifests = Testing.synth(c);
    validateManifests(manifests);
    expect(manifests[0]).toMatchObject({ kind: 'ClusterIssuer', spec: { vault: { auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } } });
    expect(manifests[0].metadata.namespace).toBeUndefined();
    expect(manifests[1].spec.vault.auth).toEqual({ appRole: { path: 'approle', roleId: 'r-1', secretRef: { name: 'approle', key: 'secretId' } } });
  });

  test('fails when the server is not an http(s) URL', () => {
    expect(() => new VaultIssuer(chart(), 'V', { server: 'vault:8200', path: 'pki/sign/x', auth: VaultAuth.token('t') }))
      .toThrow(/test\/V: server: Vault server "vault:8200" is not an http\(s\) URL/);
  });

  test('fails when the PKI path starts with a slash', () => {
    expect(() => new VaultIssuer(chart(), 'V', { server: 'https://v', path: '/pki/sign/x', auth: VaultAuth.token('t') }))
      .toThrow(/Vault PKI path "\/pki\/sign\/x" is invalid\. Allowed: a path without a leading "\/"/);
  });

  test('fails when auth inputs are missing or invalid', () => {
    expect(() => VaultAuth.kubernetes({ role: '', serviceAccountName: 'sa' })).toThrow(/VaultAuth.kubernetes\(\): role is empty/);
    expect(() => VaultAuth.kubernetes({ role: 'r', serviceAccountName: 'Bad SA' })).toThrow(/serviceAccountName "Bad SA" is not a valid Kubernetes object name/);
    expect(() => VaultAuth.appRole({ roleId: '', secretName: 's' })).toThrow(/roleId is empty/);
  });
});

describe('labels', () => {
  test('every object of a SelfSignedCaIssuer and a ServerCertificate carries the standard labels and the user\'s', () => {
    const c = new Chart(Testing.app(), 'test', { namespace: 'dsx' });
    const ca = new SelfSignedCaIssuer(c, 'Ca', { metadata: { labels: { team: 'pki' } } });
    new ServerCertificate(c, 'Cert', { issuer: ca, dnsNames: ['a.example.com'], metadata: { labels: { 'app.kubernetes.io/component': 'edge' } } });
    const objects = Testing.synth(c);
    expect(validateManifests(objects)).toBe(4);
    const base = CERT_LABELS;
    expect(objects.map((o) => [o.metadata.name, o.metadata.labels])).toEqual([
      ['event-bus-certificate-issuer-selfsigned', { ...base, team: 'pki' }],
      ['event-bus-certificate-issuer-ca', { ...base, team: 'pki' }],
      ['event-bus-certificate-issuer', { ...base, team: 'pki' }],
      ['event-bus-server-tls-certificate', { ...base, 'app.kubernetes.io/component': 'edge' }],
    ]);
  });
});

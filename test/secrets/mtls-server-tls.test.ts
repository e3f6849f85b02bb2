import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { TlsFixture, tlsFixture } from './tls-fixture';
import {
  CertificateIssuer, EventBusCluster, EventBusSecrets, MtlsServerCertificate, MtlsServerTls,
  SecretsDelivery,
} from '../../src';
import { main } from '../../src/cli/run';
import { DeterministicKeyStore } from '../../src/testing';

let tls: TlsFixture;
beforeAll(async () => {
  tls = await tlsFixture();
});

describe('MtlsServerTls', () => {
  test('kinds', () => {
    expect(MtlsServerTls.fromDelivery().kind).toBe('delivery');
    const source = { tlsSecretName: 'x' };
    expect(MtlsServerTls.fromTlsSecretSource(source).source).toBe(source);
    expect(MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: tls.tlsCrt, tlsKey: tls.tlsKey }).kind).toBe('pem');
  });

  test('accepts a chain whose last certificate is the CA itself', () => {
    expect(() => MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: tls.tlsCrt + tls.caCrt, tlsKey: tls.tlsKey })).not.toThrow();
  });

  test('fails when the key does not belong to the certificate, without echoing the key', () => {
    let message = '';
    try {
      MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: tls.tlsCrt, tlsKey: tls.otherKey });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/MtlsServerTls\.fromPem: tlsKey is not the private key of the certificate in tlsCrt \(CN=event-bus\.example\.com\)\. Fix: pass the key and certificate of the same key pair/);
    expect(message).not.toContain('PRIVATE KEY');
  });

  test('fails when the CA did not sign the certificate', () => {
    expect(() => MtlsServerTls.fromPem({ caCrt: tls.otherCaCrt, tlsCrt: tls.tlsCrt, tlsKey: tls.tlsKey }))
      .toThrow(/tlsCrt \(issuer CN=event-bus test CA\) is not signed by any certificate in caCrt\. Fix: put the CA that issued the server certificate into caCrt/);
  });

  test('fails when a value is not PEM', () => {
    expect(() => MtlsServerTls.fromPem({ caCrt: 'x', tlsCrt: tls.tlsCrt, tlsKey: tls.tlsKey })).toThrow(/caCrt holds no PEM certificate/);
    expect(() => MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: tls.tlsCrt, tlsKey: tls.tlsCrt })).toThrow(/tlsKey is not an unencrypted PEM private key/);
    expect(() => MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', tlsKey: tls.tlsKey }))
      .toThrow(/tlsCrt: certificate 1 cannot be parsed/);
    expect(() => MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: tls.tlsCrt } as any)).toThrow(/MtlsServerTls\.fromPem: tlsKey is missing/);
  });

  test('fails when a PEM file cannot be read, naming it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pem-'));
    fs.writeFileSync(path.join(dir, 'ca.pem'), tls.caCrt);
    fs.writeFileSync(path.join(dir, 'tls.pem'), tls.tlsCrt);
    fs.writeFileSync(path.join(dir, 'wrong.pem'), tls.otherKey);
    const files = { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'tls.pem'), keyFile: path.join(dir, 'missing.pem') };
    expect(() => MtlsServerTls.fromPemFiles(files)).toThrow(/MtlsServerTls\.fromPemFiles: keyFile ".*missing\.pem" cannot be read \(ENOENT\)/);
    expect(() => MtlsServerTls.fromPemFiles({ ...files, keyFile: path.join(dir, 'wrong.pem') })).toThrow(/keyFile .*wrong\.pem is not the private key of the certificate in certFile .*tls\.pem/);
    fs.rmSync(dir, { recursive: true });
  });

  test('fails when the TLS Secret source has no name', () => {
    expect(() => MtlsServerTls.fromTlsSecretSource({} as any)).toThrow(/MtlsServerTls\.fromTlsSecretSource: source has no tlsSecretName/);
  });
});

describe('MtlsServerTls with the library\'s certificates', () => {
  test('fromPemDirectory reads the output of `dsx-event-bus certs` byte-for-byte', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certs-'));
    try {
      let err = '';
      const code = await main(['certs', '-o', dir, '--host', 'csc=mqtt-mtls.example.com', 'csc'], { out: () => undefined, err: (t) => { err += t; } });
      expect([code, err]).toEqual([0, '']);
      const tlsDir = path.join(dir, 'csc', 'certs', 'nats-mtls-server-tls');
      const chart = Testing.chart();
      new EventBusSecrets(chart, 'S', {
        cluster: EventBusCluster.csc(),
        delivery: SecretsDelivery.inline({ allowTestKeys: true }),
        keys: new DeterministicKeyStore(),
        mtlsServerTls: MtlsServerTls.fromPemDirectory(tlsDir),
      });
      const secret = Testing.synth(chart).find((o: any) => o.metadata.name === 'nats-mtls-server-tls');
      for (const key of ['ca.crt', 'tls.crt', 'tls.key']) {
        expect(Buffer.from(secret.data[key], 'base64').equals(fs.readFileSync(path.join(tlsDir, key)))).toBe(true);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fromTlsSecretSource takes a cert-manager MtlsServerCertificate; nothing is emitted for it', () => {
    const chart = new Chart(Testing.app(), 'csc', { namespace: 'dsx' });
    const cert = new MtlsServerCertificate(chart, 'MtlsCert', { issuer: CertificateIssuer.fromIssuerName('event-bus-ca'), externalHostnames: ['mqtt-mtls.example.com'] });
    new EventBusSecrets(chart, 'S', {
      cluster: EventBusCluster.csc(), delivery: SecretsDelivery.vaultStaticSecrets(), metadata: { namespace: 'dsx' }, mtlsServerTls: MtlsServerTls.fromTlsSecretSource(cert),
    });
    const objects = Testing.synth(chart);
    expect(objects.filter((o: any) => o.metadata.name === 'nats-mtls-server-tls').map((o: any) => o.kind)).toEqual(['Certificate']);
  });

  test('fails when the certificate\'s Secret would be renamed (the chart hard-codes its name)', () => {
    const chart = new Chart(Testing.app(), 'csc', { namespace: 'dsx' });
    const cert = new MtlsServerCertificate(chart, 'MtlsCert', { issuer: CertificateIssuer.fromIssuerName('event-bus-ca'), externalHostnames: ['mqtt-mtls.example.com'] });
    expect(() => new EventBusSecrets(chart, 'S', {
      cluster: EventBusCluster.csc(),
      delivery: SecretsDelivery.existing(),
      mtlsServerTls: MtlsServerTls.fromTlsSecretSource(cert),
      secretOverrides: [{ secret: 'nats-mtls-server-tls', name: 'event-bus-mtls' }],
    })).toThrow(/csc\/S: secretOverrides: nats-mtls-server-tls cannot be renamed/);
  });

  test('fails when the directory is empty', () => {
    expect(() => MtlsServerTls.fromPemDirectory('')).toThrow(/MtlsServerTls\.fromPemDirectory: directory is empty/);
  });
});

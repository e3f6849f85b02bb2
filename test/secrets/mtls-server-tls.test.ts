import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TlsFixture, tlsFixture } from './tls-fixture';
import { MtlsServerTls, MtlsServerTlsKind } from '../../src';

let tls: TlsFixture;
beforeAll(async () => {
  tls = await tlsFixture();
});

describe('MtlsServerTls', () => {
  test('kinds', () => {
    expect(MtlsServerTls.fromDelivery().kind).toBe(MtlsServerTlsKind.DELIVERY);
    const source = { tlsSecretName: 'x' };
    expect(MtlsServerTls.fromTlsSecretSource(source).source).toBe(source);
    expect(MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: tls.tlsCrt, tlsKey: tls.tlsKey }).kind).toBe(MtlsServerTlsKind.PEM);
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

import { X509Certificate } from 'crypto';
import { Chart, Testing } from 'cdk8s';
import { createTestCa, issueForCertificate, subjectAltNames } from './certs';
import { CertificateIssuer, ServerCertificate } from '../../../src';

describe('test certificates (stand-in for cert-manager\'s CA Issuer)', () => {
  test('issues for a synthesized Certificate exactly its common name and SANs, signed by the CA', async () => {
    const c = new Chart(Testing.app(), 'test', { namespace: 'dsx' });
    new ServerCertificate(c, 'Cert', {
      issuer: CertificateIssuer.fromIssuerName('event-bus-fleet-ca'),
      dnsNames: ['csc.event-bus.example.com', 'nats.csc.example.com'],
      ipAddresses: ['127.0.0.1'],
    });
    const [certificate] = Testing.synth(c);
    const ca = await createTestCa('fleet CA');
    const issued = await issueForCertificate(ca, certificate);
    expect(issued.secretName).toBe('event-bus-server-tls-certificate');
    expect(subjectAltNames(issued.cert)).toEqual({ dnsNames: ['csc.event-bus.example.com', 'nats.csc.example.com'], ipAddresses: ['127.0.0.1'] });
    const x = new X509Certificate(issued.cert);
    expect(x.subject).toBe('CN=csc.event-bus.example.com');
    expect(x.checkIssued(new X509Certificate(ca.cert))).toBe(true);
    expect(x.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
  });

  test('fails when the object is not a cert-manager Certificate', async () => {
    const ca = await createTestCa('fleet CA');
    await expect(issueForCertificate(ca, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }))
      .rejects.toThrow(/^expected a cert-manager\.io\/v1 Certificate with spec\.secretName, got v1 Secret x\. Fix: /);
  });
});

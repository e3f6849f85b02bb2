import * as net from 'net';
import * as tls from 'tls';
import { connect, StringCodec } from 'nats';
import { createTestCa, subjectAltNames } from './certs';
import { startTlsTerminatingProxy } from './tls-terminating-proxy';
import { waitFor } from './wait';
import { natsTest, startNatsServer } from '../../util/nats-server';

const sc = StringCodec();
// The chart's main NATS config for a listener behind a TLS-terminating gateway
// (https://docs.nats.io/running-a-nats-service/configuration/securing_nats/tls#tls-terminating-reverse-proxies):
// an empty tls block and allow_non_tls, so the server itself speaks plaintext.
const BEHIND_TERMINATOR = 'tls: {}\nallow_non_tls: true';

describe('TLS-terminating proxy (stand-in for an Envoy Terminate listener + TCPRoute)', () => {
  natsTest('a TLS-first NATS client that trusts the CA reaches a plaintext nats-server through it', async () => {
    const ca = await createTestCa('test gateway CA');
    const sans = { dnsNames: ['nats.csc.example.com', 'gw.example.com'], ipAddresses: ['127.0.0.1'] };
    const serverCert = await ca.issue(sans);
    expect(subjectAltNames(serverCert.cert)).toEqual(sans);

    const nats = await startNatsServer({ config: BEHIND_TERMINATOR });
    const proxy = await startTlsTerminatingProxy({ ...serverCert, backend: { host: nats.host, port: nats.port } });
    try {
      const nc = await connect({ servers: `127.0.0.1:${proxy.port}`, tls: { handshakeFirst: true, ca: ca.cert }, timeout: 5000 });
      try {
        const sub = nc.subscribe('standin.hello', { max: 1 });
        nc.publish('standin.hello', sc.encode('through the terminator'));
        for await (const m of sub) expect(sc.decode(m.data)).toBe('through the terminator');
        // The server saw a plaintext client: TLS ended at the proxy.
        expect(nc.info?.tls_required).toBeFalsy();
      } finally {
        await nc.close();
      }
      // The proxy serves exactly the certificate it was given (its SANs, its issuer).
      const raw = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: proxy.port, servername: 'nats.csc.example.com', ca: ca.cert }, () => resolve(s));
        s.once('error', reject);
      });
      try {
        expect(raw.getPeerCertificate().subjectaltname).toBe('DNS:nats.csc.example.com, DNS:gw.example.com, IP Address:127.0.0.1');
        await waitFor('the second connection to be forwarded', () => proxy.stats().forwarded === 2);
      } finally {
        raw.destroy();
      }
      expect(proxy.stats()).toMatchObject({ handshakes: 2, forwarded: 2, backendErrors: [] });
    } finally {
      await proxy.stop();
      await nats.stop();
    }
  });

  natsTest('fails when the client does not trust the CA: the handshake is refused', async () => {
    const ca = await createTestCa('test gateway CA');
    const other = await createTestCa('some other CA');
    const serverCert = await ca.issue({ dnsNames: ['nats.csc.example.com'], ipAddresses: ['127.0.0.1'] });
    const nats = await startNatsServer({ config: BEHIND_TERMINATOR });
    const proxy = await startTlsTerminatingProxy({ ...serverCert, backend: { host: nats.host, port: nats.port } });
    try {
      await expect(connect({ servers: `127.0.0.1:${proxy.port}`, tls: { handshakeFirst: true, ca: other.cert }, timeout: 5000, reconnect: false }))
        .rejects.toThrow(/certificate/i);
      await expect(connect({ servers: `127.0.0.1:${proxy.port}`, tls: { handshakeFirst: true }, timeout: 5000, reconnect: false }))
        .rejects.toThrow(/certificate/i);
      expect(proxy.stats().forwarded).toBe(0);
    } finally {
      await proxy.stop();
      await nats.stop();
    }
  });

  natsTest('fails when a plaintext NATS client waits for INFO: it never gets one and times out', async () => {
    const ca = await createTestCa('test gateway CA');
    const serverCert = await ca.issue({ dnsNames: ['nats.csc.example.com'] });
    const nats = await startNatsServer({ config: BEHIND_TERMINATOR });
    const proxy = await startTlsTerminatingProxy({ ...serverCert, backend: { host: nats.host, port: nats.port } });
    try {
      // Bounded by the client's own connect timeout: the proxy waits for a
      // ClientHello, the client for INFO.
      await expect(connect({ servers: `127.0.0.1:${proxy.port}`, timeout: 1000, reconnect: false }))
        .rejects.toMatchObject({ code: 'TIMEOUT' });
      expect(proxy.stats()).toMatchObject({ handshakes: 0, forwarded: 0 });
      expect(proxy.stats().accepted).toBeGreaterThanOrEqual(1);
    } finally {
      await proxy.stop();
      await nats.stop();
    }
  });

  natsTest('fails when the server behind it lacks the chart\'s `tls {}` + `allow_non_tls`: nats.js refuses an INFO without TLS', async () => {
    // Why the chart's main NATS config carries both: a TLS client (nats.js v2,
    // TLS-first or not) refuses a server whose INFO advertises no TLS.
    const ca = await createTestCa('test gateway CA');
    const serverCert = await ca.issue({ ipAddresses: ['127.0.0.1'] });
    const nats = await startNatsServer({ config: '' });
    const proxy = await startTlsTerminatingProxy({ ...serverCert, backend: { host: nats.host, port: nats.port } });
    try {
      await expect(connect({ servers: `127.0.0.1:${proxy.port}`, tls: { handshakeFirst: true, ca: ca.cert }, timeout: 5000, reconnect: false }))
        .rejects.toMatchObject({ code: 'SERVER_OPT_NA', message: 'tls' });
      expect(proxy.stats()).toMatchObject({ handshakes: 1, forwarded: 1 });
    } finally {
      await proxy.stop();
      await nats.stop();
    }
  });

  natsTest('stop() closes open connections and the listener, and is idempotent', async () => {
    const ca = await createTestCa('test gateway CA');
    const serverCert = await ca.issue({ dnsNames: ['nats.csc.example.com'], ipAddresses: ['127.0.0.1'] });
    const nats = await startNatsServer({ config: BEHIND_TERMINATOR });
    const proxy = await startTlsTerminatingProxy({ ...serverCert, backend: { host: nats.host, port: nats.port } });
    try {
      const nc = await connect({ servers: `127.0.0.1:${proxy.port}`, tls: { handshakeFirst: true, ca: ca.cert }, timeout: 5000, reconnect: false });
      const closed = nc.closed();
      await proxy.stop();
      await proxy.stop();
      await closed; // the client saw its connection go away
      await expect(new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: proxy.port });
        s.once('connect', () => { s.destroy(); resolve('connected'); });
        s.once('error', reject);
      })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await proxy.stop();
      await nats.stop();
    }
  });

  natsTest('fails when the backend refuses: the client connection is dropped and the error recorded', async () => {
    const ca = await createTestCa('test gateway CA');
    const serverCert = await ca.issue({ dnsNames: ['nats.csc.example.com'], ipAddresses: ['127.0.0.1'] });
    const nats = await startNatsServer({ config: BEHIND_TERMINATOR });
    const backend = { host: nats.host, port: nats.port };
    await nats.stop(); // nothing listens there any more
    const proxy = await startTlsTerminatingProxy({ ...serverCert, backend });
    try {
      await expect(connect({ servers: `127.0.0.1:${proxy.port}`, tls: { handshakeFirst: true, ca: ca.cert }, timeout: 5000, reconnect: false }))
        .rejects.toThrow();
      expect(proxy.stats().backendErrors.join('\n')).toMatch(/ECONNREFUSED/);
    } finally {
      await proxy.stop();
    }
  });
});

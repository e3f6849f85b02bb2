import { X509Certificate } from 'crypto';
import * as net from 'net';
import * as tls from 'tls';
import { connect, StringCodec } from 'nats';
import { createTestCa, TestCa, TestKeyPair } from './certs';
import { MqttClient } from './mqtt';
import { hostnameMatches, parseClientHello, selectRoute, startSniPassthroughProxy } from './sni-passthrough-proxy';
import { waitFor } from './wait';
import { natsTest, RunningNatsServer, startNatsServer } from '../../util/nats-server';

const sc = StringCodec();

/** A nats-server with MQTT over TLS that verifies client certificates, like the chart's nats-mtls instance. */
async function startMtlsMqttServer(server: TestKeyPair, ca: TestCa): Promise<RunningNatsServer> {
  return startNatsServer({
    extraPorts: ['mqtt'],
    files: { 'tls.crt': server.cert, 'tls.key': server.key, 'ca.crt': ca.cert },
    config: ({ mqtt }, dir) => `
server_name: mtls-standin-test
jetstream { store_dir: "${dir}/js", max_memory_store: 64MB, max_file_store: 64MB }
mqtt {
  host: 127.0.0.1
  port: ${mqtt}
  tls { cert_file: "${dir}/tls.crt", key_file: "${dir}/tls.key", ca_file: "${dir}/ca.crt", verify: true }
}`,
  });
}

/** A TLS connection through the proxy; rejects on a reset or a failed handshake. */
function tlsConnect(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => resolve(socket));
    socket.once('error', (e) => {
      socket.destroy();
      reject(e);
    });
  });
}

interface Fixture {
  readonly ca: TestCa;
  readonly server: TestKeyPair;
  readonly client: TestKeyPair;
}

async function fixture(): Promise<Fixture> {
  const ca = await createTestCa('test mTLS CA');
  const server = await ca.issue({ dnsNames: ['nats-mtls', 'mqtt.csc.example.com', '*.devices.example.com'] });
  const client = await ca.issue({ commonName: 'mqtt-client.csc', usage: 'client' });
  return { ca, server, client };
}

describe('SNI passthrough proxy (stand-in for an Envoy Passthrough listener + TLSRoute)', () => {
  natsTest('an MQTT client with a certificate from the server\'s CA and a TLSRoute SNI publishes to an mTLS nats-server through it', async () => {
    const f = await fixture();
    const nats = await startMtlsMqttServer(f.server, f.ca);
    const proxy = await startSniPassthroughProxy({
      routes: [{ hostnames: ['mqtt.csc.example.com', '*.devices.example.com'], backend: { host: '127.0.0.1', port: nats.ports.mqtt } }],
    });
    const nc = await connect({ servers: nats.url });
    try {
      const sub = nc.subscribe('sensors.>');
      await nc.flush();
      for (const sni of ['mqtt.csc.example.com', 'Rack7.Devices.Example.com']) {
        const socket = await tlsConnect(proxy.port, { servername: sni, ca: f.ca.cert, cert: f.client.cert, key: f.client.key });
        // The client talks to nats-server itself: the certificate it sees is the server's, not a proxy's.
        expect(socket.getPeerCertificate().fingerprint256).toBe(new X509Certificate(f.server.cert).fingerprint256);
        const mqtt = new MqttClient(socket, 10_000);
        try {
          await mqtt.connect({ clientId: `standin-${sni.split('.')[0].toLowerCase()}` });
          await mqtt.publish(`sensors/${sni.split('.')[0].toLowerCase()}`, `hello from ${sni}`, 1);
        } finally {
          await mqtt.disconnect();
        }
      }
      const got: string[] = [];
      for await (const m of sub) {
        got.push(`${m.subject}=${sc.decode(m.data)}`);
        if (got.length === 2) break;
      }
      expect(got).toEqual(['sensors.mqtt=hello from mqtt.csc.example.com', 'sensors.rack7=hello from Rack7.Devices.Example.com']);
      expect(proxy.stats()).toMatchObject({ forwarded: ['mqtt.csc.example.com', 'Rack7.Devices.Example.com'], refused: [] });
    } finally {
      await nc.close();
      await proxy.stop();
      await nats.stop();
    }
  });

  natsTest('fails when the SNI is not a TLSRoute hostname: the connection is reset before it reaches the server', async () => {
    const f = await fixture();
    const nats = await startMtlsMqttServer(f.server, f.ca);
    const proxy = await startSniPassthroughProxy({
      routes: [{ hostnames: ['mqtt.csc.example.com', '*.devices.example.com'], backend: { host: '127.0.0.1', port: nats.ports.mqtt } }],
    });
    try {
      const opts = { ca: f.ca.cert, cert: f.client.cert, key: f.client.key };
      await expect(tlsConnect(proxy.port, { ...opts, servername: 'nats-mtls' })).rejects.toMatchObject({ code: 'ECONNRESET' });
      await expect(tlsConnect(proxy.port, { ...opts, servername: 'devices.example.com' })).rejects.toMatchObject({ code: 'ECONNRESET' });
      await expect(tlsConnect(proxy.port, opts)).rejects.toMatchObject({ code: 'ECONNRESET' }); // 127.0.0.1: no SNI at all
      const refused = proxy.stats().refused;
      expect(refused.map((r) => r.sni)).toEqual(['nats-mtls', 'devices.example.com', undefined]);
      expect(refused[0].reason).toMatch(/^SNI nats-mtls matches no TLSRoute hostname$/);
      expect(refused[2].reason).toMatch(/no SNI/);
      expect(proxy.stats().forwarded).toEqual([]);
    } finally {
      await proxy.stop();
      await nats.stop();
    }
  });

  natsTest('fails when the client has no certificate: the proxy forwards and nats-server itself refuses the handshake', async () => {
    const f = await fixture();
    const nats = await startMtlsMqttServer(f.server, f.ca);
    const proxy = await startSniPassthroughProxy({
      routes: [{ hostnames: ['mqtt.csc.example.com'], backend: { host: '127.0.0.1', port: nats.ports.mqtt } }],
    });
    try {
      // TLS 1.3 finishes the client's side before the server checks the
      // client certificate, so the refusal arrives as an alert on first use.
      const socket = await tlsConnect(proxy.port, { servername: 'mqtt.csc.example.com', ca: f.ca.cert });
      const mqtt = new MqttClient(socket, 10_000);
      await expect(mqtt.connect({ clientId: 'no-cert' })).rejects.toThrow(/alert certificate required/);
      await mqtt.disconnect();
      expect(proxy.stats().forwarded).toEqual(['mqtt.csc.example.com']);
    } finally {
      await proxy.stop();
      await nats.stop();
    }
  });

  test('fails when the first bytes are not TLS: the connection is reset', async () => {
    const proxy = await startSniPassthroughProxy({ routes: [{ hostnames: [], backend: { host: '127.0.0.1', port: 1 } }] });
    try {
      const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: proxy.port }, () => s.write('CONNECT {"verbose":false}\r\n'));
        s.once('error', (e) => { s.destroy(); resolve(e); });
        s.once('close', () => resolve(Object.assign(new Error('closed without reset'), { code: 'CLOSED' })));
      });
      expect(err.code).toBe('ECONNRESET');
      expect(proxy.stats().refused).toEqual([{ reason: 'first record type is 67, not a TLS handshake (22)' }]);
    } finally {
      await proxy.stop();
    }
  });

  test('fails when a TLSRoute hostname is invalid', async () => {
    await expect(startSniPassthroughProxy({ routes: [{ hostnames: ['MQTT.example.com'], backend: { host: '127.0.0.1', port: 1 } }] }))
      .rejects.toThrow(/TLSRoute hostname "MQTT\.example\.com" is invalid\. Allowed: .*Fix: /);
    await expect(startSniPassthroughProxy({ routes: [{ hostnames: ['a.*.example.com'], backend: { host: '127.0.0.1', port: 1 } }] }))
      .rejects.toThrow(/"a\.\*\.example\.com" is invalid/);
  });

  test('hostname matching follows Envoy server_names: exact, case-insensitive, *. matches one or more leading labels', () => {
    expect(hostnameMatches('mqtt.example.com', 'mqtt.example.com')).toBe(true);
    expect(hostnameMatches('mqtt.example.com', 'MQTT.Example.COM')).toBe(true);
    expect(hostnameMatches('mqtt.example.com', 'mqtt.example.com.')).toBe(true);
    expect(hostnameMatches('mqtt.example.com', 'x.mqtt.example.com')).toBe(false);
    expect(hostnameMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostnameMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostnameMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostnameMatches('*.example.com', '.example.com')).toBe(false);
    expect(hostnameMatches('*.example.com', 'aexample.com')).toBe(false);
    expect(hostnameMatches('*.example.com', 'a.example.net')).toBe(false);
  });

  test('route selection prefers an exact hostname, then the longest wildcard, then a route without hostnames', () => {
    const b = { host: '127.0.0.1', port: 1 };
    const routes = [
      { name: 'catch-all', hostnames: [], backend: b },
      { name: 'short', hostnames: ['*.example.com'], backend: b },
      { name: 'long', hostnames: ['*.csc.example.com'], backend: b },
      { name: 'exact', hostnames: ['mqtt.csc.example.com'], backend: b },
    ];
    expect(selectRoute(routes, 'mqtt.csc.example.com')?.name).toBe('exact');
    expect(selectRoute(routes, 'nats.csc.example.com')?.name).toBe('long');
    expect(selectRoute(routes, 'cpc.example.com')?.name).toBe('short');
    expect(selectRoute(routes, 'other.org')?.name).toBe('catch-all');
    expect(selectRoute(routes, undefined)?.name).toBe('catch-all');
    expect(selectRoute(routes.slice(1), 'other.org')).toBeUndefined();
  });

  test('reads the SNI from a real ClientHello, whole, cut short, and split over two records', async () => {
    // Capture what Node's TLS client really sends.
    const hello = await new Promise<Buffer>((resolve, reject) => {
      const server = net.createServer((s) => {
        s.once('data', (d) => {
          s.destroy();
          server.close();
          resolve(d);
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        const c = tls.connect({ host: '127.0.0.1', port, servername: 'mqtt.csc.example.com' });
        c.once('error', () => c.destroy());
      });
      server.once('error', reject);
    });
    expect(parseClientHello(hello)).toEqual({ kind: 'client-hello', sni: 'mqtt.csc.example.com' });
    expect(parseClientHello(hello.subarray(0, 3))).toEqual({ kind: 'incomplete' });
    expect(parseClientHello(hello.subarray(0, hello.length - 1))).toEqual({ kind: 'incomplete' });
    // The same handshake message split into two TLS records (a legal fragmentation).
    const body = hello.subarray(5);
    const cut = 40;
    const record = (part: Buffer) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, Math.floor(part.length / 256), part.length % 256]), part]);
    const split = Buffer.concat([record(body.subarray(0, cut)), record(body.subarray(cut))]);
    expect(parseClientHello(split.subarray(0, 5 + cut + 2))).toEqual({ kind: 'incomplete' });
    expect(parseClientHello(split)).toEqual({ kind: 'client-hello', sni: 'mqtt.csc.example.com' });
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n'))).toMatchObject({ kind: 'not-tls' });
  });

  test('stop() closes the listener and is idempotent', async () => {
    const proxy = await startSniPassthroughProxy({ routes: [] });
    await proxy.stop();
    await proxy.stop();
    await waitFor('the port to refuse connections', () => new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: proxy.port });
      s.once('connect', () => { s.destroy(); resolve(false); });
      s.once('error', () => resolve(true));
    }), 2000);
  });
});

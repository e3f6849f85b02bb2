import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { connect, TlsOptions } from 'nats';
import { main } from '../../src/cli/run';
import { natsTest, startNatsServer } from '../util/nats-server';
import { findSeeds } from '../util/seeds';
import { waitFor } from '../util/wait';

/** The TLS alerts by which a server refuses a client certificate (OpenSSL's error codes on the client). */
const REFUSED = /^ERR_SSL_(SSLV3_ALERT_BAD_CERTIFICATE|TLSV1_ALERT_UNKNOWN_CA|TLSV13_ALERT_CERTIFICATE_REQUIRED)$/;

interface Run { code: number; out: string; err: string }

async function run(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'certs-cli-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const mode = (p: string) => fs.statSync(p).mode % 0o1000;
const FILES = [
  'ca/ca.crt',
  'nats-mtls-server-tls/ca.crt', 'nats-mtls-server-tls/tls.crt', 'nats-mtls-server-tls/tls.key',
  'mqtt-client/ca.crt', 'mqtt-client/tls.crt', 'mqtt-client/tls.key',
];

function sans(certFile: string): string[] {
  return new X509Certificate(fs.readFileSync(certFile)).subjectAltName!.split(', ');
}

describe('dsx-event-bus certs', () => {
  test('is listed in the top-level help and has its own help', async () => {
    expect((await run('--help')).out).toMatch(/certs\s+Write evaluation certificates: one fleet CA/);
    const help = await run('certs', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/nats-mtls-server-tls\/ca.crt, tls.crt, tls.key/);
  });

  test('writes the documented layout per cluster: PEM files 600, directories 700', async () => {
    const out = path.join(tmp, 'secrets');
    const r = await run('certs', '-o', out, '--host', 'csc=172.18.200.1', '--host', 'mqtt-mtls.example.com', 'csc', 'cpc-1');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^fleet CA: wrote .*secrets\/ca \(ca.crt, ca.key; keep ca.key private\)$/m);
    expect(r.out).toMatch(/^csc: wrote .*csc\/certs \(fleet CA certificate; nats-mtls-server-tls with SANs nats-mtls, nats-mtls.dsx, .*172.18.200.1; client CN=mqtt-client.csc\)$/m);
    expect(mode(out)).toBe(0o700);
    expect(fs.readdirSync(path.join(out, 'ca')).sort()).toEqual(['ca.crt', 'ca.key']);
    expect(mode(path.join(out, 'ca'))).toBe(0o700);
    for (const f of ['ca.crt', 'ca.key']) expect(mode(path.join(out, 'ca', f))).toBe(0o600);
    for (const cluster of ['csc', 'cpc-1']) {
      const dir = path.join(out, cluster, 'certs');
      expect(fs.readdirSync(dir).sort()).toEqual(['ca', 'mqtt-client', 'nats-mtls-server-tls']);
      expect(mode(path.join(out, cluster))).toBe(0o700);
      expect(mode(dir)).toBe(0o700);
      for (const f of FILES) {
        const file = path.join(dir, f);
        expect(mode(path.dirname(file))).toBe(0o700);
        expect(mode(file)).toBe(0o600);
        expect(fs.readFileSync(file, 'utf8')).toMatch(f.endsWith('.key') ? /^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n$/ : /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
      }
    }
    // Server SANs: the nats-mtls Service names plus the hosts of that cluster.
    expect(sans(path.join(out, 'csc/certs/nats-mtls-server-tls/tls.crt'))).toEqual([
      'DNS:nats-mtls', 'DNS:nats-mtls.dsx', 'DNS:nats-mtls.dsx.svc', 'DNS:nats-mtls.dsx.svc.cluster.local', 'DNS:mqtt-mtls.example.com', 'IP Address:172.18.200.1',
    ]);
    expect(sans(path.join(out, 'cpc-1/certs/nats-mtls-server-tls/tls.crt'))).not.toContain('IP Address:172.18.200.1');
    // Client certificate: subject exactly CN=mqtt-client.<cluster>, signed by the one fleet CA,
    // whose key exists only in DIR/ca.
    const client = new X509Certificate(fs.readFileSync(path.join(out, 'cpc-1/certs/mqtt-client/tls.crt')));
    expect(client.subject).toBe('CN=mqtt-client.cpc-1');
    const fleetCa = fs.readFileSync(path.join(out, 'ca/ca.crt'), 'utf8');
    const cpcCa = new X509Certificate(fs.readFileSync(path.join(out, 'cpc-1/certs/ca/ca.crt')));
    expect(fs.readFileSync(path.join(out, 'csc/certs/ca/ca.crt'), 'utf8')).toBe(fleetCa);
    expect(cpcCa.toString()).toBe(new X509Certificate(fleetCa).toString());
    expect(client.verify(cpcCa.publicKey)).toBe(true);
    expect(new X509Certificate(fs.readFileSync(path.join(out, 'csc/certs/nats-mtls-server-tls/tls.crt'))).verify(cpcCa.publicKey)).toBe(true);
    expect(cpcCa.ca).toBe(true);
    expect(client.ca).toBe(false);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    // The three files of nats-mtls-server-tls are what the Secret needs.
    expect(fs.readFileSync(path.join(out, 'csc/certs/nats-mtls-server-tls/ca.crt'), 'utf8')).toBe(fs.readFileSync(path.join(out, 'csc/certs/ca/ca.crt'), 'utf8'));
    expect(findSeeds(r.out + r.err)).toEqual([]);
  });

  test('without clusters writes csc only; --namespace and --key-type rsa-2048 are honoured', async () => {
    const r = await run('certs', '-o', tmp, '-n', 'event-bus', '--key-type', 'rsa-2048', '--days', '30');
    expect(r.code).toBe(0);
    expect(fs.readdirSync(tmp).sort()).toEqual(['ca', 'csc']);
    const cert = new X509Certificate(fs.readFileSync(path.join(tmp, 'csc/certs/nats-mtls-server-tls/tls.crt')));
    expect(cert.subjectAltName).toContain('DNS:nats-mtls.event-bus.svc.cluster.local');
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
  });

  test('leaves a complete set with the same SANs unchanged', async () => {
    expect((await run('certs', '-o', tmp, '--host', '10.0.0.1')).code).toBe(0);
    const file = path.join(tmp, 'csc/certs/nats-mtls-server-tls/tls.crt');
    const before = fs.readFileSync(file, 'utf8');
    const again = await run('certs', '-o', tmp, '--host', '10.0.0.1');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/csc: .* exists with the same SANs, left unchanged/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  test('fails when an existing set has other SANs, and overwrites nothing', async () => {
    expect((await run('certs', '-o', tmp, '--host', '10.0.0.1')).code).toBe(0);
    const file = path.join(tmp, 'csc/certs/nats-mtls-server-tls/tls.crt');
    const before = fs.readFileSync(file, 'utf8');
    const r = await run('certs', '-o', tmp, '--host', '10.0.0.2');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^ERROR: .*tls.crt has SANs .*"10.0.0.1".* but .*"10.0.0.2".* were requested\. Nothing was overwritten\. Fix: delete .*csc\/certs/);
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  test('makes the fleet CA once: a second run with another cluster reuses it', async () => {
    expect((await run('certs', '-o', tmp, 'csc')).code).toBe(0);
    const ca = fs.readFileSync(path.join(tmp, 'ca/ca.crt'), 'utf8');
    const key = fs.readFileSync(path.join(tmp, 'ca/ca.key'), 'utf8');
    const again = await run('certs', '-o', tmp, 'csc', 'cpc-7');
    expect(again.code).toBe(0);
    expect(again.out).not.toMatch(/fleet CA: wrote/);
    expect(fs.readFileSync(path.join(tmp, 'ca/ca.crt'), 'utf8')).toBe(ca);
    expect(fs.readFileSync(path.join(tmp, 'ca/ca.key'), 'utf8')).toBe(key);
    const client = new X509Certificate(fs.readFileSync(path.join(tmp, 'cpc-7/certs/mqtt-client/tls.crt')));
    expect(client.verify(new X509Certificate(ca).publicKey)).toBe(true);
    // The CA key is only in DIR/ca, never in a cluster's folder.
    for (const cluster of ['csc', 'cpc-7']) {
      const all = FILES.map((f) => fs.readFileSync(path.join(tmp, cluster, 'certs', f), 'utf8')).join('');
      expect(all).not.toContain(key.split('\n')[1]);
    }
  });

  test('fails when an existing set was signed by another CA, and overwrites nothing', async () => {
    expect((await run('certs', '-o', tmp)).code).toBe(0);
    fs.rmSync(path.join(tmp, 'ca'), { recursive: true });
    const before = fs.readFileSync(path.join(tmp, 'csc/certs/ca/ca.crt'), 'utf8');
    const r = await run('certs', '-o', tmp);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/csc\/certs was signed by another CA than the fleet CA .*ca\/ca\.crt.*Nothing was overwritten\. Fix: delete .*csc\/certs/);
    expect(fs.readFileSync(path.join(tmp, 'csc/certs/ca/ca.crt'), 'utf8')).toBe(before);
  });

  test('fails when the fleet CA is incomplete, and overwrites nothing', async () => {
    expect((await run('certs', '-o', tmp)).code).toBe(0);
    fs.rmSync(path.join(tmp, 'ca/ca.key'));
    const r = await run('certs', '-o', tmp, 'cpc-1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/ca exists but is incomplete \(missing ca\.key\)\. Nothing was overwritten\. Fix: restore the file, or delete/);
    expect(fs.existsSync(path.join(tmp, 'cpc-1'))).toBe(false);
  });

  test('fails when the fleet CA key does not belong to its certificate', async () => {
    const other = path.join(tmp, 'other');
    expect((await run('certs', '-o', tmp)).code).toBe(0);
    expect((await run('certs', '-o', other)).code).toBe(0);
    fs.copyFileSync(path.join(other, 'ca/ca.key'), path.join(tmp, 'ca/ca.key'));
    const r = await run('certs', '-o', tmp, 'cpc-1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/keyFile ".*ca\/ca\.key" is not the private key of certFile ".*ca\/ca\.crt"/);
    expect(r.err).not.toMatch(/BEGIN PRIVATE KEY/);
  });

  test('fails when an existing set is incomplete, and overwrites nothing', async () => {
    expect((await run('certs', '-o', tmp)).code).toBe(0);
    fs.rmSync(path.join(tmp, 'csc/certs/mqtt-client/tls.key'));
    const r = await run('certs', '-o', tmp);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/exists but is incomplete \(missing mqtt-client\/tls.key\)\. Nothing was overwritten/);
    expect(fs.existsSync(path.join(tmp, 'csc/certs/mqtt-client/tls.key'))).toBe(false);
  });

  test.each([
    [['cpc_1'], /cluster "cpc_1" is invalid\. Allowed: "csc" or "cpc-<id>"/],
    [['cpc-A'], /cluster "cpc-A": CPC id "A" is invalid/],
    [['csc', 'csc'], /cluster "csc" is listed twice/],
    [['--host', 'cpc-2=10.0.0.1', 'csc'], /--host "cpc-2=10\.0\.0\.1" names cluster "cpc-2", which is not being generated\. Allowed: csc/],
    [['--host', 'Bad_Host'], /--host "Bad_Host": host "Bad_Host" is not a valid DNS name/],
    [['--days', '0'], /--days "0" is invalid/],
    [['--days', 'ten'], /--days "ten" is invalid/],
    [['--key-type', 'dsa'], /--key-type "dsa" is invalid\. Allowed: ecdsa-p256, rsa-2048/],
    [['-n', 'Bad_NS'], /--namespace: namespace "Bad_NS" is not a valid Kubernetes namespace/],
    [['--bogus'], /Unknown option: --bogus/],
  ])('fails when the arguments are %j, and writes nothing', async (args, message) => {
    const out = path.join(tmp, 'out');
    const r = await run('certs', '-o', out, ...(args as string[]));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^ERROR: ${(message as RegExp).source}`));
    expect(fs.existsSync(out)).toBe(false);
  });
});

/** Reads the INFO line nats-server sends in plain text, then upgrades to TLS (what NATS clients do). */
async function natsTlsPing(port: number, options: tls.ConnectionOptions): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port });
  const info = await new Promise<string>((resolve, reject) => {
    let buf = '';
    socket.on('data', function onData(d) {
      buf += d;
      if (buf.includes('\r\n')) {
        socket.off('data', onData);
        resolve(buf.split('\r\n')[0]);
      }
    });
    socket.once('error', reject);
  });
  expect(info).toMatch(/^INFO \{.*"tls_required":true/);
  return new Promise<string>((resolve, reject) => {
    const secure = tls.connect({ socket, ...options });
    let data = '';
    const timer = setTimeout(() => { secure.destroy(); reject(new Error(`no PONG within 15 s (got ${JSON.stringify(data)})`)); }, 15_000);
    secure.once('secureConnect', () => secure.write('CONNECT {"verbose":false,"pedantic":false,"tls_required":true}\r\nPING\r\n'));
    secure.on('data', (d) => {
      data += d;
      if (data.includes('PONG\r\n')) {
        clearTimeout(timer);
        secure.end();
        resolve('PONG');
      }
    });
    secure.once('error', (e) => { clearTimeout(timer); reject(e); });
    secure.once('close', () => { clearTimeout(timer); reject(new Error(`connection closed before PONG (got ${JSON.stringify(data)})`)); });
  });
}

describe('generated evaluation certificates against a real nats-server (tls verify: true)', () => {
  natsTest('accepts a client with the client certificate that verifies the server name from the SANs, and refuses one from another CA', async () => {
    const out = path.join(tmp, 'secrets');
    expect((await run('certs', '-o', out, '--host', '127.0.0.1', '--host', 'mqtt-mtls.example.com', 'csc', 'cpc-1')).code).toBe(0);
    const f = (cluster: string, file: string) => fs.readFileSync(path.join(out, cluster, 'certs', file));
    const serverDir = path.join(out, 'csc/certs/nats-mtls-server-tls');
    const server = await startNatsServer({
      config: `tls {\n  cert_file: "${serverDir}/tls.crt"\n  key_file: "${serverDir}/tls.key"\n  ca_file: "${serverDir}/ca.crt"\n  verify: true\n  timeout: 2\n}`,
    });
    try {
      const client = { ca: f('csc', 'mqtt-client/ca.crt'), cert: f('csc', 'mqtt-client/tls.crt'), key: f('csc', 'mqtt-client/tls.key') };
      // Server name verified against the SANs: a Service name, the external name, and the IP.
      await expect(natsTlsPing(server.port, { ...client, servername: 'nats-mtls.dsx.svc.cluster.local' })).resolves.toBe('PONG');
      await expect(natsTlsPing(server.port, { ...client, servername: 'mqtt-mtls.example.com' })).resolves.toBe('PONG');
      await expect(natsTlsPing(server.port, { ...client, host: '127.0.0.1' })).resolves.toBe('PONG');
      // A name that is not a SAN fails the client's check.
      await expect(natsTlsPing(server.port, { ...client, servername: 'other.example.com' })).rejects.toThrow(/Host: other.example.com. is not in the cert's altnames/);

      // The official NATS client, with the same files, checking the external name
      // (nats.js passes extra tls options on to tls.connect).
      const natsTls = { ca: client.ca.toString(), cert: client.cert.toString(), key: client.key.toString(), servername: 'mqtt-mtls.example.com' };
      const nc = await connect({ servers: `tls://127.0.0.1:${server.port}`, tls: natsTls as TlsOptions, timeout: 5000 });
      await nc.flush();
      expect(nc.info?.tls_required).toBe(true);
      await nc.close();

      // Another cluster of the same fleet: the same CA, so its client certificate
      // passes TLS (the chart's permissions then map its subject).
      const sibling = { ca: f('csc', 'mqtt-client/ca.crt'), cert: f('cpc-1', 'mqtt-client/tls.crt'), key: f('cpc-1', 'mqtt-client/tls.key') };
      await expect(natsTlsPing(server.port, { ...sibling, servername: 'nats-mtls.dsx.svc.cluster.local' })).resolves.toBe('PONG');
      // A client certificate from another fleet's CA is refused by the server.
      const otherFleet = path.join(tmp, 'other-fleet');
      expect((await run('certs', '-o', otherFleet, 'cpc-1')).code).toBe(0);
      const o = (file: string) => fs.readFileSync(path.join(otherFleet, 'cpc-1', 'certs', file));
      const stranger = { ca: f('csc', 'mqtt-client/ca.crt'), cert: o('mqtt-client/tls.crt'), key: o('mqtt-client/tls.key') };
      // The TLS alert depends on the server's Go version (bad_certificate before, unknown_ca since); either is a refusal.
      await expect(natsTlsPing(server.port, { ...stranger, servername: 'nats-mtls.dsx.svc.cluster.local' })).rejects.toMatchObject({ code: expect.stringMatching(REFUSED) });
      // And no client certificate at all is refused too.
      await expect(natsTlsPing(server.port, { ca: client.ca, servername: 'nats-mtls.dsx.svc.cluster.local' })).rejects.toMatchObject({ code: expect.stringMatching(REFUSED) });
      // The server logs each refusal (wait for the lines: it may log after the client saw the alert).
      const refused = [/TLS handshake error: tls: failed to verify (client )?certificate: x509: certificate signed by unknown authority/, /TLS handshake error: tls: client didn't provide a certificate/];
      await waitFor('nats-server to log both refused handshakes', () => refused.every((r) => r.test(server.logs())), { timeoutMs: 10_000 }).catch(() => undefined);
      for (const r of refused) expect(server.logs()).toMatch(r);
    } finally {
      await server.stop();
    }
  });
});

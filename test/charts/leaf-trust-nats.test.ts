/**
 * The CPC's leaf TLS values against real nats-servers: a CSC leafnode
 * listener behind a TLS-terminating proxy, and a CPC whose leaf remote takes
 * its `tls {}` block from the library's `cpcLeafClientTLS` and its CA file
 * from the library's trust ConfigMap (written where `nats.tlsCA` mounts it;
 * only hosts, ports and paths are rewritten). The leaf forms; with public
 * roots only the CPC refuses the fleet CA's certificate; without TLS-first
 * the CPC waits for an INFO the terminator never sends.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as tls from 'tls';
import { Testing } from 'cdk8s';
import { connect } from 'nats';
import { CertificateAuthority, ClusterCertificates, EventBusFleet, LeafTrust, SecretsDelivery } from '../../src';
import { EvaluationCa, generateEvaluationCa, generateEvaluationCerts } from '../../src/cli/evaluation';
import { DeterministicKeyStore } from '../../src/testing';
import { natsTest, RunningNatsServer, startNatsServer } from '../util/nats-server';

/**
 * Stands in for the CSC gateway's Envoy `nats-leafnode` listener (TLS mode
 * Terminate, a TCPRoute to NATS port 7422): it terminates TLS with the given
 * certificate and pipes the plaintext bytes to `targetPort`. It does not do
 * SNI routing, ALPN, PROXY protocol or anything else Envoy does.
 */
async function terminatingProxy(cert: string, key: string, targetPort: number): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert, key }, (client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  server.on('tlsClientError', () => undefined); // refused handshakes are part of the test
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `logs()` until `pattern` appears (bounded). */
async function waitForLog(server: RunningNatsServer, pattern: RegExp, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(server.logs())) {
    if (Date.now() > deadline) throw new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${server.logs()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Publishes on the CPC until a subscriber on the CSC receives it (bounded): the leaf carries messages. */
async function messageCrosses(csc: RunningNatsServer, cpc: RunningNatsServer, timeoutMs = 15_000): Promise<string> {
  const [cscConn, cpcConn] = await Promise.all([connect({ servers: csc.url }), connect({ servers: cpc.url })]);
  try {
    const sub = cscConn.subscribe('probe.cpc-to-csc', { max: 1 });
    await cscConn.flush();
    const received = (async () => {
      for await (const m of sub) return m.string();
      return '';
    })();
    const deadline = Date.now() + timeoutMs;
    let got: string | undefined;
    void received.then((t) => { got = t; });
    while (got === undefined) {
      if (Date.now() > deadline) throw new Error(`no message crossed the leaf within ${timeoutMs} ms:\n${cpc.logs()}`);
      cpcConn.publish('probe.cpc-to-csc', 'hello from CPC-1');
      await cpcConn.flush();
      await new Promise((r) => setTimeout(r, 100));
    }
    return got;
  } finally {
    await Promise.all([cscConn.close(), cpcConn.close()]);
  }
}

/** A NATS config `tls {}` block from the values' flat map, with `ca_file` rewritten to `caFile`. */
function tlsBlock(values: Record<string, unknown>, caFile: string): string {
  const lines = Object.entries(values).map(([k, v]) => `${k}: ${JSON.stringify(k === 'ca_file' ? caFile : v)}`);
  return `tls {\n    ${lines.join('\n    ')}\n  }`;
}

let ca: EvaluationCa;
let gatewayCert: { cert: string; key: string };
beforeAll(async () => {
  ca = await generateEvaluationCa('ecdsa-p256');
  // The certificate the CSC's CA issuer would give its gateway: signed by the fleet CA, SAN 127.0.0.1.
  const files = await generateEvaluationCerts({ cluster: 'csc', namespace: 'dsx', hosts: ['127.0.0.1'], days: 1, keyType: 'ecdsa-p256', ca });
  gatewayCert = { cert: files['nats-mtls-server-tls/tls.crt'], key: files['nats-mtls-server-tls/tls.key'] };
});

function cpcOf(cscTrust?: LeafTrust) {
  const fleet = new EventBusFleet(Testing.app(), 'fleet', {
    keys: new DeterministicKeyStore(),
    // The CA Secrets come from a store here: the fleet's trust is what this test is about.
    delivery: SecretsDelivery.existing(),
    mtls: false,
    certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromPem(ca.certPem)),
    cscTrust,
    csc: { gateway: { ipAddresses: ['127.0.0.1'] } },
    cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
  });
  return fleet.cpc('1');
}

/** Starts the CSC, the proxy and a CPC whose leaf remote uses `leafTls` (already a config block). */
async function run(leafTls: (dir: string) => string, check: (csc: RunningNatsServer, cpc: RunningNatsServer) => Promise<void>): Promise<void> {
  const csc = await startNatsServer({ config: ({ leafnode }) => `leafnodes { host: 127.0.0.1, port: ${leafnode} }`, extraPorts: ['leafnode'] });
  const proxy = await terminatingProxy(gatewayCert.cert, gatewayCert.key, csc.ports.leafnode);
  let cpc: RunningNatsServer | undefined;
  try {
    cpc = await startNatsServer({
      config: (_ports, dir) => `leafnodes {\n  reconnect: "1s"\n  remotes: [ { urls: ["tls://127.0.0.1:${proxy.port}"]\n  ${leafTls(dir)} } ]\n}`,
    });
    await check(csc, cpc);
  } finally {
    await cpc?.stop();
    await proxy.close();
    await csc.stop();
  }
}

describe('CPC leaf TLS values against real nats-servers behind a TLS-terminating proxy', () => {
  natsTest('with the fleet CA (the default trust): handshake_first + ca_file form the leaf', async () => {
    const cpc = cpcOf();
    const values = cpc.helmValues();
    expect(values.global.eventBus.cscEndpoint).toBe('tls://127.0.0.1:7422');
    const trust = cpc.toJson().find((o: any) => o.kind === 'ConfigMap' && o.metadata.name === values.nats.tlsCA.configMapName);
    await run((dir) => {
      // The nats.tlsCA mount, stand-in: the ConfigMap's key as a file.
      const caFile = path.join(dir, values.nats.tlsCA.key);
      fs.writeFileSync(caFile, trust.data[values.nats.tlsCA.key]);
      expect(values.global.eventBus.cpcLeafClientTLS.ca_file).toBe(`${values.nats.tlsCA.dir}/${values.nats.tlsCA.key}`);
      return tlsBlock(values.global.eventBus.cpcLeafClientTLS, caFile);
    }, async (csc, cpcServer) => {
      expect(await messageCrosses(csc, cpcServer)).toBe('hello from CPC-1');
      expect(cpcServer.logs()).not.toMatch(/Leafnode connection closed/);
    });
  }, 60_000);

  natsTest('with public roots only: the CPC refuses the fleet CA\'s certificate', async () => {
    const values = cpcOf(LeafTrust.publicRoots()).helmValues();
    expect(values.global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true });
    await run(() => tlsBlock(values.global.eventBus.cpcLeafClientTLS, ''), async (csc, cpcServer) => {
      await waitForLog(cpcServer, /x509: certificate signed by unknown authority/);
      // The proxy connects upstream only after a completed handshake: the CSC never saw the CPC.
      expect(csc.logs()).not.toMatch(/Leafnode connection created/);
    });
  }, 60_000);

  natsTest('without TLS-first (the old values): the CPC waits for an INFO the terminator never sends', async () => {
    await run((dir) => {
      const caFile = path.join(dir, 'ca.crt');
      fs.writeFileSync(caFile, ca.certPem);
      return `tls { ca_file: ${JSON.stringify(caFile)} }`;
    }, async (_csc, cpcServer) => {
      // It connects, waits for the first INFO, gives up, and does it again: twice is enough to show the cycle.
      await waitForLog(cpcServer, /Leafnode connection closed: Read Error[\s\S]*Leafnode connection closed: Read Error/);
    });
  }, 60_000);
});

/**
 * The fleet works end to end (issue 10, part 3): CSC + 2 CPCs synthesized by
 * the library, rendered by the real chart (`helm template`), run as real
 * nats-server 2.15 processes from the rendered config (rewrites: only hosts,
 * ports and paths, listed in NATS_REWRITES), with the Gateway, cert-manager
 * and the auth-callout service played by the stand-ins of test/e2e/standins.
 *
 * Counts go to test-reports/proof-fleet.json (printed by .ci/summary.js).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tls from 'tls';
import { connect, NatsConnection } from 'nats';
import * as YAML from 'yaml';
import { issueFromCaSecret, IssuedCertificate } from './cert-manager-standin';
import {
  CALLOUT_REWRITES, CalloutStarter, ClusterObjects, fleetCa, CSC_GATEWAY_IP, EXTRA_ACCOUNT, gatewayHost, Leaf, leafz, NATS_REWRITES,
  PassthroughStarter, prepareNats, redact, renderCluster, RunningCluster, startCluster, SynthesizedFleet, synthesizeFleet, tempDir, TestUser, waitFor,
} from './fleet';
import { STREAM_REWRITES } from './nack-standin';
import { useNativeEd25519 } from './native-ed25519';
import { AuthCalloutResponder, authCalloutInputsFromPod, goNkeyAuthenticator, MqttClient, startSniPassthroughProxy, startTlsTerminatingProxy } from './standins';
import { GatewayTransport } from '../../src';
import { writeProofReport } from '../proof/scenarios';
import { NATS_SERVER_BIN, natsServerAvailable } from '../util/nats-server';
import { chartMissing, HELM_BIN, helmMissing, toolTest, UPSTREAM_CHART } from '../util/tools';


// Runtime of this file (speed and client defaults only; see each for why):
useNativeEd25519();
// In-cluster clients of the nats Service speak plaintext. The chart's `tls {}` (for the terminating gateway) makes the
// server advertise tls_available; nats.go (the real auth-callout service) ignores that, nats.js upgrades unless
// `tls: null`. So every nats.js client here that sets no `tls` gets `tls: null`, as nats.go behaves.
jest.mock('nats', () => {
  const actual = jest.requireActual('nats');
  return { ...actual, connect: (opts: any = {}) => actual.connect(opts.tls === undefined ? { ...opts, tls: null } : opts) };
});

const missing = [helmMissing(), chartMissing(), natsServerAvailable() ? undefined : `nats-server not found at ${NATS_SERVER_BIN}`];
const runnable = missing.every((m) => m === undefined);
const CPC_IDS = ['1', '2'];
/** Accounts every CPC leafs into at the CSC. */
const LEAF_ACCOUNTS = ['CSC', EXTRA_ACCOUNT];
const LEAF_WAIT_MS = 20_000;

const report = {
  natsServer: '',
  helm: '',
  chart: '',
  clustersRendered: 0,
  natsServersStarted: 0,
  rewritesApplied: 0,
  leafsFormed: { tls: 0, tcp: 0 },
  messagesCrossed: 0,
  refusals: { unknownSeedLeafRemotes: 0, calloutDenials: 0, wrongSni: 0, nameConstraints: 0 },
  mqttPublished: 0,
  tlsFirstClients: 0,
};

/** The callout stand-in per running cluster (its decisions are the refusal record). */
const callouts = new Map<string, AuthCalloutResponder>();
const callout: CalloutStarter = async ({ cluster, pod, loopback }) => {
  // What the service reads at start-up: its config and AUTH_CALLOUT_* env (seeds from auth-callout-keys), permissions.json, the mTLS CA.
  const inputs = authCalloutInputsFromPod({ root: pod.root, env: pod.env, container: pod.container });
  const responder = new AuthCalloutResponder({ ...inputs, servers: loopback(inputs.natsUrl) });
  await responder.start();
  callouts.set(cluster, responder);
  return responder;
};
const passthrough: PassthroughStarter = async (routes) => startSniPassthroughProxy({ routes });

interface Fleet {
  synth: SynthesizedFleet;
  csc: RunningCluster;
  cpcs: RunningCluster[];
  all: RunningCluster[];
}

const work = runnable ? tempDir('e2e-fleet-') : '';
const keysDir = path.join(work, 'keys');
const started: RunningCluster[] = [];
const clients: NatsConnection[] = [];

async function startFleet(transport: GatewayTransport, name: string): Promise<Fleet> {
  const dir = path.join(work, name);
  const synth = await synthesizeFleet({ workDir: dir, keysDir, cpcIds: CPC_IDS, transport });
  const objects = synth.clusters.map((c) => new ClusterObjects(c.name, renderCluster(c, dir), c.objects));
  report.clustersRendered += objects.length;
  const track = (c: RunningCluster) => {
    started.push(c);
    report.natsServersStarted += c.mtls ? 2 : 1;
    report.rewritesApplied += c.natsPrepared.rewrites.length + (c.mtlsPrepared?.rewrites.length ?? 0);
    return c;
  };
  const csc = track(await startCluster({ name: 'csc', objects: objects[0], workDir: dir, callout, passthrough }));
  const remoteHosts = csc.gateway!.hostMap([CSC_GATEWAY_IP]);
  const cpcs: RunningCluster[] = [];
  for (const o of objects.slice(1)) {
    cpcs.push(track(await startCluster({ name: o.cluster, objects: o, workDir: dir, callout, remoteHosts, passthrough })));
  }
  return { synth, csc, cpcs, all: [csc, ...cpcs] };
}

function user(fleet: Fleet, cluster: string, account: string): TestUser {
  const u = fleet.synth.cluster(cluster).users.get(account);
  if (!u) throw new Error(`no test user for ${account} on ${cluster}`);
  return u;
}

async function client(c: RunningCluster, u: TestUser): Promise<NatsConnection> {
  const nc = await connect({ servers: c.nats.url, authenticator: goNkeyAuthenticator(u.seed), name: `e2e ${u.cluster} ${u.account}`, timeout: 5000, maxReconnectAttempts: 0 });
  clients.push(nc);
  return nc;
}

/** Leafs by account that come from CPC servers (the nats-mtls instance's leafs have its own server name). */
function cpcLeafs(leafs: Leaf[], mtlsName: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of leafs) if (l.name !== mtlsName) out[l.account] = (out[l.account] ?? 0) + 1;
  return out;
}

async function describeLeafs(fleet: Fleet): Promise<string> {
  const lines: string[] = [];
  for (const c of fleet.all) {
    const leafs = await leafz(c.natsPrepared).catch((e) => `(${e.message})`);
    lines.push(`${c.name} /leafz: ${JSON.stringify(leafs)}`);
    lines.push(`${c.name} log tail:\n${redact(c.nats.logs().split('\n').slice(-15).join('\n'))}`);
  }
  return lines.join('\n');
}

/** Waits until the CSC holds every CPC's leaf in every account and every CPC holds its own; returns the number of leafs formed. */
async function expectLeafsFormed(fleet: Fleet): Promise<number> {
  const mtlsName = fleet.csc.mtls ? fleet.csc.mtlsPrepared!.pod.env.NATS_MTLS_SERVER_NAME : undefined;
  const want = Object.fromEntries(LEAF_ACCOUNTS.map((a) => [a, CPC_IDS.length]));
  await waitFor('every CPC leaf at the CSC, per account', LEAF_WAIT_MS, async () => {
    const have = cpcLeafs(await leafz(fleet.csc.natsPrepared), mtlsName);
    return LEAF_ACCOUNTS.every((a) => have[a] === want[a]) ? true : undefined;
  }, () => describeLeafs(fleet));
  for (const cpc of fleet.cpcs) {
    const leafs = await waitFor(`${cpc.name}'s leafs`, LEAF_WAIT_MS, async () => {
      const l = (await leafz(cpc.natsPrepared)).filter((x) => x.name !== cpc.mtlsPrepared?.pod.env.NATS_MTLS_SERVER_NAME);
      return l.length === LEAF_ACCOUNTS.length ? l : undefined;
    }, () => describeLeafs(fleet));
    expect(leafs.map((l) => l.account).sort()).toEqual([...LEAF_ACCOUNTS].sort());
  }
  return CPC_IDS.length * LEAF_ACCOUNTS.length;
}

/** Publishes `subject` from `pub` every 100 ms until `sub` got one message (bounded); counts a crossing. */
async function expectCrossing(what: string, pub: NatsConnection, sub: NatsConnection, subject: string): Promise<void> {
  const s = sub.subscribe(subject, { max: 1 });
  await sub.flush();
  const payload = `${what} ${Date.now()}`;
  const got = (async () => {
    for await (const m of s) return new TextDecoder().decode(m.data);
    return undefined;
  })();
  let done = false;
  void got.then(() => { done = true; });
  const deadline = Date.now() + 10_000;
  while (!done && Date.now() < deadline) {
    pub.publish(subject, new TextEncoder().encode(payload));
    await pub.flush();
    await Promise.race([got, new Promise((r) => setTimeout(r, 100))]);
  }
  if (!done) {
    s.unsubscribe();
    throw new Error(`${what}: no message on ${subject} within 10 s`);
  }
  expect(await got).toBe(payload);
  report.messagesCrossed++;
}

function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout || r.stderr).trim().split('\n')[0];
}

describe('a fleet started from the real chart\'s rendered config', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    if (!runnable) return;
    report.natsServer = version(NATS_SERVER_BIN, ['--version']);
    report.helm = version(HELM_BIN, ['version', '--short']);
    report.chart = YAML.parse(fs.readFileSync(path.join(UPSTREAM_CHART!, 'Chart.yaml'), 'utf8')).version;
    fleet = await startFleet(GatewayTransport.TLS, 'tls');
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    for (const c of started.reverse()) await c.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (runnable) writeProofReport('fleet', { ...report, rewrites: [...NATS_REWRITES, ...CALLOUT_REWRITES, ...STREAM_REWRITES] });
  }, 30_000);

  toolTest('transport tls: each CPC\'s leaf joins accounts CSC and LaunchLayer through the TLS-terminating proxy', missing, async () => {
    const leaf = fleet.csc.gateway!.listeners.get('nats-leafnode')!;
    expect(leaf.terminating).toBeDefined();
    // The proxy serves exactly the SANs of the library's Certificate, and the CPCs dial the address in it.
    expect(leaf.sans).toEqual({ dnsNames: [gatewayHost('csc')], ipAddresses: [CSC_GATEWAY_IP] });
    for (const cpc of fleet.cpcs) {
      expect(cpc.natsPrepared.rewrites.filter((r) => r.rule === NATS_REWRITES[6]).map((r) => r.to))
        .toEqual(LEAF_ACCOUNTS.map(() => `"tls://127.0.0.1:${leaf.address.port}"`));
      // As rendered: each remote starts with the TLS handshake and trusts the fleet CA the library mounts (nats.tlsCA).
      const leafConf = fs.readFileSync(path.join(cpc.natsPrepared.pod.root, 'etc/nats-leafnodes/leafnodes.conf'), 'utf8');
      expect(leafConf.match(/handshake_first: true/g)).toHaveLength(LEAF_ACCOUNTS.length);
      const caFiles = [...leafConf.matchAll(/ca_file: "([^"]+)"/g)].map((m) => m[1]);
      expect(caFiles).toHaveLength(LEAF_ACCOUNTS.length);
      for (const f of caFiles) expect(fs.readFileSync(f, 'utf8')).toBe((await fleetCa(keysDir)).certPem);
    }
    const formed = await expectLeafsFormed(fleet);
    expect(leaf.terminating!.stats().handshakes).toBeGreaterThanOrEqual(formed);
    report.leafsFormed.tls = formed;
  }, 40_000);

  toolTest('messages cross CSC->CPC and CPC->CSC in account CSC and in LaunchLayer', missing, async () => {
    await expectLeafsFormed(fleet);
    const cscLL = await client(fleet.csc, user(fleet, 'csc', EXTRA_ACCOUNT));
    const cscCSC = await client(fleet.csc, user(fleet, 'csc', 'CSC'));
    for (const cpc of fleet.cpcs) {
      const id = cpc.name.replace(/^cpc-/, '');
      const cpcLL = await client(cpc, user(fleet, cpc.name, EXTRA_ACCOUNT));
      const cpcCPC = await client(cpc, user(fleet, cpc.name, 'CPC'));
      // LaunchLayer: the same account on both sides of the leaf.
      await expectCrossing(`LaunchLayer csc->${cpc.name}`, cscLL, cpcLL, `e2e.launchlayer.to.${cpc.name}`);
      await expectCrossing(`LaunchLayer ${cpc.name}->csc`, cpcLL, cscLL, `e2e.launchlayer.from.${cpc.name}`);
      // Account CSC, CSC->CPC: over the CSC-account leaf into the CPC's CSC account, then the chart's csc2cpc.<id>.> import into CPC.
      await expectCrossing(`CSC csc->${cpc.name} (csc2cpc import)`, cscCSC, cpcCPC, `csc2cpc.${id}.e2e`);
      // Account CSC, CPC->CSC: the CPC account's $JS.CSC.API import goes over the CSC-account leaf and the CSC's JetStream answers.
      const reply = await waitFor(`${cpc.name} -> CSC JetStream API`, 10_000, async () => {
        const m = await cpcCPC.request('$JS.CSC.API.INFO', undefined, { timeout: 1000 });
        return JSON.parse(new TextDecoder().decode(m.data));
      });
      expect(reply).toMatchObject({ type: 'io.nats.jetstream.api.v1.account_info_response', domain: 'CSC' });
      report.messagesCrossed += 2; // the request and its reply
    }
  }, 60_000);

  toolTest('a CPC holding a seed the CSC does not know is refused: the callout denies it and its leafs never form', missing, async () => {
    await expectLeafsFormed(fleet);
    // A real CPC of the library, from the same key store, that this CSC was never told about (cpcIds [1, 2]).
    const dir = path.join(work, 'rogue');
    const other = await synthesizeFleet({ workDir: dir, keysDir, cpcIds: ['1', '2', '3'], transport: GatewayTransport.TLS });
    const c3 = other.cluster('cpc-3');
    const cscCallout = callouts.get('csc')!;
    const before = cscCallout.decisions().length;
    const rogue = await startCluster({
      name: 'cpc-3',
      objects: new ClusterObjects('cpc-3', renderCluster(c3, dir), c3.objects),
      workDir: dir,
      remoteHosts: fleet.csc.gateway!.hostMap([CSC_GATEWAY_IP]),
      mtls: false,
    });
    started.push(rogue);
    report.clustersRendered++;
    report.natsServersStarted++;
    // Both of its remotes (CSC, LaunchLayer) are turned away: the CSC's callout denies the unknown keys, the CPC is told so.
    const denials = await waitFor('the CSC callout to deny both leaf remotes of cpc-3', LEAF_WAIT_MS, async () => {
      const d = cscCallout.decisions().slice(before).filter((x) => x.kind === 'Leafnode' && x.error);
      return d.length >= LEAF_ACCOUNTS.length ? d : undefined;
    });
    for (const d of denials) expect(d).toMatchObject({ mode: 'nkey', error: expect.stringMatching(/NKey not found in permissions config/) });
    expect(cscCallout.decisions().slice(before).filter((x) => x.kind === 'Leafnode' && !x.error)).toEqual([]);
    await rogue.nats.waitForLog(/Leafnode Error 'Authorization Violation'[\s\S]*Leafnode Error 'Authorization Violation'/, LEAF_WAIT_MS);
    const mtlsName = fleet.csc.mtlsPrepared?.pod.env.NATS_MTLS_SERVER_NAME;
    expect(cpcLeafs(await leafz(fleet.csc.natsPrepared), mtlsName)).toEqual(Object.fromEntries(LEAF_ACCOUNTS.map((a) => [a, CPC_IDS.length])));
    expect(await leafz(rogue.natsPrepared)).toEqual([]);
    report.refusals.unknownSeedLeafRemotes += LEAF_ACCOUNTS.length;
    report.refusals.calloutDenials += denials.length;
    await rogue.stop();
  }, 40_000);

  toolTest('an MQTT client with the evaluation client certificate publishes through the passthrough proxy; an SNI outside the TLSRoute is reset', missing, async () => {
    await expectLeafsFormed(fleet);
    const listener = fleet.csc.gateway!.listeners.get('mqtt-mtls')!;
    expect(listener.passthrough).toBeDefined();
    const certs = fleet.synth.cluster('csc').certs;
    const dial = (servername: string) => tls.connect({
      host: '127.0.0.1',
      port: listener.address.port,
      servername,
      ca: certs['mqtt-client/ca.crt'],
      cert: certs['mqtt-client/tls.crt'],
      key: certs['mqtt-client/tls.key'],
    });
    const cscCSC = await client(fleet.csc, user(fleet, 'csc', 'CSC'));
    const sub = cscCSC.subscribe('e2e.mqtt.>', { max: 1 });
    await cscCSC.flush();
    const got = (async () => {
      for await (const m of sub) return { subject: m.subject, data: new TextDecoder().decode(m.data) };
      return undefined;
    })();
    const socket = dial(gatewayHost('csc'));
    await new Promise<void>((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject); });
    const mqtt = new MqttClient(socket, 15_000);
    try {
      await mqtt.connect({ clientId: 'e2e-mqtt-client' });
      await mqtt.publish('e2e/mqtt/hello', 'from mqtt', 1);
      report.mqttPublished++;
      expect(await got).toEqual({ subject: 'e2e.mqtt.hello', data: 'from mqtt' });
      report.messagesCrossed++;
    } catch (e) {
      const decisions = JSON.stringify(callouts.get('csc')?.decisions().filter((d) => d.type === 'mqtt'));
      throw new Error(`${(e as Error).message}\ncsc callout decisions (mqtt): ${decisions}\ncsc nats-mtls log tail:\n${redact(fleet.csc.mtls!.logs().split('\n').slice(-25).join('\n'))}`);
    } finally {
      socket.destroy();
    }
    // Wrong SNI: reset before any TLS, so the client sees the connection drop without a handshake.
    const wrong = dial('not-in-the-route.example.com');
    const outcome = await new Promise<string>((resolve) => {
      wrong.once('secureConnect', () => resolve('handshake completed'));
      wrong.once('error', (e) => resolve(`error: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      wrong.once('close', () => resolve('closed'));
    });
    wrong.destroy();
    expect(outcome).toMatch(/ECONNRESET|closed|socket disconnected/);
    report.refusals.wrongSni++;
  }, 40_000);

  toolTest('a NATS client reaches 4222 through the TLS-terminating proxy with TLS-first', missing, async () => {
    const listener = fleet.csc.gateway!.listeners.get('nats-client')!;
    expect(listener.terminating).toBeDefined();
    const u = user(fleet, 'csc', 'CSC');
    const nc = await connect({
      servers: `tls://${listener.address.host}:${listener.address.port}`,
      tls: { handshakeFirst: true, ca: (await fleetCa(keysDir)).certPem },
      authenticator: goNkeyAuthenticator(u.seed),
      timeout: 5000,
      maxReconnectAttempts: 0,
    });
    clients.push(nc);
    const reply = await nc.request('$JS.API.INFO', undefined, { timeout: 5000 });
    expect(JSON.parse(new TextDecoder().decode(reply.data))).toMatchObject({ domain: 'CSC' });
    report.tlsFirstClients++;
  }, 20_000);

  toolTest('fails when the rendered config changes shape or a pod references what nobody produces', missing, async () => {
    const rendered = fleet.csc.objects.all().filter((o) => !fleet.synth.cluster('csc').objects.includes(o));
    const library = fleet.synth.cluster('csc').objects;
    const dir = path.join(work, 'shape');
    // A listener the rewrites do not know: refused, never silently left on its Kubernetes port.
    const moved = rendered.map((o) => (o.kind === 'ConfigMap' && o.metadata.name === 'nats-config'
      ? { ...o, data: { 'nats.conf': o.data['nats.conf'].replace('"port": 4222', '"port": 4333') } } : o));
    await expect(prepareNats(new ClusterObjects('csc', moved, library), 'nats', path.join(dir, 'a'), {}))
      .rejects.toThrow(/rewrite "client listener: .*" matched 0 times, expected 1: the rendered config changed shape/);
    // A Secret the chart's pod needs but the library did not synthesize: the pod could not start, nor can the harness.
    const withoutXkey = library.filter((o) => !(o.kind === 'Secret' && o.metadata.name === 'nats-xkey'));
    await expect(prepareNats(new ClusterObjects('csc', rendered, withoutXkey), 'nats', path.join(dir, 'b'), {}))
      .rejects.toThrow(/env XKEY_PUBKEY needs key pubkey of Secret\/nats-xkey, which neither the chart nor the library produces/);
    // A leaf remote host the harness was not told about.
    const cpc = fleet.cpcs[0];
    const cpcRendered = cpc.objects.all().filter((o) => !fleet.synth.cluster(cpc.name).objects.includes(o));
    await expect(prepareNats(new ClusterObjects(cpc.name, cpcRendered, fleet.synth.cluster(cpc.name).objects), 'nats', path.join(dir, 'c'), {}))
      .rejects.toThrow(/has leaf remote "tls:\/\/127\.0\.0\.1:7422", which the harness does not map/);
  }, 20_000);

  // Issue 17: each cluster's CA issuer signs with its own intermediate, name-constrained to that cluster's names.
  describe('name constraints: a CPC\'s intermediate cannot speak for the CSC', () => {
    /** The CSC gateway's certificate request, signed with `cluster`'s CA Secret as a rogue holder of that cluster could. */
    const forgeCscCertificate = async (cluster: string, usage: 'server' | 'client'): Promise<IssuedCertificate> => {
      const holder = fleet.all.find((c) => c.name === cluster)!;
      const caSecret = holder.objects.data('Secret', 'event-bus-certificate-issuer-ca', 'the name-constraint test');
      const cscRequest = fleet.csc.objects.all().find((o) => o.kind === 'Certificate' && o.spec.dnsNames?.includes(gatewayHost('csc')) && !o.spec.dnsNames.includes('nats-mtls'));
      expect(cscRequest.spec).toMatchObject({ dnsNames: [gatewayHost('csc')], ipAddresses: [CSC_GATEWAY_IP] });
      // What the rogue holds: its own intermediate (tls.crt) and the fleet root (ca.crt), never the root's key.
      expect(caSecret['ca.crt']).toBe((await fleetCa(keysDir)).certPem);
      expect(caSecret['tls.crt']).not.toBe(caSecret['ca.crt']);
      return issueFromCaSecret(caSecret, { ...cscRequest.spec, commonName: usage === 'client' ? 'mqtt-client.csc' : cscRequest.spec.commonName }, usage);
    };

    toolTest('another CPC\'s leaf TLS refuses a CSC-named certificate from cpc-1\'s intermediate (nats-server checks the name constraints)', missing, async () => {
      await expectLeafsFormed(fleet);
      const forged = await forgeCscCertificate('cpc-1', 'server');
      // A man in the middle: the forged certificate in front of the real CSC leafnode port. Were it trusted, cpc-2's leafs would form through it.
      const mitm = await startTlsTerminatingProxy({ cert: forged['tls.crt'], key: forged['tls.key'], backend: { host: '127.0.0.1', port: fleet.csc.natsPrepared.ports.leafnode } });
      const dir = path.join(work, 'forged-csc');
      const c2 = fleet.synth.cluster('cpc-2');
      const victim = await startCluster({
        name: 'cpc-2',
        objects: new ClusterObjects('cpc-2', renderCluster(c2, dir), c2.objects),
        workDir: dir,
        remoteHosts: { [`${CSC_GATEWAY_IP}:7422`]: `127.0.0.1:${mitm.port}` },
        mtls: false,
      });
      started.push(victim);
      report.clustersRendered++;
      report.natsServersStarted++;
      try {
        const refusal = await victim.nats.waitForLog(/x509: a root or intermediate certificate is not authorized to sign for this name: [^\n]*/, LEAF_WAIT_MS);
        expect(refusal[0]).toMatch(/csc\.event-bus\.example\.com|127\.0\.0\.1/);
        expect(mitm.stats().forwarded).toBe(0);
        expect(await leafz(victim.natsPrepared)).toEqual([]);
        report.refusals.nameConstraints++;
      } finally {
        await victim.stop();
        await mitm.stop();
      }
      // The same request signed with the CSC's own intermediate is what the real gateway serves, and every CPC trusts it (the fleet formed).
      expect(fleet.csc.gateway!.listeners.get('nats-leafnode')!.terminating!.stats().handshakes).toBeGreaterThanOrEqual(CPC_IDS.length * LEAF_ACCOUNTS.length);
    }, 40_000);

    toolTest('the CSC\'s mTLS listener refuses a client certificate naming the CSC from cpc-1\'s intermediate', missing, async () => {
      await expectLeafsFormed(fleet);
      const forged = await forgeCscCertificate('cpc-1', 'client');
      const listener = fleet.csc.gateway!.listeners.get('mqtt-mtls')!;
      const socket = tls.connect({
        host: '127.0.0.1',
        port: listener.address.port,
        servername: gatewayHost('csc'),
        ca: (await fleetCa(keysDir)).certPem,
        cert: forged['tls.crt'],
        key: forged['tls.key'],
      });
      socket.on('error', () => undefined);
      try {
        const logged = fleet.csc.mtls!.waitForLog(/x509: a root or intermediate certificate is not authorized to sign for this name: [^\n]*/, 15_000);
        // With TLS 1.3 the client may finish first: the server's refusal then arrives as an alert on the first read.
        const mqtt = new MqttClient(socket, 10_000);
        await expect(mqtt.connect({ clientId: 'e2e-forged-client' })).rejects.toThrow();
        expect((await logged)[0]).toMatch(/csc\.event-bus\.example\.com|127\.0\.0\.1/);
        report.refusals.nameConstraints++;
      } finally {
        socket.destroy();
      }
    }, 30_000);
  });

  toolTest('transport tcp: each CPC\'s leaf joins accounts CSC and LaunchLayer directly', missing, async () => {
    const tcp = await startFleet(GatewayTransport.TCP, 'tcp');
    try {
      const leaf = tcp.csc.gateway!.listeners.get('nats-leafnode')!;
      expect([leaf.protocol, leaf.terminating]).toEqual(['TCP', undefined]);
      for (const cpc of tcp.cpcs) {
        expect(cpc.natsPrepared.rewrites.filter((r) => r.rule === NATS_REWRITES[6]).map((r) => r.to))
          .toEqual(LEAF_ACCOUNTS.map(() => `"nats://127.0.0.1:${tcp.csc.natsPrepared.ports.leafnode}"`));
      }
      report.leafsFormed.tcp = await expectLeafsFormed(tcp);
    } finally {
      for (const c of tcp.all.reverse()) await c.stop();
    }
  }, 60_000);
});

/**
 * `npm run demo`'s output is a fleet that works as rendered (issue 10, "Done
 * when"). examples/fleet.yaml is synthesized exactly as the demo does (the
 * CLI's `synth -c examples/fleet.yaml --generate-missing`, into a temp key
 * store and a temp output instead of .demo-secrets/ and dist/), each cluster
 * is rendered by the real chart from the written values.event-bus.yaml (plus
 * the documented deployer values, and test users added the way a deployer
 * adds users: `global.eventBus.auth.permissions.nkey`), and run by the
 * harness of fleet.ts from the written manifests.
 *
 * Unlike fleet.test.ts, nothing is adapted to loopback in the library's
 * input: the CPC leaf remotes say `tls://csc.event-bus.example.com:7422` and
 * the CSC gateway's certificate names only that DNS name. DNS is played by
 * the DNS stand-in (NATS_REWRITES[8]): the name resolves to 127.0.0.1 for the
 * CPC's nats-server only, the port moves to the terminating proxy's, and TLS
 * verifies the proxy's certificate against the name, with the fleet CA from
 * the ConfigMap nats-csc-gateway-ca the demo wrote.
 *
 * Counts go to test-reports/proof-demo.json (printed by .ci/summary.js).
 */
import * as fs from 'fs';
import * as path from 'path';
import { connect, NatsConnection } from 'nats';
import * as nkeys from 'nkeys.js';
import * as YAML from 'yaml';
import { issuedSecrets } from './cert-manager-standin';
import {
  CalloutStarter, ClusterObjects, EXTRA_ACCOUNT, leafz, NATS_REWRITES, prepareNats, renderCluster, RunningCluster, startCluster, startPreparedNats,
  tempDir, waitFor,
} from './fleet';
import { useNativeEd25519 } from './native-ed25519';
import { AuthCalloutResponder, authCalloutInputsFromPod, goNkeyAuthenticator } from './standins';
import { main } from '../../src/cli/run';
import { writeProofReport } from '../proof/scenarios';
import { NATS_SERVER_BIN, natsServerAvailable, unshareMissing } from '../util/nats-server';
import { chartMissing, helmMissing, toolTest } from '../util/tools';

useNativeEd25519();
// As in fleet.test.ts: in-cluster clients of the nats Service speak plaintext (nats.go ignores tls_available; nats.js needs `tls: null`).
jest.mock('nats', () => {
  const actual = jest.requireActual('nats');
  return { ...actual, connect: (opts: any = {}) => actual.connect(opts.tls === undefined ? { ...opts, tls: null } : opts) };
});

const REPO = path.resolve(__dirname, '..', '..');
const missing = [helmMissing(), chartMissing(), natsServerAvailable() ? undefined : `nats-server not found at ${NATS_SERVER_BIN}`, unshareMissing()];
const runnable = missing.every((m) => m === undefined);
const SEED = /S[UAXONCP][A-Z2-7]{56}/;
/** What the demo's fleet file names: the CSC gateway's DNS name and the leaf listener's port. */
const CSC_HOST = 'csc.event-bus.example.com';
const LEAF_PORT = 7422;
const LEAF_ACCOUNTS = ['CSC', EXTRA_ACCOUNT];
const CPCS = ['cpc-1', 'cpc-2'];
const LEAF_WAIT_MS = 20_000;

const report = {
  clustersRendered: 0,
  natsServersStarted: 0,
  dnsStandInRewrites: 0,
  leafsFormed: 0,
  proxyHandshakes: 0,
  messagesCrossed: 0,
  refusedByAddress: 0,
  seedShapedPrinted: 0,
};

interface User { readonly account: string; readonly publicKey: string; readonly seed: Uint8Array }
/** Test users per cluster, in the accounts a deployer would place them (CSC on the CSC, CPC on a CPC, and LaunchLayer). */
const users = new Map<string, Map<string, User>>();
function usersOf(cluster: string): Map<string, User> {
  if (!users.has(cluster)) {
    const accounts = cluster === 'csc' ? ['CSC', EXTRA_ACCOUNT] : ['CPC', EXTRA_ACCOUNT];
    users.set(cluster, new Map(accounts.map((account) => {
      const kp = nkeys.createUser();
      return [account, { account, publicKey: kp.getPublicKey(), seed: kp.getSeed() }];
    })));
  }
  return users.get(cluster)!;
}
/** The deployer's users (the chart merges them with its own permission entries). */
function userValues(cluster: string): object {
  const nkey = Object.fromEntries([...usersOf(cluster).values()].map((u) => [`e2e-${u.account.toLowerCase()}`, { public_key: u.publicKey, account: u.account }]));
  return { global: { eventBus: { auth: { permissions: { nkey } } } } };
}

const callout: CalloutStarter = async ({ pod, loopback }) => {
  const inputs = authCalloutInputsFromPod({ root: pod.root, env: pod.env, container: pod.container });
  const responder = new AuthCalloutResponder({ ...inputs, servers: loopback(inputs.natsUrl) });
  await responder.start();
  return responder;
};

const work = runnable ? tempDir('e2e-demo-') : '';
const started: RunningCluster[] = [];
const clients: NatsConnection[] = [];
let cliOutput = '';
/** Logs of nats-servers started outside `started`. */
const otherLogs: Array<() => string> = [];

/** The demo's written output of one cluster: its manifests (one object per file) and its values file. */
function readDemoCluster(dir: string): { library: any[]; valuesYaml: string } {
  const manifests = path.join(dir, 'manifests');
  const library = fs.readdirSync(manifests).sort().flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(manifests, f), 'utf8')).map((d) => d.toJSON()).filter((o) => o && o.kind));
  return { library, valuesYaml: fs.readFileSync(path.join(dir, 'values.event-bus.yaml'), 'utf8') };
}

async function client(c: RunningCluster, cluster: string, account: string): Promise<NatsConnection> {
  const u = usersOf(cluster).get(account)!;
  const nc = await connect({ servers: c.nats.url, authenticator: goNkeyAuthenticator(u.seed), name: `e2e ${cluster} ${account}`, timeout: 5000, maxReconnectAttempts: 0 });
  clients.push(nc);
  return nc;
}

/** Publishes every 100 ms until `sub` got the message (bounded); counts a crossing. */
async function expectCrossing(what: string, pub: NatsConnection, sub: NatsConnection, subject: string): Promise<void> {
  const s = sub.subscribe(subject, { max: 1 });
  await sub.flush();
  const payload = `${what} ${Date.now()}`;
  let got: string | undefined;
  void (async () => {
    for await (const m of s) got = new TextDecoder().decode(m.data);
  })();
  await waitFor(what, 10_000, async () => {
    pub.publish(subject, new TextEncoder().encode(payload));
    await pub.flush();
    return got;
  });
  expect(got).toBe(payload);
  report.messagesCrossed++;
}

describe('npm run demo: examples/fleet.yaml as the CLI writes it runs as rendered', () => {
  let csc: RunningCluster;
  let cpcs: RunningCluster[];
  let out: string;
  let caPem: string;

  beforeAll(async () => {
    if (!runnable) return;
    // Exactly the demo's command (projen task `demo`), with a temp key store and output.
    out = path.join(work, 'dist');
    const secrets = path.join(work, 'secrets');
    const code = await main(['synth', '-c', path.join(REPO, 'examples', 'fleet.yaml'), '--secrets', secrets, '--generate-missing', '-o', out],
      { out: (t) => { cliOutput += t; }, err: (t) => { cliOutput += t; } });
    if (code !== 0) throw new Error(`synth of examples/fleet.yaml failed (${code}):\n${cliOutput.replace(SEED, '(seed)')}`);
    caPem = fs.readFileSync(path.join(secrets, 'ca', 'ca.crt'), 'utf8');

    const objectsOf = async (name: string) => {
      const { library, valuesYaml } = readDemoCluster(path.join(out, name));
      const rendered = renderCluster({ name, valuesYaml }, path.join(work, 'render'), userValues(name));
      report.clustersRendered++;
      // cert-manager's part: the Secrets of the library's Certificates (nats-mtls-server-tls, the gateway's).
      const secretsOfCertificates = await issuedSecrets(new ClusterObjects(name, rendered, library));
      return new ClusterObjects(name, rendered, [...library, ...secretsOfCertificates]);
    };
    const track = (c: RunningCluster) => {
      started.push(c);
      report.natsServersStarted += c.mtls ? 2 : 1;
      return c;
    };
    csc = track(await startCluster({ name: 'csc', objects: await objectsOf('csc'), workDir: path.join(work, 'run'), callout }));
    const leaf = csc.gateway!.listeners.get('nats-leafnode')!;
    cpcs = [];
    for (const name of CPCS) {
      cpcs.push(track(await startCluster({
        name,
        objects: await objectsOf(name),
        workDir: path.join(work, 'run'),
        callout,
        dns: { host: CSC_HOST, port: LEAF_PORT, loopbackPort: leaf.address.port, expected: LEAF_ACCOUNTS.length },
      })));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    for (const c of started.reverse()) await c.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (runnable) writeProofReport('demo', report);
  }, 30_000);

  toolTest('each CPC\'s leaf joins CSC and LaunchLayer at tls://csc.event-bus.example.com:7422 through the terminating proxy, trusting the demo\'s fleet CA', missing, async () => {
    const leaf = csc.gateway!.listeners.get('nats-leafnode')!;
    expect(leaf.terminating).toBeDefined();
    // The proxy serves exactly the demo Certificate's SANs: the DNS name, no address.
    expect(leaf.sans).toEqual({ dnsNames: [CSC_HOST], ipAddresses: [] });
    for (const cpc of cpcs) {
      // The trust the demo wrote: ConfigMap nats-csc-gateway-ca holds the fleet CA, and the remotes' ca_file is that file.
      const configMap = YAML.parse(fs.readFileSync(path.join(out, cpc.name, 'manifests', 'ConfigMap.dsx.nats-csc-gateway-ca.k8s.yaml'), 'utf8'));
      expect(configMap.data['ca.crt']).toBe(caPem);
      // Nothing else of the rendered remotes changed: the DNS stand-in's port and the mount paths (NATS_REWRITES[5]) only.
      const root = cpc.natsPrepared.pod.root;
      const rendered: string = cpc.objects.data('ConfigMap', 'nats-leafnodes-config', 'the test')['leafnodes.conf'];
      expect(rendered.match(new RegExp(`"tls://${CSC_HOST.replace(/\./g, '\\.')}:${LEAF_PORT}"`, 'g'))).toHaveLength(LEAF_ACCOUNTS.length);
      const written = fs.readFileSync(path.join(root, 'etc/nats-leafnodes/leafnodes.conf'), 'utf8');
      expect(written).toBe(rendered.split(`"tls://${CSC_HOST}:${LEAF_PORT}"`).join(`"tls://${CSC_HOST}:${leaf.address.port}"`).split('"/etc/').join(`"${root}/etc/`));
      expect(written.match(/handshake_first: true/g)).toHaveLength(LEAF_ACCOUNTS.length);
      const caFiles = [...written.matchAll(/ca_file: "([^"]+)"/g)].map((m) => m[1]);
      expect(caFiles).toHaveLength(LEAF_ACCOUNTS.length);
      for (const f of caFiles) expect(fs.readFileSync(f, 'utf8')).toBe(caPem);
      const dns = cpc.natsPrepared.rewrites.filter((r) => r.rule === NATS_REWRITES[8]);
      expect(dns.map((r) => [r.from, r.to])).toEqual(LEAF_ACCOUNTS.map(() => [`"tls://${CSC_HOST}:${LEAF_PORT}"`, `"tls://${CSC_HOST}:${leaf.address.port}"`]));
      expect(cpc.natsPrepared.rewrites.filter((r) => r.rule === NATS_REWRITES[6])).toEqual([]);
      report.dnsStandInRewrites += dns.length;
    }
    // 4 leafs at the CSC (2 CPCs x CSC + LaunchLayer), besides its own nats-mtls instance's.
    const mtlsName = csc.mtlsPrepared?.pod.env.NATS_MTLS_SERVER_NAME;
    const byAccount = await waitFor('every CPC leaf at the CSC, per account', LEAF_WAIT_MS, async () => {
      const have: Record<string, number> = {};
      for (const l of await leafz(csc.natsPrepared)) if (l.name !== mtlsName) have[l.account] = (have[l.account] ?? 0) + 1;
      return LEAF_ACCOUNTS.every((a) => have[a] === CPCS.length) ? have : undefined;
    }, async () => cpcs.map((c) => `${c.name} log tail:\n${c.nats.logs().split('\n').slice(-10).join('\n').replace(new RegExp(SEED.source, 'g'), '(seed)')}`).join('\n'));
    expect(byAccount).toEqual(Object.fromEntries(LEAF_ACCOUNTS.map((a) => [a, CPCS.length])));
    for (const cpc of cpcs) {
      const own = (await leafz(cpc.natsPrepared)).filter((l) => l.name !== cpc.mtlsPrepared?.pod.env.NATS_MTLS_SERVER_NAME);
      expect(own.map((l) => l.account).sort()).toEqual([...LEAF_ACCOUNTS].sort());
    }
    report.leafsFormed = CPCS.length * LEAF_ACCOUNTS.length;
    report.proxyHandshakes = leaf.terminating!.stats().handshakes;
    expect(report.proxyHandshakes).toBeGreaterThanOrEqual(report.leafsFormed);
  }, 40_000);

  toolTest('messages cross CSC->CPC and CPC->CSC over the demo\'s leafs', missing, async () => {
    const cscLL = await client(csc, 'csc', EXTRA_ACCOUNT);
    const cscCSC = await client(csc, 'csc', 'CSC');
    for (const cpc of cpcs) {
      const id = cpc.name.replace(/^cpc-/, '');
      const cpcLL = await client(cpc, cpc.name, EXTRA_ACCOUNT);
      const cpcCPC = await client(cpc, cpc.name, 'CPC');
      await expectCrossing(`LaunchLayer csc->${cpc.name}`, cscLL, cpcLL, `demo.launchlayer.to.${cpc.name}`);
      await expectCrossing(`LaunchLayer ${cpc.name}->csc`, cpcLL, cscLL, `demo.launchlayer.from.${cpc.name}`);
      // Account CSC -> the CPC account, through the chart's csc2cpc.<id>.> import.
      await expectCrossing(`CSC csc->${cpc.name}`, cscCSC, cpcCPC, `csc2cpc.${id}.demo`);
      // CPC -> CSC: the CPC account's $JS.CSC.API import reaches the CSC's JetStream, which answers.
      const reply = await waitFor(`${cpc.name} -> CSC JetStream API`, 10_000, async () => {
        const m = await cpcCPC.request('$JS.CSC.API.INFO', undefined, { timeout: 1000 });
        return JSON.parse(new TextDecoder().decode(m.data));
      });
      expect(reply).toMatchObject({ type: 'io.nats.jetstream.api.v1.account_info_response', domain: 'CSC' });
      report.messagesCrossed += 2;
    }
  }, 60_000);

  toolTest('fails when a CPC dials the gateway by address: its certificate names only csc.event-bus.example.com, and the remote verifies it', missing, async () => {
    // The negative control of the DNS stand-in: the same rendered cpc-1, its remotes mapped to 127.0.0.1 (NATS_REWRITES[6]) instead.
    const leaf = csc.gateway!.listeners.get('nats-leafnode')!;
    const before = leaf.terminating!.stats().handshakes;
    const prepared = await prepareNats(cpcs[0].objects, 'nats', path.join(work, 'by-address', 'nats'), { [`${CSC_HOST}:${LEAF_PORT}`]: `127.0.0.1:${leaf.address.port}` });
    const byAddress = await startPreparedNats(prepared);
    otherLogs.push(() => byAddress.logs());
    report.natsServersStarted++;
    try {
      // Both remotes (CSC, LaunchLayer) refuse the certificate.
      await byAddress.waitForLog(/(x509: cannot validate certificate for 127\.0\.0\.1 because it doesn't contain any IP SANs[\s\S]*){2}/, LEAF_WAIT_MS);
      expect(await leafz(prepared)).toEqual([]);
      expect(leaf.terminating!.stats().handshakes).toBe(before);
      report.refusedByAddress += LEAF_ACCOUNTS.length;
    } finally {
      await byAddress.stop();
    }
  }, 30_000);

  toolTest('fails when the DNS stand-in would rewrite a different number of remote URLs than expected', missing, async () => {
    const dns = { host: CSC_HOST, port: LEAF_PORT, loopbackPort: 1, expected: LEAF_ACCOUNTS.length + 1 };
    await expect(prepareNats(cpcs[0].objects, 'nats', path.join(work, 'shape', 'a'), {}, dns))
      .rejects.toThrow(/rewrite "DNS stand-in: .*" matched 2 times, expected 3: the rendered config changed shape/);
    // A remote naming another host is not the stand-in's: it must be mapped like any other (NATS_REWRITES[6]), or it fails.
    await expect(prepareNats(cpcs[0].objects, 'nats', path.join(work, 'shape', 'b'), {}, { ...dns, host: 'other.example.com', expected: 0 }))
      .rejects.toThrow(/has leaf remote "tls:\/\/csc\.event-bus\.example\.com:7422", which the harness does not map/);
  }, 10_000);

  toolTest('nothing seed-shaped is printed by the demo\'s synth or any nats-server of the fleet', missing, async () => {
    expect(cliOutput).toMatch(/Synthesized 3 clusters/);
    const printed = [cliOutput, ...started.flatMap((c) => [c.nats.logs(), c.mtls?.logs() ?? '']), ...otherLogs.map((l) => l())];
    const found = printed.filter((t) => SEED.test(t)).length;
    report.seedShapedPrinted = found;
    expect(found).toBe(0);
  }, 10_000);
});

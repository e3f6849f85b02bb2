/**
 * Day 2 on the running fleet (issue 20): a leaf rotation of CPC 1 walked
 * through every stage while a JetStream publisher on each side sends
 * continuously, the wrong order refused as predicted, a revoked CPC refused
 * at the CSC's next deploy while CPC 1 keeps working, and an
 * intra-cluster rotation (the mTLS leaf user) in both orders.
 *
 * The fleet is the harness of fleet.ts (library output rendered by the real
 * chart with `helm template`, real nats-server processes, the stand-ins). A
 * "deploy" of a cluster re-synthesizes the fleet from the key store, renders
 * the cluster again and restarts exactly the workloads a rollout restarts:
 * those whose pod (resolved env, mounted files) differs from the running
 * one, each on its own ports and its own data folder (the Service and the
 * PVC stay). Clusters are deployed in the order `RotationStatus.deployOrder`
 * (what `rotate --status` prints) gives.
 *
 * Counts and the measured leaf downtime per stage go to
 * test-reports/proof-rotation.json and are printed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { connect, JetStreamClient, NatsConnection, StorageType } from 'nats';
import {
  CalloutStarter, ClusterObjects, CSC_GATEWAY_IP, EXTRA_ACCOUNT, leafz, materializePod, PassthroughStarter, PreparedNats,
  redact, renderCluster, RunningCluster, startCluster, startPreparedNats, SynthesizedFleet, synthesizeFleet, tempDir, TestUser, waitFor,
} from './fleet';
import { useNativeEd25519 } from './native-ed25519';
import { calloutDeployment, podFingerprint, prepareAgain } from './rollout';
import { AuthCalloutResponder, authCalloutInputsFromPod, goNkeyAuthenticator, startSniPassthroughProxy } from './standins';
import { DirectoryKeyStore, GatewayTransport, RotatableClusterKey, RotationTarget } from '../../src';
import { writeProofReport } from '../proof/scenarios';
import { NATS_SERVER_BIN, natsServerAvailable, RunningNatsServer } from '../util/nats-server';
import { chartMissing, helmMissing, toolTest } from '../util/tools';

useNativeEd25519();
// As in fleet.test.ts: in-cluster nats.js clients speak plaintext, as nats.go does (`tls: null` unless set).
jest.mock('nats', () => {
  const actual = jest.requireActual('nats');
  return { ...actual, connect: (opts: any = {}) => actual.connect(opts.tls === undefined ? { ...opts, tls: null } : opts) };
});

const missing = [helmMissing(), chartMissing(), natsServerAvailable() ? undefined : `nats-server not found at ${NATS_SERVER_BIN}`];
const runnable = missing.every((m) => m === undefined);
const LEAF_ACCOUNTS = ['CSC', EXTRA_ACCOUNT];
const WAIT_MS = 20_000;

const report = {
  stages: [] as Array<{ stage: string; deployed: string[]; restarted: string[]; leafDowntimeMs: number }>,
  publishers: {} as Record<string, { sent: number; acked: number; stored: number; retries: number }>,
  refusals: { wrongOrderLeaf: 0, revokedLeaf: 0, wrongOrderMtlsLeaf: 0 },
};

/** One running cluster whose workloads a deploy may restart (ports and data folders kept). */
interface Live {
  readonly name: string;
  /** The output each workload runs (a partial rollout leaves some on the old one). */
  readonly applied: Record<'nats' | 'auth-callout' | 'nats-mtls', ClusterObjects>;
  nats: RunningNatsServer;
  natsPrepared: PreparedNats;
  mtls?: RunningNatsServer;
  mtlsPrepared?: PreparedNats;
  callout: AuthCalloutResponder;
  readonly base: RunningCluster;
  readonly remoteHosts: Record<string, string>;
}

const work = runnable ? tempDir('e2e-rotation-') : '';
const keysDir = path.join(work, 'keys');
const live = new Map<string, Live>();
const clients: NatsConnection[] = [];
const callouts = new Map<string, AuthCalloutResponder>();
/** Every callout started (restarts included), for their decisions. */
const responders: AuthCalloutResponder[] = [];
let deploys = 0;

const callout: CalloutStarter = async ({ cluster, pod, loopback }) => {
  const inputs = authCalloutInputsFromPod({ root: pod.root, env: pod.env, container: pod.container });
  const responder = new AuthCalloutResponder({ ...inputs, servers: loopback(inputs.natsUrl) });
  await responder.start();
  callouts.set(cluster, responder);
  responders.push(responder);
  return responder;
};
const passthrough: PassthroughStarter = async (routes) => startSniPassthroughProxy({ routes });

async function synth(cpcIds: string[]): Promise<SynthesizedFleet> {
  return synthesizeFleet({ workDir: path.join(work, `synth-${deploys++}`), keysDir, cpcIds, transport: GatewayTransport.TLS });
}

/**
 * The deployer's values beside the library's: JetStream in the CSC's
 * LaunchLayer account, so that the CPC side's publisher is acknowledged by
 * the CSC across the leaf (the chart runs JetStream in memory only, so a
 * stream on a CPC would not outlive that CPC's restart).
 */
const CSC_DEPLOYER_VALUES = { global: { eventBus: { extraAccounts: { [EXTRA_ACCOUNT]: { jetstream: true } } } } };

function render(fleet: SynthesizedFleet, name: string): ClusterObjects {
  const c = fleet.cluster(name);
  return new ClusterObjects(name, renderCluster(c, path.join(work, `render-${deploys++}`), name === 'csc' ? CSC_DEPLOYER_VALUES : undefined), c.objects);
}

/**
 * Deploys the output of `cluster` from `fleet`: restarts the auth-callout,
 * nats and nats-mtls whose pod changed (`only` limits which may restart, to
 * play a rollout that has reached only some pods). Returns what restarted.
 */
async function deploy(fleet: SynthesizedFleet, cluster: string, only?: string[]): Promise<string[]> {
  const l = live.get(cluster)!;
  const next = render(fleet, cluster);
  const restarted: string[] = [];
  const may = (w: string) => !only || only.includes(w);
  const changed = (w: keyof Live['applied'], kind: string, name: string, container: string) => {
    if (podFingerprint(l.applied[w], kind, name, container, work) === podFingerprint(next, kind, name, container, work)) return false;
    l.applied[w] = next;
    return true;
  };
  if (may('nats') && changed('nats', 'StatefulSet', 'nats', 'nats')) {
    await l.nats.stop();
    l.natsPrepared = await prepareAgain(next, l.natsPrepared, l.remoteHosts);
    l.nats = await startPreparedNats(l.natsPrepared);
    restarted.push(`${cluster}/nats`);
  }
  if (may('auth-callout') && changed('auth-callout', 'Deployment', calloutDeployment(next), 'auth-callout')) {
    await l.callout.stop();
    const pod = materializePod(next, 'Deployment', calloutDeployment(next), 'auth-callout', path.join(work, `callout-${deploys++}`));
    l.callout = (await callout({ cluster, pod, loopback: () => l.nats.url })) as AuthCalloutResponder;
    restarted.push(`${cluster}/auth-callout`);
  }
  if (l.mtls && may('nats-mtls') && changed('nats-mtls', 'StatefulSet', 'nats-mtls', 'nats')) {
    await l.mtls.stop();
    l.mtlsPrepared = await prepareAgain(next, l.mtlsPrepared!, { 'nats:7422': `127.0.0.1:${l.natsPrepared.ports.leafnode}` });
    l.mtls = await startPreparedNats(l.mtlsPrepared);
    restarted.push(`${cluster}/nats-mtls`);
  }
  return restarted;
}

/** The CPC leafs each server holds, by account (without the nats-mtls leafs). */
async function cpcLeafCount(server: Live): Promise<Record<string, number>> {
  const mtlsName = server.mtlsPrepared?.pod.env.NATS_MTLS_SERVER_NAME;
  const out: Record<string, number> = {};
  for (const leaf of await leafz(server.natsPrepared)) {
    if (leaf.name === mtlsName) continue;
    out[leaf.account] = (out[leaf.account] ?? 0) + 1;
  }
  return out;
}

async function describe_(): Promise<string> {
  const lines: string[] = [];
  for (const l of live.values()) {
    lines.push(`${l.name} /leafz: ${JSON.stringify(await leafz(l.natsPrepared).catch((e) => e.message))}`);
    lines.push(`${l.name} log tail:\n${redact(l.nats.logs().split('\n').slice(-8).join('\n'))}`);
  }
  return lines.join('\n');
}

/** Whether `cpc` holds its leaf in every account. */
async function cpcConnected(cpc: Live): Promise<boolean> {
  try {
    const have = await cpcLeafCount(cpc);
    return LEAF_ACCOUNTS.every((a) => have[a] === 1);
  } catch {
    return false; // not running
  }
}

/** Waits until the CSC holds every running CPC's leaf in every account and each CPC holds its own. */
async function expectAllLeafs(cpcs: string[]): Promise<void> {
  await waitFor(`every leaf of ${cpcs.join(', ')} in ${LEAF_ACCOUNTS.join(', ')}`, WAIT_MS, async () => {
    const csc = await cpcLeafCount(live.get('csc')!);
    if (!LEAF_ACCOUNTS.every((a) => csc[a] === cpcs.length)) return undefined;
    for (const c of cpcs) if (!(await cpcConnected(live.get(c)!))) return undefined;
    return true;
  }, describe_);
}

/** Measures how long CPC 1's leaf is down while `step` runs and until it is up again in every account. */
async function measureDowntime(cpc: string, step: () => Promise<void>): Promise<number> {
  let down = 0;
  let stop = false;
  const sampler = (async () => {
    let last = Date.now();
    while (!stop) {
      const up = await cpcConnected(live.get(cpc)!);
      const now = Date.now();
      if (!up) down += now - last;
      last = now;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    await step();
    await expectAllLeafs(cpc === 'cpc-1' && live.has('cpc-2') ? ['cpc-1', 'cpc-2'] : [cpc]);
  } finally {
    stop = true;
    await sampler;
  }
  return down;
}

async function userClient(cluster: string, u: TestUser, reconnect = false): Promise<NatsConnection> {
  const l = live.get(cluster)!;
  const nc = await connect({
    servers: `nats://127.0.0.1:${l.natsPrepared.ports.port}`,
    authenticator: goNkeyAuthenticator(u.seed),
    name: `rotation ${cluster} ${u.account}`,
    timeout: 5000,
    ...(reconnect ? { maxReconnectAttempts: -1, reconnectTimeWait: 50 } : { maxReconnectAttempts: 0 }),
  });
  clients.push(nc);
  return nc;
}

/** Publishes with JetStream acks continuously; every message is retried (same msgID) until acknowledged. */
class Publisher {
  public sent = 0;
  public acked = 0;
  public retries = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly js: JetStreamClient, private readonly subject: string) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const seq = ++this.sent;
      while (this.running || this.acked < seq) {
        if (!this.running && this.retries > 1000) return; // the fleet is gone (a failed test): stop retrying
        try {
          await this.js.publish(`${this.subject}.${seq}`, new TextEncoder().encode(String(seq)), { msgID: `${this.subject}-${seq}`, timeout: 1000 });
          this.acked++;
          break;
        } catch {
          this.retries++;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

describe('day 2 on the running fleet', () => {
  let publishers: Record<string, Publisher> = {};
  let store: DirectoryKeyStore;

  beforeAll(async () => {
    if (!runnable) return;
    const fleet = await synth(['1', '2']);
    const objects = fleet.clusters.map((c) => render(fleet, c.name));
    const csc = await startCluster({ name: 'csc', objects: objects[0], workDir: work, callout, passthrough });
    const add = (base: RunningCluster, remoteHosts: Record<string, string>) => live.set(base.name, {
      name: base.name,
      applied: { 'nats': base.objects, 'auth-callout': base.objects, 'nats-mtls': base.objects },
      nats: base.nats,
      natsPrepared: base.natsPrepared,
      mtls: base.mtls,
      mtlsPrepared: base.mtlsPrepared,
      callout: callouts.get(base.name)!,
      base,
      remoteHosts,
    });
    add(csc, {});
    const remoteHosts = csc.gateway!.hostMap([CSC_GATEWAY_IP]);
    for (const o of objects.slice(1)) {
      add(await startCluster({ name: o.cluster, objects: o, workDir: work, callout, remoteHosts, passthrough }), remoteHosts);
    }
    store = DirectoryKeyStore.open(keysDir);
    await expectAllLeafs(['cpc-1', 'cpc-2']);
  }, 90_000);

  afterAll(async () => {
    // Each step bounded: a stop that hangs is reported by name instead of timing out the hook.
    const hung: string[] = [];
    const bounded = async (what: string, p: Promise<unknown>) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => { timer = setTimeout(() => { hung.push(what); r(); }, 8000); });
      await Promise.race([p.catch(() => undefined), late]);
      clearTimeout(timer);
    };
    for (const [name, p] of Object.entries(publishers)) await bounded(`publisher ${name}`, p.stop());
    await bounded('clients', Promise.all(clients.map((c) => c.close().catch(() => undefined))));
    for (const l of [...live.values()].reverse()) {
      await bounded(`${l.name} callout`, l.callout.stop());
      if (l.mtls) await bounded(`${l.name} nats-mtls`, l.mtls.stop());
      await bounded(`${l.name} nats`, l.nats.stop());
      await bounded(`${l.name} rest`, l.base.stop());
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (runnable) writeProofReport('rotation', report);
    expect(hung).toEqual([]);
  }, 60_000);

  toolTest('a leaf rotation of CPC 1 walks overlap -> switched -> done in the printed order; every leaf comes back, no acknowledged message is lost', missing, async () => {
    // A JetStream publisher on each side: on the CSC into a stream of account CSC; on CPC 1 in account
    // LaunchLayer into a stream of the CSC's LaunchLayer, every ack crossing CPC 1's leaf.
    const fleet = await synth(['1', '2']);
    const cscNc = await userClient('csc', fleet.cluster('csc').users.get('CSC')!, true);
    const cscLL = await userClient('csc', fleet.cluster('csc').users.get(EXTRA_ACCOUNT)!, true);
    const cpcNc = await userClient('cpc-1', fleet.cluster('cpc-1').users.get(EXTRA_ACCOUNT)!, true);
    const cscJsm = await cscNc.jetstreamManager();
    await cscJsm.streams.add({ name: 'ROT_CSC', subjects: ['e2e.rot.csc.>'], storage: StorageType.Memory });
    const llJsm = await cscLL.jetstreamManager();
    await llJsm.streams.add({ name: 'ROT_CPC1', subjects: ['e2e.rot.cpc1.>'], storage: StorageType.Memory });
    publishers = {
      'csc (account CSC)': new Publisher(cscNc.jetstream(), 'e2e.rot.csc'),
      'cpc-1 (account LaunchLayer, acked by the CSC)': new Publisher(cpcNc.jetstream(), 'e2e.rot.cpc1'),
    };
    await waitFor('both publishers acknowledged', WAIT_MS, async () => (Object.values(publishers).every((p) => p.acked > 5) ? true : undefined));

    const target = RotationTarget.leaf('1');
    let status = store.startRotation(target);
    const walk: Array<{ stage: string; order: string[] }> = [];
    for (let step = 0; step < 3; step++) {
      const stage = step === 2 ? 'done' : status.stage;
      const order = step === 2 ? status.nextStepChanges : status.deployOrder;
      walk.push({ stage, order });
      const next = await synth(['1', '2']);
      const restarted: string[] = [];
      const downtime = await measureDowntime('cpc-1', async () => {
        // An operator deploys the clusters in the printed order, each once the previous one is up again.
        for (const c of order) {
          restarted.push(...await deploy(next, c));
          await expectAllLeafs(['cpc-1', 'cpc-2']);
        }
      });
      report.stages.push({ stage, deployed: order, restarted, leafDowntimeMs: downtime });
      if (step === 0) status = store.advanceRotation(target)!;
      else if (step === 1) expect(store.advanceRotation(target)).toBeUndefined();
    }
    // The order rotate --status printed: overlap -> csc; switched -> cpc-1 then csc; done -> csc.
    expect(walk).toEqual([{ stage: 'overlap', order: ['csc'] }, { stage: 'switched', order: ['cpc-1', 'csc'] }, { stage: 'done', order: ['csc'] }]);
    // Only what a rollout restarts: the CSC's callout (its permissions) and CPC 1's nats (its seed); never the CSC's nats nor CPC 2.
    expect(report.stages.map((s) => s.restarted)).toEqual([['csc/auth-callout'], ['cpc-1/nats', 'csc/auth-callout'], ['csc/auth-callout']]);
    expect(store.rotations()).toEqual([]);
    // CPC 1 switched while the CSC's callout accepted the new keys through the rotation entries, in both accounts.
    const admitted = responders.flatMap((r) => r.decisions()).filter((d) => d.kind === 'Leafnode' && !d.error).map((d) => d.entry);
    expect(admitted).toEqual(expect.arrayContaining(['rotation-leaf-cpc-1', 'rotation-leaf-launchlayer-cpc-1']));

    for (const p of Object.values(publishers)) await p.stop();
    const stored = async (jsm: typeof cscJsm, stream: string) => (await jsm.streams.info(stream)).state.messages;
    for (const [name, stream, jsm] of [['csc (account CSC)', 'ROT_CSC', cscJsm], ['cpc-1 (account LaunchLayer, acked by the CSC)', 'ROT_CPC1', llJsm]] as const) {
      const p = publishers[name];
      report.publishers[name] = { sent: p.sent, acked: p.acked, stored: await stored(jsm, stream), retries: p.retries };
      // Every message was acknowledged (retried with its msgID until it was), and the stream holds each exactly once.
      expect(report.publishers[name].acked).toBe(p.sent);
      expect(report.publishers[name].stored).toBe(p.acked);
    }
    // eslint-disable-next-line no-console
    console.log(`leaf rotation of cpc-1: ${report.stages.map((s) => `${s.stage} ${s.leafDowntimeMs} ms (restarted ${s.restarted.join(', ')})`).join('; ')}; `
      + `acked/stored: ${Object.entries(report.publishers).map(([k, p]) => `${k} ${p.acked}/${p.stored} (${p.retries} retries)`).join(', ')}`);
  }, 180_000);

  toolTest('the wrong order fails as predicted: CPC 1 switched before the CSC accepts the new key is refused, until the CSC is deployed', missing, async () => {
    const target = RotationTarget.leaf('1');
    store.startRotation(target);
    store.advanceRotation(target); // skipping the CSC's overlap deploy
    const next = await synth(['1', '2']);
    const cscCallout = () => live.get('csc')!.callout;
    const before = cscCallout().decisions().length;
    expect(await deploy(next, 'cpc-1')).toEqual(['cpc-1/nats']);
    const denials = await waitFor('the CSC callout to deny CPC 1\'s new key in both accounts', WAIT_MS, async () => {
      const d = cscCallout().decisions().slice(before).filter((x) => x.kind === 'Leafnode' && x.error);
      return d.length >= LEAF_ACCOUNTS.length ? d : undefined;
    });
    for (const d of denials) expect(d.error).toMatch(/NKey not found in permissions config/);
    report.refusals.wrongOrderLeaf = denials.length;
    expect(await cpcConnected(live.get('cpc-1')!)).toBe(false);
    expect((await cpcLeafCount(live.get('csc')!))).toEqual(Object.fromEntries(LEAF_ACCOUNTS.map((a) => [a, 1]))); // CPC 2 unaffected
    // Repair: deploy the CSC with the switched output (it accepts both keys); then finish.
    expect(await deploy(next, 'csc')).toEqual(['csc/auth-callout']);
    await expectAllLeafs(['cpc-1', 'cpc-2']);
    expect(store.advanceRotation(target)).toBeUndefined();
    await deploy(await synth(['1', '2']), 'csc');
    await expectAllLeafs(['cpc-1', 'cpc-2']);
  }, 120_000);

  toolTest('a revoked CPC is refused at the CSC\'s next deploy, while CPC 1 keeps working', missing, async () => {
    store.revokeCpc('2');
    expect(() => store.ensure({ cpcIds: ['1', '2'], extraAccounts: [EXTRA_ACCOUNT] })).toThrow(/CPC "2" was revoked/);
    const next = await synth(['1']); // the fleet without CPC 2
    const cscCallout = () => live.get('csc')!.callout;
    const restarted = await deploy(next, 'csc');
    expect(restarted).toContain('csc/auth-callout');
    // An established leaf outlives a callout restart: the procedure restarts the CSC's nats too if the deploy did not (docs/operations.md).
    if (!restarted.includes('csc/nats')) {
      const l = live.get('csc')!;
      await l.nats.stop();
      l.natsPrepared = await prepareAgain(l.applied.nats, l.natsPrepared, l.remoteHosts);
      l.nats = await startPreparedNats(l.natsPrepared);
    }
    const before = cscCallout().decisions().length;
    await expectAllLeafs(['cpc-1']);
    const denials = await waitFor('the CSC callout to deny CPC 2 in both accounts', WAIT_MS, async () => {
      const d = cscCallout().decisions().slice(before).filter((x) => x.kind === 'Leafnode' && x.error);
      return d.length >= LEAF_ACCOUNTS.length ? d : undefined;
    });
    for (const d of denials) expect(d.error).toMatch(/NKey not found in permissions config/);
    report.refusals.revokedLeaf = denials.length;
    expect(await cpcConnected(live.get('cpc-2')!)).toBe(false);
    expect(await cpcLeafCount(live.get('csc')!)).toEqual(Object.fromEntries(LEAF_ACCOUNTS.map((a) => [a, 1])));
  }, 120_000);

  toolTest('an intra-cluster rotation (the CSC\'s mTLS leaf user): nats-mtls switched before its callout accepts is refused; in order it reconnects', missing, async () => {
    const target = RotationTarget.clusterKey('csc', RotatableClusterKey.MTLS_LEAF);
    const csc = live.get('csc')!;
    const mtlsLeafs = async () => (await leafz(csc.natsPrepared)).filter((l) => l.name === csc.mtlsPrepared!.pod.env.NATS_MTLS_SERVER_NAME).length;
    const full = await mtlsLeafs();
    expect(full).toBe(3);
    // Wrong order: nats-mtls rolls out the switched seed before the callout accepts it.
    store.startRotation(target);
    store.advanceRotation(target);
    const before = csc.callout.decisions().length;
    expect(await deploy(await synth(['1']), 'csc', ['nats-mtls'])).toEqual(['csc/nats-mtls']);
    const denial = await waitFor('the callout to deny the new mtls-leaf key', WAIT_MS, async () => csc.callout.decisions().slice(before).find((d) => d.error));
    expect(denial.error).toMatch(/NKey not found in permissions config/);
    report.refusals.wrongOrderMtlsLeaf = 1;
    // nats-mtls restarted: its two other leaf users reconnect (in their own time); the rotated one stays refused.
    await waitFor('the other two mTLS leafs back, the rotated one refused', WAIT_MS, async () => ((await mtlsLeafs()) === 2 ? true : undefined));
    // The rest of the rollout (the callout) repairs it; then done.
    expect(await deploy(await synth(['1']), 'csc')).toEqual(['csc/auth-callout']);
    await waitFor('all three mTLS leafs', WAIT_MS, async () => ((await mtlsLeafs()) === 3 ? true : undefined));
    expect(store.advanceRotation(target)).toBeUndefined();
    await deploy(await synth(['1']), 'csc');
    // Right order, from the start: overlap (callout), switched (nats-mtls + callout), done (callout): the leafs stay or come back.
    let s = store.startRotation(target);
    for (let step = 0; step < 3; step++) {
      await deploy(await synth(['1']), 'csc');
      await waitFor('all three mTLS leafs', WAIT_MS, async () => ((await mtlsLeafs()) === 3 ? true : undefined));
      if (step < 2) s = store.advanceRotation(target) ?? s;
    }
    expect(store.rotations()).toEqual([]);
    await expectAllLeafs(['cpc-1']);
  }, 120_000);
});

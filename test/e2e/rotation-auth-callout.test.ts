/**
 * The CSC's own auth-callout keys rotated on the running fleet (issue 20):
 * the auth-callout user (`csc/nats-authx-user`) walked through its three
 * stages, and the issuer and xkey (`csc/auth-callout-issuer`) replaced in
 * their one interrupting deploy. CSC + CPC 1, with the harness of fleet.ts
 * (the library's output rendered by the real chart with `helm template`,
 * real nats-server processes, the auth-callout stand-in).
 *
 * A "deploy" re-synthesizes the fleet from the key store, renders the CSC
 * again and restarts the workloads whose pod (resolved env, mounted files)
 * changed, in the order a rollout that restarts nats and the auth-callout
 * together takes: nats, then the auth-callout, then nats-mtls (each nats on
 * its ports, with its data folder). During each deploy a prober logs in as a
 * CSC user every few milliseconds: the time no login is admitted is
 * measured, as is CPC 1's leaf downtime and whether a client connected
 * before the deploy keeps its connection. The figures go to
 * test-reports/proof-rotation-auth-callout.json and are printed.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { connect, NatsConnection } from 'nats';
import {
  CalloutStarter, ClusterObjects, CSC_GATEWAY_IP, leafz, materializePod, PassthroughStarter, PreparedNats,
  renderCluster, RunningCluster, startCluster, startPreparedNats, SynthesizedFleet, synthesizeFleet, tempDir, TestUser, waitFor,
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
const WAIT_MS = 20_000;

interface StageFigures {
  target: string;
  stage: string;
  restarted: string[];
  /** Total time no new login was admitted on the CSC during the deploy (nats down or refusing). */
  loginsRefusedMs: number;
  /** Of that, the time nats was running and refused logins (the keys did not match; not the restart itself). */
  loginsRefusedWhileUpMs: number;
  leafDowntimeMs: number;
  /** Whether a client connected before the deploy (reconnecting, as clients do) lost its connection. */
  establishedClientDisconnected: boolean;
  /** From its first disconnect until it was connected again (0 when it kept its connection). */
  establishedClientReconnectMs: number;
}
const report = { stages: [] as StageFigures[], wrongOrder: { calloutRefused: false } };

const work = runnable ? tempDir('e2e-rotation-authx-') : '';
const keysDir = path.join(work, 'keys');
let deploys = 0;
const clusters: RunningCluster[] = [];
const clients: NatsConnection[] = [];

/** The CSC's workloads a deploy may restart (ports and data folders kept). */
const csc = {} as {
  applied: Record<'nats' | 'auth-callout' | 'nats-mtls', ClusterObjects>;
  nats: RunningNatsServer;
  natsPrepared: PreparedNats;
  mtls: RunningNatsServer;
  mtlsPrepared: PreparedNats;
  callout: AuthCalloutResponder;
};
let cpc: RunningCluster;
let user: TestUser;

const callout: CalloutStarter = async ({ pod, loopback }) => {
  const inputs = authCalloutInputsFromPod({ root: pod.root, env: pod.env, container: pod.container });
  const responder = new AuthCalloutResponder({ ...inputs, servers: loopback(inputs.natsUrl) });
  await responder.start();
  return responder;
};
const passthrough: PassthroughStarter = async (routes) => startSniPassthroughProxy({ routes });

async function synth(): Promise<SynthesizedFleet> {
  return synthesizeFleet({ workDir: path.join(work, `synth-${deploys++}`), keysDir, cpcIds: ['1'], transport: GatewayTransport.TLS });
}

function render(fleet: SynthesizedFleet, name: string): ClusterObjects {
  const c = fleet.cluster(name);
  return new ClusterObjects(name, renderCluster(c, path.join(work, `render-${deploys++}`)), c.objects);
}

/** Deploys the CSC's output of `fleet`, restarting what changed (`only` limits which may restart). Returns what restarted. */
async function deployCsc(fleet: SynthesizedFleet, only?: string[]): Promise<string[]> {
  const next = render(fleet, 'csc');
  const restarted: string[] = [];
  const may = (w: string) => !only || only.includes(w);
  const changed = (w: keyof typeof csc.applied, kind: string, name: string, container: string) => {
    if (podFingerprint(csc.applied[w], kind, name, container, work) === podFingerprint(next, kind, name, container, work)) return false;
    csc.applied[w] = next;
    return true;
  };
  if (may('nats') && changed('nats', 'StatefulSet', 'nats', 'nats')) {
    await csc.nats.stop();
    csc.natsPrepared = await prepareAgain(next, csc.natsPrepared, {});
    csc.nats = await startPreparedNats(csc.natsPrepared);
    restarted.push('nats');
  }
  if (may('auth-callout') && changed('auth-callout', 'Deployment', calloutDeployment(next), 'auth-callout')) {
    await csc.callout.stop();
    const pod = materializePod(next, 'Deployment', calloutDeployment(next), 'auth-callout', path.join(work, `callout-${deploys++}`));
    csc.callout = (await callout({ cluster: 'csc', pod, loopback: () => csc.nats.url })) as AuthCalloutResponder;
    restarted.push('auth-callout');
  }
  if (may('nats-mtls') && changed('nats-mtls', 'StatefulSet', 'nats-mtls', 'nats')) {
    await csc.mtls.stop();
    csc.mtlsPrepared = await prepareAgain(next, csc.mtlsPrepared, { 'nats:7422': `127.0.0.1:${csc.natsPrepared.ports.leafnode}` });
    csc.mtls = await startPreparedNats(csc.mtlsPrepared);
    restarted.push('nats-mtls');
  }
  return restarted;
}

/** One login as the CSC user (no reconnect): admitted, refused by a running nats, or no nats listening. */
async function attempt(): Promise<'admitted' | 'refused' | 'down'> {
  const listening = await new Promise<boolean>((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: csc.natsPrepared.ports.port }, () => { sock.destroy(); resolve(true); });
    sock.on('error', () => resolve(false));
  });
  if (!listening) return 'down';
  try {
    const nc = await connect({ servers: `nats://127.0.0.1:${csc.natsPrepared.ports.port}`, authenticator: goNkeyAuthenticator(user.seed), timeout: 2000, maxReconnectAttempts: 0 });
    await nc.close();
    return 'admitted';
  } catch {
    return 'refused';
  }
}
const login = async () => (await attempt()) === 'admitted';

const leafUp = async () => (await leafz(csc.natsPrepared).catch(() => [])).some((l) => l.account === 'CSC' && !l.name.includes('mtls'));
const mtlsLeafs = async () => (await leafz(csc.natsPrepared).catch(() => []))
  .filter((l) => l.name === csc.mtlsPrepared.pod.env.NATS_MTLS_SERVER_NAME).length;

/** Deploys while probing logins and CPC 1's leaf; waits until a login, the leaf and the three nats-mtls leafs are back. */
async function measuredDeploy(target: string, stage: string, fleet: SynthesizedFleet): Promise<StageFigures> {
  const established = await connect({
    servers: `nats://127.0.0.1:${csc.natsPrepared.ports.port}`,
    authenticator: goNkeyAuthenticator(user.seed),
    timeout: 5000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 20,
  });
  clients.push(established);
  let disconnectedAt: number | undefined;
  let reconnectedAt: number | undefined;
  void (async () => {
    for await (const st of established.status()) {
      if (st.type === 'disconnect' && disconnectedAt === undefined) disconnectedAt = Date.now();
      if (st.type === 'reconnect') reconnectedAt = Date.now();
    }
  })();
  let refused = 0;
  let refusedWhileUp = 0;
  let leafDown = 0;
  let stop = false;
  const sample = async <T>(probe: () => Promise<T>, add: (result: T, ms: number) => void) => {
    let last = Date.now();
    while (!stop) {
      const result = await probe();
      const now = Date.now();
      add(result, now - last);
      last = now;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const samplers = [
    sample(attempt, (r, ms) => {
      if (r !== 'admitted') refused += ms;
      if (r === 'refused') refusedWhileUp += ms;
    }),
    sample(leafUp, (up, ms) => { if (!up) leafDown += ms; }),
  ];
  let restarted: string[] = [];
  try {
    restarted = await deployCsc(fleet);
    await waitFor(`${target} ${stage}: a login, CPC 1's leaf, the three nats-mtls leafs and the established client`, WAIT_MS,
      async () => ((await login()) && (await leafUp()) && (await mtlsLeafs()) === 3
        && (disconnectedAt === undefined || reconnectedAt !== undefined) ? true : undefined));
  } finally {
    stop = true;
    await Promise.all(samplers);
  }
  const figures = {
    target,
    stage,
    restarted,
    loginsRefusedMs: refused,
    loginsRefusedWhileUpMs: refusedWhileUp,
    leafDowntimeMs: leafDown,
    establishedClientDisconnected: disconnectedAt !== undefined,
    establishedClientReconnectMs: disconnectedAt === undefined ? 0 : reconnectedAt! - disconnectedAt,
  };
  await established.close().catch(() => undefined);
  report.stages.push(figures);
  return figures;
}

describe('the CSC\'s auth-callout keys rotated on the running fleet', () => {
  let store: DirectoryKeyStore;

  beforeAll(async () => {
    if (!runnable) return;
    const fleet = await synth();
    const objects = render(fleet, 'csc');
    const base = await startCluster({ name: 'csc', objects, workDir: work, callout, passthrough });
    clusters.push(base);
    Object.assign(csc, {
      applied: { 'nats': objects, 'auth-callout': objects, 'nats-mtls': objects },
      nats: base.nats,
      natsPrepared: base.natsPrepared,
      mtls: base.mtls!,
      mtlsPrepared: base.mtlsPrepared!,
      callout: base.callout as AuthCalloutResponder,
    });
    cpc = await startCluster({ name: 'cpc-1', objects: render(fleet, 'cpc-1'), workDir: work, callout, remoteHosts: base.gateway!.hostMap([CSC_GATEWAY_IP]), passthrough, mtls: false, gateway: false });
    clusters.push(cpc);
    user = fleet.cluster('csc').users.get('CSC')!;
    store = DirectoryKeyStore.open(keysDir);
    await waitFor('CPC 1\'s leaf and the nats-mtls leafs', WAIT_MS, async () => ((await leafUp()) && (await mtlsLeafs()) === 3 ? true : undefined));
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    if (runnable) {
      await csc.callout.stop().catch(() => undefined);
      await csc.mtls.stop().catch(() => undefined);
      await csc.nats.stop().catch(() => undefined);
    }
    for (const c of clusters.reverse()) await c.stop().catch(() => undefined);
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (runnable) writeProofReport('rotation-auth-callout', report);
    // eslint-disable-next-line no-console
    if (runnable) {
      console.log(report.stages.map((x) => `${x.target} ${x.stage}: logins refused ${x.loginsRefusedMs} ms (${x.loginsRefusedWhileUpMs} ms of it by a running nats), CPC 1 leaf down ${x.leafDowntimeMs} ms, established client `
      + `${x.establishedClientDisconnected ? `reconnected after ${x.establishedClientReconnectMs} ms` : 'kept its connection'} (restarted ${x.restarted.join(', ') || 'nothing'})`).join('\n'));
    }
  }, 60_000);

  toolTest('the auth-callout user: the service switched before NATS accepts its new key cannot connect; in order, every stage keeps logins and the leaf', missing, async () => {
    const target = RotationTarget.clusterKey('csc', RotatableClusterKey.AUTH_CALLOUT_USER);
    // Wrong order: the auth-callout presents the new key while NATS runs the config from before overlap.
    store.startRotation(target);
    store.advanceRotation(target);
    const early = await synth();
    await expect(deployCsc(early, ['auth-callout'])).rejects.toThrow(/authorization/i);
    report.wrongOrder.calloutRefused = true;
    expect(await login()).toBe(false); // no auth-callout: no login
    // The rest of the rollout (nats with both keys) repairs it: the callout is started again by the deploy.
    csc.applied['auth-callout'] = csc.applied.nats;
    expect(await deployCsc(early)).toEqual(expect.arrayContaining(['nats', 'auth-callout']));
    await waitFor('a login', WAIT_MS, async () => ((await login()) ? true : undefined));
    expect(store.advanceRotation(target)).toBeUndefined();
    await deployCsc(await synth());
    await waitFor('a login after done', WAIT_MS, async () => ((await login()) ? true : undefined));

    // In order: overlap (nats, nats-mtls: both keys), switched (nats env, the service's seed), done (the chart's lists).
    let s = store.startRotation(target);
    for (const stage of ['overlap', 'switched', 'done']) {
      const f = await measuredDeploy(target.name, stage, await synth());
      if (stage === 'overlap') expect(f.restarted).toEqual(expect.arrayContaining(['nats', 'nats-mtls']));
      if (stage === 'switched') expect(f.restarted).toEqual(expect.arrayContaining(['nats', 'auth-callout']));
      if (stage === 'done') expect(f.restarted).toContain('nats');
      if (stage !== 'done') s = store.advanceRotation(target) ?? s;
    }
    expect(store.rotations()).toEqual([]);
  }, 180_000);

  toolTest('the issuer and xkey: overlap and done restart nothing; switched restarts nats and the auth-callout together, and logins are refused in between', missing, async () => {
    const target = RotationTarget.clusterKey('csc', RotatableClusterKey.AUTH_CALLOUT_ISSUER);
    store.startRotation(target);
    expect(await deployCsc(await synth())).toEqual([]);
    store.advanceRotation(target);
    const f = await measuredDeploy(target.name, 'switched', await synth());
    expect(f.restarted).toEqual(expect.arrayContaining(['nats', 'auth-callout']));
    // A nats restart ends every connection to it: the client connected before must log in again, through the refusal window.
    expect(f.establishedClientDisconnected).toBe(true);
    expect(f.loginsRefusedMs).toBeGreaterThan(0);
    // The interruption of its own: nats runs the new issuer and refuses logins until the auth-callout answers with it.
    expect(f.loginsRefusedWhileUpMs).toBeGreaterThan(0);
    expect(store.advanceRotation(target)).toBeUndefined();
    expect(await deployCsc(await synth())).toEqual([]);
  }, 120_000);
});

/**
 * A running fleet on loopback, from what the real chart renders with our
 * output (issue 10, part 3).
 *
 * 1. synthesizeFleet(): a CSC and CPCs from the library (EventBusFleet) with
 *    inline Secrets from a DirectoryKeyStore created at test time, the mTLS
 *    server certificates of `dsx-event-bus certs` (generateEvaluationCerts),
 *    and per cluster a few test users added through `nkeyPermissions`.
 * 2. renderCluster(): real `helm template` of DSX_UPSTREAM_CHART with the
 *    cluster's values.event-bus.yaml plus the deployer values below.
 * 3. materializePod(): a pod of the rendered output as Kubernetes would run
 *    it: its container env resolved (value, `$(VAR)`, secretKeyRef,
 *    configMapKeyRef, fieldRef) and its volume mounts written under a temp
 *    root (`<root>/etc/nats-config/nats.conf`, ...), from the rendered
 *    ConfigMaps and the library's Secrets. A reference to anything that
 *    neither rendered nor synthesized fails, as the pod would.
 * 4. prepareNats(): the NATS config of a rendered StatefulSet (`nats`,
 *    `nats-mtls`) made runnable on loopback by the rewrites in
 *    NATS_REWRITES, and nothing else; every rewrite is applied exactly as
 *    often as expected or the harness fails, and the list of what was
 *    applied is kept (`PreparedNats.rewrites`). With a DnsStandIn, remotes
 *    naming a gateway's DNS name keep it (only the port moves), and the name
 *    resolves to loopback through a private /etc/hosts of that process. `$VAR` references stay in the
 *    config: nats-server resolves them from the process environment, which is
 *    the resolved container env and nothing more, as in the pod.
 * 5. startGateway(): the library's Gateway listeners with the routes attached:
 *    TLS-terminating proxies whose certificate cert-manager-standin.ts issues
 *    from the library's Certificate and CA Issuer, the SNI passthrough proxy
 *    with the TLSRoute hostnames (stand-ins of test/e2e/standins).
 * 6. startCluster(): per cluster nats, the auth-callout stand-in (from the
 *    rendered auth-callout pod), the rendered Streams (nack-standin.ts),
 *    nats-mtls and the Gateway; stop() ends all of them.
 *
 * Seeds live in the Secrets, the process environments and the test users
 * only; nothing here prints them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import * as nkeys from 'nkeys.js';
import * as YAML from 'yaml';
import { issueCertificate } from './cert-manager-standin';
import { createRenderedStreams } from './nack-standin';
import { Endpoint, RunningTlsTerminatingProxy, startTlsTerminatingProxy } from './standins';
import {
  CertificateAuthority, ClusterCertificates, DirectoryKeyStore, EventBusClusterChart, EventBusFleet, EventBusFleetProps, GatewayTransport,
  MtlsServerTls, NKeyPermission, SecretsDelivery,
} from '../../src';
import { EvaluationCa, generateEvaluationCa, generateEvaluationCerts } from '../../src/cli/evaluation';
import { intermediateNames, Intermediates, issueIntermediates, withIntermediates } from '../certificates/intermediates';
import { freePort, NatsPorts, RunningNatsServer, startNatsServerProcess } from '../util/nats-server';
import { HELM_BIN, UPSTREAM_CHART } from '../util/tools';

export const NAMESPACE = 'dsx';
export const RELEASE = 'nats-event-bus';
/** The extra account of the test fleet. */
export const EXTRA_ACCOUNT = 'LaunchLayer';
/** The CSC gateway's address: an IP SAN of its certificate, and the host of every CPC's cscEndpoint. */
export const CSC_GATEWAY_IP = '127.0.0.1';
/** DNS names of the gateways (SNI of the terminate listeners and the mqtt-mtls TLSRoute). */
export const gatewayHost = (cluster: string) => `${cluster}.event-bus.example.com`;

/**
 * What a deployer adds to the library's values for the chart to run (see the
 * chart's docs/pre-deployment): the auth-callout image (not published; the
 * stand-in plays it here) and its JWKS settings, and the mTLS permission that
 * places the evaluation client certificate of each cluster in its account.
 */
export function deployerValues(cluster: string): object {
  return {
    'auth-callout': {
      image: { repository: 'registry.example.com/dsx-exchange/auth-callout', tag: '0.1.1' },
      serviceConfig: { jwks: { url: 'https://idp.example.com/jwks.json', issuer: 'https://idp.example.com', audience: 'dsx-exchange' } },
    },
    'global': {
      eventBus: {
        auth: {
          permissions: {
            mtls: {
              'mqtt-client': { identity: `CN=mqtt-client.${cluster}`, account: cluster === 'csc' ? 'CSC' : 'CPC' },
            },
          },
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------
// 1. Synthesis
// ---------------------------------------------------------------------------

/** A user added through `nkeyPermissions`, with its seed (test-time only, never printed). */
export interface TestUser {
  readonly cluster: string;
  readonly account: string;
  readonly publicKey: string;
  readonly seed: Uint8Array;
}

/** PEM files of `dsx-event-bus certs` for one cluster (keys as in EVALUATION_FILES). */
export type EvaluationCerts = Record<string, string>;

export interface SynthesizedCluster {
  /** `csc` or `cpc-<id>`. */
  readonly name: string;
  readonly chart: EventBusClusterChart;
  /** The library's objects of this cluster (Secrets, Certificates, Gateway, ...). */
  readonly objects: any[];
  readonly valuesYaml: string;
  /** The cluster's mTLS evaluation certificates (server, client, CA). */
  readonly certs: EvaluationCerts;
  /** Users of this cluster by account. */
  readonly users: Map<string, TestUser>;
}

export interface FleetSpec {
  /** Where everything of this fleet goes (values files, pod roots). */
  readonly workDir: string;
  /** The key store directory (shared by fleets that must hold the same keys). */
  readonly keysDir: string;
  readonly cpcIds: string[];
  readonly transport: GatewayTransport;
}

export interface SynthesizedFleet {
  readonly spec: FleetSpec;
  readonly fleet: EventBusFleet;
  readonly clusters: SynthesizedCluster[];
  cluster(name: string): SynthesizedCluster;
}

/**
 * The fleet CA of `dsx-event-bus certs` (one per key store folder): it signs
 * the mTLS certificates, backs the CA issuer of every cluster
 * (`certificates.ca`), and is what every CPC trusts for the CSC gateway.
 */
const caCache = new Map<string, EvaluationCa>();
export async function fleetCa(keysDir: string): Promise<EvaluationCa> {
  if (!caCache.has(keysDir)) caCache.set(keysDir, await generateEvaluationCa('ecdsa-p256'));
  return caCache.get(keysDir)!;
}

/** The clusters' intermediates per key store folder and set of names, issued once (as `dsx-event-bus synth` keeps them). */
const intermediatesCache = new Map<string, Intermediates>();
async function fleetIntermediates(keysDir: string, props: EventBusFleetProps): Promise<Intermediates> {
  const key = `${keysDir}\0${JSON.stringify(intermediateNames(props))}`;
  if (!intermediatesCache.has(key)) intermediatesCache.set(key, await issueIntermediates(props, await fleetCa(keysDir)));
  return intermediatesCache.get(key)!;
}

/** Evaluation certificates per cluster, made once per key store folder (like `dsx-event-bus certs`). */
const certsCache = new Map<string, EvaluationCerts>();
async function evaluationCerts(keysDir: string, cluster: string): Promise<EvaluationCerts> {
  const key = `${keysDir}\0${cluster}`;
  if (!certsCache.has(key)) {
    const ca = await fleetCa(keysDir);
    certsCache.set(key, await generateEvaluationCerts({ cluster, namespace: NAMESPACE, hosts: [gatewayHost(cluster)], days: 1, keyType: 'ecdsa-p256', ca }));
  }
  return certsCache.get(key)!;
}

/** Test users per key store folder, so fleets over one store share them. */
const usersCache = new Map<string, TestUser>();
function testUser(keysDir: string, cluster: string, account: string): TestUser {
  const key = `${keysDir}\0${cluster}\0${account}`;
  if (!usersCache.has(key)) {
    const kp = nkeys.createUser();
    usersCache.set(key, { cluster, account, publicKey: kp.getPublicKey(), seed: kp.getSeed() });
  }
  return usersCache.get(key)!;
}

/**
 * The accounts a test user is placed in, per cluster type. Not CSC on a CPC:
 * the chart renders a CSC account on every CPC, but the library's
 * nkeyPermissions check refuses it there (src/charts/cluster-chart.ts
 * validatePermissions allows only CPC, SYS, AUTHX and extra accounts), so
 * the CSC account is crossed through the chart's own CPC<->CSC imports.
 */
export function userAccounts(cluster: string): string[] {
  return cluster === 'csc' ? ['CSC', EXTRA_ACCOUNT] : ['CPC', EXTRA_ACCOUNT];
}

function permissions(users: TestUser[]): NKeyPermission[] {
  return users.map((u) => ({ name: `e2e-${u.account.toLowerCase()}`, publicKey: u.publicKey, account: u.account }));
}

/** Synthesizes the test fleet with the library: CSC + the CPCs, LaunchLayer, mTLS on, inline Secrets. */
export async function synthesizeFleet(spec: FleetSpec): Promise<SynthesizedFleet> {
  fs.mkdirSync(spec.workDir, { recursive: true });
  const names = ['csc', ...spec.cpcIds.map((id) => `cpc-${id}`)];
  const certs = new Map<string, EvaluationCerts>();
  for (const n of names) certs.set(n, await evaluationCerts(spec.keysDir, n));
  const users = new Map(names.map((n) => [n, new Map(userAccounts(n).map((a) => [a, testUser(spec.keysDir, n, a)]))]));
  const mtlsOf = (n: string) => MtlsServerTls.fromPem({
    caCrt: certs.get(n)!['nats-mtls-server-tls/ca.crt'],
    tlsCrt: certs.get(n)!['nats-mtls-server-tls/tls.crt'],
    tlsKey: certs.get(n)!['nats-mtls-server-tls/tls.key'],
  });
  const scheme = spec.transport === GatewayTransport.TLS ? 'tls' : 'nats';
  const ca = await fleetCa(spec.keysDir);

  const keys = DirectoryKeyStore.open(spec.keysDir);
  const props: EventBusFleetProps = {
    metadata: { namespace: NAMESPACE },
    mtls: true,
    extraAccounts: [EXTRA_ACCOUNT],
    keys,
    delivery: SecretsDelivery.inline(),
    // One root for the fleet, a CA issuer with its own intermediate in every cluster; CPCs trust the root for the CSC gateway by default.
    certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromPem(ca.certPem)),
    gateway: { transport: spec.transport },
    // The CSC gateway's address, as upstream's local evaluation uses (an IP):
    // loopback has no DNS for the example names.
    cscEndpoint: `${scheme}://${CSC_GATEWAY_IP}:7422`,
    csc: {
      gateway: { hostnames: [gatewayHost('csc')], ipAddresses: [CSC_GATEWAY_IP] },
      mtlsServerTls: mtlsOf('csc'),
      nkeyPermissions: permissions([...users.get('csc')!.values()]),
    },
    cpcs: spec.cpcIds.map((id) => ({
      id,
      gateway: { hostnames: [gatewayHost(`cpc-${id}`)] },
      mtlsServerTls: mtlsOf(`cpc-${id}`),
      nkeyPermissions: permissions([...users.get(`cpc-${id}`)!.values()]),
    })),
  };
  // The root's key stays here: each cluster's CA issuer gets its own name-constrained intermediate, as synth issues them.
  const fleet = new EventBusFleet(new App({ outdir: path.join(spec.workDir, 'cdk8s.out') }), 'fleet',
    withIntermediates(props, ca, await fleetIntermediates(spec.keysDir, props)));
  // Synthesis only reads keys: create the missing ones first, as synth --generate-missing does.
  keys.generateMissing(fleet.keyStoreRequest);
  const clusters = fleet.charts.map((chart, i): SynthesizedCluster => ({
    name: names[i],
    chart,
    objects: chart.toJson(),
    valuesYaml: chart.valuesYaml(),
    certs: certs.get(names[i])!,
    users: users.get(names[i])!,
  }));
  return {
    spec,
    fleet,
    clusters,
    cluster: (name: string) => {
      const c = clusters.find((x) => x.name === name);
      if (!c) throw new Error(`no cluster ${name} in the fleet (${names.join(', ')})`);
      return c;
    },
  };
}

// ---------------------------------------------------------------------------
// 2. Rendering
// ---------------------------------------------------------------------------

/** `helm template` of the real chart with the cluster's values and the deployer values; the parsed objects. */
export function renderCluster(cluster: Pick<SynthesizedCluster, 'name' | 'valuesYaml'>, workDir: string, moreDeployerValues?: object): any[] {
  if (!UPSTREAM_CHART) throw new Error('DSX_UPSTREAM_CHART is unset');
  const dir = path.join(workDir, cluster.name);
  fs.mkdirSync(dir, { recursive: true });
  const values = path.join(dir, 'values.event-bus.yaml');
  const deployer = path.join(dir, 'deployer-values.yaml');
  fs.writeFileSync(values, cluster.valuesYaml);
  fs.writeFileSync(deployer, YAML.stringify(deployerValues(cluster.name)));
  const more = path.join(dir, 'more-deployer-values.yaml');
  if (moreDeployerValues) fs.writeFileSync(more, YAML.stringify(moreDeployerValues));
  const r = spawnSync(HELM_BIN, ['template', RELEASE, UPSTREAM_CHART, '-n', NAMESPACE, '-f', values, '-f', deployer, ...(moreDeployerValues ? ['-f', more] : [])], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`helm template for ${cluster.name} failed (${r.status}):\n${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout).map((d) => d.toJSON()).filter((o) => o && o.kind);
}

// ---------------------------------------------------------------------------
// 3. Pods
// ---------------------------------------------------------------------------

/** Objects by `Kind/name`: the rendered chart and the library's objects of one cluster. */
export class ClusterObjects {
  private readonly byKey = new Map<string, { object: any; from: string }>();

  constructor(public readonly cluster: string, rendered: any[], library: any[]) {
    for (const [from, list] of [['chart', rendered], ['library', library]] as const) {
      for (const o of list) {
        const key = `${o.kind}/${o.metadata.name}`;
        const prior = this.byKey.get(key);
        if (prior) throw new Error(`${cluster}: ${key} is produced by both the ${prior.from} and the ${from}`);
        this.byKey.set(key, { object: o, from });
      }
    }
  }

  find(kind: string, name: string): any | undefined {
    return this.byKey.get(`${kind}/${name}`)?.object;
  }

  get(kind: string, name: string, by: string): any {
    const o = this.find(kind, name);
    if (!o) throw new Error(`${this.cluster}: ${by} references ${kind}/${name}, which neither the chart nor the library produces`);
    return o;
  }

  /** Decoded data of a Secret (data base64, stringData as is) or a ConfigMap. */
  data(kind: 'Secret' | 'ConfigMap', name: string, by: string): Record<string, string> {
    const o = this.get(kind, name, by);
    const out: Record<string, string> = {};
    if (kind === 'Secret') {
      for (const [k, v] of Object.entries<string>(o.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
      Object.assign(out, o.stringData ?? {});
    } else {
      Object.assign(out, o.data ?? {});
    }
    return out;
  }

  all(): any[] {
    return [...this.byKey.values()].map((v) => v.object);
  }
}

export interface MaterializedPod {
  /** Stands for the container's `/`: mounted files are at `<root><mountPath>/...`. */
  readonly root: string;
  /** The container's env, resolved. */
  readonly env: Record<string, string>;
  readonly container: any;
  /** Mount paths of the container, longest first. */
  readonly mountPaths: string[];
}

/**
 * The container `containerName` of the Deployment/StatefulSet `kind/name`:
 * env resolved and volume mounts written under `root`, as Kubernetes would
 * (the first replica: POD_NAME is `<name>-0`).
 */
export function materializePod(objects: ClusterObjects, kind: string, name: string, containerName: string, root: string): MaterializedPod {
  const workload = objects.get(kind, name, 'the test');
  const podSpec = workload.spec.template.spec;
  const container = podSpec.containers.find((c: any) => c.name === containerName);
  if (!container) throw new Error(`${objects.cluster}: ${kind}/${name} has no container ${containerName}`);
  const by = `${kind}/${name} container ${containerName}`;
  const podName = kind === 'StatefulSet' ? `${name}-0` : `${name}-7d4b9c8f6-x2x2x`;

  const env: Record<string, string> = {};
  const expand = (v: string) => v.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n) => (n in env ? env[n] : m));
  for (const from of container.envFrom ?? []) {
    const src = from.secretRef ? objects.data('Secret', from.secretRef.name, by) : objects.data('ConfigMap', from.configMapRef.name, by);
    for (const [k, v] of Object.entries(src)) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = expand(String(e.value));
    } else if (e.valueFrom?.secretKeyRef || e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
      const kindOf = e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap';
      const data = objects.find(kindOf, ref.name) ? objects.data(kindOf, ref.name, by) : undefined;
      if (data?.[ref.key] !== undefined) env[e.name] = data[ref.key];
      else if (!ref.optional) throw new Error(`${objects.cluster}: ${by} env ${e.name} needs key ${ref.key} of ${kindOf}/${ref.name}, which ${data ? 'has no such key' : 'neither the chart nor the library produces'}`);
    } else if (e.valueFrom?.fieldRef) {
      const field = e.valueFrom.fieldRef.fieldPath;
      const fields: Record<string, string> = { 'metadata.name': podName, 'metadata.namespace': NAMESPACE, 'spec.nodeName': 'node-0' };
      if (!(field in fields)) throw new Error(`${by} env ${e.name}: fieldRef ${field} is not known to the harness`);
      env[e.name] = fields[field];
    } else {
      throw new Error(`${by} env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
    }
  }

  const volumes = new Map<string, any>((podSpec.volumes ?? []).map((v: any) => [v.name, v]));
  const mountPaths: string[] = [];
  for (const m of container.volumeMounts ?? []) {
    const v = volumes.get(m.name);
    if (!v) throw new Error(`${by} mounts volume ${m.name}, which the pod does not declare`);
    if (m.subPath) throw new Error(`${by} mounts ${m.name} with subPath, which the harness does not support`);
    const dir = path.join(root, m.mountPath);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    mountPaths.push(m.mountPath);
    let files: Record<string, string> | undefined;
    let items: Array<{ key: string; path: string }> | undefined;
    if (v.configMap) {
      files = objects.data('ConfigMap', v.configMap.name, `${by} volume ${m.name}`);
      items = v.configMap.items;
    } else if (v.secret) {
      files = objects.data('Secret', v.secret.secretName, `${by} volume ${m.name}`);
      items = v.secret.items;
    } else if (!v.emptyDir) {
      throw new Error(`${by} volume ${m.name}: only configMap, secret and emptyDir volumes are supported (${JSON.stringify(v)})`);
    }
    if (files) {
      const list = items ?? Object.keys(files).map((key) => ({ key, path: key }));
      for (const it of list) {
        if (files[it.key] === undefined) throw new Error(`${objects.cluster}: ${by} volume ${m.name} needs key ${it.key}, which is missing`);
        fs.mkdirSync(path.dirname(path.join(dir, it.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, it.path), files[it.key], { mode: 0o600 });
      }
    }
  }
  mountPaths.sort((a, b) => b.length - a.length);
  return { root, env, container, mountPaths };
}

// ---------------------------------------------------------------------------
// 4. NATS servers from the rendered config
// ---------------------------------------------------------------------------

/**
 * Every change the harness makes to the rendered NATS config, and why. Nothing
 * else is changed: accounts, imports/exports, mappings, auth_callout, the leaf
 * remotes' accounts, nkeys and TLS blocks, JetStream and MQTT settings stay as
 * rendered.
 */
export const NATS_REWRITES = [
  'client listener: "port": 4222 -> "host": "127.0.0.1", "port": <free> (the host also binds the monitor to loopback)',
  'monitor: "http_port": 8222 -> <free>',
  'leafnode listener: "port": 7422 -> "host": "127.0.0.1", "port": <free>',
  'MQTT listener: "port": 1883 -> "host": "127.0.0.1", "port": <free>',
  'cluster block: "port": 6222 and "routes" removed, the name kept: one server per StatefulSet (the routes name pod DNS; JetStream runs standalone only without a cluster listener; leaf connections still carry the cluster name, which the hub uses to tell the CPCs\' same-named pods apart)',
  'absolute paths under the container\'s mounts (pid_file, TLS files) -> the same path under the pod\'s temp root',
  'leaf remote URLs: host:port of a Service or the gateway -> 127.0.0.1:<port of that listener or its stand-in>',
  'the container\'s private /tmp -> <root>/tmp, by TMPDIR in the process env (JetStream\'s default store_dir is under it; the config sets none)',
  'DNS stand-in: a leaf remote URL naming the CSC gateway by its DNS name keeps that name (TLS still verifies the certificate against it), only its port -> the terminating proxy\'s; the name resolves to 127.0.0.1 through a private /etc/hosts of that nats-server process alone (a user + mount namespace)',
] as const;

/** The DNS stand-in of one nats-server (NATS_REWRITES[8]): leaf remotes to `host:port` reach `127.0.0.1:loopbackPort` under their own name. */
export interface DnsStandIn {
  /** The DNS name in the rendered remote URLs (e.g. `csc.event-bus.example.com`). */
  readonly host: string;
  /** The port in the rendered URLs (the Gateway listener's). */
  readonly port: number;
  /** Where the name's listener runs on 127.0.0.1 (the stand-in proxy). */
  readonly loopbackPort: number;
  /** How many remote URLs must name it: exactly this many are rewritten, or the harness fails. */
  readonly expected: number;
}

/** The one change to the auth-callout pod: its config's `nats.url` (`nats://nats:4222`) -> the loopback client port of that cluster's nats. */
export const CALLOUT_REWRITES = ['auth-callout nats.url: nats://<Service>:<port> -> nats://127.0.0.1:<that listener>'] as const;

/** One applied rewrite: which file, which rule, what it matched and what it became. */
export interface AppliedRewrite {
  readonly file: string;
  readonly rule: string;
  readonly from: string;
  readonly to: string;
}

export interface PreparedNats {
  readonly cluster: string;
  /** `nats` or `nats-mtls`. */
  readonly statefulSet: string;
  readonly pod: MaterializedPod;
  readonly configFile: string;
  readonly ports: NatsPorts & { http: number; leafnode: number; mqtt: number };
  readonly rewrites: AppliedRewrite[];
  /** The private /etc/hosts of the DNS stand-in, when one was asked for. */
  readonly hostsFile?: string;
}

function applyRewrite(text: string, file: string, rule: string, pattern: RegExp, to: (m: RegExpExecArray) => string, expected: number | 'any', log: AppliedRewrite[]): string {
  const flags = pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g';
  const re = new RegExp(pattern.source, flags);
  let count = 0;
  const out = text.replace(re, (...args) => {
    const m = args.slice(0, -2) as unknown as RegExpExecArray;
    const replacement = to(m);
    log.push({ file, rule, from: m[0].trim(), to: replacement.trim() });
    count++;
    return replacement;
  });
  if (expected !== 'any' && count !== expected) {
    throw new Error(`${file}: rewrite "${rule}" matched ${count} times, expected ${expected}: the rendered config changed shape; review NATS_REWRITES`);
  }
  return out;
}

/**
 * Materializes the `nats` container of StatefulSet `statefulSet` and rewrites
 * its config per NATS_REWRITES. `remoteHosts` maps `host:port` of leaf remote
 * URLs (e.g. `nats:7422`, `127.0.0.1:7422`) to loopback `host:port`; a remote
 * URL not in the map fails.
 */
export async function prepareNats(
  objects: ClusterObjects, statefulSet: string, root: string, remoteHosts: Record<string, string>, dns?: DnsStandIn,
): Promise<PreparedNats> {
  const pod = materializePod(objects, 'StatefulSet', statefulSet, 'nats', root);
  const args: string[] = pod.container.args ?? [];
  const configArg = args[args.findIndex((a) => a === '--config' || a === '-c') + 1];
  if (!configArg) throw new Error(`${objects.cluster}: StatefulSet/${statefulSet} runs nats-server without --config (${args.join(' ')})`);
  const ports = { port: await freePort(), http: await freePort(), leafnode: await freePort(), mqtt: await freePort() };
  const rewrites: AppliedRewrite[] = [];
  const main = path.join(root, configArg);

  // Every file the config includes lives under a mount; rewrite each.
  const files = [main, ...collectIncludes(main)];
  for (const file of files) {
    const rel = path.relative(root, file);
    let text = fs.readFileSync(file, 'utf8');
    const isMain = file === main;
    if (isMain) {
      text = applyRewrite(text, rel, NATS_REWRITES[0], /^(\s*)"port": 4222(,?)$/m, (m) => `${m[1]}"host": "127.0.0.1",\n${m[1]}"port": ${ports.port}${m[2]}`, 1, rewrites);
      text = applyRewrite(text, rel, NATS_REWRITES[1], /^(\s*)"http_port": 8222(,?)$/m, (m) => `${m[1]}"http_port": ${ports.http}${m[2]}`, 1, rewrites);
      text = applyRewrite(text, rel, NATS_REWRITES[2], /^(\s*)"port": 7422(,?)$/m, (m) => `${m[1]}"host": "127.0.0.1",\n${m[1]}"port": ${ports.leafnode}${m[2]}`, 1, rewrites);
      text = applyRewrite(text, rel, NATS_REWRITES[3], /^(\s*)"port": 1883(,?)$/m, (m) => `${m[1]}"host": "127.0.0.1",\n${m[1]}"port": ${ports.mqtt}${m[2]}`, 1, rewrites);
      text = applyRewrite(text, rel, NATS_REWRITES[4], /^(\s*)"cluster": \{\n[\s\S]*?^\1\},?\n/m, (m) => {
        const block = m[0].replace(/^\s*"port": 6222,?\n/m, '').replace(/^\s*"routes": \[[\s\S]*?\]\n/m, '');
        if (block === m[0] || /"port"|"routes"/.test(block)) throw new Error(`${rel}: the cluster block has no single port 6222 and routes list: review NATS_REWRITES`);
        return block.replace(/,(\n\s*\},?\n)$/, '$1');
      }, 1, rewrites);
    }
    for (const mount of pod.mountPaths) {
      const escaped = mount.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      text = applyRewrite(text, rel, NATS_REWRITES[5], new RegExp(`"${escaped}/`), () => `"${path.join(root, mount)}/`, 'any', rewrites);
    }
    if (dns) {
      const named = new RegExp(`"(nats|tls|ws|wss)://${escapeRe(dns.host)}:${dns.port}"`);
      text = applyRewrite(text, rel, NATS_REWRITES[8], named, (m) => `"${m[1]}://${dns.host}:${dns.loopbackPort}"`, 'any', rewrites);
    }
    const dnsUrl = dns ? `(?!${escapeRe(dns.host)}:${dns.loopbackPort}")` : '';
    text = applyRewrite(text, rel, NATS_REWRITES[6], new RegExp(`"(nats|tls|ws|wss)://${dnsUrl}([^":/]+):(\\d+)"`), (m) => {
      const target = remoteHosts[`${m[2]}:${m[3]}`];
      if (!target) throw new Error(`${objects.cluster}: ${rel} has leaf remote ${m[0]}, which the harness does not map (known: ${Object.keys(remoteHosts).join(', ')})`);
      return `"${m[1]}://${target}"`;
    }, 'any', rewrites);
    fs.writeFileSync(file, text, { mode: 0o600 });
  }
  // Every absolute path left must be under the pod root: one outside any mount is a file no volume provides.
  for (const file of files) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/"(\/[^"]*)"/g)) {
      if (!m[1].startsWith(root + '/')) throw new Error(`${objects.cluster}: ${path.relative(root, file)} names ${m[1]}, which no volume of the pod provides`);
    }
  }
  let hostsFile: string | undefined;
  if (dns) {
    const applied = rewrites.filter((r) => r.rule === NATS_REWRITES[8]).length;
    if (applied !== dns.expected) throw new Error(`${objects.cluster}: rewrite "${NATS_REWRITES[8]}" matched ${applied} times, expected ${dns.expected}: the rendered config changed shape; review NATS_REWRITES`);
    hostsFile = path.join(root, 'dns-standin-hosts');
    fs.writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 ${dns.host}\n`, { mode: 0o644 });
  }
  return { cluster: objects.cluster, statefulSet, pod, configFile: main, ports, rewrites, hostsFile };
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Files named by `include` in a NATS config (recursively), relative to the including file. */
function collectIncludes(file: string): string[] {
  const out: string[] = [];
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^\s*include\s+"?([^";\s]+)"?\s*;?\s*$/gm)) {
    const target = path.resolve(path.dirname(file), m[1]);
    if (!fs.existsSync(target)) throw new Error(`${file} includes ${m[1]}, which no volume provides`);
    out.push(target, ...collectIncludes(target));
  }
  return out;
}

/** Starts nats-server on a prepared config with exactly the container's env. */
export async function startPreparedNats(prepared: PreparedNats): Promise<RunningNatsServer> {
  const tmp = path.join(prepared.pod.root, 'tmp');
  fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
  prepared.rewrites.push({ file: '(process env)', rule: NATS_REWRITES[7], from: '/tmp', to: tmp });
  return startNatsServerProcess({
    configFile: prepared.configFile,
    cwd: path.dirname(prepared.configFile),
    env: { ...prepared.pod.env, TMPDIR: tmp },
    ports: prepared.ports,
    name: `${prepared.cluster}/${prepared.statefulSet}`,
    readyTimeoutMs: 15_000,
    hostsFile: prepared.hostsFile,
  });
}

// ---------------------------------------------------------------------------
// Observation
// ---------------------------------------------------------------------------

/** GET a monitoring endpoint as JSON. */
export function monitor(port: number, endpoint: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: endpoint, timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(new Error(`GET ${endpoint} on :${port}: not JSON (${(e as Error).message})`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${endpoint} on :${port} timed out`)));
    req.on('error', reject);
  });
}

/** The leaf connections a server reports on `/leafz`. */
export interface Leaf {
  readonly name: string;
  readonly account: string;
  readonly is_spoke?: boolean;
}
export async function leafz(server: { ports: { http: number } } | PreparedNats): Promise<Leaf[]> {
  return ((await monitor(server.ports.http, '/leafz')).leafs ?? []) as Leaf[];
}

/** Polls `probe` every 100 ms until it returns a value other than undefined; fails after `timeoutMs` with `what` and the last state. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, describe?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const state = describe ? await describe().catch((e) => `(state unavailable: ${e})`) : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}${state ? `\n${state}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A fresh temp folder. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Replaces anything seed-shaped, so a failure message never prints a seed. */
export function redact(text: string): string {
  return text.replace(/S[UAXONCP][A-Z2-7]{56}/g, (s) => `${s.slice(0, 2)}…(seed redacted)`);
}

// ---------------------------------------------------------------------------
// 5. Gateway stand-in: the library's Gateway listeners with the routes attached
// ---------------------------------------------------------------------------

/** One listener of the library's Gateway as it runs on loopback. */
export interface GatewayListener {
  readonly name: string;
  /** The listener's port in the Gateway object (what clients put in URLs). */
  readonly gatewayPort: number;
  readonly protocol: string;
  readonly mode?: string;
  /** Where a client connects on loopback: the proxy, or for a plain TCP listener the backend itself. */
  readonly address: Endpoint;
  /** The routes attached, `Kind/name`. */
  readonly routes: string[];
  /** The TLS-terminating proxy of a Terminate listener. */
  readonly terminating?: RunningTlsTerminatingProxy;
  /** The SNI proxy of a Passthrough listener. */
  readonly passthrough?: RunningPassthrough;
  /** The SANs of the certificate a Terminate listener serves (exactly the library Certificate's). */
  readonly sans?: { dnsNames: string[]; ipAddresses: string[] };
}

/** What a Passthrough listener needs from the SNI proxy stand-in (e2e-standins). */
export interface RunningPassthrough {
  readonly port: number;
  stop(): Promise<void>;
}
export type PassthroughStarter = (routes: Array<{ hostnames: string[]; backend: Endpoint }>) => Promise<RunningPassthrough>;

export interface RunningGateway {
  readonly cluster: string;
  readonly listeners: Map<string, GatewayListener>;
  /** `host:gatewayPort` -> `127.0.0.1:port`, for every address in the Gateway's certificate (the remote hosts map of prepareNats). */
  hostMap(hosts: string[]): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Runs the library's Gateway of one cluster: for every route (rendered by the
 * chart or by the library) its parent listener, wired to its backend Service
 * port. A Terminate listener gets a TLS-terminating proxy whose certificate
 * the cert-manager stand-in issues from the library Certificate that writes
 * the listener's `certificateRefs` Secret (exactly its SANs, signed by its CA
 * issuer's CA); a Passthrough listener gets
 * the SNI proxy with the TLSRoute hostnames; a TCP listener forwards bytes
 * unchanged, so clients go straight to the backend.
 */
export async function startGateway(
  objects: ClusterObjects, services: Record<string, Endpoint>, passthrough?: PassthroughStarter,
): Promise<RunningGateway> {
  const gateways = objects.all().filter((o) => o.kind === 'Gateway');
  if (gateways.length !== 1) throw new Error(`${objects.cluster}: expected one Gateway among the library's objects, found ${gateways.length}`);
  const gateway = gateways[0];
  const routes = objects.all().filter((o) => /^(TCP|TLS)Route$/.test(o.kind));
  const byListener = new Map<string, any[]>();
  for (const r of routes) {
    for (const p of r.spec.parentRefs ?? []) {
      if (p.name !== gateway.metadata.name || (p.namespace ?? r.metadata.namespace) !== gateway.metadata.namespace) {
        throw new Error(`${objects.cluster}: ${r.kind}/${r.metadata.name} names parent ${p.namespace}/${p.name}, not the library's Gateway ${gateway.metadata.namespace}/${gateway.metadata.name}`);
      }
      const list = byListener.get(p.sectionName) ?? [];
      list.push(r);
      byListener.set(p.sectionName, list);
    }
  }
  const backendOf = (r: any): Endpoint => {
    const refs = r.spec.rules?.[0]?.backendRefs ?? [];
    if (refs.length !== 1) throw new Error(`${objects.cluster}: ${r.kind}/${r.metadata.name} has ${refs.length} backendRefs; the stand-in supports one`);
    const target = services[`${refs[0].name}:${refs[0].port}`];
    if (!target) throw new Error(`${objects.cluster}: ${r.kind}/${r.metadata.name} routes to Service ${refs[0].name}:${refs[0].port}, which is not running (running: ${Object.keys(services).join(', ')})`);
    return target;
  };

  const listeners = new Map<string, GatewayListener>();
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  try {
    for (const l of gateway.spec.listeners) {
      const attached = byListener.get(l.name) ?? [];
      if (attached.length === 0) continue;
      const names = attached.map((r) => `${r.kind}/${r.metadata.name}`);
      const mode = l.tls?.mode;
      if (l.protocol === 'TLS' && mode === 'Terminate') {
        if (attached.length !== 1) throw new Error(`${objects.cluster}: listener ${l.name} has ${attached.length} routes; the stand-in supports one`);
        // The listener's certificateRefs Secret, as cert-manager would write it from the library's Certificate.
        const issued = await issueCertificate(objects, l.tls.certificateRefs?.[0]?.name);
        const sans = issued.sans;
        const proxy = await startTlsTerminatingProxy({ cert: issued['tls.crt'], key: issued['tls.key'], backend: backendOf(attached[0]) });
        stops.push(() => proxy.stop());
        listeners.set(l.name, {
          name: l.name,
          gatewayPort: l.port,
          protocol: l.protocol,
          mode,
          address: { host: proxy.host, port: proxy.port },
          routes: names,
          terminating: proxy,
          sans,
        });
      } else if (l.protocol === 'TLS' && mode === 'Passthrough') {
        if (!passthrough) continue;
        const proxy = await passthrough(attached.map((r) => ({ hostnames: [...(r.spec.hostnames ?? [])], backend: backendOf(r) })));
        stops.push(() => proxy.stop());
        listeners.set(l.name, { name: l.name, gatewayPort: l.port, protocol: l.protocol, mode, address: { host: '127.0.0.1', port: proxy.port }, routes: names, passthrough: proxy });
      } else if (l.protocol === 'TCP') {
        if (attached.length !== 1) throw new Error(`${objects.cluster}: listener ${l.name} has ${attached.length} routes; the stand-in supports one`);
        listeners.set(l.name, { name: l.name, gatewayPort: l.port, protocol: l.protocol, address: backendOf(attached[0]), routes: names });
      } else {
        throw new Error(`${objects.cluster}: listener ${l.name} (${l.protocol}/${mode}) is not supported by the stand-in`);
      }
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    cluster: objects.cluster,
    listeners,
    hostMap: (hosts: string[]) => Object.fromEntries(hosts.flatMap((h) => [...listeners.values()].map((l) => [`${h}:${l.gatewayPort}`, `${l.address.host}:${l.address.port}`]))),
    stop,
  };
}

// ---------------------------------------------------------------------------
// 6. A cluster and a fleet
// ---------------------------------------------------------------------------

/** The auth-callout service stand-in (e2e-standins), started from the rendered auth-callout pod. */
export interface RunningCallout {
  stop(): Promise<void>;
}
/** What the rendered auth-callout pod gives its service. */
export interface CalloutPod {
  readonly cluster: string;
  /** The container, env resolved, mounts written under `pod.root`. */
  readonly pod: MaterializedPod;
  /** Maps a `nats://<service>:<port>` URL of the pod's config to the loopback Service (the one rewrite); fails for other hosts. */
  loopback(url: string): string;
}
export type CalloutStarter = (callout: CalloutPod) => Promise<RunningCallout>;

export interface RunningCluster {
  readonly name: string;
  readonly objects: ClusterObjects;
  readonly nats: RunningNatsServer;
  readonly natsPrepared: PreparedNats;
  readonly mtls?: RunningNatsServer;
  readonly mtlsPrepared?: PreparedNats;
  readonly callout?: RunningCallout;
  readonly gateway?: RunningGateway;
  /** Service `name:port` -> loopback endpoint. */
  readonly services: Record<string, Endpoint>;
  /** Streams the NACK stand-in created from the rendered Stream objects. */
  readonly streams: string[];
  stop(): Promise<void>;
}

export interface StartClusterOptions {
  readonly name: string;
  readonly objects: ClusterObjects;
  /** The pod roots go under here. */
  readonly workDir: string;
  /** Leaf remote `host:port` -> loopback (e.g. the CSC gateway's). */
  readonly remoteHosts?: Record<string, string>;
  /** The DNS stand-in for the `nats` StatefulSet's leaf remotes (NATS_REWRITES[8]). */
  readonly dns?: DnsStandIn;
  readonly callout?: CalloutStarter;
  /** Start this cluster's Gateway stand-in (default true). */
  readonly gateway?: boolean;
  readonly passthrough?: PassthroughStarter;
  /** Start the nats-mtls StatefulSet when the chart rendered it (default true). */
  readonly mtls?: boolean;
  /** Create the rendered Streams as NACK would (default true; needs `callout`). */
  readonly streams?: boolean;
}

/** Starts one cluster's nats, auth-callout, nats-mtls and Gateway from its rendered objects; on failure stops what it started. */
export async function startCluster(o: StartClusterOptions): Promise<RunningCluster> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const root = (what: string) => path.join(o.workDir, o.name, what);
    const natsPrepared = await prepareNats(o.objects, 'nats', root('nats'), o.remoteHosts ?? {}, o.dns);
    const nats = await startPreparedNats(natsPrepared);
    stops.push(() => nats.stop());
    const services: Record<string, Endpoint> = {
      'nats:4222': { host: '127.0.0.1', port: natsPrepared.ports.port },
      'nats:7422': { host: '127.0.0.1', port: natsPrepared.ports.leafnode },
      'nats:1883': { host: '127.0.0.1', port: natsPrepared.ports.mqtt },
    };
    const loopback = (url: string) => {
      const m = /^nats:\/\/([^:/]+):(\d+)$/.exec(url);
      const target = m ? services[`${m[1]}:${m[2]}`] : undefined;
      if (!target) throw new Error(`${o.name}: NATS URL ${url} of a rendered pod is not a running Service (${Object.keys(services).join(', ')})`);
      return `nats://${target.host}:${target.port}`;
    };
    let callout: RunningCallout | undefined;
    if (o.callout) {
      const deployment = o.objects.all().find((x) => x.kind === 'Deployment' && x.spec.template.spec.containers.some((c: any) => c.name === 'auth-callout'));
      if (!deployment) throw new Error(`${o.name}: the chart rendered no auth-callout Deployment`);
      const pod = materializePod(o.objects, 'Deployment', deployment.metadata.name, 'auth-callout', root('auth-callout'));
      callout = await o.callout({ cluster: o.name, pod, loopback });
      stops.push(() => callout!.stop());
    }
    // NACK's part: the rendered Streams exist before any MQTT client comes (needs the callout for NACK's NKey).
    const streams = o.callout && (o.streams ?? true) ? await createRenderedStreams(o.objects, root('nack'), loopback) : [];
    let mtls: RunningNatsServer | undefined;
    let mtlsPrepared: PreparedNats | undefined;
    if ((o.mtls ?? true) && o.objects.find('StatefulSet', 'nats-mtls')) {
      mtlsPrepared = await prepareNats(o.objects, 'nats-mtls', root('nats-mtls'), { 'nats:7422': `127.0.0.1:${natsPrepared.ports.leafnode}` });
      mtls = await startPreparedNats(mtlsPrepared);
      stops.push(() => mtls!.stop());
      services['nats-mtls:1883'] = { host: '127.0.0.1', port: mtlsPrepared.ports.mqtt };
      services['nats-mtls:4222'] = { host: '127.0.0.1', port: mtlsPrepared.ports.port };
    }
    let gateway: RunningGateway | undefined;
    if (o.gateway ?? true) {
      gateway = await startGateway(o.objects, services, o.passthrough);
      stops.push(() => gateway!.stop());
    }
    return { name: o.name, objects: o.objects, nats, natsPrepared, mtls, mtlsPrepared, callout, gateway, services, streams, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * The chart contract: what the real upstream chart, rendered by `helm
 * template` with a cluster's `values.event-bus.yaml`, needs from the
 * library's manifests of that cluster, checked on the rendered objects.
 *
 * - Every Secret (and ConfigMap) name + key the chart references is produced:
 *   found by walking every rendered object generically (volumes and their
 *   items, projected volumes, `secretKeyRef`, `envFrom`, `imagePullSecrets`,
 *   and files named in mounted configuration, command lines and env values
 *   that resolve into a Secret mount). Producers: the chart's own objects,
 *   the library's Secrets, the targets of its ExternalSecrets and
 *   VaultStaticSecrets, the Secrets of its cert-manager Certificates, its
 *   ConfigMaps, and what the deployer provides (with `existing()` delivery:
 *   exactly what the library's inventory, `listSecrets()`, lists).
 * - No object is rendered by both the chart and the library.
 * - Every route (the chart's and the library's) names a listener of the
 *   library's Gateway that accepts its kind, with a compatible protocol and
 *   TLS mode, and forwards to a Service port the chart renders.
 * - Each CPC leaf remote URL is a host and port the CSC Gateway's leafnode
 *   listener serves, with the TLS settings that listener needs, and the CSC's
 *   leaf public key (as auth-callout reads it) derives from the CPC's seed (as
 *   the CPC's NATS server reads it).
 *
 * Every problem is one line naming the cluster, the object and the value.
 * Values of Secrets are resolved only to derive public keys; no message ever
 * holds a seed.
 */
import * as nkeys from 'nkeys.js';
import type { RenderedObject } from '../util/helm';
import type { Manifest } from '../util/schema';

/** Who is fixing a known library bug a problem comes from (see contract.test.ts). */
export type AwaitedFix = 'e2e-tls' | 'e2e-values';

/** One broken rule. */
export interface Problem {
  readonly check: 'secret-refs' | 'collisions' | 'routes' | 'leaf-url' | 'leaf-tls' | 'leaf-keys' | 'accounts' | 'renames';
  readonly message: string;
  /** Set when the problem is one of the known bugs another branch is fixing. */
  readonly awaiting?: AwaitedFix;
}

/** The library's inventory entry of one Secret (`EventBusSecrets.listSecrets()`). */
export interface InventoryEntry {
  readonly defaultName: string;
  readonly name: string;
  readonly keys: ReadonlyArray<{ readonly defaultKey: string; readonly key: string }>;
  readonly emitted: boolean;
}

/** Everything known about one cluster of a scenario. */
export interface ClusterUnderTest {
  /** `csc` or `cpc-<id>`. */
  readonly cluster: string;
  readonly namespace: string;
  /** The library's manifests of this cluster. */
  readonly library: Manifest[];
  /** `helm template` of the real chart with this cluster's values. */
  readonly chart: RenderedObject[];
  /** The library's inventory; required to accept deployer-provided Secrets (`existing()`). */
  readonly inventory?: InventoryEntry[];
  /** Whether the delivery is `existing()`: inventory Secrets not emitted are the deployer's. */
  readonly deployerProvidesSecrets: boolean;
  /** Remote store contents by path (the `dsx-event-bus export` layout), to resolve ExternalSecret/VaultStaticSecret/existing values. */
  readonly remote?: ReadonlyMap<string, Record<string, string>>;
  /** Remote-path prefix the deployer used for `existing()` (the export's). */
  readonly remotePrefix?: string;
  /** What this cluster's sealed-secrets controller makes of a SealedSecret: its values (utf8) by key. */
  readonly unseal?: (sealed: Obj) => Record<string, string>;
}

/** What the scenario expects that the checks cannot see in the output. */
export interface ScenarioExpectations {
  /** DNS names and IPs of the CSC gateway (its `hostnames` and `ipAddresses`). */
  readonly cscAddresses: string[];
  /** CPC leaf endpoints the scenario points outside the CSC gateway (the deployer's network), by CPC id. */
  readonly externalCscEndpoints?: Record<string, string>;
  /** Extra accounts and whether each should have JetStream on the CSC. */
  readonly extraAccounts: Record<string, { jetstream: boolean }>;
  /** Secrets and ConfigMaps the deployer provides (e.g. an existing CA for `LeafTrust.fromExistingSecret`), by cluster directory. */
  readonly deployerObjects?: Record<string, Array<{ kind: 'Secret' | 'ConfigMap'; name: string; keys: string[] }>>;
  /** TLS Secrets of the CSC gateway the deployer provides (`gateway.serverTlsSecret`): their SANs are the deployer's to get right. */
  readonly deployerTlsSecrets?: string[];
  /** Renamed Secrets per cluster: default name -> new name (and key renames), as the scenario asked. */
  readonly renames?: Record<string, Record<string, { name?: string; keys?: Record<string, string> }>>;
}

/** Counts for the proof report. */
export interface ContractCounts {
  references: number;
  fileReferences: number;
  routes: number;
  leafRemotes: number;
  keyPairs: number;
  objectsCompared: number;
  /** CPC trust bundles compared with the CA that signs the CSC gateway's certificate. */
  caCompared: number;
}

export function emptyCounts(): ContractCounts {
  return { references: 0, fileReferences: 0, routes: 0, leafRemotes: 0, keyPairs: 0, objectsCompared: 0, caCompared: 0 };
}

// ---------------------------------------------------------------------------
// References the chart makes

/** One reference of a rendered object to a Secret or ConfigMap (and a key in it). */
export interface Reference {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly name: string;
  readonly namespace: string;
  /** The key; undefined when the whole object is used (a volume without items, envFrom). */
  readonly key?: string;
  readonly optional: boolean;
  /** Where: `<Kind>/<name> <json path>`. */
  readonly from: string;
  /** The file path a container reads, when the reference was found through a mount. */
  readonly file?: string;
}

type Obj = Record<string, any>;

function objectId(o: Manifest, namespace: string): string {
  return `${o.kind}/${o.metadata?.namespace ?? namespace}/${o.metadata?.name}`;
}

/** Kinds without a namespace (a collision ignores the namespace for them). */
const CLUSTER_SCOPED = new Set(['ClusterIssuer', 'ClusterRole', 'ClusterRoleBinding', 'Namespace', 'CustomResourceDefinition', 'GatewayClass',
  'PriorityClass', 'StorageClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'PersistentVolume', 'ClusterSecretStore', 'ClusterExternalSecret']);

function namespaceOf(o: Manifest, release: string): string {
  return CLUSTER_SCOPED.has(o.kind) ? '' : (o.metadata?.namespace ?? release);
}

/**
 * Every Secret/ConfigMap reference in `objects`, found by walking each
 * object: any `secretKeyRef`/`configMapKeyRef`, `secretRef`/`configMapRef`
 * (envFrom), `secret`/`configMap` volume (with items: one reference per
 * item), projected sources and `imagePullSecrets`, wherever they occur; and,
 * per pod spec, every file a container names (arguments, env values, and
 * the text of ConfigMaps mounted into it) that lies under a mount.
 */
export function collectReferences(
  objects: RenderedObject[], namespace: string, configMaps: Map<string, Record<string, string>>,
): { refs: Reference[]; problems: string[] } {
  const refs: Reference[] = [];
  const problems: string[] = [];
  for (const o of objects) {
    const ns = namespaceOf(o, namespace);
    const at = `${o.kind}/${o.metadata?.name}`;
    walk(o, '', (node, p) => {
      if (isRef(node.secretKeyRef)) refs.push({ kind: 'Secret', name: node.secretKeyRef.name, key: node.secretKeyRef.key, namespace: ns, optional: !!node.secretKeyRef.optional, from: `${at} ${p}.secretKeyRef` });
      if (isRef(node.configMapKeyRef)) refs.push({ kind: 'ConfigMap', name: node.configMapKeyRef.name, key: node.configMapKeyRef.key, namespace: ns, optional: !!node.configMapKeyRef.optional, from: `${at} ${p}.configMapKeyRef` });
      if (isRef(node.secretRef) && !('key' in node.secretRef)) refs.push({ kind: 'Secret', name: node.secretRef.name, namespace: ns, optional: !!node.secretRef.optional, from: `${at} ${p}.secretRef` });
      if (isRef(node.configMapRef)) refs.push({ kind: 'ConfigMap', name: node.configMapRef.name, namespace: ns, optional: !!node.configMapRef.optional, from: `${at} ${p}.configMapRef` });
      const secretVolume = node.secret && typeof node.secret.secretName === 'string' ? { name: node.secret.secretName, ...node.secret } : undefined;
      const secretProjection = node.secret && typeof node.secret.name === 'string' && p.includes('.sources[') ? node.secret : undefined;
      const cmVolume = node.configMap && typeof node.configMap.name === 'string' ? node.configMap : undefined;
      for (const [kind, v] of [['Secret', secretVolume ?? secretProjection], ['ConfigMap', cmVolume]] as const) {
        if (!v) continue;
        const items: Array<{ key: string }> = Array.isArray(v.items) ? v.items : [];
        const where = `${at} ${p}.${kind === 'Secret' ? 'secret' : 'configMap'}`;
        if (items.length) for (const item of items) refs.push({ kind, name: v.name, key: item.key, namespace: ns, optional: !!v.optional, from: `${where}.items` });
        else refs.push({ kind, name: v.name, namespace: ns, optional: !!v.optional, from: where });
      }
      if (Array.isArray(node.imagePullSecrets)) {
        for (const s of node.imagePullSecrets) if (s && typeof s.name === 'string') refs.push({ kind: 'Secret', name: s.name, namespace: ns, optional: false, from: `${at} ${p}.imagePullSecrets` });
      }
      if (Array.isArray(node.containers)) fileReferences(node, `${at} ${p}`, ns, configMaps, refs, problems);
    });
  }
  return { refs, problems };
}

function isRef(v: any): v is { name: string; key?: string; optional?: boolean } {
  return v !== null && typeof v === 'object' && typeof v.name === 'string';
}

function walk(node: any, p: string, visit: (node: Obj, p: string) => void): void {
  if (Array.isArray(node)) {node.forEach((n, i) => walk(n, `${p}[${i}]`, visit));} else if (node !== null && typeof node === 'object') {
    visit(node, p);
    for (const [k, v] of Object.entries(node)) walk(v, p ? `${p}.${k}` : k, visit);
  }
}

/** Keys of NATS configuration that name a file the server reads. */
const NATS_FILE_KEYS = /["']?\b(cert_file|key_file|ca_file|credentials|nkey_file)\b["']?\s*[:=]?\s*["']?([^"'\s,}]+)/g;
const ABSOLUTE_PATH = /(?:^|[\s="'(:,])(\/[A-Za-z0-9._\-/]+[A-Za-z0-9_\-])/g;
const INCLUDE = /\binclude\s+["']?([^"'\s;]+)/g;

interface Mount { mountPath: string; subPath?: string; volume: Obj }

/**
 * Files a pod's containers read from its volumes: absolute paths in
 * command/args/env values and in mounted ConfigMap text (NATS `include`s
 * resolved relative to the including file), resolved through the container's
 * mounts to a Secret or ConfigMap key. A NATS file setting (`ca_file`, …)
 * that lies under no mount is a problem: the server would not start.
 */
function fileReferences(
  pod: Obj, at: string, ns: string, configMaps: Map<string, Record<string, string>>, refs: Reference[], problems: string[],
): void {
  const volumes = new Map<string, Obj>((pod.volumes ?? []).map((v: Obj) => [v.name, v]));
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const mounts: Mount[] = (c.volumeMounts ?? []).map((m: Obj) => ({ mountPath: m.mountPath.replace(/\/+$/, ''), subPath: m.subPath, volume: volumes.get(m.name) ?? {} }));
    const where = `${at} container ${c.name}`;
    const paths = new Map<string, string>(); // path -> what names it
    const addPaths = (text: string, what: string, dir?: string) => {
      for (const m of text.matchAll(ABSOLUTE_PATH)) if (!paths.has(m[1])) paths.set(m[1], what);
      for (const m of text.matchAll(INCLUDE)) {
        if (!dir || m[1].startsWith('/')) continue;
        const resolved = normalize(`${dir}/${m[1]}`);
        if (!paths.has(resolved)) paths.set(resolved, `${what} (include)`);
      }
    };
    for (const s of [...(c.command ?? []), ...(c.args ?? [])]) addPaths(String(s), 'command line');
    for (const e of c.env ?? []) if (typeof e.value === 'string') addPaths(e.value, `env ${e.name}`);
    const natsFiles: Array<[string, string]> = [];
    for (const m of mounts) {
      const cm = configMapOf(m.volume);
      if (!cm) continue;
      const data = configMaps.get(cm) ?? {};
      for (const [key, text] of Object.entries(data)) {
        const file = m.subPath ? m.mountPath : `${m.mountPath}/${key}`;
        addPaths(text, `${file} (ConfigMap ${cm})`, file.replace(/\/[^/]*$/, ''));
        for (const f of text.matchAll(NATS_FILE_KEYS)) if (f[2].startsWith('/')) natsFiles.push([f[2], `${file}: ${f[1]}`]);
      }
    }
    for (const [file, what] of natsFiles) {
      if (!mounts.some((m) => file === m.mountPath || file.startsWith(`${m.mountPath}/`))) {
        problems.push(`${where}: ${what} names ${file}, which is under no volume mount of the container (the server cannot read it)`);
      }
    }
    for (const [file, what] of paths) {
      const m = mounts.filter((x) => file === x.mountPath || file.startsWith(`${x.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      if (!m) continue;
      const rel = file === m.mountPath ? (m.subPath ?? '') : file.slice(m.mountPath.length + 1);
      const sources = volumeSources(m.volume);
      if (sources.length === 0) continue; // emptyDir, PVC, …: not a Secret or ConfigMap
      let found = false;
      for (const s of sources) {
        const item = s.items?.find((i: Obj) => i.path === rel);
        if (s.items?.length && !item) continue;
        const key = item ? item.key : rel;
        if (!key || key.includes('/')) continue;
        refs.push({ kind: s.kind, name: s.name, key, namespace: ns, optional: !!s.optional, from: `${where}: ${what}`, file });
        found = true;
        if (sources.length > 1) break;
      }
      if (!found) problems.push(`${where}: ${what} names ${file}, but volume ${m.volume.name} mounted at ${m.mountPath} has no such file (items: ${JSON.stringify(sources.flatMap((s) => s.items ?? []).map((i: Obj) => i.path))})`);
    }
  }
}

function normalize(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '..') out.pop();
    else if (part !== '.' && part !== '') out.push(part);
  }
  return `/${out.join('/')}`;
}

function configMapOf(volume: Obj): string | undefined {
  return typeof volume.configMap?.name === 'string' ? volume.configMap.name : undefined;
}

function volumeSources(volume: Obj): Array<{ kind: 'Secret' | 'ConfigMap'; name: string; items?: Obj[]; optional?: boolean }> {
  if (volume.secret?.secretName) return [{ kind: 'Secret', name: volume.secret.secretName, items: volume.secret.items, optional: volume.secret.optional }];
  if (volume.configMap?.name) return [{ kind: 'ConfigMap', name: volume.configMap.name, items: volume.configMap.items, optional: volume.configMap.optional }];
  if (Array.isArray(volume.projected?.sources)) {
    return volume.projected.sources.flatMap((s: Obj) => s.secret ? [{ kind: 'Secret', ...s.secret }] : s.configMap ? [{ kind: 'ConfigMap', ...s.configMap }] : []);
  }
  return [];
}

// ---------------------------------------------------------------------------
// What produces Secrets and ConfigMaps

/** One Secret or ConfigMap that will exist in the cluster, and who makes it. */
export interface Produced {
  readonly kind: 'Secret' | 'ConfigMap';
  readonly name: string;
  readonly namespace: string;
  /** Its keys; undefined when any key may be there (e.g. `dataFrom`). */
  readonly keys?: Set<string>;
  readonly by: string;
  /** The value of a key, when the test can know it (inline data, the remote store). */
  readonly value?: (key: string) => string | undefined;
}

const EXACT = /^\^((?:[^\\^$.*+?()[\]{}|]|\\.)*)\$$/;

/** What the library's manifests (and, with `existing()`, the deployer) make in this cluster. */
export function libraryProduces(c: ClusterUnderTest): Produced[] {
  const out: Produced[] = [];
  const remote = (path: string, prop: string) => c.remote?.get(path)?.[prop];
  for (const o of c.library as Obj[]) {
    const ns = o.metadata?.namespace ?? c.namespace;
    const by = `library ${o.kind}/${o.metadata?.name}`;
    if (o.kind === 'Secret') {
      const data: Record<string, string> = { ...(o.data ?? {}) };
      for (const [k, v] of Object.entries(o.stringData ?? {})) data[k] = Buffer.from(String(v)).toString('base64');
      out.push({ kind: 'Secret', name: o.metadata.name, namespace: ns, keys: new Set(Object.keys(data)), by, value: (k) => data[k] === undefined ? undefined : Buffer.from(data[k], 'base64').toString('utf8') });
    } else if (o.kind === 'ConfigMap') {
      out.push({ kind: 'ConfigMap', name: o.metadata.name, namespace: ns, keys: new Set([...Object.keys(o.data ?? {}), ...Object.keys(o.binaryData ?? {})]), by, value: (k) => o.data?.[k] });
    } else if (o.kind === 'ExternalSecret') {
      const t = o.spec.target ?? {};
      const refs = new Map<string, { key: string; property: string }>((o.spec.data ?? []).map((d: Obj) => [d.secretKey, d.remoteRef]));
      const keys = o.spec.dataFrom || t.template?.data ? undefined : new Set(refs.keys());
      out.push({
        kind: 'Secret',
        name: t.name ?? o.metadata.name,
        namespace: ns,
        keys,
        by,
        value: (k) => refs.has(k) ? remote(refs.get(k)!.key, refs.get(k)!.property) : undefined,
      });
    } else if (o.kind === 'VaultStaticSecret') {
      const d = o.spec.destination;
      const t = d.transformation ?? {};
      const path: string = o.spec.path;
      const included = new Map<string, string>();
      let exact = true;
      for (const re of t.includes ?? []) {
        const m = EXACT.exec(re);
        if (m) included.set(m[1].replace(/\\(.)/g, '$1'), m[1].replace(/\\(.)/g, '$1'));
        else exact = false;
      }
      for (const [k, tpl] of Object.entries(t.templates ?? {}) as Array<[string, { text: string }]>) {
        const m = /^\{\{- get \.Secrets ("(?:[^"\\]|\\.)*") -\}\}$/.exec(tpl.text);
        included.set(k, m ? JSON.parse(m[1]) : '');
      }
      const keys = exact && (t.includes?.length || (t.excludes ?? []).includes('.*')) ? new Set(included.keys()) : undefined;
      out.push({ kind: 'Secret', name: d.name, namespace: ns, keys, by, value: (k) => included.has(k) ? remote(path, included.get(k)!) : undefined });
    } else if (o.kind === 'SealedSecret' && o.apiVersion.startsWith('bitnami.com/')) {
      // The controller makes the Secret of the SealedSecret's own name and namespace.
      let data: Record<string, string> | undefined;
      out.push({
        kind: 'Secret', name: o.metadata.name, namespace: ns, keys: new Set(Object.keys(o.spec.encryptedData ?? {})), by, value: (k) => (data ??= c.unseal?.(o))?.[k],
      });
    } else if (o.kind === 'Certificate' && o.apiVersion.startsWith('cert-manager.io/')) {
      out.push({ kind: 'Secret', name: o.spec.secretName, namespace: ns, keys: new Set(['tls.crt', 'tls.key', 'ca.crt']), by: `${by} (cert-manager)` });
    }
  }
  if (c.deployerProvidesSecrets) {
    for (const e of c.inventory ?? []) {
      if (e.emitted || out.some((p) => p.kind === 'Secret' && p.name === e.name)) continue;
      const path = `${c.remotePrefix ?? 'dsx-event-bus'}/${c.cluster}/${e.defaultName}`;
      const byKey = new Map(e.keys.map((k) => [k.key, k.defaultKey]));
      out.push({ kind: 'Secret', name: e.name, namespace: c.namespace, keys: new Set(byKey.keys()), by: `the deployer (library inventory: ${e.defaultName})`, value: (k) => byKey.has(k) ? remote(path, byKey.get(k)!) : undefined });
    }
  }
  return out;
}

/** The Secrets and ConfigMaps the chart renders itself. */
export function chartProduces(chart: RenderedObject[], namespace: string): Produced[] {
  return (chart as Obj[]).filter((o) => o.kind === 'Secret' || o.kind === 'ConfigMap').map((o) => ({
    kind: o.kind,
    name: o.metadata.name,
    namespace: namespaceOf(o as Manifest, namespace),
    keys: new Set([...Object.keys(o.data ?? {}), ...Object.keys(o.stringData ?? {}), ...Object.keys(o.binaryData ?? {})]),
    by: `chart ${o.kind}/${o.metadata.name}`,
    value: (k: string) => o.kind === 'ConfigMap' ? o.data?.[k] : undefined,
  }));
}

// ---------------------------------------------------------------------------
// The checks

/** Check 1: every reference the chart makes is produced (or the deployer's). */
export function checkReferences(c: ClusterUnderTest, expect: ScenarioExpectations, counts: ContractCounts): Problem[] {
  const problems: Problem[] = [];
  const deployer: Produced[] = (expect.deployerObjects?.[c.cluster] ?? []).map((d) => ({
    kind: d.kind, name: d.name, namespace: c.namespace, keys: new Set(d.keys), by: 'the deployer (named by the test)',
  }));
  const producers = [...chartProduces(c.chart, c.namespace), ...libraryProduces(c), ...deployer];
  const configMaps = new Map<string, Record<string, string>>();
  for (const p of producers) {
    if (p.kind === 'ConfigMap' && p.keys) configMaps.set(p.name, Object.fromEntries([...p.keys].map((k) => [k, p.value?.(k) ?? ''])));
  }
  const { refs, problems: fileProblems } = collectReferences(c.chart, c.namespace, configMaps);
  for (const m of fileProblems) problems.push({ check: 'secret-refs', message: `${c.cluster}: ${m}` });
  const renamed = expect.renames?.[c.cluster] ?? {};
  for (const r of refs) {
    counts.references++;
    if (r.file) counts.fileReferences++;
    const candidates = producers.filter((p) => p.kind === r.kind && p.name === r.name && p.namespace === r.namespace);
    const ok = candidates.some((p) => r.key === undefined || p.keys === undefined || p.keys.has(r.key));
    if (ok || r.optional) continue;
    const what = `${r.kind} ${r.namespace}/${r.name}${r.key !== undefined ? ` key ${JSON.stringify(r.key)}` : ''}`;
    const have = candidates.length ? ` (${candidates.map((p) => `${p.by} has keys ${JSON.stringify([...(p.keys ?? [])])}`).join('; ')})` : '';
    // A reference to a Secret's upstream name after the scenario renamed it: the rename did not reach the chart.
    const rename = renamed[r.name];
    problems.push({
      check: 'secret-refs',
      message: `${c.cluster}: ${r.from}${r.file ? ` (file ${r.file})` : ''} needs ${what}, which neither the library nor the chart produces${have}${rename ? `; the scenario renamed ${r.name} to ${rename.name ?? r.name}` : ''}`,
      awaiting: rename ? 'e2e-values' : undefined,
    });
  }
  return problems;
}

/** Check 2: no object is rendered by both the chart and the library (Secrets made by operators count as rendered by the library). */
export function checkCollisions(c: ClusterUnderTest, counts: ContractCounts): Problem[] {
  const idOf = (o: Manifest) => objectId({ ...o, metadata: { ...o.metadata, namespace: namespaceOf(o, c.namespace) } }, c.namespace);
  const chartIds = new Map(c.chart.map((o) => [idOf(o), o]));
  const libraryIds = new Map<string, string>();
  for (const o of c.library) libraryIds.set(idOf(o), `${o.kind}/${o.metadata?.name}`);
  for (const p of libraryProduces(c)) if (!p.by.startsWith('the deployer')) libraryIds.set(`${p.kind}/${p.namespace}/${p.name}`, p.by);
  counts.objectsCompared += chartIds.size + libraryIds.size;
  return [...libraryIds].filter(([id]) => chartIds.has(id)).map(([id, by]) => ({
    check: 'collisions' as const,
    message: `${c.cluster}: ${id} is rendered by the chart (${chartIds.get(id)!.source ?? 'chart'}) and by the library (${by})`,
  }));
}

interface ListenerInfo {
  name: string;
  protocol: string;
  port: number;
  hostname?: string;
  mode?: string;
  kinds: string[];
  from: string;
  certificateRefs: Obj[];
}

function gatewayOf(c: ClusterUnderTest): Obj | undefined {
  return (c.library as Obj[]).find((o) => o.kind === 'Gateway');
}

function listenersOf(gw: Obj): ListenerInfo[] {
  return (gw.spec.listeners ?? []).map((l: Obj) => ({
    name: l.name,
    protocol: l.protocol,
    port: l.port,
    hostname: l.hostname,
    mode: l.tls?.mode ?? (l.protocol === 'TLS' ? 'Terminate' : undefined),
    kinds: (l.allowedRoutes?.kinds ?? []).map((k: Obj) => k.kind),
    from: l.allowedRoutes?.namespaces?.from ?? 'Same',
    certificateRefs: l.tls?.certificateRefs ?? [],
  }));
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && !h.slice(0, -p.length + 1).includes('.') && h.length > p.length - 1;
  return p === h;
}

/**
 * Check 3: every route's parentRefs name a listener of the library's Gateway
 * that accepts the route: TCPRoute on TCP, or on TLS Terminate with route API
 * v1alpha2 (the library's table); TLSRoute on TLS Passthrough, or on TLS
 * Terminate with route API v1 (which docs/gateway.md documents); hostnames
 * intersecting the listener's; and a backend the chart's Services serve.
 */
export function checkRoutes(c: ClusterUnderTest, counts: ContractCounts): Problem[] {
  const problems: Problem[] = [];
  const routes = [
    ...c.chart.filter((o) => o.kind === 'TCPRoute' || o.kind === 'TLSRoute').map((o) => ({ o: o as Obj, by: 'chart' })),
    ...(c.library as Obj[]).filter((o) => o.kind === 'TCPRoute' || o.kind === 'TLSRoute').map((o) => ({ o, by: 'library' })),
  ];
  const gw = gatewayOf(c);
  const services = (c.chart as Obj[]).filter((o) => o.kind === 'Service');
  for (const { o, by } of routes) {
    counts.routes++;
    const where = `${c.cluster}: ${by} ${o.kind} ${o.metadata.name} (${o.apiVersion})`;
    const routeNs = o.metadata.namespace ?? c.namespace;
    if (!gw) {
      problems.push({ check: 'routes', message: `${where}: the library renders no Gateway in this cluster` });
      continue;
    }
    const gwNs = gw.metadata.namespace ?? c.namespace;
    const listeners = listenersOf(gw);
    const version = o.apiVersion.split('/')[1];
    for (const ref of o.spec.parentRefs ?? []) {
      if ((ref.kind ?? 'Gateway') !== 'Gateway' || (ref.group ?? 'gateway.networking.k8s.io') !== 'gateway.networking.k8s.io') {
        problems.push({ check: 'routes', message: `${where}: parentRef ${JSON.stringify(ref)} is not a Gateway` });
        continue;
      }
      if (ref.name !== gw.metadata.name || (ref.namespace ?? routeNs) !== gwNs) {
        problems.push({ check: 'routes', message: `${where}: parentRef names Gateway ${ref.namespace ?? routeNs}/${ref.name}, but the library's Gateway is ${gwNs}/${gw.metadata.name}` });
        continue;
      }
      const l = listeners.find((x) => x.name === ref.sectionName);
      if (!l) {
        problems.push({ check: 'routes', message: `${where}: sectionName ${JSON.stringify(ref.sectionName)} is no listener of Gateway ${gw.metadata.name} (listeners: ${listeners.map((x) => x.name).join(', ')})` });
        continue;
      }
      if (ref.port !== undefined && ref.port !== l.port) problems.push({ check: 'routes', message: `${where}: parentRef port ${ref.port} differs from listener ${l.name}'s port ${l.port}` });
      const compatible = o.kind === 'TCPRoute'
        ? l.protocol === 'TCP' || (l.protocol === 'TLS' && l.mode === 'Terminate' && version === 'v1alpha2')
        : l.protocol === 'TLS' && (l.mode === 'Passthrough' || (l.mode === 'Terminate' && version === 'v1'));
      if (!compatible) {
        problems.push({ check: 'routes', message: `${where}: listener ${l.name} is ${l.protocol}${l.mode ? ` ${l.mode}` : ''}, which does not carry a ${version} ${o.kind} (allowed: TCPRoute on TCP or, with v1alpha2, TLS Terminate; TLSRoute on TLS Passthrough or, with v1, TLS Terminate)` });
      }
      if (!l.kinds.includes(o.kind)) problems.push({ check: 'routes', message: `${where}: listener ${l.name} admits only ${JSON.stringify(l.kinds)}` });
      if (l.from === 'Same' && routeNs !== gwNs) problems.push({ check: 'routes', message: `${where}: listener ${l.name} admits routes from its own namespace ${gwNs} only; the route is in ${routeNs}` });
      const hostnames: string[] = o.spec.hostnames ?? [];
      if (o.kind === 'TLSRoute' && l.hostname && hostnames.length && !hostnames.some((h) => hostMatches(l.hostname!, h) || hostMatches(h, l.hostname!))) {
        problems.push({ check: 'routes', message: `${where}: hostnames ${JSON.stringify(hostnames)} do not intersect listener ${l.name}'s hostname ${l.hostname}` });
      }
    }
    for (const rule of o.spec.rules ?? []) {
      for (const b of rule.backendRefs ?? []) {
        const ns = b.namespace ?? routeNs;
        const svc = services.find((s) => s.metadata.name === b.name && (s.metadata.namespace ?? c.namespace) === ns);
        if (!svc) {problems.push({ check: 'routes', message: `${where}: backend Service ${ns}/${b.name} is not rendered by the chart` });} else if (!(svc.spec.ports ?? []).some((p: Obj) => p.port === b.port)) {
          problems.push({ check: 'routes', message: `${where}: backend Service ${b.name} has no port ${b.port} (ports: ${(svc.spec.ports ?? []).map((p: Obj) => p.port).join(', ')})` });
        }
      }
    }
  }
  return problems;
}

/** One leaf remote of a CPC's rendered `leafnodes.conf`. */
export interface LeafRemote {
  readonly urls: string[];
  readonly nkeyVar?: string;
  readonly account?: string;
  /** The `tls { }` block's fields, when there is one. */
  readonly tls?: Record<string, string>;
}

/** Parses the `remotes: [ {…} … ]` of the chart's rendered leafnodes.conf (the subset of NATS config syntax it uses). */
export function parseLeafRemotes(conf: string): LeafRemote[] {
  const start = conf.search(/\bremotes\s*[:=]?\s*\[/);
  if (start < 0) return [];
  const out: LeafRemote[] = [];
  let depth = 0;
  let blockStart = -1;
  for (let i = conf.indexOf('[', start) + 1; i < conf.length; i++) {
    const ch = conf[i];
    if (ch === '{') {
      if (depth === 0) blockStart = i;
      depth++;
    } else if (ch === '}') {
      depth--;
      if (depth === 0) out.push(parseRemote(conf.slice(blockStart + 1, i)));
    } else if (ch === ']' && depth === 0) {
      break;
    }
  }
  return out;
}

function parseRemote(text: string): LeafRemote {
  const tlsMatch = /\btls\s*[:=]?\s*\{([^}]*)\}/.exec(text);
  const outer = tlsMatch ? text.replace(tlsMatch[0], '') : text;
  const urls = [...(/\burls\s*[:=]?\s*\[([^\]]*)\]/.exec(outer)?.[1] ?? '').matchAll(/"([^"]+)"|'([^']+)'|([^\s,"']+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
  const url = /\burl\s*[:=]\s*"?([^"\s]+)"?/.exec(outer)?.[1];
  const tls = tlsMatch ? Object.fromEntries([...tlsMatch[1].matchAll(/(\w+)\s*[:=]\s*"?([^"\s]+)"?/g)].map((m) => [m[1], m[2]])) : undefined;
  return {
    urls: url ? [...urls, url] : urls,
    nkeyVar: /\bnkey\s*[:=]\s*\$\{?(\w+)\}?/.exec(outer)?.[1],
    account: /\baccount\s*[:=]\s*"?([\w-]+)"?/.exec(outer)?.[1],
    tls,
  };
}

/** The env var `name` of any container of the chart, as a secretKeyRef. */
function envSecretRef(chart: RenderedObject[], name: string): { name: string; key: string; from: string } | undefined {
  let found: { name: string; key: string; from: string } | undefined;
  for (const o of chart) {
    walk(o, '', (node, p) => {
      if (found || !Array.isArray(node.containers)) return;
      for (const c of node.containers) {
        const e = (c.env ?? []).find((x: Obj) => x.name === name);
        if (e?.valueFrom?.secretKeyRef) found = { ...e.valueFrom.secretKeyRef, from: `${o.kind}/${o.metadata?.name} ${p} container ${c.name}` };
      }
    });
  }
  return found;
}

/** Resolves the value of a Secret key from what produces it in this cluster. */
function secretValue(c: ClusterUnderTest, name: string, key: string): { value?: string; by?: string } {
  for (const p of libraryProduces(c)) {
    if (p.kind !== 'Secret' || p.name !== name) continue;
    const value = p.value?.(key);
    if (value !== undefined) return { value, by: p.by };
  }
  return {};
}

/**
 * Check 4: each CPC's leaf remotes reach the CSC's leafnode listener (port,
 * host in the listener's hostname / certificate SANs / the CSC's addresses,
 * scheme and TLS-first with a CA where the listener terminates TLS), one
 * remote per account, and the CSC's leaf public key for that CPC and account
 * (auth-callout's permission entry, through its env var and Secret) derives
 * from the seed the CPC's NATS server reads (through its env var and Secret).
 */
export function checkLeaf(
  csc: ClusterUnderTest, cpc: ClusterUnderTest, cpcId: string, expect: ScenarioExpectations, counts: ContractCounts,
): Problem[] {
  const problems: Problem[] = [];
  const leafConf = (cpc.chart as Obj[]).find((o) => o.kind === 'ConfigMap' && typeof o.data?.['leafnodes.conf'] === 'string');
  if (!leafConf) return [{ check: 'leaf-url', message: `${cpc.cluster}: the chart rendered no ConfigMap with leafnodes.conf` }];
  const remotes = parseLeafRemotes(leafConf.data['leafnodes.conf']);
  const accounts = ['CSC', ...Object.keys(expect.extraAccounts)];
  const got = remotes.map((r) => r.account ?? '?');
  if ([...got].sort().join() !== [...accounts].sort().join()) {
    problems.push({ check: 'leaf-url', message: `${cpc.cluster}: leaf remotes for accounts ${JSON.stringify(got)}, expected one per account ${JSON.stringify(accounts)}` });
  }

  // The CSC's leafnode listener: the one whose route forwards to the chart's leafnode port.
  const gw = gatewayOf(csc);
  const leafPort = leafnodePort(csc.chart);
  const routes = [...csc.chart, ...csc.library].filter((o) => o.kind === 'TCPRoute' || o.kind === 'TLSRoute') as Obj[];
  const leafRoute = routes.find((r) => (r.spec.rules ?? []).some((rule: Obj) => (rule.backendRefs ?? []).some((b: Obj) => b.name === 'nats' && b.port === leafPort)));
  const listener = gw && leafRoute ? listenersOf(gw).find((l) => l.name === leafRoute.spec.parentRefs?.[0]?.sectionName) : undefined;
  const certificate = listener?.certificateRefs[0]
    ? (csc.library as Obj[]).find((o) => o.kind === 'Certificate' && o.spec.secretName === listener.certificateRefs[0].name) : undefined;
  const external = expect.externalCscEndpoints?.[cpcId];

  for (const r of remotes) {
    counts.leafRemotes++;
    const where = `${cpc.cluster}: leaf remote of account ${r.account}`;
    for (const url of r.urls) {
      const m = /^(\w+):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?$/.exec(url);
      if (!m) {
        problems.push({ check: 'leaf-url', message: `${where}: URL ${JSON.stringify(url)} is not scheme://host[:port]` });
        continue;
      }
      const [, scheme, rawHost, rawPort] = m;
      const host = rawHost.replace(/^\[|\]$/g, '');
      const port = Number(rawPort ?? 7422);
      if (external) {
        if (url !== external) problems.push({ check: 'leaf-url', message: `${where}: URL ${url} differs from the endpoint the scenario gave (${external})` });
        continue; // outside the CSC gateway: the deployer's network
      }
      if (!listener) {
        problems.push({ check: 'leaf-url', message: `${where}: the CSC has no Gateway listener routed to the chart's leafnode port ${leafPort}` });
        continue;
      }
      if (port !== listener.port) problems.push({ check: 'leaf-url', message: `${where}: URL ${url} uses port ${port}, but the CSC's leafnode listener ${listener.name} listens on ${listener.port}` });
      if (listener.hostname && !hostMatches(listener.hostname, host)) problems.push({ check: 'leaf-url', message: `${where}: host ${host} does not match listener ${listener.name}'s hostname ${listener.hostname}` });
      if (!expect.cscAddresses.some((a) => a.toLowerCase() === host.toLowerCase())) {
        problems.push({ check: 'leaf-url', message: `${where}: host ${host} is not an address of the CSC gateway (${expect.cscAddresses.join(', ')})` });
      }
      if (listener.protocol === 'TLS' && listener.mode === 'Terminate') {
        if (scheme !== 'tls') problems.push({ check: 'leaf-url', message: `${where}: URL ${url} is not tls://, but listener ${listener.name} terminates TLS` });
        if (expect.deployerTlsSecrets?.includes(listener.certificateRefs[0]?.name)) {
          // The deployer's certificate: its SANs cannot be seen here.
        } else if (certificate) {
          const sans = [...(certificate.spec.dnsNames ?? []), ...(certificate.spec.ipAddresses ?? [])];
          if (!sans.some((s: string) => hostMatches(s, host))) problems.push({ check: 'leaf-url', message: `${where}: host ${host} is not among the CSC gateway certificate's SANs ${JSON.stringify(sans)}` });
        } else {
          problems.push({ check: 'leaf-url', message: `${where}: the CSC listener's certificate ${JSON.stringify(listener.certificateRefs[0])} is not a Certificate of the library, so its SANs cannot be checked` });
        }
        // A terminating listener waits for a ClientHello: the remote must start with TLS and trust the gateway's CA.
        if (!r.tls) {
          problems.push({
            check: 'leaf-tls',
            message: `${where}: no tls {} block, but listener ${listener.name} terminates TLS (needs handshake_first: true and a CA that verifies the gateway)`,
            awaiting: 'e2e-tls',
          });
        } else {
          if (r.tls.handshake_first !== 'true') problems.push({ check: 'leaf-tls', message: `${where}: tls {} lacks handshake_first: true (the terminating listener speaks TLS first)`, awaiting: 'e2e-tls' });
          // Without ca_file the system roots verify the gateway: fine for a public CA, never for a private CA the library creates.
          const issuer = certificate && privateIssuer(csc, certificate.spec.issuerRef);
          if (r.tls.ca_file && certificate) problems.push(...checkTrustedCa(csc, cpc, certificate, r.tls.ca_file, where, counts));
          if (!r.tls.ca_file && issuer) {
            problems.push({
              check: 'leaf-tls',
              message: `${where}: tls {} names no ca_file, so only the system roots verify the CSC gateway's certificate, which ${issuer} issues`,
              awaiting: 'e2e-tls',
            });
          }
        }
      } else if (listener.protocol === 'TCP' && scheme !== 'nats') {
        problems.push({ check: 'leaf-url', message: `${where}: URL ${url} is not nats://, but listener ${listener.name} is plain TCP` });
      }
    }

    // Keys: the CPC's seed (as its NATS server reads it) against the CSC's pubkey (as auth-callout reads it).
    if (!r.nkeyVar) {
      problems.push({ check: 'leaf-keys', message: `${where}: no nkey variable` });
      continue;
    }
    const seedRef = envSecretRef(cpc.chart, r.nkeyVar);
    if (!seedRef) {
      problems.push({ check: 'leaf-keys', message: `${where}: no container of the CPC chart sets $${r.nkeyVar} from a Secret` });
      continue;
    }
    const seed = secretValue(cpc, seedRef.name, seedRef.key);
    const permission = cscLeafPermission(csc, cpcId, r.account ?? '');
    if (!permission) {
      problems.push({ check: 'leaf-keys', message: `${csc.cluster}: auth-callout has no leaf permission entry for CPC-${cpcId} in account ${r.account}` });
      continue;
    }
    const pubRef = envSecretRef(csc.chart, permission.envVar);
    if (!pubRef) {
      problems.push({ check: 'leaf-keys', message: `${csc.cluster}: permission ${permission.name} reads $${permission.envVar}, which no container sets from a Secret` });
      continue;
    }
    const pub = secretValue(csc, pubRef.name, pubRef.key);
    if (seed.value === undefined || pub.value === undefined) {
      problems.push({ check: 'leaf-keys', message: `${where}: cannot resolve ${seed.value === undefined ? `the seed (${cpc.cluster} Secret ${seedRef.name} key ${seedRef.key})` : ''}${seed.value === undefined && pub.value === undefined ? ' and ' : ''}${pub.value === undefined ? `the public key (${csc.cluster} Secret ${pubRef.name} key ${pubRef.key})` : ''}` });
      continue;
    }
    counts.keyPairs++;
    let derived: string;
    try {
      derived = nkeysPublicKeyOf(seed.value.trim());
    } catch {
      problems.push({ check: 'leaf-keys', message: `${where}: ${cpc.cluster} Secret ${seedRef.name} key ${seedRef.key} (${seed.by}) is not an NKey seed` });
      continue;
    }
    if (derived !== pub.value.trim()) {
      problems.push({ check: 'leaf-keys', message: `${where}: the seed in ${cpc.cluster} Secret ${seedRef.name}/${seedRef.key} (${seed.by}) derives ${derived}, but the CSC's ${pubRef.name}/${pubRef.key} (${pub.by}) holds ${pub.value.trim()}` });
    }
    if (!derived.startsWith('U')) problems.push({ check: 'leaf-keys', message: `${where}: the leaf key ${derived} is not a user key` });
  }
  return problems;
}

/**
 * nkeys.js's public key of a seed, remembered: the scenarios of a file draw on
 * the same deterministic test keys, and nkeys.js's pure-JS ed25519 takes tens
 * of milliseconds a key in jest. Throws on a text that is not a seed.
 */
const derivedPublicKeys = new Map<string, string>();
function nkeysPublicKeyOf(seed: string): string {
  let pub = derivedPublicKeys.get(seed);
  if (pub === undefined) {
    pub = nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
    derivedPublicKeys.set(seed, pub);
  }
  return pub;
}

/**
 * The CA a CPC trusts (its ca_file, through its mount, from what produces it)
 * against the CA that signs the CSC gateway's certificate, where the output
 * shows the latter: a CA generated inside the CSC cluster (a self-signed CA
 * Certificate) cannot be in any bundle given at synth time; a CA given as an
 * inline Secret must be in the bundle.
 */
function checkTrustedCa(
  csc: ClusterUnderTest, cpc: ClusterUnderTest, certificate: Obj, caFile: string, where: string, counts: ContractCounts,
): Problem[] {
  const ref = certificate.spec.issuerRef ?? {};
  const issuer = (csc.library as Obj[]).find((o) => o.kind === (ref.kind ?? 'Issuer') && o.metadata.name === ref.name && o.apiVersion.startsWith('cert-manager.io/'));
  const caSecret: string | undefined = issuer?.spec?.ca?.secretName;
  if (!caSecret) return [];
  const trusted = fileContent(cpc, caFile);
  const made = (csc.library as Obj[]).find((o) => o.kind === 'Certificate' && o.spec.secretName === caSecret);
  // A bundle fixed at synth time (the library's) cannot hold it; one the deployer copies from the CSC afterwards can.
  if (made && trusted?.by.includes('from library ')) {
    return [{
      check: 'leaf-tls',
      message: `${where}: ca_file ${caFile} (${trusted?.by ?? 'unknown source'}) cannot hold the CA that signs the CSC gateway's certificate: `
        + `${ref.kind ?? 'Issuer'} ${ref.name} signs with ${caSecret}, a CA cert-manager generates inside the CSC cluster (Certificate ${made.metadata.name})`,
      awaiting: 'e2e-tls',
    }];
  }
  if (made) return [];
  // cert-manager's CA issuer: the chain ends at the Secret's ca.crt (the fleet root above the cluster's
  // intermediate in tls.crt) when it has one, else at tls.crt itself.
  const ca = secretValue(csc, caSecret, 'ca.crt').value ?? secretValue(csc, caSecret, 'tls.crt').value;
  const bundle = trusted?.value;
  if (ca === undefined || bundle === undefined) return [];
  counts.caCompared++;
  const norm = (t: string) => t.replace(/\s+/g, '');
  const blocks = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length || !norm(bundle).includes(norm(blocks[0] ?? ''))) {
    return [{
      check: 'leaf-tls',
      message: `${where}: ca_file ${caFile} (${trusted!.by}) does not hold the root CA in the CSC's ${caSecret} whose chain signs its gateway certificate`,
      awaiting: 'e2e-tls',
    }];
  }
  return [];
}

/** What a container of the cluster's chart reads at `file`: its producer and value. */
function fileContent(c: ClusterUnderTest, file: string): { by: string; value?: string } | undefined {
  const producers = [...chartProduces(c.chart, c.namespace), ...libraryProduces(c)];
  const configMaps = new Map<string, Record<string, string>>();
  for (const p of producers) {
    if (p.kind === 'ConfigMap' && p.keys) configMaps.set(p.name, Object.fromEntries([...p.keys].map((k) => [k, p.value?.(k) ?? ''])));
  }
  const ref = collectReferences(c.chart, c.namespace, configMaps).refs.find((r) => r.file === file);
  if (!ref || ref.key === undefined) return undefined;
  const p = producers.find((x) => x.kind === ref.kind && x.name === ref.name && (!x.keys || x.keys.has(ref.key!)));
  return { by: p ? `${ref.kind} ${ref.name} key ${ref.key} from ${p.by}` : `${ref.kind} ${ref.name} key ${ref.key}`, value: p?.value?.(ref.key) };
}

/** `<Kind> <name> (<type>)` when the issuer is one the library creates with a private CA (self-signed CA, CA, Vault PKI). */
function privateIssuer(c: ClusterUnderTest, ref: Obj | undefined): string | undefined {
  if (!ref?.name) return undefined;
  const kind = ref.kind ?? 'Issuer';
  const issuer = (c.library as Obj[]).find((o) => o.kind === kind && o.metadata.name === ref.name && o.apiVersion.startsWith('cert-manager.io/'));
  const type = ['selfSigned', 'ca', 'vault'].find((t) => issuer?.spec?.[t] !== undefined);
  return issuer && type ? `the library's ${kind} ${ref.name} (${type}, a private CA)` : undefined;
}

function leafnodePort(chart: RenderedObject[]): number {
  const svc = (chart as Obj[]).find((o) => o.kind === 'Service' && o.metadata.name === 'nats');
  const p = (svc?.spec.ports ?? []).find((x: Obj) => x.name === 'leafnodes');
  return p?.port ?? 7422;
}

/** The CSC auth-callout permission entry for one CPC's leaf in one account, and the env var its public key comes from. */
function cscLeafPermission(csc: ClusterUnderTest, cpcId: string, account: string): { name: string; envVar: string } | undefined {
  const cm = (csc.chart as Obj[]).find((o) => o.kind === 'ConfigMap' && typeof o.data?.['permissions.json'] === 'string');
  if (!cm) return undefined;
  const nkey: Record<string, { account: string; public_key: string }> = JSON.parse(cm.data['permissions.json']).nkey ?? {};
  for (const [name, e] of Object.entries(nkey)) {
    if (e.account !== account || !new RegExp(`^leaf-(?:[a-z0-9-]+-)?cpc-${cpcId}$`).test(name)) continue;
    const v = /^\$\{(\w+)\}$/.exec(e.public_key)?.[1];
    if (v) return { name, envVar: v };
  }
  return undefined;
}

/** Extra accounts: the CSC renders each with the JetStream setting the scenario asked for. */
export function checkAccounts(csc: ClusterUnderTest, expect: ScenarioExpectations): Problem[] {
  const cm = (csc.chart as Obj[]).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'nats-accounts-config');
  const conf: string = cm?.data?.['accounts.conf'] ?? '';
  const problems: Problem[] = [];
  for (const [account, { jetstream }] of Object.entries(expect.extraAccounts)) {
    const block = new RegExp(`(?:^|\\n)\\s*"?${account}"?\\s*[:=]?\\s*\\{([\\s\\S]*?)\\n\\s*\\}`).exec(conf)?.[1];
    if (block === undefined) {
      problems.push({ check: 'accounts', message: `${csc.cluster}: account ${account} is not in the rendered accounts.conf` });
      continue;
    }
    const js = /\bjetstream\s*[:=]\s*(\w+|\{)/.exec(block)?.[1];
    const on = js === 'true' || js === 'enabled' || js === '{';
    if (on !== jetstream) {
      problems.push({ check: 'accounts', message: `${csc.cluster}: account ${account} renders jetstream ${js ?? '(unset)'}, the scenario asked for ${jetstream ? 'JetStream' : 'no JetStream'}`, awaiting: 'e2e-values' });
    }
  }
  return problems;
}

/** Renamed Secrets: the chart reads each renamed Secret under its new name, and no longer under the old one. */
export function checkRenames(c: ClusterUnderTest, expect: ScenarioExpectations): Problem[] {
  const renamed = expect.renames?.[c.cluster] ?? {};
  if (!Object.keys(renamed).length) return [];
  const { refs } = collectReferences(c.chart, c.namespace, new Map());
  const problems: Problem[] = [];
  for (const [from, to] of Object.entries(renamed)) {
    if (!to.name || to.name === from) continue;
    if (!refs.some((r) => r.kind === 'Secret' && r.name === to.name)) {
      problems.push({ check: 'renames', message: `${c.cluster}: ${from} was renamed to ${to.name}, but the chart never reads ${to.name}`, awaiting: 'e2e-values' });
    }
  }
  return problems;
}

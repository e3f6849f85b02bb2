/**
 * The objects a GitOps engine needs to deploy a fleet's output from git,
 * rendered as files: module-internal (the output layer, src/charts/app.ts,
 * adds them to what it writes). Everything is computed from the cluster
 * folders as written, so what an engine deploys is exactly what synth wrote.
 */
import { Yaml } from 'cdk8s';
import { Construct } from 'constructs';
import { GitOps, GitOpsKind, GitOpsSettings } from './gitops';
import { problem, quote } from '../errors';
import { testKeysLabel } from '../labels';
import {
  applicationSetsModule, appProjectsModule, gitRepositoriesModule, helmReleasesModule,
  helmRepositoriesModule, kustomizationsModule, ociRepositoriesModule,
} from './bindings';
import type { KustomizationSpecHealthChecks } from '../imports/flux-kustomizations-kustomize.toolkit.fluxcd.io';

/** Annotation that orders Argo CD's sync: lower waves are applied and healthy first. */
export const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';
/** Sync wave of the cluster's manifests (the chart's objects are in wave 0). */
export const MANIFESTS_WAVE = '-1';
/** Helm release name (as in the README's `helm install nats-event-bus`). */
export const RELEASE_NAME = 'nats-event-bus';
/** Name of the values ConfigMap Flux's HelmRelease reads. */
export const VALUES_CONFIG_MAP = 'nats-event-bus-values';

/**
 * The kinds the upstream chart (nats-event-bus 0.2.x with its subcharts)
 * renders, all namespaced: the AppProject allows them besides ours.
 * test/gitops proves every object of the real chart's render is allowed.
 */
const CHART_KINDS: Array<[string, string]> = [
  ['', 'ConfigMap'], ['', 'Pod'], ['', 'Secret'], ['', 'Service'], ['', 'ServiceAccount'],
  ['apps', 'Deployment'], ['apps', 'StatefulSet'], ['autoscaling', 'HorizontalPodAutoscaler'],
  ['gateway.networking.k8s.io', 'TCPRoute'], ['gateway.networking.k8s.io', 'TLSRoute'],
  ['jetstream.nats.io', 'Stream'], ['monitoring.coreos.com', 'PodMonitor'], ['monitoring.coreos.com', 'PrometheusRule'],
  ['monitoring.coreos.com', 'ServiceMonitor'], ['networking.k8s.io', 'Ingress'], ['policy', 'PodDisruptionBudget'],
  ['rbac.authorization.k8s.io', 'Role'], ['rbac.authorization.k8s.io', 'RoleBinding'],
];

/** Kinds whose readiness Flux checks before the chart: what makes or is a Secret the chart reads. */
const READY_KINDS = new Set(['Certificate', 'ExternalSecret', 'VaultStaticSecret']);
/**
 * Kinds Argo CD syncs in the earlier wave: the Secrets, the ConfigMaps the
 * chart reads, and what makes Secrets (with the issuers of the
 * Certificates). The Gateway and EnvoyProxy stay in the chart's wave: the
 * chart does not need them, and a Gateway is healthy only once it has an
 * address.
 */
const EARLY_KINDS = ['Certificate', 'ClusterIssuer', 'ConfigMap', 'ExternalSecret', 'Issuer', 'Secret', 'VaultStaticSecret'];

/** What the wiring needs to know of one cluster folder. */
export interface GitOpsClusterInput {
  /** The folder: `csc`, `cpc-<id>`. */
  readonly directory: string;
  /** Where it is deployed (Argo CD cluster name or server URL; Flux: the cluster whose Flux applies it). */
  readonly destination: string;
  /** Namespace of the Helm release. */
  readonly releaseNamespace: string;
  /** The files under manifests/, sorted. */
  readonly manifestFiles: readonly string[];
  /** The objects of those files. */
  readonly objects: readonly any[];
  /** The Secrets the chart reads (after overrides), in the release namespace. */
  readonly chartSecrets: readonly string[];
  /** Whether its objects were made from a test key store (they carry TEST_KEYS_LABEL; so do the engine's objects for it). */
  readonly testKeys: boolean;
}

/** What the management objects need of each cluster (small, so that a 1,000-cluster fleet streams). */
export interface GitOpsClusterSummary {
  readonly directory: string;
  readonly destination: string;
  readonly namespaces: readonly string[];
  /** `group/Kind` of every object, and whether cluster-scoped. */
  readonly kinds: ReadonlyArray<{ group: string; kind: string; namespaced: boolean }>;
  /** See {@link GitOpsClusterInput.testKeys}. */
  readonly testKeys: boolean;
}

/** A file of the output, relative to its top folder. */
export interface GitOpsFile {
  readonly path: string;
  readonly content: string;
}

/** Props of {@link GitOpsWiring}. */
export interface GitOpsWiringProps {
  readonly gitops: GitOps;
  /** Destination of each cluster folder that does not default to its folder's name. */
  readonly destinations: Record<string, string>;
}

/**
 * Marks a fleet as deployed by a GitOps engine; the output layer asks it for
 * the files (a construct, so that an `EventBusApp` finds it in the tree).
 */
export class GitOpsWiring extends Construct {
  public readonly settings: GitOpsSettings;
  private readonly destinations: Record<string, string>;

  constructor(scope: Construct, id: string, props: GitOpsWiringProps) {
    super(scope, id);
    this.settings = props.gitops._settings;
    this.destinations = { ...props.destinations };
  }

  /** The folder of the management files under the output folder. */
  public get folder(): string {
    return 'gitops';
  }

  /** Sets the destination of a cluster added later (EventBusFleet.addCpc). */
  public setDestination(directory: string, destination: string): void {
    this.destinations[directory] = destination;
  }

  /** Where the cluster folder `directory` is deployed. */
  public destination(directory: string): string {
    return this.destinations[directory] ?? directory;
  }

  /**
   * The `kustomization.yaml` of a cluster folder: its manifests (the path
   * Argo CD's first source and Flux's manifests Kustomization point at);
   * for Argo CD with the earlier sync wave on the Secrets and what makes
   * them, for Flux with the values ConfigMap generated from the values file.
   */
  public clusterFiles(c: GitOpsClusterInput, valuesFile: string): GitOpsFile[] {
    const k: any = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: c.manifestFiles.map((f) => `manifests/${f}`),
    };
    const early = EARLY_KINDS.filter((kind) => c.objects.some((o) => o.kind === kind));
    if (this.settings.kind === GitOpsKind.ARGO_CD && early.length) {
      // The sync wave is set here, in git, so that what Argo CD applies is
      // what `kustomize build` of this folder shows.
      k.patches = [{
        target: { kind: `^(${early.join('|')})$` },
        patch: Yaml.stringify({ apiVersion: 'v1', kind: 'SyncWave', metadata: { name: 'sync-wave', annotations: { [SYNC_WAVE]: MANIFESTS_WAVE } } }),
      }];
    }
    if (this.settings.kind === GitOpsKind.FLUX) {
      // No hash suffix: the HelmRelease names the ConfigMap; the label makes
      // helm-controller reconcile when the values change.
      k.generatorOptions = { disableNameSuffixHash: true, labels: { 'reconcile.fluxcd.io/watch': 'Enabled', ...testKeysLabel(c.testKeys) } };
      k.configMapGenerator = [{ name: VALUES_CONFIG_MAP, namespace: this.settings.engineNamespace, files: [valuesFile] }];
    }
    return [{ path: 'kustomization.yaml', content: yaml(k) }];
  }

  /** What the management files need of this cluster. */
  public summary(c: GitOpsClusterInput): GitOpsClusterSummary {
    const kinds = new Map<string, { group: string; kind: string; namespaced: boolean }>();
    const namespaces = new Set<string>([c.releaseNamespace]);
    for (const o of c.objects) {
      const group = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/')[0] : '';
      const namespaced = Boolean(o.metadata?.namespace);
      if (namespaced) namespaces.add(o.metadata.namespace);
      kinds.set(`${group}/${o.kind}/${namespaced}`, { group, kind: o.kind, namespaced });
    }
    const summary = { directory: c.directory, destination: c.destination, namespaces: [...namespaces].sort(), kinds: [...kinds.values()] };
    return { ...summary, testKeys: c.testKeys };
  }

  /** Flux's per-cluster files (under `gitops/flux/<destination>/`), for a Flux fleet. */
  public fluxFiles(c: GitOpsClusterInput, valuesFile: string): GitOpsFile[] {
    if (this.settings.kind !== GitOpsKind.FLUX) return [];
    return fluxFiles(this.settings, c, valuesFile).map((f) => ({ ...f, path: `flux/${c.destination}/${f.path}` }));
  }

  /** The Argo CD management files (under `gitops/argocd/`), once all clusters are known. */
  public argoCdFiles(clusters: GitOpsClusterSummary[], valuesFile: string): GitOpsFile[] {
    if (this.settings.kind !== GitOpsKind.ARGO_CD) return [];
    return argoCdFiles(this.settings, clusters, valuesFile).map((f) => ({ ...f, path: `argocd/${f.path}` }));
  }
}

const CLUSTER_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** One cluster's destination as given (undefined: the folder's name), and the field it came from, for errors. */
export interface DestinationEntry {
  readonly directory: string;
  readonly destination?: string;
  readonly field: string;
}

/** Checks each destination's form and that no two clusters are deployed to one destination. */
export function checkDestinations(kind: GitOpsKind, entries: DestinationEntry[]): void {
  const seen = new Map<string, string>();
  const argo = kind === GitOpsKind.ARGO_CD;
  for (const e of entries) {
    const dest = e.destination ?? e.directory;
    // A name is also a folder name (gitops/flux/<destination>/).
    const name = typeof dest === 'string' && CLUSTER_NAME.test(dest);
    const server = argo && typeof dest === 'string' && /^https:\/\/[^\s/]+(\/\S*)?$/.test(dest);
    if (!name && !server) {
      throw problem({
        where: e.field,
        problem: `gitopsDestination ${quote(dest)} is not a cluster`,
        allowed: argo
          ? 'an Argo CD cluster name (letters, digits, ., _, -) or API server URL (https://...)'
          : 'the name of the cluster whose Flux applies it (letters, digits, ., _, -; it names the folder gitops/flux/<name>/)',
        fix: 'e.g. prod-cpc-1, or remove it to use the folder name',
      });
    }
    const other = seen.get(dest);
    if (other) {
      throw problem({
        where: e.field,
        problem: `${other} and ${e.directory} are both deployed to ${quote(dest)}: their releases would overwrite each other`,
        fix: 'give each cluster its own gitopsDestination',
      });
    }
    seen.set(dest, e.directory);
  }
}

/** YAML of an object; a fresh copy, so that shared parts are not written as YAML anchors. */
function yaml(obj: unknown): string {
  return Yaml.stringify(JSON.parse(JSON.stringify(obj)));
}

/** `<path>/<rest>` in the repository (the output at the root has path ''). */
function repoPath(s: GitOpsSettings, rest: string): string {
  return s.path ? `${s.path}/${rest}` : rest;
}

/** Name of a management file, like the manifests': `<Kind>.<namespace>.<name>.yaml`. */
function fileOf(obj: any): GitOpsFile {
  return { path: `${obj.kind}.${obj.metadata.namespace ? obj.metadata.namespace + '.' : ''}${obj.metadata.name}.yaml`, content: yaml(obj) };
}

const LABELS = { 'app.kubernetes.io/part-of': 'dsx-event-bus', 'app.kubernetes.io/managed-by': 'cdk8s-dsx-event-bus' };

/** The engine's labels for objects that deploy what `testKeys` clusters hold: marked as their objects are. */
function labelsOf(testKeys: boolean): Record<string, string> {
  return { ...LABELS, ...testKeysLabel(testKeys) };
}

function argoCdFiles(s: GitOpsSettings, clusters: GitOpsClusterSummary[], valuesFile: string): GitOpsFile[] {
  const anyTestKeys = clusters.some((c) => c.testKeys);
  const argoProject = appProjectsModule();
  const argoSet = applicationSetsModule();
  const namespaced = new Map<string, { group: string; kind: string }>();
  const clusterScoped = new Map<string, { group: string; kind: string }>();
  for (const [group, kind] of CHART_KINDS) namespaced.set(`${group}/${kind}`, { group, kind });
  const destinations: any[] = [];
  for (const c of clusters) {
    for (const k of c.kinds) (k.namespaced ? namespaced : clusterScoped).set(`${k.group}/${k.kind}`, { group: k.group, kind: k.kind });
    for (const namespace of c.namespaces) destinations.push({ ...destinationOf(c.destination), namespace });
  }
  const byKey = (m: Map<string, { group: string; kind: string }>) => [...m.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, v]) => v);
  const chartSource = s.chartRepoUrl.startsWith('oci://') ? s.chartRepoUrl.slice('oci://'.length) : s.chartRepoUrl;
  const project = argoProject.AppProject.manifest({
    metadata: { name: s.name, namespace: s.engineNamespace, labels: labelsOf(anyTestKeys) },
    spec: {
      description: 'DSX Event Bus: each cluster\'s Secrets and certificates, then the nats-event-bus chart',
      sourceRepos: [s.repoUrl, chartSource],
      destinations,
      clusterResourceWhitelist: byKey(clusterScoped),
      namespaceResourceWhitelist: byKey(namespaced),
    },
  });
  const appSet = argoSet.ApplicationSet.manifest({
    metadata: { name: s.name, namespace: s.engineNamespace, labels: labelsOf(anyTestKeys) },
    spec: {
      goTemplate: true,
      goTemplateOptions: ['missingkey=error'],
      // One entry per cluster folder: a new CPC adds an entry, not an object.
      generators: [{ list: { elements: clusters.map((c) => ({ cluster: c.directory, ...destinationOf(c.destination, true) })) } }],
      template: {
        metadata: { name: `${s.name}-{{.cluster}}`, labels: labelsOf(anyTestKeys) },
        spec: {
          project: s.name,
          destination: { name: '{{.name}}', server: '{{.server}}' },
          sources: [
            {
              // The cluster folder (its kustomization.yaml): the Secrets and
              // what makes them are in a sync wave before the chart's objects
              // (wave 0), so Argo CD applies them and waits until they are
              // healthy (cert-manager Certificates, ExternalSecrets and
              // VaultStaticSecrets have built-in health checks) first.
              repoUrl: s.repoUrl,
              targetRevision: s.revision,
              path: repoPath(s, '{{.cluster}}'),
            },
            {
              repoUrl: chartSource,
              chart: s.chartName,
              targetRevision: s.chartVersion,
              helm: { releaseName: RELEASE_NAME, valueFiles: [`$values/${repoPath(s, `{{.cluster}}/${valuesFile}`)}`] },
            },
            { repoUrl: s.repoUrl, targetRevision: s.revision, ref: 'values' },
          ],
          syncPolicy: {
            automated: { prune: true, selfHeal: true },
            retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
          },
        },
      },
    },
  });
  return [fileOf(project), fileOf(appSet)];
}

/** An Argo CD destination: a server URL or a cluster name (the other one empty in a list element). */
function destinationOf(dest: string, both = false): { name?: string; server?: string } {
  const isServer = /^https?:\/\//.test(dest);
  if (!both) return isServer ? { server: dest } : { name: dest };
  return isServer ? { name: '', server: dest } : { name: dest, server: '' };
}

function fluxFiles(s: GitOpsSettings, c: GitOpsClusterInput, valuesFile: string): GitOpsFile[] {
  const fluxGit = gitRepositoriesModule();
  const fluxHelm = helmReleasesModule();
  const fluxHelmRepo = helmRepositoriesModule();
  const fluxKs = kustomizationsModule();
  const fluxOci = ociRepositoriesModule();
  const helmRepositoryKind = fluxHelm.HelmReleaseSpecChartSpecSourceRefKind.HELM_REPOSITORY;
  const ns = s.engineNamespace;
  const metadata = (name: string) => ({ name, namespace: ns, labels: labelsOf(c.testKeys) });
  const source = fluxGit.GitRepository.manifest({
    metadata: metadata('event-bus'),
    spec: { interval: '5m', url: s.repoUrl, ref: s.revision.startsWith('refs/') ? { name: s.revision } : { branch: s.revision } },
  });
  // The Secrets the chart reads, and what makes them (Certificates,
  // ExternalSecrets, VaultStaticSecrets): the release waits for all of them.
  const healthChecks: KustomizationSpecHealthChecks[] = [];
  for (const o of c.objects) {
    if (!READY_KINDS.has(o.kind)) continue;
    healthChecks.push({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace });
  }
  for (const name of c.chartSecrets) healthChecks.push({ apiVersion: 'v1', kind: 'Secret', name, namespace: c.releaseNamespace });
  const gitSource = { kind: fluxKs.KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: 'event-bus' };
  const manifests = fluxKs.Kustomization.manifest({
    metadata: metadata('event-bus-manifests'),
    spec: {
      interval: '10m',
      retryInterval: '1m',
      timeout: '5m',
      prune: true,
      sourceRef: gitSource,
      path: `./${repoPath(s, c.directory)}`,
      healthChecks,
    },
  });
  const release = fluxKs.Kustomization.manifest({
    metadata: metadata('event-bus-release'),
    spec: {
      interval: '10m',
      retryInterval: '1m',
      timeout: '10m',
      prune: true,
      wait: true,
      // The chart is installed only once the manifests' health checks pass
      // (a HelmRelease can depend on HelmReleases only, so its Kustomization does).
      dependsOn: [{ name: 'event-bus-manifests' }],
      sourceRef: gitSource,
      path: `./${repoPath(s, `gitops/flux/${c.destination}/release`)}`,
    },
  });
  const oci = s.chartRepoUrl.startsWith('oci://');
  const chartSource = oci
    ? fluxOci.OciRepository.manifest({
      metadata: metadata(s.chartName),
      spec: {
        interval: '1h',
        url: `${s.chartRepoUrl}/${s.chartName}`,
        // OCI tags cannot hold '+': Helm pushes 1.0.0+x as 1.0.0_x.
        ref: { tag: s.chartVersion.replace(/\+/g, '_') },
        layerSelector: { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', operation: fluxOci.OciRepositorySpecLayerSelectorOperation.COPY },
      },
    })
    : fluxHelmRepo.HelmRepository.manifest({ metadata: metadata(s.chartName), spec: { interval: '1h', url: s.chartRepoUrl } });
  const helmRelease = fluxHelm.HelmRelease.manifest({
    metadata: metadata(RELEASE_NAME),
    spec: {
      interval: '10m',
      releaseName: RELEASE_NAME,
      targetNamespace: c.releaseNamespace,
      ...(oci
        ? { chartRef: { kind: fluxHelm.HelmReleaseSpecChartRefKind.OCI_REPOSITORY, name: s.chartName } }
        : { chart: { spec: { chart: s.chartName, version: s.chartVersion, sourceRef: { kind: helmRepositoryKind, name: s.chartName } } } }),
      valuesFrom: [{ kind: fluxHelm.HelmReleaseSpecValuesFromKind.CONFIG_MAP, name: VALUES_CONFIG_MAP, valuesKey: valuesFile }],
    },
  });
  const top = [source, manifests, release].map(fileOf);
  const rel = [chartSource, helmRelease].map(fileOf);
  const kustomization = (files: GitOpsFile[]) => ({
    path: 'kustomization.yaml',
    content: yaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files.map((f) => f.path) }),
  });
  return [...top, kustomization(top), ...rel.map((f) => ({ ...f, path: `release/${f.path}` })), { ...kustomization(rel), path: 'release/kustomization.yaml' }];
}

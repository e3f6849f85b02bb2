import { problem, quote } from '../errors';

/** Which GitOps engine deploys the fleet (library-internal: not exported from the package). */
export enum GitOpsKind {
  /** Argo CD: one AppProject and one ApplicationSet in the management cluster. */
  ARGO_CD = 'argocd',
  /** Flux: a GitRepository, two Kustomizations and a HelmRelease per cluster. */
  FLUX = 'flux',
}

/** The upstream Helm chart, pinned by version, as the GitOps engine fetches it. */
export interface GitOpsChartOptions {
  /**
   * The chart repository: `oci://<registry>/<path>` (an OCI registry) or an
   * `https://` Helm repository (with an index.yaml).
   */
  readonly repoUrl: string;
  /**
   * The chart's name in that repository.
   * @default "nats-event-bus"
   */
  readonly name?: string;
  /** The chart version (an exact version, not a range: the deployment is pinned). */
  readonly version: string;
}

/** What both GitOps engines need: where the output is committed and which chart to install. */
export interface GitOpsOptions {
  /** URL of the git repository this output (the synth folder) is committed to. */
  readonly repoUrl: string;
  /**
   * The branch (or, for Argo CD, any revision) the engine follows.
   * @default "main"
   */
  readonly revision?: string;
  /**
   * The output folder's path in that repository, relative to its root
   * (e.g. `deploy/event-bus`); `.` when the output is the repository's root.
   */
  readonly path: string;
  /** The upstream chart, pinned by version. */
  readonly chart: GitOpsChartOptions;
}

/** Options of {@link GitOps.argoCd}. */
export interface ArgoCdGitOpsOptions extends GitOpsOptions {
  /**
   * Namespace of Argo CD in the management cluster (where the AppProject and
   * the ApplicationSet live).
   * @default "argocd"
   */
  readonly argoCdNamespace?: string;
  /**
   * Name of the AppProject and of the ApplicationSet; each Application is
   * `<name>-<cluster folder>`.
   * @default "event-bus"
   */
  readonly name?: string;
}

/** Options of {@link GitOps.flux}. */
export interface FluxGitOpsOptions extends GitOpsOptions {
  /**
   * Namespace of Flux in each cluster (where the sources, Kustomizations,
   * HelmRelease and the values ConfigMap live).
   * @default "flux-system"
   */
  readonly fluxNamespace?: string;
}

/** The checked settings of one engine (library-internal). */
export interface GitOpsSettings {
  readonly kind: GitOpsKind;
  readonly repoUrl: string;
  readonly revision: string;
  /** Path of the output in the repository, without `./` and trailing `/`; '' for the root. */
  readonly path: string;
  readonly chartRepoUrl: string;
  readonly chartName: string;
  readonly chartVersion: string;
  /** Argo CD or Flux namespace. */
  readonly engineNamespace: string;
  /** Argo CD: the AppProject/ApplicationSet name. */
  readonly name: string;
}

/**
 * How the fleet is deployed from git: the objects a GitOps engine needs to
 * deploy every cluster's manifests before the upstream chart.
 * `GitOps.argoCd(...)` writes `gitops/argocd/` (an AppProject and one
 * ApplicationSet for the whole fleet); `GitOps.flux(...)` writes
 * `gitops/flux/<destination>/` per cluster (a GitRepository, a Kustomization
 * of the cluster's manifests, a Kustomization of the HelmRelease that depends
 * on it). Both add a `kustomization.yaml` to each cluster folder.
 */
export class GitOps {
  /**
   * Argo CD: one AppProject and one ApplicationSet (a list generator with one
   * entry per cluster folder) to apply once to the management cluster.
   */
  public static argoCd(options: ArgoCdGitOpsOptions): GitOps {
    const where = 'GitOps.argoCd';
    return new GitOps(settings(GitOpsKind.ARGO_CD, options, where, options?.argoCdNamespace ?? 'argocd', options?.name ?? 'event-bus'));
  }

  /**
   * Flux: per cluster, a GitRepository and two Kustomizations (the cluster's
   * manifests, then the HelmRelease that depends on them) to apply once to
   * that cluster's Flux.
   */
  public static flux(options: FluxGitOpsOptions): GitOps {
    return new GitOps(settings(GitOpsKind.FLUX, options, 'GitOps.flux', options?.fluxNamespace ?? 'flux-system', 'event-bus'));
  }

  /** @internal */
  public readonly _settings: GitOpsSettings;

  private constructor(s: GitOpsSettings) {
    this._settings = s;
  }

  /** The engine: `argocd` or `flux`. */
  public get engine(): string {
    return this._settings.kind;
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Helm's SemVer 2 (an exact version: no range operators). */
const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

function settings(kind: GitOpsKind, o: GitOpsOptions, where: string, engineNamespace: string, name: string): GitOpsSettings {
  if (!o || typeof o !== 'object') throw problem({ where, problem: 'no options were given', fix: 'pass { repoUrl, path, chart: { repoUrl, version } }' });
  const url = (value: unknown, field: string, schemes: string[], example: string): string => {
    const text = typeof value === 'string' ? value : '';
    if (!schemes.some((s) => text.startsWith(s) && text.length > s.length) || /\s/.test(text)) {
      throw problem({ where: `${where}: ${field}`, problem: `${quote(value)} is not a repository URL`, allowed: `a URL starting with ${schemes.join(' or ')}`, fix: `e.g. ${example}` });
    }
    return text.replace(/\/+$/, '');
  };
  const repoUrl = url(o.repoUrl, 'repoUrl', ['https://', 'http://', 'ssh://', 'git@'], 'https://git.example.com/platform/event-bus.git');
  const revision = o.revision ?? 'main';
  if (typeof revision !== 'string' || revision === '' || /\s/.test(revision)) {
    throw problem({ where: `${where}: revision`, problem: `${quote(revision)} is not a git revision`, allowed: 'a branch name (Argo CD also accepts a tag or commit)', fix: 'e.g. main' });
  }
  const p = typeof o.path === 'string' ? o.path.replace(/^\.\/?/, '').replace(/\/+$/, '') : undefined;
  if (p === undefined || p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '.') || /\s|\/\//.test(p)) {
    throw problem({
      where: `${where}: path`,
      problem: `${quote(o.path)} is not a folder path inside the repository`,
      allowed: 'a relative path without . or .. parts (. for the repository root)',
      fix: 'give the output folder\'s path from the repository root, e.g. deploy/event-bus',
    });
  }
  const chart = o.chart;
  if (!chart || typeof chart !== 'object') throw problem({ where: `${where}: chart`, problem: 'no chart was given', fix: 'add chart: { repoUrl, version }' });
  const chartRepoUrl = url(chart.repoUrl, 'chart.repoUrl', ['oci://', 'https://', 'http://'], 'oci://registry.example.com/charts');
  const chartName = chart.name ?? 'nats-event-bus';
  if (typeof chartName !== 'string' || !DNS_LABEL.test(chartName)) {
    throw problem({ where: `${where}: chart.name`, problem: `${quote(chartName)} is not a chart name`, allowed: 'lower-case letters, digits and -', fix: 'e.g. nats-event-bus' });
  }
  if (typeof chart.version !== 'string' || !SEMVER.test(chart.version)) {
    throw problem({
      where: `${where}: chart.version`,
      problem: `${quote(chart.version)} is not an exact chart version`,
      allowed: 'a SemVer version such as 0.2.0 (no range: the deployment is pinned)',
      fix: 'use the version of the chart you tested, e.g. 0.2.0',
    });
  }
  for (const [field, value] of [['engine namespace', engineNamespace], ['name', name]] as const) {
    if (!DNS_LABEL.test(value) || value.length > 63) {
      throw problem({ where: `${where}: ${field === 'name' ? 'name' : kind === GitOpsKind.ARGO_CD ? 'argoCdNamespace' : 'fluxNamespace'}`, problem: `${quote(value)} is not a Kubernetes name`, allowed: 'a DNS label (lower-case letters, digits, -; at most 63)', fix: 'e.g. argocd' });
    }
  }
  return { kind, repoUrl, revision, path: p, chartRepoUrl, chartName, chartVersion: chart.version, engineNamespace, name };
}

/**
 * The GitOps wiring, proven on the objects synth writes:
 * - every Argo CD and Flux object is valid against its full pinned CRD
 *   (imports/argo-cd, imports/flux), and each Application the ApplicationSet
 *   generates against the Application spec schema (its `template.spec`);
 * - the real `kustomize build` of every path a Flux Kustomization points at
 *   yields exactly the cluster's manifests (plus, for the cluster folder, the
 *   values ConfigMap generated from values.event-bus.yaml);
 * - the real chart rendered with exactly the values source each
 *   Application / HelmRelease references passes the end-to-end contract
 *   checks (test/e2e/contract.ts);
 * - the ordering (manifests before the chart) read from the objects: sync
 *   waves for Argo CD, dependsOn for Flux;
 * - a 1+1,000 fleet's Argo CD wiring is the same two objects as a 1+1 fleet's.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import * as YAML from 'yaml';
import { EventBusFleet, EventBusFleetProps, GitOps, LeafTrust, SecretsDelivery } from '../../src';
import { VALUES_FILE } from '../../src/charts/fleet';
import { main } from '../../src/cli/run';
import { accountSecretToken } from '../../src/keys/layout';
import { exportFleet } from '../../src/secrets/inventory';
import { testFleetProps, testKeys } from '../charts/fleet-props';
import {
  checkAccounts, checkCollisions, checkLeaf, checkReferences, checkRoutes, ClusterUnderTest, emptyCounts, Problem,
} from '../e2e/contract';
import { tempDir, writeProofReport } from '../proof/scenarios';
import { tlsFixture } from '../secrets/tls-fixture';
import { dsxEventBus } from '../util/cli';
import { MINIMAL_FLEET } from '../util/fleet-yaml';
import { helmTemplate } from '../util/helm';
import { Manifest, manifestErrors } from '../util/schema';
import { chartMissing, helmMissing, KUSTOMIZE_BIN, kustomizeMissing, toolTest } from '../util/tools';

const REPO_URL = 'https://git.example.com/platform/event-bus.git';
const REPO_PATH = 'deploy/event-bus';
const WAVE = 'argocd.argoproj.io/sync-wave';
const AUTH_CALLOUT = {
  image: { repository: 'registry.example.com/platform/auth-callout', tag: '0.1.1' },
  jwks: { url: 'https://idp.example.com/.well-known/jwks.json', issuer: 'https://idp.example.com/', audience: 'dsx-event-bus' },
};

/** What the proofs covered, for test-reports/proof-gitops.json (a line of .ci/run's summary). */
const proof = {
  schemaValid: { argocd: 0, applications: 0, flux: 0 },
  kustomizeBuilds: 0,
  chartRenders: { argocd: 0, flux: 0 },
  contractReferences: 0,
  managementObjects: {} as Record<string, number>,
};
let workDir: string;
beforeAll(() => {
  workDir = tempDir('dsx-gitops-');
});
afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  if (proof.schemaValid.argocd + proof.schemaValid.flux > 0) writeProofReport('gitops', proof);
});

function props(gitops: GitOps, extra: Partial<EventBusFleetProps> = {}, ids = ['1', '2']): EventBusFleetProps {
  return testFleetProps({
    delivery: SecretsDelivery.externalSecrets({ storeName: 'vault' }),
    extraAccounts: ['LaunchLayer'],
    authCallout: AUTH_CALLOUT,
    gitops,
    ...extra,
  }, ids);
}

const argoCd = (chartRepo = 'oci://registry.example.com/charts') => GitOps.argoCd({ repoUrl: REPO_URL, path: REPO_PATH, chart: { repoUrl: chartRepo, version: '0.2.0' } });
const flux = (chartRepo = 'oci://registry.example.com/charts') => GitOps.flux({ repoUrl: REPO_URL, path: REPO_PATH, chart: { repoUrl: chartRepo, version: '0.2.0' } });

let seq = 0;
function synth(p: EventBusFleetProps): { outdir: string; fleet: EventBusFleet } {
  const outdir = path.join(workDir, `out-${++seq}`);
  const fleet = new EventBusFleet(new App({ outdir }), 'fleet', p);
  fleet.synth(outdir);
  return { outdir, fleet };
}

function readYaml(file: string): any {
  return YAML.parse(fs.readFileSync(file, 'utf8'));
}

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

function manifestsOf(clusterDir: string): Manifest[] {
  const dir = path.join(clusterDir, 'manifests');
  return fs.readdirSync(dir).sort().map((f) => readYaml(path.join(dir, f)));
}

const key = (o: any) => `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;

function kustomizeBuild(dir: string): any[] {
  const out = execFileSync(KUSTOMIZE_BIN, ['build', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  proof.kustomizeBuilds++;
  return YAML.parseAllDocuments(out).map((d) => d.toJSON()).filter((o) => o);
}

/** A repository path of the wiring as a path in the output folder (the output is committed at REPO_PATH). */
function localPath(outdir: string, repoPath: string): string {
  const rel = repoPath.replace(/^\.\//, '');
  expect(rel.startsWith(`${REPO_PATH}/`)).toBe(true);
  return path.join(outdir, rel.slice(REPO_PATH.length + 1));
}

/** The Applications the ApplicationSet generates: its template with each list element substituted. */
function applications(appSet: any): any[] {
  const elements: Array<Record<string, string>> = appSet.spec.generators[0].list.elements;
  return elements.map((e) => JSON.parse(JSON.stringify(appSet.spec.template).replace(/\{\{\.(\w+)\}\}/g, (_m, k) => {
    if (!(k in e)) throw new Error(`template names {{.${k}}}, which the list element has not (missingkey=error)`);
    return e[k];
  })));
}

/** The remote store as `dsx-event-bus export` writes it, for the contract's leaf-key check. */
function remoteOf(fleet: EventBusFleet): Map<string, Record<string, string>> {
  const csc = fleet.csc;
  const out = new Map<string, Record<string, string>>();
  for (const s of exportFleet(testKeys, { prefix: 'dsx-event-bus', cpcIds: csc.cpcIds, accountTokens: csc.extraAccounts.map(accountSecretToken), mtls: csc.mtls })) {
    out.set(s.path, Object.fromEntries(s.data));
  }
  return out;
}

/** The contract checks of test/e2e over each cluster, the chart rendered from `valuesFileOf(cluster)`. */
async function contractProblems(engine: 'argocd' | 'flux', fleet: EventBusFleet, outdir: string, valuesFileOf: (cluster: string) => string): Promise<Problem[]> {
  const counts = emptyCounts();
  const remote = remoteOf(fleet);
  const clusters: ClusterUnderTest[] = await Promise.all(fleet.charts.map(async (chart) => ({
    cluster: chart.cluster.directory,
    namespace: chart.releaseNamespace,
    library: manifestsOf(path.join(outdir, chart.cluster.directory)),
    chart: (await helmTemplate({ namespace: chart.releaseNamespace, valuesFiles: [valuesFileOf(chart.cluster.directory)] })).objects,
    inventory: chart.secrets.listSecrets(),
    deployerProvidesSecrets: false,
    remote,
    remotePrefix: 'dsx-event-bus',
  })));
  const expectations = { cscAddresses: ['csc.example.com'], extraAccounts: { LaunchLayer: { jetstream: false } } };
  const problems: Problem[] = [];
  for (const c of clusters) problems.push(...checkReferences(c, expectations, counts), ...checkCollisions(c, counts), ...checkRoutes(c, counts));
  const csc = clusters.find((c) => c.cluster === 'csc')!;
  problems.push(...checkAccounts(csc, expectations));
  for (const cpc of clusters.filter((c) => c !== csc)) problems.push(...checkLeaf(csc, cpc, cpc.cluster.slice('cpc-'.length), expectations, counts));
  expect(counts.references).toBeGreaterThan(0);
  proof.chartRenders[engine] += clusters.length;
  proof.contractReferences += counts.references;
  return problems;
}

describe('Argo CD', () => {
  test('the management objects are one AppProject and one ApplicationSet, valid against the full CRDs, and each generated Application against the Application spec schema', () => {
    const { outdir } = synth(props(argoCd()));
    const dir = path.join(outdir, 'gitops', 'argocd');
    expect(filesUnder(dir)).toEqual(['AppProject.argocd.event-bus.yaml', 'ApplicationSet.argocd.event-bus.yaml']);
    const project = readYaml(path.join(dir, 'AppProject.argocd.event-bus.yaml'));
    const appSet = readYaml(path.join(dir, 'ApplicationSet.argocd.event-bus.yaml'));
    expect(manifestErrors(project)).toEqual([]);
    expect(manifestErrors(appSet)).toEqual([]);
    proof.schemaValid.argocd += 2;
    const apps = applications(appSet);
    expect(apps.map((a) => a.metadata.name)).toEqual(['event-bus-csc', 'event-bus-cpc-1', 'event-bus-cpc-2']);
    for (const app of apps) {
      // Validated as the template of an ApplicationSet: template.spec is the Application's spec schema.
      expect(manifestErrors({ ...appSet, spec: { ...appSet.spec, template: app } })).toEqual([]);
      proof.schemaValid.applications++;
      expect(app.spec.destination).toEqual({ name: app.metadata.name.slice('event-bus-'.length), server: '' });
      expect(app.spec.project).toBe(project.metadata.name);
    }
  });

  test('each Application deploys its cluster folder, then the chart pinned by version with the committed values file (a $values reference)', () => {
    const { outdir } = synth(props(argoCd()));
    const appSet = readYaml(path.join(outdir, 'gitops', 'argocd', 'ApplicationSet.argocd.event-bus.yaml'));
    for (const app of applications(appSet)) {
      const cluster = app.metadata.name.slice('event-bus-'.length);
      const [manifests, chart, values] = app.spec.sources;
      expect(manifests).toEqual({ repoURL: REPO_URL, targetRevision: 'main', path: `${REPO_PATH}/${cluster}` });
      expect(chart).toEqual({
        repoURL: 'registry.example.com/charts',
        chart: 'nats-event-bus',
        targetRevision: '0.2.0',
        helm: { releaseName: 'nats-event-bus', valueFiles: [`$values/${REPO_PATH}/${cluster}/${VALUES_FILE}`] },
      });
      expect(values).toEqual({ repoURL: REPO_URL, targetRevision: 'main', ref: 'values' });
    }
  });

  toolTest('the manifests source builds (real kustomize) to exactly the cluster\'s manifests: the Secrets, what makes them and the ConfigMaps in wave -1, the rest in the chart\'s wave', [kustomizeMissing()], async () => {
    // A CA certificate as the CPCs' trust: each CPC gets a ConfigMap the chart reads.
    const { caCrt } = await tlsFixture();
    const { outdir } = synth(props(argoCd(), { cscTrust: LeafTrust.fromPem(caCrt) }));
    const appSet = readYaml(path.join(outdir, 'gitops', 'argocd', 'ApplicationSet.argocd.event-bus.yaml'));
    const early = ['Certificate', 'ConfigMap', 'ExternalSecret', 'Secret'];
    const seen = new Set<string>();
    for (const app of applications(appSet)) {
      const clusterDir = localPath(outdir, app.spec.sources[0].path);
      const built = kustomizeBuild(clusterDir);
      const expected = manifestsOf(clusterDir);
      expect(built.map(key).sort()).toEqual(expected.map(key).sort());
      for (const o of built) {
        seen.add(o.kind);
        const { [WAVE]: wave, ...others } = o.metadata.annotations ?? {};
        // Only the wave is added: the objects are otherwise exactly the manifests.
        const original = expected.find((e) => key(e) === key(o))!;
        const withoutWave = { ...o, metadata: { ...o.metadata, annotations: Object.keys(others).length ? others : undefined } };
        expect(withoutWave).toEqual({ ...original, metadata: { ...original.metadata, annotations: original.metadata?.annotations } });
        expect([key(o), wave]).toEqual([key(o), early.includes(o.kind) ? '-1' : undefined]);
      }
    }
    expect([...seen].sort()).toEqual(expect.arrayContaining(['Certificate', 'ConfigMap', 'ExternalSecret', 'Gateway']));
  });

  toolTest('the chart rendered with exactly the values file each Application references passes the contract checks, and the AppProject allows every object of both sources', [helmMissing(), chartMissing()], async () => {
    const { outdir, fleet } = synth(props(argoCd()));
    const dir = path.join(outdir, 'gitops', 'argocd');
    const project = readYaml(path.join(dir, 'AppProject.argocd.event-bus.yaml'));
    const apps = applications(readYaml(path.join(dir, 'ApplicationSet.argocd.event-bus.yaml')));
    const valuesOf = (cluster: string) => {
      const app = apps.find((a) => a.metadata.name === `event-bus-${cluster}`)!;
      const ref = app.spec.sources[1].helm.valueFiles[0] as string;
      expect(ref.startsWith('$values/')).toBe(true);
      return localPath(outdir, ref.slice('$values/'.length));
    };
    expect(await contractProblems('argocd', fleet, outdir, valuesOf)).toEqual([]);
    const allowed = new Set(project.spec.namespaceResourceWhitelist.map((k: any) => `${k.group}/${k.kind}`));
    for (const chart of fleet.charts) {
      const cluster = chart.cluster.directory;
      const rendered = (await helmTemplate({ namespace: chart.releaseNamespace, valuesFiles: [valuesOf(cluster)] })).objects;
      for (const o of [...rendered, ...manifestsOf(path.join(outdir, cluster))]) {
        const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
        const namespace = o.metadata?.namespace ?? chart.releaseNamespace;
        expect([cluster, key(o), allowed.has(`${group}/${o.kind}`)]).toEqual([cluster, key(o), true]);
        expect(project.spec.destinations).toContainEqual({ name: cluster, namespace });
        // The chart's objects stay in wave 0 (none sets a wave of its own), after the manifests' -1.
        expect(Number(o.metadata?.annotations?.[WAVE] ?? 0)).toBeGreaterThanOrEqual(0);
      }
    }
  }, 240_000);

  test('a 1+1,000 fleet has the same two management objects as a 1+1 fleet: one list entry per cluster', () => {
    // Synthesized by the compiled CLI from a fleet file (one process each): the
    // 1+1,000 synth takes about half the CPU time there that it takes in jest.
    const count = (ids: string[]) => {
      const dir = fs.mkdtempSync(path.join(workDir, 'scale-'));
      const file = path.join(dir, 'fleet.yaml');
      fs.writeFileSync(file, [
        `gitops:\n  argocd:\n    repoUrl: ${REPO_URL}\n    path: ${REPO_PATH}\n    chart: { repoUrl: oci://registry.example.com/charts, version: 0.2.0 }`,
        'delivery: { type: externalSecrets, storeName: vault }',
        'keys: { deterministicTestKeys: true }',
        'extraAccounts: [LaunchLayer]',
        'certificates: { selfSigned: true }',
        'cscTrust: { configMapName: csc-gateway-ca }',
        'clusters:',
        '  - type: csc\n    gateway: { hostnames: [csc.example.com] }',
        ...ids.map((id) => `  - type: cpc\n    id: "${id}"\n    gateway: { hostnames: [cpc-${id}.example.com] }`),
      ].join('\n') + '\n');
      const outdir = path.join(dir, 'dist');
      const r = dsxEventBus(['synth', '-c', file, '-o', outdir], { timeout: 240_000 });
      if (r.status !== 0) throw new Error(`synth of 1+${ids.length} failed (exit ${r.status}): ${r.stderr}`);
      const argo = path.join(outdir, 'gitops', 'argocd');
      const docs = filesUnder(argo).flatMap((f) => YAML.parseAllDocuments(fs.readFileSync(path.join(argo, f), 'utf8')));
      const appSet = readYaml(path.join(argo, 'ApplicationSet.argocd.event-bus.yaml'));
      expect(fs.readdirSync(outdir).filter((f) => /^(csc|cpc-)/.test(f))).toHaveLength(ids.length + 1);
      fs.rmSync(dir, { recursive: true, force: true });
      proof.managementObjects[`1+${ids.length}`] = docs.length;
      return { objects: docs.length, entries: appSet.spec.generators[0].list.elements.length };
    };
    expect(count(['1'])).toEqual({ objects: 2, entries: 2 });
    expect(count(Array.from({ length: 1000 }, (_, i) => String(i + 1)))).toEqual({ objects: 2, entries: 1001 });
  }, 300_000);

  test('gitopsDestination names an Argo CD cluster or server; the default is the folder name', () => {
    const p = props(argoCd());
    const { outdir } = synth({
      ...p,
      csc: { ...p.csc, gitopsDestination: 'https://csc.k8s.example.com:6443' },
      cpcs: [{ ...p.cpcs[0], gitopsDestination: 'prod-cpc-1' }, p.cpcs[1]],
    });
    const elements = readYaml(path.join(outdir, 'gitops', 'argocd', 'ApplicationSet.argocd.event-bus.yaml')).spec.generators[0].list.elements;
    expect(elements).toEqual([
      { cluster: 'csc', name: '', server: 'https://csc.k8s.example.com:6443' },
      { cluster: 'cpc-1', name: 'prod-cpc-1', server: '' },
      { cluster: 'cpc-2', name: 'cpc-2', server: '' },
    ]);
  });
});

describe('Flux', () => {
  test('per cluster: a GitRepository and two Kustomizations, and under release/ the chart source and the HelmRelease, all valid against the full CRDs', () => {
    for (const [chartRepo, sourceKind] of [['oci://registry.example.com/charts', 'OCIRepository'], ['https://charts.example.com', 'HelmRepository']]) {
      const { outdir } = synth(props(flux(chartRepo)));
      const root = path.join(outdir, 'gitops', 'flux');
      expect(fs.readdirSync(root).sort()).toEqual(['cpc-1', 'cpc-2', 'csc']);
      for (const cluster of ['csc', 'cpc-1', 'cpc-2']) {
        expect(filesUnder(path.join(root, cluster))).toEqual([
          'GitRepository.flux-system.event-bus.yaml',
          'Kustomization.flux-system.event-bus-manifests.yaml',
          'Kustomization.flux-system.event-bus-release.yaml',
          'kustomization.yaml',
          'release/HelmRelease.flux-system.nats-event-bus.yaml',
          `release/${sourceKind}.flux-system.nats-event-bus.yaml`,
          'release/kustomization.yaml',
        ].sort());
        for (const f of filesUnder(path.join(root, cluster)).filter((x) => !x.endsWith('kustomization.yaml'))) {
          const obj = readYaml(path.join(root, cluster, f));
          expect([f, manifestErrors(obj)]).toEqual([f, []]);
          proof.schemaValid.flux++;
        }
        const release = readYaml(path.join(root, cluster, 'release', 'HelmRelease.flux-system.nats-event-bus.yaml'));
        if (sourceKind === 'OCIRepository') {
          expect(release.spec.chartRef).toEqual({ kind: 'OCIRepository', name: 'nats-event-bus' });
          expect(readYaml(path.join(root, cluster, 'release', 'OCIRepository.flux-system.nats-event-bus.yaml')).spec.ref).toEqual({ tag: '0.2.0' });
        } else {
          expect(release.spec.chart.spec).toEqual({ chart: 'nats-event-bus', version: '0.2.0', sourceRef: { kind: 'HelmRepository', name: 'nats-event-bus' } });
        }
      }
    }
  });

  test('the HelmRelease\'s Kustomization depends on the manifests\' Kustomization, whose health checks cover every Secret the chart reads and every Certificate and ExternalSecret', () => {
    const { outdir, fleet } = synth(props(flux()));
    for (const chart of fleet.charts) {
      const dir = path.join(outdir, 'gitops', 'flux', chart.cluster.directory);
      const manifests = readYaml(path.join(dir, 'Kustomization.flux-system.event-bus-manifests.yaml'));
      const release = readYaml(path.join(dir, 'Kustomization.flux-system.event-bus-release.yaml'));
      expect(release.spec.dependsOn).toEqual([{ name: manifests.metadata.name }]);
      expect(release.spec.wait).toBe(true);
      expect(localPath(outdir, release.spec.path)).toBe(path.join(dir, 'release'));
      expect(localPath(outdir, manifests.spec.path)).toBe(path.join(outdir, chart.cluster.directory));
      const checks = manifests.spec.healthChecks.map((h: any) => `${h.kind} ${h.namespace}/${h.name}`).sort();
      const expected = [
        ...chart.secrets.listSecrets().map((s) => `Secret ${chart.releaseNamespace}/${s.name}`),
        ...manifestsOf(path.join(outdir, chart.cluster.directory))
          .filter((o) => ['Certificate', 'ExternalSecret'].includes(o.kind))
          .map((o) => `${o.kind} ${o.metadata!.namespace}/${o.metadata!.name}`),
      ].sort();
      expect(checks).toEqual(expected);
      expect(checks).toContain(`Secret ${chart.releaseNamespace}/auth-callout-keys`);
    }
  });

  toolTest('kustomize build of every path a Kustomization points at yields exactly the cluster\'s manifests (and the values ConfigMap), and the Flux objects of the wiring', [kustomizeMissing()], async () => {
    const { outdir, fleet } = synth(props(flux()));
    for (const chart of fleet.charts) {
      const cluster = chart.cluster.directory;
      const dir = path.join(outdir, 'gitops', 'flux', cluster);
      for (const name of ['event-bus-manifests', 'event-bus-release']) {
        const ks = readYaml(path.join(dir, `Kustomization.flux-system.${name}.yaml`));
        const built = kustomizeBuild(localPath(outdir, ks.spec.path));
        if (name === 'event-bus-manifests') {
          const expected = [...manifestsOf(path.join(outdir, cluster)).map(key), 'v1 ConfigMap flux-system/nats-event-bus-values'].sort();
          expect(built.map(key).sort()).toEqual(expected);
          for (const o of manifestsOf(path.join(outdir, cluster))) expect(built.find((b) => key(b) === key(o))).toEqual(o);
        } else {
          expect(built.map((o) => o.kind).sort()).toEqual(['HelmRelease', 'OCIRepository']);
        }
      }
      expect(kustomizeBuild(dir).map((o) => `${o.kind}/${o.metadata.name}`).sort())
        .toEqual(['GitRepository/event-bus', 'Kustomization/event-bus-manifests', 'Kustomization/event-bus-release']);
    }
  });

  toolTest('the chart rendered with exactly the values of the ConfigMap each HelmRelease references passes the contract checks', [kustomizeMissing(), helmMissing(), chartMissing()], async () => {
    const { outdir, fleet } = synth(props(flux()));
    const valuesOf = (cluster: string) => {
      const dir = path.join(outdir, 'gitops', 'flux', cluster);
      const release = readYaml(path.join(dir, 'release', 'HelmRelease.flux-system.nats-event-bus.yaml'));
      expect(release.spec.valuesFrom).toHaveLength(1);
      const [{ kind, name, valuesKey }] = release.spec.valuesFrom;
      const ks = readYaml(path.join(dir, 'Kustomization.flux-system.event-bus-manifests.yaml'));
      const built = kustomizeBuild(localPath(outdir, ks.spec.path));
      const cm = built.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === release.metadata.namespace);
      expect(cm?.data?.[valuesKey]).toBe(fs.readFileSync(path.join(outdir, cluster, VALUES_FILE), 'utf8'));
      const file = path.join(workDir, `values-${cluster}-${++seq}.yaml`);
      fs.writeFileSync(file, cm.data[valuesKey]);
      return file;
    };
    const files = Object.fromEntries(fleet.charts.map((c) => [c.cluster.directory, valuesOf(c.cluster.directory)]));
    expect(await contractProblems('flux', fleet, outdir, (c) => files[c])).toEqual([]);
  }, 240_000);
});

describe('fleet file', () => {
  async function synthFile(gitops: string): Promise<{ code: number; out: string; err: string; outdir: string }> {
    const dir = fs.mkdtempSync(path.join(workDir, 'file-'));
    fs.writeFileSync(path.join(dir, 'fleet.yaml'), `${gitops}\n${MINIMAL_FLEET.replace('    id: "1"', '    id: "1"\n    gitopsDestination: prod-cpc-1')}`);
    let out = '';
    let err = '';
    const outdir = path.join(dir, 'dist');
    const code = await main(['synth', '-c', path.join(dir, 'fleet.yaml'), '-o', outdir], { out: (t) => { out += t; }, err: (t) => { err += t; } });
    return { code, out, err, outdir };
  }

  test('synth of a fleet file with gitops.argocd writes the Argo CD wiring', async () => {
    const r = await synthFile(`gitops:\n  argocd:\n    repoUrl: ${REPO_URL}\n    path: ${REPO_PATH}\n    chart: { repoUrl: oci://registry.example.com/charts, version: 0.2.0 }`);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(r.out).toMatch(/^gitops +wiring +-> .*\/dist\/gitops$/m);
    expect(filesUnder(path.join(r.outdir, 'gitops'))).toEqual(['argocd/AppProject.argocd.event-bus.yaml', 'argocd/ApplicationSet.argocd.event-bus.yaml']);
    const appSet = readYaml(path.join(r.outdir, 'gitops', 'argocd', 'ApplicationSet.argocd.event-bus.yaml'));
    expect(appSet.spec.generators[0].list.elements).toEqual([{ cluster: 'csc', name: 'csc', server: '' }, { cluster: 'cpc-1', name: 'prod-cpc-1', server: '' }]);
    expect(fs.existsSync(path.join(r.outdir, 'csc', 'kustomization.yaml'))).toBe(true);
  });

  test('synth of a fleet file with gitops.flux writes the Flux wiring, in the folder of each cluster\'s destination', async () => {
    const r = await synthFile(`gitops:\n  flux:\n    repoUrl: ${REPO_URL}\n    revision: release\n    path: .\n    chart: { repoUrl: https://charts.example.com, version: 0.2.0 }`);
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(fs.readdirSync(path.join(r.outdir, 'gitops', 'flux')).sort()).toEqual(['csc', 'prod-cpc-1']);
    const ks = readYaml(path.join(r.outdir, 'gitops', 'flux', 'prod-cpc-1', 'Kustomization.flux-system.event-bus-manifests.yaml'));
    expect(ks.spec.path).toBe('./cpc-1');
    expect(readYaml(path.join(r.outdir, 'gitops', 'flux', 'prod-cpc-1', 'GitRepository.flux-system.event-bus.yaml')).spec.ref).toEqual({ branch: 'release' });
  });

  test('fails when the file names both engines, or a bad value, in the file\'s terms', async () => {
    const both = await synthFile(`gitops:\n  argocd: { repoUrl: ${REPO_URL}, path: d, chart: { repoUrl: oci://r/c, version: 0.2.0 } }\n  flux: { repoUrl: ${REPO_URL}, path: d, chart: { repoUrl: oci://r/c, version: 0.2.0 } }`);
    expect(both.code).not.toBe(0);
    expect(both.err).toMatch(/gitops/);
    const bad = await synthFile(`gitops:\n  flux: { repoUrl: ${REPO_URL}, path: d, chart: { repoUrl: oci://r/c, version: latest } }`);
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/fleet\.yaml: gitops\.flux\.chart\.version: "latest" is not an exact chart version/);
  });
});

describe('fails', () => {
  test('fails when the chart version is a range, naming the value and the fix', () => {
    expect(() => GitOps.flux({ repoUrl: REPO_URL, path: REPO_PATH, chart: { repoUrl: 'oci://r/c', version: '^0.2.0' } }))
      .toThrow(/GitOps\.flux: chart\.version: "\^0\.2\.0" is not an exact chart version\. Allowed: a SemVer version .* Fix: use the version of the chart you tested/);
  });

  test('fails when the path leaves the repository or a URL has no scheme', () => {
    expect(() => GitOps.argoCd({ repoUrl: REPO_URL, path: '../x', chart: { repoUrl: 'oci://r/c', version: '0.2.0' } }))
      .toThrow(/GitOps\.argoCd: path: "\.\.\/x" is not a folder path inside the repository/);
    expect(() => GitOps.argoCd({ repoUrl: 'git.example.com/x', path: 'd', chart: { repoUrl: 'oci://r/c', version: '0.2.0' } }))
      .toThrow(/GitOps\.argoCd: repoUrl: "git\.example\.com\/x" is not a repository URL\. Allowed: a URL starting with https:\/\//);
    expect(() => GitOps.flux({ repoUrl: REPO_URL, path: 'd', chart: { repoUrl: 'registry.example.com/charts', version: '0.2.0' } }))
      .toThrow(/chart\.repoUrl: "registry\.example\.com\/charts" is not a repository URL\. Allowed: a URL starting with oci:\/\//);
  });

  test('fails when two clusters are deployed to one destination', () => {
    const p = props(argoCd());
    expect(() => new EventBusFleet(new App(), 'fleet', { ...p, cpcs: [{ ...p.cpcs[0], gitopsDestination: 'cpc-2' }, p.cpcs[1]] }))
      .toThrow(/^fleet: cpcs\[1\]\.gitopsDestination: cpc-1 and cpc-2 are both deployed to "cpc-2": their releases would overwrite each other\. Fix: give each cluster its own gitopsDestination/);
  });

  test('fails when a Flux destination is a URL (it names a folder), and addCpc checks the new destination before adding the CPC', () => {
    const p = props(flux());
    expect(() => new EventBusFleet(new App(), 'fleet', { ...p, csc: { ...p.csc, gitopsDestination: 'https://k8s.example.com' } }))
      .toThrow(/^fleet: csc\.gitopsDestination: gitopsDestination "https:\/\/k8s\.example\.com" is not a cluster\. Allowed: the name of the cluster whose Flux applies it/);
    const fleet = new EventBusFleet(new App(), 'fleet', p);
    expect(() => fleet.addCpc({ id: '3', gateway: { hostnames: ['cpc-3.example.com'] }, gitopsDestination: 'cpc-1' }))
      .toThrow(/fleet: addCpc: gitopsDestination: cpc-1 and cpc-3 are both deployed to "cpc-1"/);
    expect(fleet.csc.cpcIds).toEqual(['1', '2']);
    fleet.addCpc({ id: '3', gateway: { hostnames: ['cpc-3.example.com'] }, gitopsDestination: 'prod-cpc-3' });
    const outdir = path.join(workDir, `add-${++seq}`);
    fleet.synth(outdir);
    expect(fs.readdirSync(path.join(outdir, 'gitops', 'flux')).sort()).toEqual(['cpc-1', 'cpc-2', 'csc', 'prod-cpc-3']);
  });
});

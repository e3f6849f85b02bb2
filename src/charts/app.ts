import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, AppProps, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import * as YAML from 'yaml';
import { EventBusClusterChart } from './cluster-chart';
import { libraryDigest } from './inputs';
import { manifestYaml } from './manifest-yaml';
import { EventBusError, problem } from '../errors';
import { PUBLIC_DIR_MODE, PUBLIC_FILE_MODE, SECRET_DIR_MODE, SECRET_FILE_MODE, writeNewFile } from '../files/atomic-write';
import { NAME_MAX, OutputCluster, OutputFile, OutputResult, readPreviousOutput, writeOutputSync } from '../files/output-tree';
import { checkOutputRoot, mkdirOwn, mkdirpOwn } from '../files/safe-fs';
import { GitOpsClusterSummary, GitOpsFile, GitOpsWiring } from '../gitops/wiring';
import { SecretsDeliveryKind } from '../secrets/delivery';
import {
  PreviousSealedSecret, PreviousSealedSecrets, previousFromManifest, previousFromManifestText, providePreviousSealedSecrets,
} from '../secrets/sealed';

/** File name of each cluster's Helm values. */
export const VALUES_FILE = 'values.event-bus.yaml';

/** What a synthesis of the DSX Event Bus layout wrote. */
export interface FleetSynthResult {
  /** Output directory of each cluster (`<outdir>/csc`, `<outdir>/cpc-1`, …). */
  readonly clusterDirectories: string[];
  /** Kubernetes objects written, per cluster (same order as the directories). */
  readonly objectsPerCluster: number[];
  /** Kubernetes objects written. */
  readonly objects: number;
  /**
   * The GitOps engine's files (`<outdir>/gitops`), when the fleet is deployed
   * by one (EventBusFleetProps.gitops).
   * @default - none
   */
  readonly gitopsDirectory?: string;
  /** Files of the output (manifests and values; kustomization.yaml and the GitOps files with `gitops`). */
  readonly files: number;
  /** false when the output already held exactly these files (nothing was written). */
  readonly changed: boolean;
  /** One line per file or folder removed, and per folder kept because it holds files synth did not write. */
  readonly notices: string[];
  /**
   * Folders whose files were rendered (cluster folders, and the GitOps
   * folder with `gitops`); with `renderOnlyChanged`, a cluster whose inputs
   * and files are as the output's record says is not rendered.
   */
  readonly clustersRendered: number;
}

/** Props of {@link EventBusApp}. */
export interface EventBusAppProps extends AppProps {
  /**
   * Render only the clusters whose inputs changed since the output's last
   * synth (written the guarded way; not under `cdk8s synth`): the record
   * (`.dsx-event-bus-output.json`) keeps a digest of each cluster's inputs
   * (its `EventBusFleet`'s props, its key-store files and rotation state,
   * this library's code) and a cluster whose digest and files on disk are
   * unchanged is left as it is, unrendered. A cluster is always rendered
   * when its inputs cannot all be seen: a chart not built by an
   * `EventBusFleet`, or holding objects the fleet did not add, props holding
   * a function or a construct, a key store other than `DirectoryKeyStore`
   * and `DeterministicKeyStore`, custom `resolvers` (then it is off),
   * SealedSecrets delivery, GitOps wiring.
   *
   * Set it only when the fleet's charts are built by the fleet alone: a
   * change made to a chart's existing objects after the fleet built them
   * (a label added, a Secret overridden) is not an input the digest sees.
   * `dsx-event-bus synth` sets it (it builds the fleet from the file alone).
   * @default false - every cluster is rendered and compared with the output
   */
  readonly renderOnlyChanged?: boolean;
}

/**
 * The variable the cdk8s CLI (`cdk8s synth`) sets to the output folder it
 * owns: it empties that folder before it starts the app and, with
 * `--stdout`, reads every `*.yaml` file in it and prints them.
 */
export const CDK8S_OUTDIR_ENV = 'CDK8S_OUTDIR';

/** The one file EventBusApp writes for `cdk8s synth --stdout`: every object of every cluster, one YAML stream. */
export const STDOUT_STREAM_FILE = 'event-bus.k8s.yaml';

/**
 * A cdk8s `App` whose `synth()` writes the DSX Event Bus layout instead of
 * one file per chart: for every cluster chart (`CscChart`, `CpcChart`, e.g.
 * those of an `EventBusFleet`) a folder `<outdir>/<cluster>/` (`csc`,
 * `cpc-<id>`) with `manifests/<Kind>.<namespace>.<name>.k8s.yaml` (one file
 * per object) and `values.event-bus.yaml` for the upstream Helm chart, a
 * layout an Argo CD ApplicationSet can iterate.
 *
 * Where it writes decides how:
 * - Run by `cdk8s synth` (the app's outdir is `CDK8S_OUTDIR`, a folder the
 *   cdk8s CLI owns and has just emptied): the layout is written straight into
 *   that folder, with no lock or record of ours; everything is rendered
 *   before the first file is written. An outdir that is not empty is refused
 *   (the app was not started by the cdk8s CLI). Under `cdk8s synth --stdout`
 *   it writes one YAML stream of the Kubernetes objects (`---` between them)
 *   and leaves the values files out, saying so in one line on stderr.
 * - Anywhere else (`node main.js` without `CDK8S_OUTDIR`, an explicit
 *   `outdir` other than it): as `EventBusFleet.synth(dir)` and
 *   `dsx-event-bus synth -o`, the output is replaced all or nothing (built
 *   in a staging folder and swapped in by renames) under a lock
 *   (`<outdir>/.dsx-event-bus.lock`); `<outdir>/.dsx-event-bus-output.json`
 *   records the files written, and only those are ever removed (folders of
 *   clusters no longer in the app included); files of your own stay. A
 *   rerun with nothing changed writes nothing.
 */
export class EventBusApp extends App {
  /** Whether synth renders only the clusters whose inputs changed (see EventBusAppProps; never with custom `resolvers`). */
  public readonly renderOnlyChanged: boolean;

  constructor(props: EventBusAppProps = {}) {
    super(props);
    // Custom resolvers change what an object renders to, unseen by the inputs digest.
    this.renderOnlyChanged = (props.renderOnlyChanged ?? false) && !props.resolvers?.length;
  }

  /** Validates every construct and writes the layout (see the class comment) to `outdir`. */
  public synth(): void {
    this.synthOutput();
  }

  /** Like {@link synth}, and says what was written. */
  public synthOutput(): FleetSynthResult {
    if (ownedByCdk8sCli(this.outdir)) return synthesizeForCdk8sCli(this, this.outdir);
    return synthesizeOutput(this, this.outdir);
  }
}

/** True when `outdir` is the folder the cdk8s CLI told the app to write (`CDK8S_OUTDIR`). */
function ownedByCdk8sCli(outdir: string): boolean {
  const env = process.env[CDK8S_OUTDIR_ENV];
  return Boolean(env) && path.resolve(env!) === path.resolve(outdir);
}

/**
 * True when `outdir` is the temporary folder of `cdk8s synth --stdout`: the
 * CLI makes it with `mkdtemp(<os.tmpdir()>/cdk8s-)` and passes it empty
 * (cdk8s-cli lib/util.js `mkdtemp`), while without `--stdout` it removes its
 * outdir before starting the app. The app has no other way to tell.
 */
function isCdk8sStdoutFolder(outdir: string): boolean {
  const abs = path.resolve(outdir);
  if (!/^cdk8s-[A-Za-z0-9]{6}$/.test(path.basename(abs))) return false;
  try {
    if (fs.realpathSync(path.dirname(abs)) !== fs.realpathSync(os.tmpdir())) return false;
    const st = fs.lstatSync(abs);
    return st.isDirectory() && fs.readdirSync(abs).length === 0;
  } catch {
    return false;
  }
}

/**
 * The layout written the way a cdk8s app writes into the CLI's outdir: every
 * cluster rendered first (a construct error leaves nothing behind), then
 * plain writes of new files (never through a symlink), modes as in the
 * guarded output.
 */
function synthesizeForCdk8sCli(scope: IConstruct, outdir: string): FleetSynthResult {
  const flag = `${CDK8S_OUTDIR_ENV} (${outdir})`;
  const state = checkOutputRoot(outdir, flag, { keyMaterial: false });
  const present = state.exists ? fs.readdirSync(outdir).sort() : [];
  if (present.length) {
    throw problem({
      where: outdir,
      problem: `${CDK8S_OUTDIR_ENV} names this folder, but it is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}); the cdk8s CLI empties its output folder before it starts the app, so this app was started some other way`,
      fix: `run it with "cdk8s synth", or unset ${CDK8S_OUTDIR_ENV} (then synth replaces the output all or nothing and keeps your own files); nothing was written`,
    });
  }
  const out = renderOutput(scope, outdir);
  const clusters = Array.from(out.clusters);
  if (!state.exists) mkdirpOwn(outdir, PUBLIC_DIR_MODE);
  if (isCdk8sStdoutFolder(outdir)) {
    const objects = clusters.flatMap((c) => c.files.filter((f) => f.path.startsWith('manifests/')));
    writeNewFile(path.join(outdir, STDOUT_STREAM_FILE), objects.map((f) => `---\n${f.content}`).join(''), objects.some((f) => f.secret) ? SECRET_FILE_MODE : PUBLIC_FILE_MODE, { fsync: false });
    process.stderr.write(`cdk8s-dsx-event-bus: the stream holds the Kubernetes objects only; the Helm values files (${VALUES_FILE} per cluster) are not objects and were left out: write them with "cdk8s synth" (<outdir>/<cluster>/${VALUES_FILE}) or "dsx-event-bus synth -o DIR"\n`);
  } else {
    for (const c of clusters) {
      const secretDirs = new Set(c.files.filter((f) => f.secret).map((f) => path.posix.dirname(f.path)));
      const made = new Set<string>();
      const ensureDir = (rel: string) => {
        if (made.has(rel)) return;
        if (rel !== '.') ensureDir(path.posix.dirname(rel));
        mkdirOwn(path.join(outdir, c.name, rel), secretDirs.has(rel) ? SECRET_DIR_MODE : PUBLIC_DIR_MODE);
        made.add(rel);
      };
      for (const f of c.files) {
        ensureDir(path.posix.dirname(f.path));
        writeNewFile(path.join(outdir, c.name, f.path), f.content, f.secret ? SECRET_FILE_MODE : PUBLIC_FILE_MODE, { fsync: false });
      }
    }
  }
  return out.result({ changed: true, notices: [], skipped: new Map() });
}

/** Validates, renders and writes the cluster charts under `scope` to `outdir` (see EventBusApp). */
export function synthesizeOutput(scope: IConstruct, outdir: string): FleetSynthResult {
  const out = renderOutput(scope, outdir);
  return out.result(writeOutputSync(outdir, out.clusters, { flag: 'outdir' }));
}

/** The files of one synthesis, rendered as they are read, and how to report their writing. */
export interface RenderedOutput {
  /**
   * Each cluster chart's folder, rendered when the iteration reaches it (so
   * the writer can write one cluster's files while the next one renders).
   * Iterate once.
   */
  readonly clusters: Iterable<OutputCluster>;
  /** The report of a write that read every cluster. */
  readonly result: (r: OutputResult) => FleetSynthResult;
}

/**
 * Validates every construct under `scope` (like `cdk8s synth`) and finds
 * each cluster chart; the charts' files are rendered lazily, when
 * `clusters` is iterated, and nothing is written. Every chart under `scope`
 * must be a cluster chart: the layout has no place for another one.
 */
/** PEM private key headers, as text and as the start of their base64 (a PEM put into a `data`/`binaryData` field). */
const PRIVATE_KEY_PEM = new RegExp([
  '-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----',
  ...['', 'RSA ', 'EC ', 'ENCRYPTED '].map((k) => Buffer.from(`-----BEGIN ${k}PRIVATE KEY-----`).toString('base64').replace(/[A-Za-z0-9+/]{0,3}=*$/, '')),
].join('|'));

/**
 * A private key (a CA's, a certificate's) belongs in a Secret only: in any
 * other file (a ConfigMap, a CRD, the Helm values, all world-readable) it is
 * refused, naming the file and never echoing the key.
 */
function refusePrivateKeyPem(content: string, file: string, where: string): void {
  if (!PRIVATE_KEY_PEM.test(content)) return;
  throw problem({
    where,
    problem: `${file} would hold a PEM private key, but it is not a Secret (manifests other than Secrets and the Helm values are world-readable)`,
    allowed: 'private keys in Secret objects only',
    fix: 'remove the key from that object or value (a trust bundle holds certificates only; a key goes into a Secret)',
  });
}

export function renderOutput(scope: IConstruct, outdir: string): RenderedOutput {
  const all = scope.node.findAll();
  const errors: string[] = [];
  for (const c of all) {
    for (const e of c.node.validate()) errors.push(`[${c.node.path}] ${e}`);
  }
  if (errors.length) {
    throw new EventBusError(`synthesis failed with ${errors.length} error${errors.length === 1 ? '' : 's'}:\n  ${errors.join('\n  ')}`);
  }
  // One pass over the tree (chart.toJson() would validate the whole app per chart).
  const objects = new Map<Chart, ApiObject[]>();
  const wirings = all.filter((c): c is GitOpsWiring => c instanceof GitOpsWiring);
  if (wirings.length > 1) {
    throw problem({ where: wirings[1].node.path, problem: `${wirings[0].node.path} and this fleet would both write ${wirings[0].folder}/`, fix: 'synthesize each fleet deployed by GitOps into its own output folder' });
  }
  const wiring: GitOpsWiring | undefined = wirings[0];
  for (const c of all) {
    if (c instanceof Chart) {
      // Not `instanceof`: cdk8s makes that true for every Chart.
      if (!Object.prototype.isPrototypeOf.call(EventBusClusterChart.prototype, c)) {
        throw problem({
          where: (c as Chart).node.path,
          problem: 'is a chart, but not a cluster chart (CscChart or CpcChart), so the DSX Event Bus layout has no folder for it',
          fix: 'add its constructs to a cluster chart, or synthesize it with a plain cdk8s App',
        });
      }
      objects.set(c, []);
    } else if (c instanceof ApiObject) {
      objects.get(Chart.of(c))?.push(c);
    }
  }
  const seen = new Map<string, string>();
  for (const chart of objects.keys()) {
    const dir = (chart as EventBusClusterChart).cluster.directory;
    const other = seen.get(dir);
    if (other) throw problem({ where: chart.node.path, problem: `${other} and this chart would both be written to ${dir}/`, fix: 'give each cluster one chart' });
    seen.set(dir, chart.node.path);
  }
  // With GitOps every cluster renders: the engine's files are made from every cluster's objects.
  const inputs = renderOnlyChanged(scope) && !wiring
    ? clusterInputs([...objects].map(([c, o]) => [c as EventBusClusterChart, o.length]))
    : new Map<Chart, string | undefined>();
  const counts: Array<{ name: string; objects: number; files: number }> = [];
  let clustersRendered = 0;
  const summaries: GitOpsClusterSummary[] = [];
  const gitopsFiles: GitOpsFile[] = [];
  let gitopsCount = 0;
  const sealing = [...objects.values()].some((list) => list.some((o) => o.kind === 'SealedSecret'));
  function* clusters(): Generator<OutputCluster> {
    // SealedSecrets keep the ciphertext of the earlier output while what they seal is unchanged.
    const forget = sealing ? providePreviousSealedSecrets(scope.node.root, previousSealedSecretsIn(outdir)) : undefined;
    try {
      yield* render();
    } finally {
      forget?.();
    }
  }
  function* render(): Generator<OutputCluster> {
    for (const [chart, apiObjects] of objects) {
      const cc = chart as EventBusClusterChart;
      let files: OutputFile[] | undefined;
      const count = { name: cc.cluster.directory, objects: apiObjects.length, files: 0 };
      counts.push(count);
      const digest = inputs.get(chart);
      yield {
        name: cc.cluster.directory,
        inputs: digest,
        // Read by the writer unless the record says this cluster's inputs and files are unchanged.
        get files() {
          if (!files) {
            files = renderChart(cc, apiObjects);
            count.files = files.length;
            clustersRendered++;
          }
          return files;
        },
      };
    }
    if (wiring) {
      // The engine's own files, once every cluster is known.
      const own = [...gitopsFiles, ...wiring.argoCdFiles(summaries, VALUES_FILE)];
      gitopsCount = own.length;
      clustersRendered++;
      yield { name: wiring.folder, files: own.map((f) => ({ ...f, secret: false })) };
    }
  }
  /** One cluster chart's files: its objects' manifests, its values and (with GitOps) its wiring. */
  function renderChart(chart: EventBusClusterChart, apiObjects: ApiObject[]): OutputFile[] {
    const names = new Set<string>();
    const jsons = apiObjects.map((o) => o.toJson());
    const files: OutputFile[] = jsons.map((obj) => {
      const name = manifestFileName(obj);
      if (names.has(name)) {
        throw problem({ where: chart.node.path, problem: `two objects would be written to ${name}`, fix: 'give the objects distinct names' });
      }
      names.add(name);
      // A Secret with inline data holds key material: readable by the owner only.
      const secret = obj.kind === 'Secret' && Boolean(obj.data || obj.stringData);
      const content = manifestYaml(obj);
      if (!secret) refusePrivateKeyPem(content, `${chart.cluster.directory}/manifests/${name}`, chart.node.path);
      return { path: `manifests/${name}`, content, secret };
    });
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const values = chart.valuesYaml();
    refusePrivateKeyPem(values, `${chart.cluster.directory}/${VALUES_FILE}`, chart.node.path);
    files.push({ path: VALUES_FILE, content: values, secret: false });
    if (wiring) {
      const input = {
        directory: chart.cluster.directory,
        destination: wiring.destination(chart.cluster.directory),
        releaseNamespace: chart.releaseNamespace,
        manifestFiles: files.filter((f) => f.path.startsWith('manifests/')).map((f) => f.path.slice('manifests/'.length)),
        objects: jsons,
        chartSecrets: chart.secrets.listSecrets().map((d) => d.name),
        testKeys: chart._keyStore?.testOnly === true,
      };
      files.push(...wiring.clusterFiles(input, VALUES_FILE).map((f) => ({ ...f, secret: false })));
      gitopsFiles.push(...wiring.fluxFiles(input, VALUES_FILE));
      summaries.push(wiring.summary(input));
    }
    return files;
  }
  return {
    clusters: clusters(),
    result: (r) => ({
      clusterDirectories: counts.map((c) => path.join(outdir, c.name)),
      objectsPerCluster: counts.map((c) => c.objects),
      objects: counts.reduce((n, c) => n + c.objects, 0),
      files: counts.reduce((n, c) => n + (r.skipped.get(c.name) ?? c.files), 0) + gitopsCount,
      gitopsDirectory: wiring && path.join(outdir, wiring.folder),
      changed: r.changed,
      notices: r.notices,
      clustersRendered,
    }),
  };
}

function renderOnlyChanged(scope: IConstruct): boolean {
  const root = scope.node.root;
  return root instanceof EventBusApp && root.renderOnlyChanged;
}

/**
 * The digest of each cluster chart's inputs (undefined: render it): what
 * its EventBusFleet built it from, what its key store holds for it, and
 * this library's code. SealedSecrets are always rendered (sealing is
 * randomized and reuses the earlier output's ciphertext as it renders).
 */
function clusterInputs(charts: Array<[EventBusClusterChart, number]>): Map<Chart, string | undefined> {
  const out = new Map<Chart, string | undefined>();
  const byFleet = new Map<IConstruct, Array<[EventBusClusterChart, number]>>();
  for (const entry of charts) {
    const fleet = entry[0].node.scope;
    if (!fleet || typeof (fleet as any)._clusterInputs !== 'function') continue;
    byFleet.set(fleet, [...(byFleet.get(fleet) ?? []), entry]);
  }
  for (const [fleet, members] of byFleet) {
    const props: Map<EventBusClusterChart, string | undefined> = (fleet as any)._clusterInputs(new Map(members));
    for (const [chart] of members) {
      const own = props.get(chart);
      const store = chart._keyStore as { _inputsDigest?: (cluster: string) => string | undefined } | undefined;
      const keys = typeof store?._inputsDigest === 'function' ? store._inputsDigest(chart.cluster.directory) : undefined;
      if (own === undefined || keys === undefined || chart.secrets.delivery.kind === SecretsDeliveryKind.SEALED_SECRETS) continue;
      out.set(chart, crypto.createHash('sha256').update(`dsx-event-bus inputs 1\0${libraryDigest()}\0${keys}\0${own}`).digest('hex'));
    }
  }
  return out;
}

/** The SealedSecrets an earlier synth wrote to `outdir` (and that are unchanged since). */
function previousSealedSecretsIn(outdir: string): PreviousSealedSecrets {
  const found = new Map<string, PreviousSealedSecret>();
  const files = readPreviousOutput(outdir, (_cluster, rel) => rel.startsWith('manifests/SealedSecret.') && rel.endsWith('.k8s.yaml'));
  for (const f of files) {
    let p = previousFromManifestText(f.content);
    if (!p) {
      try {
        p = previousFromManifest(YAML.parse(f.content));
      } catch {
        continue; // not ours to keep: sealed again
      }
    }
    if (p) found.set(`${f.cluster}\0${p.namespace}\0${p.name}`, p.previous);
  }
  return (cluster, namespace, name) => found.get(`${cluster}\0${namespace}\0${name}`);
}

/**
 * `<Kind>.<namespace>.<name>.k8s.yaml`, kept within the 255-byte file-name
 * limit: a longer one (a 253-character name in a long namespace) is cut and
 * ends in a hash of the whole, so it stays unique and stable.
 */
export function manifestFileName(obj: any): string {
  const base = `${obj.kind}.${obj.metadata?.namespace ? obj.metadata.namespace + '.' : ''}${obj.metadata?.name}`.replace(/[^0-9A-Za-z._-]/g, '');
  const suffix = '.k8s.yaml';
  if (base.length + suffix.length <= NAME_MAX) return base + suffix;
  const hash = crypto.createHash('sha256').update(base).digest('hex').slice(0, 12);
  return `${base.slice(0, NAME_MAX - suffix.length - hash.length - 1)}-${hash}${suffix}`;
}

import * as crypto from 'crypto';
import * as path from 'path';
import { ApiObject, App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import { EventBusClusterChart } from './cluster-chart';
import { manifestYaml } from './manifest-yaml';
import { EventBusError, problem } from '../errors';
import { NAME_MAX, OutputCluster, OutputFile, OutputResult, writeOutputSync } from '../files/output-tree';

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
  /** Files of the output (manifests and values). */
  readonly files: number;
  /** false when the output already held exactly these files (nothing was written). */
  readonly changed: boolean;
  /** One line per file or folder removed, and per folder kept because it holds files synth did not write. */
  readonly notices: string[];
}

/**
 * A cdk8s `App` whose `synth()` writes the DSX Event Bus layout instead of
 * one file per chart: for every cluster chart (`CscChart`, `CpcChart`, e.g.
 * those of an `EventBusFleet`) a folder `<outdir>/<cluster>/` (`csc`,
 * `cpc-<id>`) with `manifests/<Kind>.<namespace>.<name>.k8s.yaml` (one file
 * per object) and `values.event-bus.yaml` for the upstream Helm chart, a
 * layout an Argo CD ApplicationSet can iterate. `cdk8s synth` and
 * `dsx-event-bus synth` write through the same code.
 *
 * The output is replaced all or nothing (built in a staging folder and
 * swapped in by renames) under a lock (`<outdir>/.dsx-event-bus.lock`);
 * `<outdir>/.dsx-event-bus-output.json` records the files written, and only
 * those are ever removed (folders of clusters no longer in the app included);
 * files of your own stay. A rerun with nothing changed writes nothing.
 */
export class EventBusApp extends App {
  /** Validates every construct and writes the layout (see the class comment) to `outdir`. */
  public synth(): void {
    this.synthOutput();
  }

  /** Like {@link synth}, and says what was written. */
  public synthOutput(): FleetSynthResult {
    return synthesizeOutput(this, this.outdir);
  }
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
  const counts: Array<{ name: string; objects: number; files: number }> = [];
  function* clusters(): Generator<OutputCluster> {
    for (const [chart, apiObjects] of objects) {
      const cc = chart as EventBusClusterChart;
      const names = new Set<string>();
      const files: OutputFile[] = apiObjects.map((o) => o.toJson()).map((obj) => {
        const name = manifestFileName(obj);
        if (names.has(name)) {
          throw problem({ where: chart.node.path, problem: `two objects would be written to ${name}`, fix: 'give the objects distinct names' });
        }
        names.add(name);
        // A Secret with inline data holds key material: readable by the owner only.
        const secret = obj.kind === 'Secret' && Boolean(obj.data || obj.stringData);
        const content = manifestYaml(obj);
        if (!secret) refusePrivateKeyPem(content, `${cc.cluster.directory}/manifests/${name}`, chart.node.path);
        return { path: `manifests/${name}`, content, secret };
      });
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const values = cc.valuesYaml();
      refusePrivateKeyPem(values, `${cc.cluster.directory}/${VALUES_FILE}`, chart.node.path);
      files.push({ path: VALUES_FILE, content: values, secret: false });
      counts.push({ name: cc.cluster.directory, objects: apiObjects.length, files: files.length });
      yield { name: cc.cluster.directory, files };
    }
  }
  return {
    clusters: clusters(),
    result: (r) => ({
      clusterDirectories: counts.map((c) => path.join(outdir, c.name)),
      objectsPerCluster: counts.map((c) => c.objects),
      objects: counts.reduce((n, c) => n + c.objects, 0),
      files: counts.reduce((n, c) => n + c.files, 0),
      changed: r.changed,
      notices: r.notices,
    }),
  };
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

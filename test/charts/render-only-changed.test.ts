import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App } from 'cdk8s';
import {
  CertificateIssuer, ClusterCertificates, DirectoryKeyStore, EventBusApp, EventBusFleet, EventBusFleetProps, FleetSynthResult, GitOps,
  IKeyStore, LeafTrust, RotationTarget, SecretsDelivery, ServerCertificate, testing,
} from '../../src';
import { RECORD_FILE } from '../../src/files/output-tree';
import { cleanupTempDirs, tempDir } from '../util/keytree';

afterAll(() => cleanupTempDirs());

function props(ids: string[], keys: IKeyStore, extra: Partial<EventBusFleetProps> = {}): EventBusFleetProps {
  return {
    keys,
    delivery: SecretsDelivery.inline({ allowTestKeys: true }),
    extraAccounts: ['LaunchLayer'],
    certificates: ClusterCertificates.issuer(CertificateIssuer.fromIssuerName('event-bus-certificate-issuer')),
    // The issuer is not the library's: the CPCs' trust of the CSC is stated.
    cscTrust: LeafTrust.publicRoots(),
    csc: { gateway: { hostnames: ['csc.example.com'] } },
    cpcs: ids.map((id) => ({ id, gateway: { hostnames: [`cpc-${id}.example.com`] } })),
    ...extra,
  };
}

/** One synth in a new app (as a new process would), rendering only what changed unless told otherwise. */
function synth(outdir: string, p: EventBusFleetProps, renderOnlyChanged = true): FleetSynthResult {
  const app = new EventBusApp({ outdir, renderOnlyChanged });
  new EventBusFleet(app, 'fleet', p);
  return app.synthOutput();
}

/** Every file of the output with its bytes and mtime. */
function state(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]) {
    const st = fs.lstatSync(path.join(dir, f));
    if (st.isFile() && f !== RECORD_FILE) m.set(f, `${st.mtimeMs} ${fs.readFileSync(path.join(dir, f), 'utf8')}`);
  }
  return m;
}

/** The clusters whose files differ between two states. */
function changedClusters(a: Map<string, string>, b: Map<string, string>): string[] {
  const names = new Set([...a.keys(), ...b.keys()].filter((f) => a.get(f) !== b.get(f)).map((f) => f.split('/')[0]));
  return [...names].sort();
}

/** The same output as a full render into a fresh folder. */
function expectSameAsFullRender(outdir: string, p: EventBusFleetProps): void {
  const fresh = path.join(tempDir('dsx-render-fresh-'), 'out');
  synth(fresh, p, false);
  const contents = (m: Map<string, string>) => new Map([...m].map(([f, v]) => [f, v.slice(v.indexOf(' ') + 1)]));
  expect(contents(state(outdir))).toEqual(contents(state(fresh)));
}

const keys = new testing.DeterministicKeyStore();
const IDS = ['1', '2', '3'];

describe('renderOnlyChanged', () => {
  test('a rerun with nothing changed renders no cluster and writes nothing', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    const first = synth(out, props(IDS, keys));
    expect(first.clustersRendered).toBe(4);
    const before = state(out);
    const again = synth(out, props(IDS, keys));
    expect(again.clustersRendered).toBe(0);
    expect(again.changed).toBe(false);
    // The result still describes the whole output.
    expect(again.files).toBe(first.files);
    expect(again.objects).toBe(first.objects);
    expect(state(out)).toEqual(before);
  });

  test('imported references are inputs by their names: a rerun with the same imported TLS Secret renders nothing, another name renders its cluster', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    // Each run imports the Secret anew (in its own scope), as a new process would.
    const withTls = (name: string) => {
      const p = props(IDS, keys);
      const tls = ServerCertificate.fromSecretName(new App(), 'Tls', name);
      return { ...p, cpcs: p.cpcs!.map((c, i) => (i === 0 ? { ...c, gateway: { ...c.gateway, serverTlsSecret: tls } } : c)) };
    };
    expect(synth(out, withTls('cpc-1-tls')).clustersRendered).toBe(4);
    expect(synth(out, withTls('cpc-1-tls')).clustersRendered).toBe(0);
    // cpc-1's gateway and the CSC (which lists every CPC's inputs) render again.
    expect(synth(out, withTls('other-tls')).clustersRendered).toBe(2);
  });

  test('adding a CPC renders the CSC and the new CPC only', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    synth(out, props(IDS, keys));
    const before = state(out);
    const r = synth(out, props([...IDS, '4'], keys));
    expect(r.clustersRendered).toBe(2);
    expect(changedClusters(before, state(out))).toEqual(['cpc-4', 'csc']);
    expectSameAsFullRender(out, props([...IDS, '4'], keys));
    // Removing it again: the CSC renders, cpc-4's folder goes.
    expect(synth(out, props(IDS, keys)).clustersRendered).toBe(1);
    expect(fs.existsSync(path.join(out, 'cpc-4'))).toBe(false);
  });

  test('a CPC added with addCpc counts as an input of the CSC', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    synth(out, props(IDS, keys));
    const app = new EventBusApp({ outdir: out, renderOnlyChanged: true });
    new EventBusFleet(app, 'fleet', props(IDS, keys)).addCpc({ id: '9', gateway: { hostnames: ['cpc-9.example.com'] } });
    expect(app.synthOutput().clustersRendered).toBe(2);
  });

  test('a changed fleet-level prop renders every cluster; a CPC\'s own prop renders that CPC and the CSC', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    synth(out, props(IDS, keys));
    const labelled = props(IDS, keys, { metadata: { labels: { team: 'bus' } } });
    expect(synth(out, labelled).clustersRendered).toBe(4);
    expectSameAsFullRender(out, labelled);
    const own = props(IDS, keys, { metadata: { labels: { team: 'bus' } } });
    (own.cpcs[1] as any).metadata = { labels: { tier: 'edge' } };
    const before = state(out);
    // The CSC's inputs include every CPC's options (it is rendered, and found unchanged).
    expect(synth(out, own).clustersRendered).toBe(2);
    expect(changedClusters(before, state(out))).toEqual(['cpc-2']);
  });

  test('another key store (another phrase) renders every cluster', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    synth(out, props(IDS, keys));
    const other = new testing.DeterministicKeyStore({ phrase: 'another phrase' });
    expect(synth(out, props(IDS, other)).clustersRendered).toBe(4);
    expectSameAsFullRender(out, props(IDS, other));
  });

  test('a hand-edited or deleted output file makes its cluster render again', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    synth(out, props(IDS, keys));
    const values = path.join(out, 'cpc-2', 'values.event-bus.yaml');
    const text = fs.readFileSync(values, 'utf8');
    fs.writeFileSync(values, text.replace('cpc-2.example.com', 'edited.example.com'));
    const manifest = path.join(out, 'cpc-3', 'manifests', fs.readdirSync(path.join(out, 'cpc-3', 'manifests'))[0]);
    fs.rmSync(manifest);
    const r = synth(out, props(IDS, keys));
    expect(r.clustersRendered).toBe(2);
    expect(fs.readFileSync(values, 'utf8')).toBe(text);
    expect(fs.existsSync(manifest)).toBe(true);
    expect(synth(out, props(IDS, keys)).clustersRendered).toBe(0);
  });

  test('the record keeps one inputs digest per cluster, the same in another output folder (a clone of the repository)', () => {
    const a = path.join(tempDir('dsx-render-'), 'out');
    const b = path.join(tempDir('dsx-render-'), 'out');
    synth(a, props(IDS, keys));
    synth(b, props(IDS, keys));
    const record = (dir: string) => fs.readFileSync(path.join(dir, RECORD_FILE), 'utf8');
    expect(Object.keys(JSON.parse(record(a)).inputs)).toEqual(['cpc-1', 'cpc-2', 'cpc-3', 'csc']);
    expect(record(b)).toBe(record(a));
    // A copy (new inodes, new times) is recognised by its bytes: nothing renders.
    const copy = path.join(tempDir('dsx-render-'), 'out');
    fs.cpSync(a, copy, { recursive: true });
    expect(synth(copy, props(IDS, keys)).clustersRendered).toBe(0);
  });

  test('an object added to a fleet\'s chart after construction renders that cluster', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    synth(out, props(IDS, keys));
    const app = new EventBusApp({ outdir: out, renderOnlyChanged: true });
    const fleet = new EventBusFleet(app, 'fleet', props(IDS, keys));
    new ApiObject(fleet.cpc('1'), 'extra', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: 'dsx' } });
    const r = app.synthOutput();
    expect(r.clustersRendered).toBe(1);
    expect(fs.existsSync(path.join(out, 'cpc-1', 'manifests', 'ConfigMap.dsx.extra.k8s.yaml'))).toBe(true);
  });

  test('without renderOnlyChanged (the default) every cluster renders', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    synth(out, props(IDS, keys));
    const r = synth(out, props(IDS, keys), false);
    expect(r.clustersRendered).toBe(4);
    expect(r.changed).toBe(false);
  });

  test('an app with custom resolvers renders every cluster (they change what objects render to)', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    synth(out, props(IDS, keys));
    const app = new EventBusApp({ outdir: out, renderOnlyChanged: true, resolvers: [{ resolve: () => undefined }] });
    new EventBusFleet(app, 'fleet', props(IDS, keys));
    expect(app.renderOnlyChanged).toBe(false);
    expect(app.synthOutput().clustersRendered).toBe(4);
  });

  test('with GitOps every cluster renders (the engine\'s files list them all)', () => {
    const out = path.join(tempDir('dsx-render-'), 'out');
    const p = props(IDS, keys, { gitops: GitOps.argoCd({ repoUrl: 'https://git.example.com/fleet.git', path: 'event-bus', chart: { repoUrl: 'oci://registry.example.com/charts', version: '0.2.0' } }) });
    synth(out, p);
    expect(synth(out, p).clustersRendered).toBe(5);
  });

  test('a rotation stage renders exactly the clusters whose output it changes', () => {
    const root = path.join(tempDir('dsx-render-keys-'), 'secrets');
    DirectoryKeyStore.open(root).generateMissing({ cpcIds: IDS, extraAccounts: ['LaunchLayer'] });
    const out = path.join(tempDir('dsx-render-'), 'out');
    // A second output rendered in full at every stage: what changes there is what must change here.
    const full = path.join(tempDir('dsx-render-full-'), 'out');
    const run = (dir: string, only: boolean) => synth(dir, props(IDS, DirectoryKeyStore.open(root)), only);
    expect(run(out, true).clustersRendered).toBe(4);
    run(full, false);
    expect(run(out, true).clustersRendered).toBe(0);
    const store = DirectoryKeyStore.open(root);
    const stages: string[] = [];
    const step = () => {
      const [before, fullBefore] = [state(out), state(full)];
      const r = run(out, true);
      run(full, false);
      const changed = changedClusters(before, state(out));
      expect(changed).toEqual(changedClusters(fullBefore, state(full)));
      expect(r.clustersRendered).toBe(changed.length);
      expectSameAsFullRender(out, props(IDS, DirectoryKeyStore.open(root)));
      stages.push(changed.join(' '));
    };
    store.startRotation(RotationTarget.leaf('2'));
    step();
    store.advanceRotation(RotationTarget.leaf('2'));
    step();
    expect(store.advanceRotation(RotationTarget.leaf('2'))).toBeUndefined();
    step();
    // overlap: the CSC accepts the new key; switched: the CPC presents it (the CSC's layout and
    // extra entry swap); done: the CSC drops the old one. CPCs 1 and 3 are never rendered.
    expect(stages).toEqual(['csc', 'cpc-2 csc', 'csc']);
  });
});

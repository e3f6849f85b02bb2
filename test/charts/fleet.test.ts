import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { testFleetProps } from './fleet-props';
import {
  ClusterCertificates, CpcChart, CscChart, EventBusApp, EventBusFleet, EventBusFleetProps, GatewayTransport, IKeyStore, LeafTrust,
  NKeyPublicKey, NKeySeed, RouteApiVersion, RouteRendering, SecretsDelivery,
} from '../../src';
import { EventBusError } from '../../src/errors';
import { DeterministicKeyStore } from '../../src/testing';
import { tlsFixture } from '../secrets/tls-fixture';
import { validateManifests } from '../util/schema';
import { findSeeds } from '../util/seeds';

const keys = new DeterministicKeyStore();

const fleetProps = (ids: string[], extra: Partial<EventBusFleetProps> = {}) => testFleetProps({ extraAccounts: ['LaunchLayer'], ...extra }, ids);

/** Objects of one chart keyed `Kind/name`. */
function objectsOf(chart: CscChart | CpcChart): Map<string, any> {
  return new Map(chart.toJson().map((o: any) => [`${o.kind}/${o.metadata.name}`, o]));
}

function secretData(chart: CscChart | CpcChart, name: string): Record<string, string> {
  const s = objectsOf(chart).get(`Secret/${name}`);
  return Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

describe('EventBusFleet', () => {
  test('the CSC serves exactly the CPC charts, each joined by a leaf connection per account', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1', '2']));
    expect(fleet.csc.cpcIds).toEqual(['1', '2']);
    expect(fleet.cpcs.map((c) => c.cpcId)).toEqual(['1', '2']);
    expect(fleet.leafConnections).toHaveLength(2);
    for (const cpc of fleet.cpcs) {
      for (const [cscSecret, cpcSecret] of [[`nats-leaf-cpc-${cpc.cpcId}`, 'nats-leaf-csc'], [`nats-leaf-launchlayer-cpc-${cpc.cpcId}`, 'nats-leaf-launchlayer-csc']]) {
        const seed = NKeySeed.parse(secretData(cpc, cpcSecret).seed, cpcSecret);
        const pub = NKeyPublicKey.parse(secretData(fleet.csc, cscSecret).pubkey, cscSecret);
        expect(seed.publicKey.value).toBe(pub.value);
      }
    }
    expect(fleet.csc.helmValues().global.eventBus).toMatchObject({ clusterType: 'csc', cpcIds: ['1', '2'], extraAccounts: { LaunchLayer: { enabled: true } } });
    expect(fleet.cpc('2').helmValues().global.eventBus).toMatchObject({ clusterType: 'cpc', clusterId: '2', cscEndpoint: 'tls://csc.example.com:7422' });
  });

  test('no key is read while the fleet is built; synthesis ensures the store once for the whole fleet', () => {
    const calls: unknown[] = [];
    let reads = 0;
    const spy: IKeyStore = {
      description: keys.description,
      ensure: (r) => { calls.push(r); keys.ensure(r); },
      readSeed: (c, n, k) => { reads++; return keys.readSeed(c, n, k); },
      readPublicKey: (c, n, k) => { reads++; return keys.readPublicKey(c, n, k); },
    };
    const ids = Array.from({ length: 20 }, (_, i) => String(i + 1));
    const app = Testing.app();
    const fleet = new EventBusFleet(app, 'fleet', fleetProps(ids.slice(0, 19), { keys: spy }));
    fleet.addCpc({ id: '20', gateway: { hostnames: ['cpc-20.example.com'] } });
    expect([calls, reads]).toEqual([[], 0]);
    app.synthYaml();
    expect(calls).toEqual([{ cpcIds: ids, extraAccounts: ['LaunchLayer'] }]);
    expect(reads).toBeGreaterThan(0);
  });

  test('addCpc: the CSC serves the new CPC (cpcIds, leaf Secrets) and it is joined like the others', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1']));
    const chart = fleet.addCpc({ id: '7', gateway: { hostnames: ['cpc-7.example.com'] } });
    expect(chart).toBeInstanceOf(CpcChart);
    expect(fleet.cpc('7')).toBe(chart);
    expect(fleet.csc.cpcIds).toEqual(['1', '7']);
    expect(fleet.csc.cluster.cpcIds).toEqual(['1', '7']);
    expect(fleet.leafConnections.map((l) => l.cpcId)).toEqual(['1', '7']);
    expect(fleet.csc.helmValues().global.eventBus.cpcIds).toEqual(['1', '7']);
    const seed = NKeySeed.parse(secretData(chart, 'nats-leaf-launchlayer-csc').seed);
    expect(secretData(fleet.csc, 'nats-leaf-launchlayer-cpc-7').pubkey).toBe(seed.publicKey.value);
    expect(() => fleet.addCpc({ id: '7' })).toThrow(/fleet: addCpc: id: CPC id "7" is already in the fleet/);
    expect(() => fleet.addCpc({ id: 'Seven' })).toThrow(/fleet: addCpc: id: CPC id "Seven" is invalid/);
  });

  test('every synthesized object of every cluster is schema-valid', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1', '2']));
    const all = fleet.charts.flatMap((c) => c.toJson());
    expect(validateManifests(all)).toBe(all.length);
  });

  test('adding a CPC changes only that CPC and the CSC\'s leaf Secrets and values', () => {
    const before = new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1', '2']));
    const after = new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1', '2', '3']));
    for (const id of ['1', '2']) {
      expect(after.cpc(id).toJson()).toEqual(before.cpc(id).toJson());
      expect(after.cpc(id).valuesYaml()).toBe(before.cpc(id).valuesYaml());
    }
    const a = objectsOf(before.csc);
    const b = objectsOf(after.csc);
    const added = [...b.keys()].filter((k) => !a.has(k)).sort();
    expect(added).toEqual(['Secret/nats-leaf-cpc-3', 'Secret/nats-leaf-launchlayer-cpc-3']);
    for (const [k, v] of a) expect(b.get(k)).toEqual(v);
    const va = before.csc.helmValues().global.eventBus;
    const vb = after.csc.helmValues().global.eventBus;
    expect(vb.cpcIds).toEqual(['1', '2', '3']);
    expect({ ...vb, cpcIds: undefined }).toEqual({ ...va, cpcIds: undefined });
    expect(after.cpc('3').toJson().length).toBe(before.cpc('1').toJson().length);
  });

  test('every route in the values matches a listener of the synthesized Gateway (kind and sectionName)', () => {
    const variants: Array<Partial<EventBusFleetProps>> = [
      {},
      { mtls: false },
      { gateway: { transport: GatewayTransport.TCP } },
      { gateway: { routeApiVersion: RouteApiVersion.V1, routeRendering: RouteRendering.MANIFESTS } },
    ];
    let checked = 0;
    for (const v of variants) {
      const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1'], v));
      for (const chart of fleet.charts) {
        const gateway = chart.toJson().find((o: any) => o.kind === 'Gateway');
        const routes = chart.helmValues().global.eventBus.gateway.routes;
        for (const [key, route] of Object.entries<any>(routes)) {
          if (!route.enabled) continue;
          expect(route.gatewayName).toBe(gateway.metadata.name);
          expect(route.gatewayNamespace).toBe(gateway.metadata.namespace);
          const listener = gateway.spec.listeners.find((l: any) => l.name === route.sectionName);
          expect(listener).toBeDefined();
          expect(listener.allowedRoutes.kinds.map((k: any) => k.kind)).toContain(route.kind);
          if (key === 'mqttMtls') expect([route.kind, listener.tls.mode]).toEqual(['TLSRoute', 'Passthrough']);
          checked++;
        }
        // Routes the library renders itself are disabled in the values, so the chart never creates them too.
        const manifests = chart.toJson().filter((o: any) => /Route$/.test(o.kind)).map((o: any) => o.metadata.name);
        if (manifests.length) expect(Object.values<any>(routes).every((r) => !r.enabled)).toBe(true);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(2 * 4 + 2 * 3 + 2 * 4);
  });

  // Found by test/e2e/contract.test.ts: CPCs trusted a CA that could never have signed the CSC's certificate.
  test('fails when the CSC\'s certificate comes from a self-signed CA per cluster and a CPC cannot trust it', async () => {
    const { caCrt } = await tlsFixture();
    const synth = (extra: Partial<EventBusFleetProps>) => new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1'], { certificates: ClusterCertificates.selfSigned(), ...extra }));
    expect(() => synth({})).toThrow(/fleet: certificates: the CSC's gateway certificate comes from ClusterCertificates\.selfSigned\(\).*\(its trust is the public roots\).*Fix: replace ClusterCertificates\.selfSigned\(\) with ClusterCertificates\.fleetCa/);
    expect(() => synth({ cscTrust: LeafTrust.publicRoots() })).toThrow(/its trust is LeafTrust publicRoots/);
    expect(() => synth({ cscTrust: LeafTrust.fromPem(caCrt) })).toThrow(/its trust is LeafTrust pem/);
    // A Secret or ConfigMap the deployer fills with the CSC's CA can match; so can plain TCP.
    expect(synth({ cscTrust: LeafTrust.fromExistingConfigMap('csc-gateway-ca') }).cpcs).toHaveLength(1);
    expect(synth({ cscTrust: LeafTrust.fromExistingSecret('csc-gateway-ca') }).cpcs).toHaveLength(1);
    expect(synth({ gateway: { transport: GatewayTransport.TCP } }).cpcs).toHaveLength(1);
  });

  // Found by test/proof/fuzz.test.ts: [] failed with "hostname agreement needs both serverCertificate and clientUrls".
  test('an empty gateway.mtlsClientUrls list checks nothing, like an absent one', () => {
    const synthOf = (mtlsClientUrls?: string[]) => new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1'], {
      certificates: ClusterCertificates.selfSigned(),
      cscTrust: LeafTrust.fromExistingConfigMap('csc-gateway-ca'),
      csc: { gateway: { hostnames: ['csc.example.com'], mtlsClientUrls } },
    })).charts.map((c) => c.toJson());
    expect(synthOf([])).toEqual(synthOf(undefined));
    expect(() => synthOf(['mqtts://other.example.com:8883'])).toThrow(/mTLS hostname agreement fails/);
  });

  // Found by test/proof/fuzz.test.ts: a valid 60-character id failed with 'caCommonName ... has 81 characters',
  // an option the user never set, and a 240-character id wrote Secrets with names Kubernetes refuses.
  test('a long CPC id synthesizes (the CA name is shortened); one too long for a Secret name fails naming it', () => {
    const long = 'a'.repeat(60);
    const withId = (id: string, extra: Partial<EventBusFleetProps> = {}) => fleetProps([], { cpcs: [{ id, gateway: { hostnames: ['cpc.example.com'] } }], ...extra });
    const fleet = new EventBusFleet(Testing.app(), 'fleet', withId(long, { certificates: ClusterCertificates.selfSigned(), cscTrust: LeafTrust.fromExistingConfigMap('csc-gateway-ca') }));
    const objects = fleet.charts.flatMap((c) => c.toJson());
    expect(validateManifests(objects)).toBeGreaterThan(0);
    const ca = objects.find((o) => o.kind === 'Certificate' && o.spec.isCA && o.metadata.namespace === 'dsx' && o.spec.commonName.includes('CPC-'));
    expect(ca.spec.commonName).toBe(`dsx-event-bus CPC-${'a'.repeat(40)}... CA`);
    expect(ca.spec.commonName).toHaveLength(64);
    expect(() => new EventBusFleet(Testing.app(), 'fleet', withId('b'.repeat(64))))
      .toThrow(/fleet: cpcs\[0\]\.id: CPC id "b{20}…" is 64 characters long\. Allowed: at most 63 characters/);
    // A long extra account is refused before its Secret and file names reach Kubernetes' 253 or the file system's 255.
    expect(() => new EventBusFleet(Testing.app(), 'fleet', withId(long, { extraAccounts: ['L' + 'x'.repeat(199)] })))
      .toThrow(/fleet: extraAccounts: extra account "Lx{19}…" is 200 characters long\. Allowed: at most 63 characters/);
    const longest = new EventBusFleet(Testing.app(), 'fleet', withId('c'.repeat(63), { extraAccounts: ['L' + 'x'.repeat(62)] }));
    const secretNames = longest.charts.flatMap((c) => c.toJson()).filter((o) => o.kind === 'Secret').map((o) => o.metadata.name as string);
    expect(Math.max(...secretNames.map((n) => n.length))).toBeLessThanOrEqual(253 - 100);
  });

  test('non-inline delivery puts no seed anywhere in the fleet output', () => {
    for (const delivery of [SecretsDelivery.existing(), SecretsDelivery.externalSecrets({ storeName: 'vault' }), SecretsDelivery.vaultStaticSecrets()]) {
      const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1', '2'], { delivery }));
      const text = fleet.charts.map((c) => YAML.stringify(c.toJson()) + c.valuesYaml()).join('\n');
      expect(findSeeds(text)).toEqual([]);
    }
  });

  test('EventBusApp.synth() (what cdk8s synth runs) writes the same tree as fleet.synth(), and a rerun rewrites no file', () => {
    const a = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-app-'));
    const b = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-app-'));
    try {
      const app = new EventBusApp({ outdir: a });
      new EventBusFleet(app, 'fleet', fleetProps(['1', '2']));
      app.synth();
      const r = new EventBusFleet(new App(), 'fleet', fleetProps(['1', '2'])).synth(b);
      expect(r.changed).toBe(true);
      const tree = (dir: string) => (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).sort()
        .filter((f) => fs.statSync(path.join(dir, f)).isFile())
        .map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8'), fs.statSync(path.join(dir, f)).mtimeMs] as const);
      const first = tree(a);
      expect(first.map(([f, c]) => [f, c])).toEqual(tree(b).map(([f, c]) => [f, c]));
      expect(first.map(([f]) => f)).toContain('cpc-2/manifests/Secret.dsx.nats-leaf-csc.k8s.yaml');
      const again = new EventBusApp({ outdir: a });
      new EventBusFleet(again, 'fleet', fleetProps(['1', '2']));
      expect(again.synthOutput()).toMatchObject({ changed: false, objects: r.objects, files: r.files });
      expect(tree(a)).toEqual(first);
      // Adding a CPC rewrites the CSC's folder and writes the new one; the other CPCs' files stay untouched.
      const grown = new EventBusApp({ outdir: a });
      new EventBusFleet(grown, 'fleet', fleetProps(['1', '2'])).addCpc({ id: '3', gateway: { hostnames: ['cpc-3.example.com'] } });
      expect(grown.synthOutput().changed).toBe(true);
      const now = new Map(tree(a).map(([f, c, m]) => [f, `${m} ${c}`]));
      for (const [f, c, m] of first) {
        if (f.startsWith('cpc-')) expect([f, now.get(f)]).toEqual([f, `${m} ${c}`]);
      }
      expect(now.get('csc/values.event-bus.yaml')).toMatch(/cpcIds:\n {6}- "1"\n {6}- "2"\n {6}- "3"/);
      expect([...now.keys()]).toContain('cpc-3/manifests/Secret.dsx.nats-leaf-csc.k8s.yaml');
    } finally {
      fs.rmSync(a, { recursive: true, force: true });
      fs.rmSync(b, { recursive: true, force: true });
    }
  });

  test('EventBusApp refuses a chart the layout has no folder for', () => {
    const app = new EventBusApp({ outdir: path.join(os.tmpdir(), 'dsx-never-written') });
    new EventBusFleet(app, 'fleet', fleetProps(['1']));
    new Chart(app, 'mine');
    expect(() => app.synth()).toThrow(/^mine: is a chart, but not a cluster chart \(CscChart or CpcChart\)/);
    expect(fs.existsSync(app.outdir)).toBe(false);
  });

  test('synth() writes one folder per cluster with manifests and values, deterministically', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-fleet-'));
    try {
      const run = (ids: string[]) => {
        const app = new App({ outdir: out });
        return new EventBusFleet(app, 'fleet', fleetProps(ids)).synth(out);
      };
      const result = run(['1', '2', '3']);
      expect(result.clusterDirectories.map((d) => path.basename(d))).toEqual(['csc', 'cpc-1', 'cpc-2', 'cpc-3']);
      const snapshot = () => Object.fromEntries(
        (fs.readdirSync(out, { recursive: true, encoding: 'utf8' }) as string[]).sort()
          .filter((f) => fs.statSync(path.join(out, f)).isFile())
          .map((f) => [f, fs.readFileSync(path.join(out, f), 'utf8')]),
      );
      const first = snapshot();
      expect(Object.keys(first)).toContain('csc/values.event-bus.yaml');
      expect(Object.keys(first)).toContain('cpc-2/manifests/Secret.dsx.nats-leaf-csc.k8s.yaml');
      expect(Object.keys(first)).toContain('csc/manifests/Gateway.dsx.event-bus-gateway.k8s.yaml');
      expect(fs.statSync(path.join(out, 'cpc-2/manifests/Secret.dsx.nats-leaf-csc.k8s.yaml')).mode.toString(8)).toMatch(/600$/);
      expect(fs.statSync(path.join(out, 'csc/manifests/Gateway.dsx.event-bus-gateway.k8s.yaml')).mode.toString(8)).toMatch(/644$/);
      run(['1', '2', '3']);
      expect(snapshot()).toEqual(first);
      // Removing a CPC removes its folder, so GitOps stops deploying it.
      run(['1', '2']);
      expect(fs.existsSync(path.join(out, 'cpc-3'))).toBe(false);
      expect(fs.existsSync(path.join(out, 'cpc-2'))).toBe(true);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  // Found by test/proof/faults.test.ts: a file as -o, or a read-only folder, failed half-way with a raw EEXIST/EACCES.
  test('synth() fails before writing anything when the output or a cluster folder cannot be written', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-fleet-'));
    try {
      const file = path.join(out, 'file');
      fs.writeFileSync(file, 'keep');
      const synthInto = (dir: string) => () => new EventBusFleet(new App({ outdir: dir }), 'fleet', fleetProps(['1'])).synth(dir);
      expect(synthInto(file)).toThrow(EventBusError);
      expect(synthInto(file)).toThrow(new RegExp(`^${file}: exists and is not a directory \\(it is a regular file\\)\\. Fix: remove it or choose another outdir; nothing was written\\.$`));
      expect(synthInto(path.join(file, 'below'))).toThrow(/file: exists and is not a directory/);
      // A cluster folder that is a file stops the run before the CSC is rewritten.
      const dist = path.join(out, 'dist');
      synthInto(dist)();
      const cscValues = fs.statSync(path.join(dist, 'csc', 'values.event-bus.yaml')).mtimeMs;
      fs.rmSync(path.join(dist, 'cpc-1'), { recursive: true });
      fs.writeFileSync(path.join(dist, 'cpc-1'), 'in the way');
      expect(synthInto(dist)).toThrow(/cpc-1: exists and is not a directory/);
      expect(fs.statSync(path.join(dist, 'csc', 'values.event-bus.yaml')).mtimeMs).toBe(cscValues);
      // So do two objects of the last CPC that would share a file.
      fs.rmSync(path.join(dist, 'cpc-1'));
      const app = new App({ outdir: dist });
      const fleet = new EventBusFleet(app, 'fleet', fleetProps(['1', '2']));
      new ApiObject(fleet.cpc('2'), 'Twin', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'twin' } });
      new ApiObject(fleet.cpc('2'), 'Twin2', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'twin' } });
      expect(() => fleet.synth(dist)).toThrow(/fleet\/cpc-2: two objects would be written to ConfigMap\.dsx\.twin\.k8s\.yaml/);
      expect(fs.existsSync(path.join(dist, 'cpc-1'))).toBe(false);
      expect(fs.statSync(path.join(dist, 'csc', 'values.event-bus.yaml')).mtimeMs).toBe(cscValues);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('snapshot of the CSC and CPC-1 of a two-CPC fleet (deterministic keys)', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps(['1', '2']));
    expect({ csc: fleet.csc.toJson(), cscValues: fleet.csc.helmValues(), cpc1: fleet.cpc('1').toJson(), cpc1Values: fleet.cpc('1').helmValues() }).toMatchSnapshot();
  });
});

/**
 * Test keys are loud (issue 17): output made from a key store whose seeds
 * anyone can derive (`DeterministicKeyStore`, the fleet file's
 * `keys: { deterministicTestKeys: true }`) carries the label
 * `cdk8s-dsx-event-bus/test-keys: "true"` on every object and a header in
 * every values file, synthesis warns, and the deliveries that write key
 * values (inline, sealedSecrets) refuse such a store without `allowTestKeys`.
 *
 * The reproduction of the issue: a fleet file with deterministic test keys
 * and inline delivery synthesized with exit 0, nothing on stderr and no mark
 * on any object, and 5 Secret seeds equal to those of the public default
 * phrase.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import * as YAML from 'yaml';
import { controllerKeys } from './sealed-fixture';
import {
  DirectoryKeyStore, EventBusCluster, EventBusFleet, EventBusSecrets, GitOps, SecretsDelivery,
} from '../../src';
import { EventBusError } from '../../src/errors';
import { DeterministicKeyStore } from '../../src/testing';
import { testFleetProps } from '../charts/fleet-props';
import { dsxEventBus, ensureBuilt, REPO } from '../util/cli';
import { MINIMAL_FLEET } from '../util/fleet-yaml';
import { TEST_KEYS } from '../util/labels';
import { withoutTestKeysWarning } from '../util/test-keys';

const LABEL = Object.keys(TEST_KEYS)[0];
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-keys-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Synthesizes a fleet per store expression (`lib` is the built package) in a
 * real Node process (jest's process object does not pass warnings on);
 * returns its stderr and the warnings it saw.
 */
function warningsInChild(...stores: string[]): { stderr: string; warnings: string[][] } {
  ensureBuilt();
  const script = `
    const { Testing } = require('cdk8s');
    const lib = require(${JSON.stringify(REPO)});
    const seen = [];
    process.on('warning', (w) => seen.push([w.name, w.code, w.message]));
    const props = (keys) => ({
      keys, delivery: lib.SecretsDelivery.inline({ allowTestKeys: true }), certificates: lib.ClusterCertificates.issuer(lib.CertificateIssuer.fromIssuerName('issuer')),
      cscTrust: lib.LeafTrust.publicRoots(), csc: { gateway: { hostnames: ['csc.example.com'] } }, cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
    });
    ${stores.map((st, i) => `new lib.EventBusFleet(Testing.app(), 'f${i}', props(${st}));`).join('\n')}
    setImmediate(() => console.log(JSON.stringify(seen)));`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' });
  expect(run.status).toBe(0);
  return { stderr: run.stderr, warnings: JSON.parse(run.stdout) };
}

/** Every object of every cluster of a fleet. */
function objectsOf(fleet: EventBusFleet): any[] {
  return fleet.charts.flatMap((c) => Testing.synth(c));
}

describe('the library', () => {
  test('inline delivery refuses a test store without allowTestKeys, names the prop and the opt-in', () => {
    const build = () => new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ delivery: SecretsDelivery.inline() }));
    expect(build).toThrow(EventBusError);
    expect(build).toThrow(/^fleet: delivery: keys is a test key store \(deterministic test key store .*\): anyone can derive its seeds, and inline delivery would write them into the output\. .*Fix: for tests and snapshot tests, opt in with SecretsDelivery\.inline\(\{ allowTestKeys: true \}\); for a real cluster, use DirectoryKeyStore\.open\(dir\)/);
    // A standalone EventBusSecrets refuses the same way.
    expect(() => new EventBusSecrets(Testing.chart(), 'Secrets', { cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.inline(), keys: new DeterministicKeyStore(), mtls: false }))
      .toThrow(/Secrets: delivery: keys is a test key store/);
  });

  test('sealedSecrets delivery refuses a test store without allowTestKeys (sealed seeds anyone can derive are no secret)', () => {
    const [csc, cpc1, cpc2] = controllerKeys(3);
    const certificates = { 'csc': csc.certificate, 'cpc-1': cpc1.certificate, 'cpc-2': cpc2.certificate };
    expect(() => new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ metadata: { namespace: 'dsx' }, delivery: SecretsDelivery.sealedSecrets({ certificates }) })))
      .toThrow(/delivery: keys is a test key store .* sealedSecrets delivery would write them into the output\. .*Fix: for tests and snapshot tests, opt in with SecretsDelivery\.sealedSecrets\(\{ \.\.\., allowTestKeys: true \}\)/);
    const fleet = new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ metadata: { namespace: 'dsx' }, delivery: SecretsDelivery.sealedSecrets({ certificates, allowTestKeys: true }) }));
    const sealed = objectsOf(fleet).filter((o) => o.kind === 'SealedSecret');
    expect(sealed.length).toBeGreaterThan(0);
    // The SealedSecret and the Secret the controller makes from it both say so.
    for (const s of sealed) {
      expect(s.metadata.labels).toMatchObject(TEST_KEYS);
      expect(s.spec.template.metadata.labels).toMatchObject(TEST_KEYS);
    }
  });

  test('with the opt-in: every object of every cluster carries the label, objects added to a chart later too, and the values files say so', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ mtls: true, extraAccounts: ['LaunchLayer'] }));
    // An object of the user's in a CPC chart, added after the fleet.
    new kplus.ConfigMap(fleet.cpcs[0], 'mine', { data: { a: 'b' } });
    const objects = objectsOf(fleet);
    expect([...new Set(objects.map((o) => o.kind))]).toEqual(expect.arrayContaining(['Secret', 'Certificate', 'Gateway', 'ConfigMap', 'EnvoyProxy']));
    for (const o of objects) expect([o.kind, o.metadata.name, o.metadata.labels?.[LABEL]]).toEqual([o.kind, o.metadata.name, 'true']);
    for (const c of fleet.charts) {
      expect(c.valuesYaml()).toMatch(/^# Helm values[^\n]*\n(#[^\n]*\n)*# TEST KEYS: made from deterministic test key store .*; anyone can derive its seeds\.\n# Never install these values on a cluster that matters\.\n/);
    }
  });

  test('without inline values (externalSecrets): no refusal, but the objects are marked, and the operator-made Secrets too', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ delivery: SecretsDelivery.externalSecrets({ storeName: 'vault' }) }));
    const objects = objectsOf(fleet);
    const external = objects.filter((o) => o.kind === 'ExternalSecret');
    expect(external.length).toBeGreaterThan(0);
    for (const o of objects) expect(o.metadata.labels).toMatchObject(TEST_KEYS);
    for (const e of external) expect(e.spec.target.template.metadata.labels).toMatchObject(TEST_KEYS);
  });

  test('synthesis warns once per process (DsxEventBusWarning, code DSX_TEST_KEYS) on stderr', () => {
    const { stderr, warnings } = warningsInChild('new lib.testing.DeterministicKeyStore()', 'new lib.testing.DeterministicKeyStore({ phrase: "other" })');
    expect(withoutTestKeysWarning(stderr)).toBe('');
    expect(warnings.map(([name, code]) => [name, code])).toEqual([['DsxEventBusWarning', 'DSX_TEST_KEYS']]);
    expect(warnings[0][2]).toMatch(/^keys \(deterministic test key store .*\) is a test key store: anyone can derive its seeds\. Every object made from it carries the label cdk8s-dsx-event-bus\/test-keys: "true"; never deploy it/);
  });

  test('a real key store (made by nkeys) neither warns nor marks, with inline delivery and no opt-in', () => {
    const ks = path.join(dir, 'ks');
    fs.mkdirSync(ks);
    expect(dsxEventBus(['nkeys', '-o', ks, '1', '2']).status).toBe(0);
    expect(warningsInChild(`lib.DirectoryKeyStore.open(${JSON.stringify(ks)})`)).toEqual({ stderr: '', warnings: [] });
    const fleet = new EventBusFleet(Testing.app(), 'real', testFleetProps({ keys: DirectoryKeyStore.open(ks), delivery: SecretsDelivery.inline() }));
    for (const o of objectsOf(fleet)) expect(o.metadata.labels?.[LABEL]).toBeUndefined();
    for (const c of fleet.charts) expect(c.valuesYaml()).not.toContain('TEST KEYS');
  });

  test.each(['argoCd', 'flux'] as const)('GitOps (%s): the engine\'s objects that deploy test-key clusters carry the label too', (engine) => {
    const options = { repoUrl: 'https://git.example.com/fleet.git', path: 'clusters', chart: { repoUrl: 'oci://registry.example.com/charts', version: '0.2.0' } };
    const outdir = path.join(dir, 'out');
    const fleet = new EventBusFleet(new App({ outdir }), 'fleet', testFleetProps({
      delivery: SecretsDelivery.externalSecrets({ storeName: 'vault' }), gitops: engine === 'argoCd' ? GitOps.argoCd(options) : GitOps.flux(options),
    }));
    fleet.synth(outdir);
    const files = (fs.readdirSync(path.join(outdir, 'gitops'), { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(engine === 'argoCd' ? 1 : 3);
    for (const f of files) {
      for (const o of YAML.parseAllDocuments(fs.readFileSync(path.join(outdir, 'gitops', f), 'utf8')).map((d) => d.toJS())) {
        if (String(o.apiVersion).startsWith('kustomize.config.k8s.io/')) continue; // kustomize's own file, not an object
        expect([f, o.kind, o.metadata.labels?.[LABEL]]).toEqual([f, o.kind, 'true']);
        // The Applications the ApplicationSet makes are marked as well.
        if (o.kind === 'ApplicationSet') expect(o.spec.template.metadata.labels[LABEL]).toBe('true');
      }
    }
  });

  test('a user label cannot unmark the output', () => {
    const chart = new Chart(Testing.app(), 'c');
    new EventBusSecrets(chart, 'Secrets', {
      cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys: new DeterministicKeyStore(), mtls: false, createLeafConnections: true, metadata: { labels: { [LABEL]: 'false' } },
    });
    for (const o of Testing.synth(chart)) expect(o.metadata.labels[LABEL]).toBe('true');
  });
});

describe('the CLI (the reproduction of issue 17)', () => {
  const fleetFile = (delivery: string) => {
    const file = path.join(dir, 'fleet.yaml');
    fs.writeFileSync(file, `keys: { deterministicTestKeys: true }\n${MINIMAL_FLEET.replace('delivery: { type: existing }', `delivery: ${delivery}`)}`);
    return file;
  };

  test('deterministic test keys with inline delivery: refused, naming delivery and the opt-in, nothing written', () => {
    const out = path.join(dir, 'out');
    const r = dsxEventBus(['synth', '-c', fleetFile('{ type: inline }'), '-o', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: .*fleet\.yaml: delivery: keys is a test key store .*inline delivery would write them into the output\. .*Fix: for tests and snapshot tests, opt in with \{ type: inline, allowTestKeys: true \}/m);
    expect(fs.existsSync(out)).toBe(false);
  });

  test('with allowTestKeys: exit 0, one WARNING line, the label on every object, the header in every values file', () => {
    const out = path.join(dir, 'out');
    const r = dsxEventBus(['synth', '-c', fleetFile('{ type: inline, allowTestKeys: true }'), '-o', out]);
    expect(r.stderr.match(/^WARNING: keys \(deterministic test key store .*\) is a test key store: anyone can derive its seeds\..* For real keys, run dsx-event-bus nkeys and use \{ directory: DIR \}/gm)).toHaveLength(1);
    expect(r.stderr).not.toContain('(node:');
    expect(r.status).toBe(0);
    let objects = 0;
    for (const cluster of ['csc', 'cpc-1']) {
      for (const f of fs.readdirSync(path.join(out, cluster, 'manifests'))) {
        const o = YAML.parse(fs.readFileSync(path.join(out, cluster, 'manifests', f), 'utf8'));
        expect([f, o.metadata.labels?.[LABEL]]).toEqual([f, 'true']);
        objects++;
      }
      expect(fs.readFileSync(path.join(out, cluster, 'values.event-bus.yaml'), 'utf8')).toContain('# TEST KEYS: made from deterministic test key store');
    }
    expect(objects).toBeGreaterThan(10);
  });
});

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { EventBusFleet } from '../../src';
import { inFileTerms } from '../../src/cli/file-terms';
import { loadFleetDoc, readFleetFile } from '../../src/cli/fleet-file';
import { EventBusError } from '../../src/errors';
import { clustersYaml } from '../util/fleet-yaml';

// Fleet-file forms of the chart values a deployer needs: per-cluster Secret
// overrides, extra account properties, crossLayer, mqttStreams, auth-callout.
let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-fleet-values-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const HEAD = `delivery: { type: existing }
keys: { deterministicTestKeys: true }
certificates: { selfSigned: true }
cscTrust: { configMapName: csc-gateway-ca }
`;
const CLUSTERS = `clusters:
  - type: csc
    gateway: { hostnames: [csc.example.com] }
  - type: cpc
    id: "1"
    gateway: { hostnames: [cpc-1.example.com] }
  - type: cpc
    id: "2"
    gateway: { hostnames: [cpc-2.example.com] }
`;
let n = 0;
function load(text: string) {
  const file = path.join(dir, `fleet-${n++}.yaml`);
  fs.writeFileSync(file, text);
  return { file, props: () => readFleetFile(file) };
}
/** What `dsx-event-bus synth` reports: the fleet's error in the file's terms. */
function inFile<T>(file: string, build: () => T): T {
  try {
    return build();
  } catch (e) {
    throw e instanceof EventBusError ? inFileTerms(e, { fleetPath: 'fleet', file, doc: loadFleetDoc(file) }) : e;
  }
}
const fleetOf = (text: string) => new EventBusFleet(Testing.app(), 'fleet', load(text).props());

describe('fleet file: per-cluster secret overrides', () => {
  test('a cpc entry renames its nats-leaf-csc; top-level overrides apply to every cluster', () => {
    const f = fleetOf(`${HEAD}secretOverrides:
  - { secret: nats-xkey, name: custom-xkey }
clusters:
  - type: csc
    gateway: { hostnames: [csc.example.com] }
    secretOverrides: [{ secret: nats-leaf-cpc-2, name: leaf-2 }]
  - type: cpc
    id: "1"
    gateway: { hostnames: [cpc-1.example.com] }
    secretOverrides: [{ secret: nats-leaf-csc, name: cpc1-leaf, keys: { seed: nkey } }]
  - type: cpc
    id: "2"
    gateway: { hostnames: [cpc-2.example.com] }
`);
    expect(f.cpc('1').secrets.secretName('nats-leaf-csc')).toBe('cpc1-leaf');
    expect(f.cpc('1').secrets.secretKey('nats-leaf-csc', 'seed')).toBe('nkey');
    expect(f.cpc('2').secrets.secretName('nats-leaf-csc')).toBe('nats-leaf-csc');
    expect(f.csc.secrets.secretName('nats-leaf-cpc-2')).toBe('leaf-2');
    for (const c of f.charts) expect(c.secrets.secretName('nats-xkey')).toBe('custom-xkey');
  });

  test('fails when a top-level override names a Secret only some clusters have, naming the cluster entries', () => {
    const { file, props } = load(`${HEAD}secretOverrides:
  - { secret: nats-leaf-csc, name: x }
${CLUSTERS}`);
    // The fleet checks the rule and names its props; the CLI maps them to the file's fields.
    expect(() => inFile(file, () => new EventBusFleet(Testing.app(), 'fleet', props()))).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: secretOverrides\\[0\\]: Secret "nats-leaf-csc" exists only on cpc-1, cpc-2, but a fleet-level override applies to every cluster\\. Fix: move this override to clusters\\[1\\]\\.secretOverrides and clusters\\[2\\]\\.secretOverrides`));
  });

  test('fails when a cluster entry overrides a Secret that cluster does not have', () => {
    expect(() => fleetOf(`${HEAD}clusters:
  - type: csc
    gateway: { hostnames: [csc.example.com] }
    secretOverrides: [{ secret: nats-leaf-csc, name: x }]
  - type: cpc
    id: "1"
    gateway: { hostnames: [cpc-1.example.com] }
`)).toThrow(/fleet: csc\.secretOverrides: "nats-leaf-csc" is not a Secret of CSC\. Allowed: .*nats-leaf-cpc-1/);
  });
});

describe('fleet file: extra accounts, crossLayer, mqttStreams, authCallout', () => {
  test('extraAccounts takes names and extraAccountSettings their properties (the props\' fields); every value reaches every cluster', () => {
    const f = fleetOf(`${HEAD}extraAccounts: [Kiwi, LaunchLayer]
extraAccountSettings: { LaunchLayer: { jetstream: true } }
crossLayer:
  cscExports: [alerts.>]
  cscPrefixedExports: [commands.*]
  cpcExports: [telemetry.>]
mqttStreams: { maxBytes: 1048576, replicas: 1, storage: file, maxAge: 1h30m }
authCallout:
  image: { repository: registry.corp.example/dsx/auth-callout, tag: v0.1.0 }
  imagePullSecrets: [regcred]
  jwks: { url: "https://keycloak.example.com/realms/event-bus/protocol/openid-connect/certs", issuer: "https://keycloak.example.com/realms/event-bus", audience: event-bus }
${CLUSTERS}`);
    for (const chart of f.charts) {
      const v = chart.helmValues();
      expect(v.global.eventBus.extraAccounts).toEqual({ Kiwi: { enabled: true }, LaunchLayer: { enabled: true, jetstream: true } });
      expect(v.global.eventBus.crossLayer).toEqual({ cscExports: ['alerts.>'], cscPrefixedExports: ['commands.*'], cpcExports: ['telemetry.>'] });
      expect(v.global.eventBus.mqttStreams).toEqual({ maxBytes: 1048576, replicas: 1, storage: 'file', maxAge: '1h30m' });
      expect(v['auth-callout']).toMatchObject({ image: { repository: 'registry.corp.example/dsx/auth-callout', tag: 'v0.1.0' }, imagePullSecrets: [{ name: 'regcred' }], serviceConfig: { jwks: { audience: 'event-bus' } } });
      expect(chart.unsetDeployerValues).toEqual([]);
    }
    // The leaf Secrets of both accounts exist, with settings or without.
    expect(f.cpc('1').secrets.listSecrets().map((s) => s.name)).toEqual(expect.arrayContaining(['nats-leaf-kiwi-csc', 'nats-leaf-launchlayer-csc']));
  });

  test('a cluster entry\'s mqttStreams and authCallout replace the top-level ones there', () => {
    const f = fleetOf(`${HEAD}mqttStreams: { replicas: 3, maxAge: 3h }
authCallout: { image: { repository: registry.corp.example/dsx/auth-callout, tag: v1 } }
${clustersYaml(`    mqttStreams: { replicas: 1, maxAge: 10m }
    authCallout: { image: { repository: edge.example/auth-callout, tag: v1 } }
`)}`);
    expect(f.cpc('1').helmValues().global.eventBus.mqttStreams).toEqual({ replicas: 1, maxAge: '10m' });
    expect(f.cpc('1').helmValues()['auth-callout'].image.repository).toBe('edge.example/auth-callout');
    expect(f.csc.helmValues().global.eventBus.mqttStreams).toEqual({ replicas: 3, maxAge: '3h' });
    expect(f.csc.helmValues()['auth-callout'].image.repository).toBe('registry.corp.example/dsx/auth-callout');
  });

  test('fails when the file routes a subject through two crossLayer lists', () => {
    expect(() => fleetOf(`${HEAD}crossLayer: { cscPrefixedExports: ["a.>"], cpcExports: [a.b] }\n${CLUSTERS}`))
      .toThrow(/crossLayer: cpcExports subject "a\.b" overlaps cscPrefixedExports subject "a\.>": a subject routed by two lists creates cyclic imports/);
  });

  test('fails when an extra account is listed twice', () => {
    const { file, props } = load(`${HEAD}extraAccounts: [Kiwi, Kiwi]\nextraAccountSettings: { Kiwi: { jetstream: true } }\n${CLUSTERS}`);
    // The fleet checks the names; the CLI names the file.
    expect(() => inFile(file, () => new EventBusFleet(Testing.app(), 'fleet', props()))).toThrow(new RegExp(`${path.basename(file).replace('.', '\\.')}: extraAccounts: extra account "Kiwi" is listed twice\\. Fix: list each extra account once`));
  });

  test('fails (schema) when mqttStreams or authCallout is malformed', () => {
    const streams = load(`${HEAD}mqttStreams: { maxAge: 3 days, replicas: 7 }\n${CLUSTERS}`).props;
    expect(streams).toThrow(/mqttStreams\/maxAge: does not match/);
    expect(streams).toThrow(/mqttStreams\/replicas: must be <= 5/);
    expect(load(`${HEAD}authCallout: { image: { repository: r.example.com/a } }\n${CLUSTERS}`).props).toThrow(/authCallout\/image: missing required field "tag"/);
    expect(load(`${HEAD}extraAccounts: [{ name: Kiwi }]\n${CLUSTERS}`).props).toThrow(/extraAccounts\/0/);
    expect(load(`${HEAD}extraAccounts: [Kiwi]\nextraAccountSettings: { Kiwi: { jetStream: true } }\n${CLUSTERS}`).props).toThrow(/extraAccountSettings\/Kiwi/);
  });

  test('fails when the file names the chart\'s placeholder image', () => {
    expect(() => fleetOf(`${HEAD}authCallout: { image: { repository: registry.example.com/dsx-exchange/auth-callout, tag: v0.1.0 } }\n${CLUSTERS}`))
      .toThrow(/authCallout\.image\.repository: "registry\.example\.com\/dsx-exchange\/auth-callout" is the chart's placeholder/);
  });
});

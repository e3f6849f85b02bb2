import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { testFleetProps } from './fleet-props';
import {
  CpcChart, EventBusCluster, CscChart, EventBusClusterOptions, EventBusFleet, EventBusFleetProps,
  MqttStreamStorage, SecretsDelivery,
} from '../../src';
import { goDuration, parseGoDuration, subjectsOverlap } from '../../src/charts/chart-values';
import { DeterministicKeyStore } from '../../src/testing';
import { helmTemplate } from '../util/helm-template';
import { NATS_SERVER_BIN, natsServerAvailable } from '../util/nats-server';
import { chartMissing, helmMissing, toolTest } from '../util/tools';

// The chart values a deployer needs, as typed props: extra account
// properties, crossLayer, mqttStreams and the auth-callout image and JWKS.
const keys = new DeterministicKeyStore();
const common = { keys, delivery: SecretsDelivery.existing(), gateway: { enabled: false }, createLeafConnections: true };
const csc = (extra: Partial<EventBusClusterOptions> = {}) => new CscChart(Testing.app(), 'csc', { ...common, cluster: EventBusCluster.csc({ cpcIds: ['1'] }), ...extra });
const cpc = (extra: Partial<EventBusClusterOptions> = {}) => new CpcChart(Testing.app(), 'cpc', { ...common, cluster: EventBusCluster.cpc('1'), cscEndpoint: 'tls://csc.example.com:7422', ...extra });
const fleetProps = (extra: Partial<EventBusFleetProps> = {}) => testFleetProps({ delivery: SecretsDelivery.existing(), ...extra });
const natsMissing = () => (natsServerAvailable() ? undefined : `nats-server not found at ${NATS_SERVER_BIN}`);

/** `nats-server -t` of an accounts block (JetStream on): "valid", or what the server says. */
function checkAccounts(accountsConf: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accounts-'));
  try {
    const file = path.join(dir, 'nats.conf');
    fs.writeFileSync(file, `port: -1\njetstream { store_dir: ${JSON.stringify(path.join(dir, 'js'))} }\naccounts {\n${accountsConf}\n}\n`);
    execFileSync(NATS_SERVER_BIN, ['-t', '-c', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return 'valid';
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The `data[file]` of a rendered ConfigMap. */
const configMap = (objects: any[], name: string, file: string): string => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name).data[file];

describe('extra account settings', () => {
  test('jetstream reaches the account on every cluster; accounts without settings stay { enabled: true }', () => {
    const opts = { extraAccounts: ['LaunchLayer', 'Kiwi'], extraAccountSettings: { LaunchLayer: { jetstream: true } } };
    for (const chart of [csc(opts), cpc(opts)]) {
      expect(chart.helmValues().global.eventBus.extraAccounts).toEqual({ LaunchLayer: { enabled: true, jetstream: true }, Kiwi: { enabled: true } });
    }
    expect(csc({ extraAccounts: ['Kiwi'] }).helmValues().global.eventBus.extraAccounts).toEqual({ Kiwi: { enabled: true } });
    expect(csc({ extraAccounts: ['Kiwi'], extraAccountSettings: { Kiwi: { jetstream: false } } }).helmValues().global.eventBus.extraAccounts).toEqual({ Kiwi: { enabled: true } });
  });

  test('fails when settings name an account that is not in extraAccounts', () => {
    expect(() => csc({ extraAccounts: ['Kiwi'], extraAccountSettings: { LaunchLayer: { jetstream: true } } }))
      .toThrow(/^csc: extraAccountSettings\.LaunchLayer: settings are given for "LaunchLayer", which is not in extraAccounts\. Allowed: "Kiwi"\. Fix: add "LaunchLayer" to extraAccounts, or remove its settings/);
    expect(() => csc({ extraAccountSettings: { LaunchLayer: {} } })).toThrow(/Allowed: no account: extraAccounts is empty/);
  });

  test('fails when an account\'s settings are not an ExtraAccountSettings', () => {
    expect(() => csc({ extraAccounts: ['Kiwi'], extraAccountSettings: { Kiwi: { jetstream: 'yes' as any } } }))
      .toThrow(/extraAccountSettings\.Kiwi: is not an ExtraAccountSettings\. Allowed: \{ jetstream\?: boolean \}/);
  });

  toolTest('helm template: the CSC account gets JetStream; the CPC keeps it off and maps $JS.API, $KV and $OBJ to the CSC; nats-server loads both', [helmMissing(), chartMissing(), natsMissing()], async () => {
    const opts = { extraAccounts: ['LaunchLayer', 'Kiwi'], extraAccountSettings: { LaunchLayer: { jetstream: true } } };
    const cscConf = configMap(helmTemplate([csc(opts).valuesYaml()]), 'nats-accounts-config', 'accounts.conf');
    expect(cscConf).toMatch(/LaunchLayer \{\s*jetstream: true\s*\}/);
    expect(cscConf).toMatch(/Kiwi \{\s*\}/);
    const cpcConf = configMap(helmTemplate([cpc(opts).valuesYaml()]), 'nats-accounts-config', 'accounts.conf');
    expect(cpcConf).toMatch(/LaunchLayer \{\s*jetstream: false\s*mappings: \{\s*"\$JS\.API\.>": "\$JS\.CSC\.API\.>"\s*"\$KV\.>": "\$JS\.CSC\.API\.\$KV\.>"\s*"\$OBJ\.>": "\$JS\.CSC\.API\.\$OBJ\.>"/);
    expect(checkAccounts(cscConf)).toBe('valid');
    expect(checkAccounts(cpcConf)).toBe('valid');
  });
});

describe('crossLayer', () => {
  test('subjects overlap when some subject matches both (wildcards included)', () => {
    const cases: Array<[string, string, boolean]> = [
      ['a.b', 'a.b', true], ['a.>', 'a.b', true], ['a.b', 'a.>', true], ['a.*', '*.b', true], ['a.*', 'a.b.c', false],
      ['a.>', 'a', false], ['>', 'x.y', true], ['a.b', 'a.c', false], ['a.*.c', 'a.b.*', true], ['a.b', 'a.b.c', false],
    ];
    for (const [x, y, expected] of cases) expect([x, y, subjectsOverlap(x, y)]).toEqual([x, y, expected]);
  });

  test('the lists are written to every cluster of a fleet, the same everywhere', () => {
    const crossLayer = { cscExports: ['alerts.>'], cscPrefixedExports: ['commands.*'], cpcExports: ['telemetry.>'] };
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({ crossLayer }));
    for (const chart of fleet.charts) expect(chart.helmValues().global.eventBus.crossLayer).toEqual(crossLayer);
    expect(csc({ crossLayer: { cpcExports: ['x'] } }).helmValues().global.eventBus.crossLayer).toEqual({ cpcExports: ['x'] });
    expect(csc().helmValues().global.eventBus.crossLayer).toBeUndefined();
  });

  test.each([
    [{ cscExports: ['a.b'], cpcExports: ['a.b'] }, /cpcExports subject "a\.b" overlaps cscExports subject "a\.b"/],
    [{ cscPrefixedExports: ['a.>'], cpcExports: ['a.b'] }, /cpcExports subject "a\.b" overlaps cscPrefixedExports subject "a\.>"/],
    [{ cscExports: ['a.*.c'], cscPrefixedExports: ['a.b.*'] }, /cscPrefixedExports subject "a\.b\.\*" overlaps cscExports subject "a\.\*\.c"/],
  ])('fails when subjects of two lists overlap: %j', (crossLayer, message) => {
    expect(() => cpc({ crossLayer })).toThrow(message);
    expect(() => cpc({ crossLayer })).toThrow(/^cpc: crossLayer: .* creates cyclic imports that crash the NATS pod\. Allowed: each subject \(and every subject its wildcards match\) in one of cscExports, cscPrefixedExports and cpcExports only\. Fix: keep the subject in one list/);
  });

  test('fails when a subject is listed twice in one list (overlap inside one list is allowed)', () => {
    expect(() => cpc({ crossLayer: { cscExports: ['a.b', 'a.b'] } })).toThrow(/crossLayer\.cscExports: subject "a\.b" is listed twice \(nats-server refuses the second, identical import\)\. Fix: list it once/);
    expect(() => cpc({ crossLayer: { cscExports: ['a.>', 'a.b'] } })).not.toThrow();
  });

  test.each(['a..b', 'a b', 'a.>.b', ''])('fails when a crossLayer subject is %j', (subject) => {
    expect(() => csc({ crossLayer: { cpcExports: [subject] } })).toThrow(/csc: crossLayer\.cpcExports: .* is not a NATS subject\. Allowed: dot-separated tokens/);
  });

  test('fails in a fleet at the CSC, before any CPC', () => {
    expect(() => new EventBusFleet(Testing.app(), 'fleet', fleetProps({ crossLayer: { cscExports: ['x.>'], cpcExports: ['x.y'] } })))
      .toThrow(/^fleet: crossLayer: cpcExports subject "x\.y" overlaps cscExports subject "x\.>"/);
  });

  toolTest('helm template: a CPC routes the subjects through its accounts and MQTT stream sources', [helmMissing(), chartMissing()], async () => {
    const objects = helmTemplate([cpc({ crossLayer: { cscExports: ['alerts.>'], cscPrefixedExports: ['commands.*'], cpcExports: ['telemetry.>'] } }).valuesYaml()]);
    const conf = configMap(objects, 'nats-accounts-config', 'accounts.conf');
    expect(conf).toContain('{ stream: { account: CPC, subject: "telemetry.>" }, to: "cpc.1.telemetry.>" }');
    expect(conf).toContain('{ stream: { account: CSC, subject: "cpc.1.commands.*" }, to: "commands.*" }');
    const msgs = objects.find((o) => o.kind === 'Stream' && o.metadata.name === 'mqtt-msgs');
    expect(msgs.spec.sources[0].subjectTransforms).toEqual([
      { source: '$MQTT.msgs.alerts.>', dest: '' },
      { source: '$MQTT.msgs.cpc.1.commands.*', dest: '$MQTT.msgs.commands.*' },
    ]);
  });

  // The premise of the check, against the real server: the accounts the chart
  // renders for overlapping lists (values written by hand, past the library) do not load.
  toolTest('nats-server refuses the accounts the chart renders for overlapping lists; the library refuses them first', [helmMissing(), chartMissing(), natsMissing()], async () => {
    const load = (crossLayer: object) => {
      const values = YAML.stringify({ global: { eventBus: { clusterType: 'cpc', clusterId: '1', cscEndpoint: 'tls://csc:7422', crossLayer } } });
      return checkAccounts(configMap(helmTemplate([values]), 'nats-accounts-config', 'accounts.conf'));
    };
    expect(load({ cscPrefixedExports: ['a.b'], cpcExports: ['c.d'] })).toBe('valid');
    for (const crossLayer of [{ cscPrefixedExports: ['a.b'], cpcExports: ['a.b'] }, { cscPrefixedExports: ['a.>'], cpcExports: ['a.b'] }, { cscPrefixedExports: ['a.*'], cpcExports: ['*.b'] }]) {
      expect(load(crossLayer)).toMatch(/import forms a cycle/);
      expect(() => cpc({ crossLayer })).toThrow(/overlaps/);
    }
    expect(load({ cscExports: ['a.b', 'a.b'] })).toMatch(/stream import already exists/);
    expect(() => cpc({ crossLayer: { cscExports: ['a.b', 'a.b'] } })).toThrow(/listed twice/);
  });
});

describe('mqttStreams', () => {
  test('the fields that are set are written, maxAge as a Go duration', () => {
    const mqttStreams = { maxBytes: 2 ** 30, replicas: 1, storage: MqttStreamStorage.FILE, maxAge: Duration.minutes(90) };
    expect(csc({ mqttStreams }).helmValues().global.eventBus.mqttStreams)
      .toEqual({ maxBytes: 1073741824, replicas: 1, storage: 'file', maxAge: '1h30m' });
    expect(csc({ mqttStreams: { replicas: 5 } }).helmValues().global.eventBus.mqttStreams).toEqual({ replicas: 5 });
    expect(csc({ mqttStreams: { maxBytes: -1 } }).helmValues().global.eventBus.mqttStreams).toEqual({ maxBytes: -1 });
    expect(csc().helmValues().global.eventBus.mqttStreams).toBeUndefined();
  });

  test('a fleet member\'s streams (and auth-callout settings) replace the fleet\'s on that cluster only', () => {
    const image = { repository: 'registry.corp.example/dsx/auth-callout', tag: 'v1' };
    const fleet = new EventBusFleet(Testing.app(), 'fleet', fleetProps({
      mqttStreams: { replicas: 3, storage: MqttStreamStorage.FILE },
      authCallout: { image },
      cpcs: [
        { id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, mqttStreams: { replicas: 1 }, authCallout: { image: { ...image, repository: 'edge.example/auth-callout' } } },
        { id: '2', gateway: { hostnames: ['cpc-2.example.com'] } },
      ],
    }));
    expect(fleet.cpc('1').helmValues().global.eventBus.mqttStreams).toEqual({ replicas: 1 });
    expect(fleet.cpc('1').helmValues()['auth-callout'].image.repository).toBe('edge.example/auth-callout');
    for (const chart of [fleet.csc, fleet.cpc('2')]) {
      expect(chart.helmValues().global.eventBus.mqttStreams).toEqual({ replicas: 3, storage: 'file' });
      expect(chart.helmValues()['auth-callout'].image).toEqual(image);
    }
    expect(() => new EventBusFleet(Testing.app(), 'fleet', fleetProps({ cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, mqttStreams: { replicas: 9 } }] })))
      .toThrow(/^fleet: cpcs\[0\]\.mqttStreams\.replicas: 9 is not a replica count/);
  });

  test('Go durations both ways', () => {
    expect([0, 1500, 3_600_000, 5_400_000, 86_400_000, 3_723_004].map(goDuration)).toEqual(['0s', '1s500ms', '1h', '1h30m', '24h', '1h2m3s4ms']);
    expect(['3h', '1h30m', '10m', '1s500ms', '0s'].map(parseGoDuration)).toEqual([10_800_000, 5_400_000, 600_000, 1500, 0]);
    expect(['', '3d', '1.5h', '-1h', 'h'].map(parseGoDuration)).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  test.each([
    [{ maxBytes: 0 }, /mqttStreams\.maxBytes: 0 is not a stream size\. Allowed: a whole number of bytes of at least 1, or -1 for no limit/],
    [{ maxBytes: 1.5 }, /maxBytes: 1\.5 is not a stream size/],
    [{ replicas: 0 }, /mqttStreams\.replicas: 0 is not a replica count\. Allowed: a whole number from 1 to 5/],
    [{ replicas: 6 }, /replicas: 6 is not a replica count/],
    [{ storage: 'disk' as MqttStreamStorage }, /mqttStreams\.storage: "disk" is not a stream storage\. Allowed: MqttStreamStorage\.MEMORY \("memory"\) or MqttStreamStorage\.FILE \("file"\)/],
    [{ maxAge: Duration.millis(1.5) }, /mqttStreams\.maxAge: is not a duration of whole milliseconds/],
    [{ maxAge: '3h' as unknown as Duration }, /mqttStreams\.maxAge: is not a duration/],
  ])('fails when mqttStreams is %p', (mqttStreams, message) => {
    expect(() => csc({ mqttStreams })).toThrow(message);
  });

  toolTest('helm template: every MQTT stream takes the settings', [helmMissing(), chartMissing()], async () => {
    const mqttStreams = { maxBytes: 2 ** 20, replicas: 1, storage: MqttStreamStorage.FILE, maxAge: Duration.minutes(30) };
    const objects = helmTemplate([cpc({ mqttStreams }).valuesYaml()]);
    const streams = objects.filter((o) => o.kind === 'Stream');
    expect(streams.map((s) => s.metadata.name).sort()).toEqual(['mqtt-msgs', 'mqtt-out', 'mqtt-qos2in', 'mqtt-rmsgs', 'mqtt-sess']);
    for (const s of streams) {
      expect(s.spec).toMatchObject({ storage: 'file', replicas: 1, maxBytes: 1048576 });
      if (s.metadata.name !== 'mqtt-sess') expect(s.spec.maxAge).toBe('30m');
    }
  });
});

describe('auth-callout image and JWKS', () => {
  const image = { repository: 'registry.corp.example:5000/dsx/auth-callout', tag: 'v0.1.0' };
  const jwks = { url: 'https://keycloak.example.com/realms/event-bus/protocol/openid-connect/certs', issuer: 'https://keycloak.example.com/realms/event-bus', audience: 'event-bus' };

  test('image, pull secrets and JWKS become auth-callout values; nothing is written when unset', () => {
    expect(cpc({ authCallout: { image, jwks, imagePullSecrets: ['regcred'] } }).helmValues()['auth-callout']).toEqual({
      image, imagePullSecrets: [{ name: 'regcred' }], serviceConfig: { jwks },
    });
    expect(cpc({ authCallout: { jwks: { url: jwks.url, issuer: jwks.issuer } } }).helmValues()['auth-callout']).toEqual({ serviceConfig: { jwks: { url: jwks.url, issuer: jwks.issuer } } });
    expect(cpc().helmValues()['auth-callout']).toBeUndefined();
  });

  test('the values file names what the deployer must still set, and only that', () => {
    const none = cpc().valuesYaml();
    expect(none).toMatch(/# Not set here; the deployer sets these in another -f values file:\n#   - REQUIRED auth-callout\.image\.repository and \.tag: the image is not published and the auth-callout pod cannot start without it.*\n#   - auth-callout\.serviceConfig\.jwks/);
    expect(cpc().unsetDeployerValues).toHaveLength(2);
    expect(cpc({ authCallout: { image } }).unsetDeployerValues).toEqual([expect.stringMatching(/^auth-callout\.serviceConfig\.jwks/)]);
    const all = cpc({ authCallout: { image, jwks } });
    expect(all.unsetDeployerValues).toEqual([]);
    expect(all.valuesYaml()).not.toMatch(/Not set here/);
    // The comment is YAML: the values parse to exactly helmValues().
    expect(YAML.parse(none)).toEqual(cpc().helmValues());
  });

  test.each([
    [{ image: { repository: 'registry.example.com/dsx/auth-callout:v1', tag: 'v1' } }, /authCallout\.image\.repository: "registry\.example\.com\/dsx\/auth-callout:v1" is not an image repository \(it holds a tag or digest\)\. .*Fix: put the tag into image\.tag/],
    [{ image: { repository: 'Registry/Auth Callout', tag: 'v1' } }, /image\.repository: "Registry\/Auth Callout" is not an image repository\. Allowed: registry\/path in lower case/],
    [{ image: { repository: 'registry.example.com/dsx-exchange/auth-callout', tag: 'v0.1.0' } }, /image\.repository: "registry\.example\.com\/dsx-exchange\/auth-callout" is the chart's placeholder; no such image exists/],
    [{ image: { repository: 'r.example.com/a', tag: '-bad' } }, /authCallout\.image\.tag: "-bad" is not an image tag/],
    [{ image: { repository: 'r.example.com/a', tag: '' } }, /image\.tag: "" is not an image tag/],
    [{ imagePullSecrets: ['Reg Cred'] }, /authCallout\.imagePullSecrets: "Reg Cred" is not a Secret name/],
    [{ jwks: { url: 'keycloak/certs', issuer: 'x' } }, /authCallout\.jwks\.url: "keycloak\/certs" is not an http\(s\) URL/],
    [{ jwks: { url: 'ftp://k.example.com/certs', issuer: 'x' } }, /jwks\.url: "ftp:\/\/k\.example\.com\/certs" is not an http\(s\) URL/],
    [{ jwks: { url: 'https://k.example.com/certs', issuer: ' ' } }, /authCallout\.jwks\.issuer: " " is not an issuer/],
    [{ jwks: { url: 'https://k.example.com/certs', issuer: 'i', audience: '' } }, /authCallout\.jwks\.audience: "" is not an audience/],
  ])('fails when authCallout is %j', (authCallout, message) => {
    expect(() => cpc({ authCallout })).toThrow(message);
  });

  toolTest('helm template: the Deployment runs the image with the pull Secret; the service config holds the JWKS settings', [helmMissing(), chartMissing()], async () => {
    const objects = helmTemplate([csc({ authCallout: { image, jwks, imagePullSecrets: ['regcred'] } }).valuesYaml()]);
    const deployment = objects.find((o) => o.kind === 'Deployment' && o.spec.template.spec.containers.some((c: any) => /auth-callout/.test(c.image)));
    expect(deployment.spec.template.spec.containers.map((c: any) => c.image)).toContain('registry.corp.example:5000/dsx/auth-callout:v0.1.0');
    expect(deployment.spec.template.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    const config = objects.find((o) => o.kind === 'ConfigMap' && /auth-callout-config$/.test(o.metadata.name));
    expect(YAML.parse(config.data['config.yaml']).jwks).toEqual(jwks);
    // Unset, the chart's placeholder remains: what the values file's comment warns about.
    const plain = helmTemplate([csc().valuesYaml()]);
    expect(JSON.stringify(plain)).toContain('registry.example.com/dsx-exchange/auth-callout:');
  });
});

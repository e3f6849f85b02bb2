/**
 * The charts take `metadata` (ClusterChartMetadata: the namespace and labels a
 * cdk8s chart applies to every object it holds), like the constructs take
 * cdk8s `metadata`; a fleet member's is merged over the fleet's, and the
 * fleet file keeps writing `namespace` and `labels` flat (issue 19).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { testFleetProps, testKeys } from './fleet-props';
import { CscChart, EventBusCluster, EventBusFleet, GatewayTransport, SecretsDelivery } from '../../src';
import { fleetFileField, fleetFileText } from '../../src/cli/file-terms';
import { main } from '../../src/cli/run';
import { MINIMAL_FLEET } from '../util/fleet-yaml';

const objects = (chart: { toJson(): any[] }) => chart.toJson();

describe('a chart\'s metadata', () => {
  test('namespace and labels reach every object of the chart', () => {
    const chart = new CscChart(Testing.app(), 'csc', {
      cluster: EventBusCluster.csc({ cpcIds: ['1'] }),
      keys: testKeys,
      delivery: SecretsDelivery.inline({ allowTestKeys: true }),
      createLeafConnections: true,
      mtls: false,
      gateway: { transport: GatewayTransport.TCP },
      metadata: { namespace: 'bus', labels: { team: 'platform' } },
    });
    const all = objects(chart);
    expect(new Set(all.map((o) => o.kind))).toEqual(new Set(['Secret', 'Gateway', 'EnvoyProxy']));
    expect(all.length).toBeGreaterThan(5);
    expect(all.filter((o) => o.metadata.namespace !== 'bus').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    expect(all.filter((o) => o.metadata.labels?.team !== 'platform').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    expect(chart.releaseNamespace).toBe('bus');
  });

  test.each([
    ['name', { name: 'event-bus' }],
    ['annotations', { annotations: { 'example.com/owner': 'ops' } }],
  ])('refuses metadata.%s by name: a chart applies only namespace and labels', (field, metadata) => {
    expect(() => new CscChart(Testing.app(), 'csc', {
      cluster: EventBusCluster.csc({ cpcIds: ['1'] }),
      delivery: SecretsDelivery.existing(),
      metadata: metadata as any,
    })).toThrow(new RegExp(`^csc: metadata\\.${field}: a cluster chart does not apply "${field}": .*Allowed: metadata\\.namespace, metadata\\.labels\\. Fix: remove metadata\\.${field}`));
  });

  test('a bad namespace or label is named by its prop path', () => {
    const make = (metadata: object) => () => new CscChart(Testing.app(), 'csc', {
      cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.existing(), metadata,
    });
    expect(make({ namespace: 'Bad_NS' })).toThrow(/^csc: metadata\.namespace: namespace "Bad_NS" is not a valid Kubernetes namespace/);
    expect(make({ labels: { 'a b': 'x' } })).toThrow(/^csc: metadata\.labels: label key "a b" is invalid/);
  });
});

describe('a fleet member\'s metadata over the fleet\'s', () => {
  test('a member\'s namespace replaces the fleet\'s; its labels are added, its value winning', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', testFleetProps({
      metadata: { namespace: 'dsx', labels: { team: 'platform', tier: 'core' } },
      cpcs: [
        { id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, metadata: { namespace: 'edge', labels: { tier: 'edge' } } },
        { id: '2', gateway: { hostnames: ['cpc-2.example.com'] } },
      ],
    }));
    const [csc, cpc1, cpc2] = [fleet.csc, ...fleet.cpcs];
    expect([csc, cpc1, cpc2].map((c) => c.releaseNamespace)).toEqual(['dsx', 'edge', 'dsx']);
    expect(new Set(objects(cpc1).map((o) => o.metadata.namespace))).toEqual(new Set(['edge']));
    expect(new Set(objects(cpc1).map((o) => `${o.metadata.labels.team}/${o.metadata.labels.tier}`))).toEqual(new Set(['platform/edge']));
    expect(new Set(objects(cpc2).map((o) => `${o.metadata.labels.team}/${o.metadata.labels.tier}`))).toEqual(new Set(['platform/core']));
    // The member's release namespace is where its Helm values say the chart goes.
    expect(cpc1.valuesYaml()).toMatch(/helm install nats-event-bus <chart> -n edge /);
  });

  test('a bad member label is named at the member; a bad fleet namespace at the fleet', () => {
    expect(() => new EventBusFleet(Testing.app(), 'fleet', testFleetProps({
      cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, metadata: { labels: { 'a b': 'x' } } }],
    }))).toThrow(/^fleet: cpcs\[0\]\.metadata\.labels: label key "a b" is invalid/);
    expect(() => new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ metadata: { namespace: 'Bad_NS' } })))
      .toThrow(/^fleet: metadata\.namespace: namespace "Bad_NS" is not a valid Kubernetes namespace/);
  });

  test('the fleet\'s keys are unchanged by a member\'s namespace (the key store knows no namespace)', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', testFleetProps({
      keys: testKeys,
      cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, metadata: { namespace: 'edge' } }],
    }, ['1']));
    expect(fleet.keyStoreRequest.cpcIds).toEqual(['1']);
  });
});

describe('the fleet file writes metadata flat', () => {
  const doc = { clusters: [{ type: 'csc' }, { type: 'cpc', id: '1' }, { type: 'cpc', id: '2' }] } as any;

  test.each([
    ['metadata.namespace', 'namespace'],
    ['metadata.labels', 'labels'],
    ['csc.metadata.labels', 'clusters[0].labels'],
    ['cpcs[1].metadata.namespace', 'clusters[2].namespace'],
    ['cpcs[0].gateway.hostnames', 'clusters[1].gateway.hostnames'],
  ])('the prop path %s is the file\'s %s', (prop, file) => {
    expect(fleetFileField(prop, doc)).toBe(file);
  });

  test('prop paths inside a text are the file\'s too', () => {
    expect(fleetFileText('set csc.metadata.labels or metadata.labels', doc)).toBe('set clusters[0].labels or labels');
  });

  describe('through the CLI', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-flat-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    async function synth(text: string) {
      const file = path.join(dir, 'fleet.yaml');
      fs.writeFileSync(file, text);
      let stdout = '';
      let stderr = '';
      const code = await main(['synth', '-c', file, '-o', path.join(dir, 'dist')], { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
      return { code, stdout, stderr };
    }

    test('a cluster entry\'s namespace and labels reach that cluster only', async () => {
      const text = `namespace: bus\nlabels: { team: platform }\n${MINIMAL_FLEET}    namespace: edge\n    labels: { tier: edge }\n`;
      const r = await synth(text);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const manifests = (cluster: string) => fs.readdirSync(path.join(dir, 'dist', cluster, 'manifests'));
      expect(manifests('csc').every((f) => /\.bus\./.test(f))).toBe(true);
      expect(manifests('cpc-1').every((f) => /\.edge\./.test(f))).toBe(true);
      const gateway = fs.readFileSync(path.join(dir, 'dist', 'cpc-1', 'manifests', manifests('cpc-1').find((f) => f.startsWith('Gateway.'))!), 'utf8');
      expect(gateway).toMatch(/^ {4}team: platform$/m);
      expect(gateway).toMatch(/^ {4}tier: edge$/m);
      expect(fs.readFileSync(path.join(dir, 'dist', 'csc', 'values.event-bus.yaml'), 'utf8')).toMatch(/-n bus /);
    });

    test('errors name the file\'s namespace and labels, never metadata', async () => {
      const top = await synth(`namespace: Bad_NS\n${MINIMAL_FLEET}`);
      expect(top.code).toBe(1);
      expect(top.stderr).toMatch(/fleet\.yaml: namespace: namespace "Bad_NS" is not a valid Kubernetes namespace/);
      const member = await synth(`${MINIMAL_FLEET}    labels: { "a b": x }\n`);
      expect(member.code).toBe(1);
      expect(member.stderr).toMatch(/fleet\.yaml: clusters\[1\]\.labels: label key "a b" is invalid/);
      expect(top.stderr + member.stderr).not.toMatch(/metadata/);
    });
  });
});

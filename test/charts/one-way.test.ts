/**
 * Issue 19, "a CPC id that travels one way, each default decided once": the
 * chart owns its cluster value, a CPC id is checked where it enters (and
 * named by that prop), and the fleet asks the CSC's gateway for its leaf
 * endpoint. The text-level checks are in test/decided-once.test.ts.
 */
import { Testing } from 'cdk8s';
import { testFleetProps } from './fleet-props';
import {
  CpcChart, CscChart, EventBusCluster, EventBusFleet, EventBusSecrets, GatewayTransport, LeafConnection, SecretsDelivery,
} from '../../src';

const existing = { delivery: SecretsDelivery.existing(), gateway: { enabled: false } };

describe('the chart owns its cluster value', () => {
  test('a CSC chart gains a CPC as a new value, tells its Secrets, and the Helm values follow', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', testFleetProps());
    const before = fleet.csc.cluster;
    fleet.addCpc({ id: '3', gateway: { hostnames: ['cpc-3.example.com'] } });
    expect(before.cpcIds).toEqual(['1', '2']); // values are immutable
    expect(fleet.csc.cluster).not.toBe(before);
    expect(fleet.csc.cluster.cpcIds).toEqual(['1', '2', '3']);
    expect(fleet.csc.secrets.cluster.cpcIds).toEqual(['1', '2', '3']);
    expect(fleet.csc.helmValues().global.eventBus.cpcIds).toEqual(['1', '2', '3']);
    expect(fleet.cpc('3').cluster.directory).toBe('cpc-3');
    expect(fleet.csc.secrets.leafCpcIds).toEqual(['1', '2', '3']);
  });

  test('the chart\'s cluster is the value it was given', () => {
    const cluster = EventBusCluster.cpc('4');
    const chart = new CpcChart(Testing.app(), 'cpc-4', { ...existing, cluster, cscEndpoint: 'nats://csc.example.com:7422', createLeafConnections: true });
    expect(chart.cluster).toBe(cluster);
    expect(chart.cpcId).toBe('4');
    expect(chart.helmValues().global.eventBus.clusterId).toBe('4');
  });

  test('fails when a chart is given the cluster of the other role, or none', () => {
    expect(() => new CscChart(Testing.app(), 'csc', { ...existing, cluster: EventBusCluster.cpc('1') }))
      .toThrow(/^csc: cluster: it is CPC-1, but this chart is for the CSC\. Fix: pass cluster: EventBusCluster\.csc\(\{ cpcIds \}\)/);
    expect(() => new CpcChart(Testing.app(), 'cpc', { ...existing, cluster: EventBusCluster.csc(), cscEndpoint: 'nats://csc:7422' }))
      .toThrow(/^cpc: cluster: it is CSC, but this chart is for a CPC\. Fix: pass cluster: EventBusCluster\.cpc\(id\)/);
    expect(() => new CpcChart(Testing.app(), 'cpc', { ...existing, cscEndpoint: 'nats://csc:7422' } as any))
      .toThrow(/^cpc: cluster: it is missing\. Fix: pass cluster: EventBusCluster\.cpc\(id\)/);
  });

  test('fails when a CPC is added twice, naming the call', () => {
    const csc = new CscChart(Testing.app(), 'csc', { ...existing, cluster: EventBusCluster.csc({ cpcIds: ['1'] }), createLeafConnections: true });
    expect(() => csc.addCpc(EventBusCluster.cpc('1'))).toThrow(/^csc: addCpc: CPC id "1" is listed twice/);
    expect(csc.cluster.cpcIds).toEqual(['1']); // nothing changed
  });
});

describe('a CPC id is checked where it enters, named by that prop', () => {
  test('fails when addCpc is given an invalid id', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', testFleetProps());
    expect(() => fleet.addCpc({ id: 'CPC-3' })).toThrow(/^fleet: addCpc: id: CPC id "CPC-3" is invalid\..*Fix: use "3"/);
    expect(fleet.csc.cluster.cpcIds).toEqual(['1', '2']);
  });

  test('fails when a one-sided LeafConnection is given an invalid cpcId', () => {
    const chart = Testing.chart();
    const csc = new EventBusSecrets(chart, 'csc', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.existing() });
    expect(() => new LeafConnection(chart, 'leaf', { csc, cpcId: 'One' })).toThrow(/^test\/leaf: cpcId: CPC id "One" is invalid/);
    const leaf = new LeafConnection(chart, 'leaf-1', { csc, cpcId: '1' });
    expect(leaf.cpcId).toBe('1');
  });

  test('fails when a sealed delivery names a cluster folder with an invalid CPC id', () => {
    expect(() => SecretsDelivery.sealedSecrets({ certificates: { 'cpc-A': 'x' } } as any)).toThrow(/certificates\["cpc-A"\]: CPC id "A" is invalid/);
  });
});

describe('the CSC gateway owns its leaf endpoint; the fleet asks it', () => {
  test.each([
    ['a TLS gateway, by host name', undefined, { hostnames: ['csc.example.com'] }, 'tls://csc.example.com:7422'],
    ['a TCP gateway', GatewayTransport.TCP, { hostnames: ['csc.example.com'] }, 'nats://csc.example.com:7422'],
    ['a TLS gateway known by an IPv6 address only', undefined, { ipAddresses: ['fd00::5'] }, 'tls://[fd00::5]:7422'],
  ])('the default cscEndpoint of %s is the gateway\'s leafnode URL', (_, transport, gateway, url) => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ ...(transport ? { gateway: { transport } } : {}), csc: { gateway } }));
    const leafnode = fleet.csc.gateway!.leafnodeEndpoint!;
    expect(leafnode.url).toBe(url);
    expect(leafnode.port).toBe(fleet.csc.gateway!.eventBusListeners!.natsLeafnode.port);
    expect(fleet.cpcs.map((c) => c.cscEndpoint)).toEqual([url, url]);
  });

  test('the scheme check uses the listener\'s port in its fix', () => {
    expect(() => new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ cscEndpoint: 'nats://csc.example.com' })))
      .toThrow(/^fleet: cscEndpoint: cscEndpoint "nats:\/\/csc\.example\.com" uses nats:\/\/ but the CSC gateway terminates TLS on its nats-leafnode listener\. Fix: use tls:\/\/csc\.example\.com:7422/);
  });

  test('fails when the CSC has no gateway and a CPC no cscEndpoint', () => {
    expect(() => new EventBusFleet(Testing.app(), 'fleet', testFleetProps({ mtls: false, csc: { gateway: { enabled: false } } })))
      .toThrow(/^fleet: cpcs\[0\]\.cscEndpoint: cscEndpoint is missing/);
  });
});

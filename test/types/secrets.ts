/**
 * Type tests (checked by `npx projen test:types`, not run): the union-like
 * values can only be made by their factories, and the props that make an
 * EventBusSecrets meaningful are required. Removing an illegal line makes the
 * unused @ts-expect-error fail the type check.
 */
import { Testing } from 'cdk8s';
import {
  CpcChart, CscChart, EventBusCluster, EventBusSecrets, LeafConnection, MtlsServerTls, SecretsDelivery,
} from '../../src';

const chart = Testing.chart();

// @ts-expect-error a delivery strategy comes from a factory (inline(), externalSecrets(), …)
new SecretsDelivery();
// @ts-expect-error a cluster comes from EventBusCluster.csc() or .cpc()
new EventBusCluster();
// @ts-expect-error the mTLS server certificate source comes from a factory
new MtlsServerTls();

// @ts-expect-error externalSecrets() needs the store to read from
SecretsDelivery.externalSecrets({});
// @ts-expect-error sealedSecrets() needs each cluster's controller certificate
SecretsDelivery.sealedSecrets({});
// @ts-expect-error the scope is one of SealingScope, not free text
SecretsDelivery.sealedSecrets({ certificates: {}, scope: 'global' });
// @ts-expect-error a CPC needs its id
EventBusCluster.cpc();

// @ts-expect-error the cluster is required
new EventBusSecrets(chart, 'NoCluster', { delivery: SecretsDelivery.existing() });
// @ts-expect-error the delivery is required: inline key material is never a silent default
new EventBusSecrets(chart, 'NoDelivery', { cluster: EventBusCluster.csc() });

const secrets = new EventBusSecrets(chart, 'Ok', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.existing() });
// @ts-expect-error a LeafConnection joins EventBusSecrets, not clusters
new LeafConnection(chart, 'Leaf', { csc: EventBusCluster.csc(), cpcId: '1' });
// @ts-expect-error the cluster of a set of Secrets cannot change after construction
secrets.cluster = EventBusCluster.cpc('1');

// A CPC id is checked once, by EventBusCluster: the charts and the CSC's Secrets take the value, not an id string.
// @ts-expect-error CpcChart takes cluster: EventBusCluster.cpc(id), not cpcId
new CpcChart(Testing.app(), 'cpc', { cpcId: '1', cscEndpoint: 'nats://csc:7422', delivery: SecretsDelivery.existing() });
// @ts-expect-error CscChart takes cluster: EventBusCluster.csc({ cpcIds }), not cpcIds
new CscChart(Testing.app(), 'csc', { cpcIds: ['1'], delivery: SecretsDelivery.existing() });
const typedCsc = new CscChart(Testing.app(), 'csc', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.existing() });
typedCsc.addCpc(EventBusCluster.cpc('2'));
// @ts-expect-error addCpc takes the CPC value, not its id
typedCsc.addCpc('3');
// @ts-expect-error EventBusSecrets.addCpcId(id) is now addCpc(EventBusCluster.cpc(id))
typedCsc.secrets.addCpcId('3');
// @ts-expect-error a chart takes metadata: { namespace, labels }, not a flat namespace
new CscChart(Testing.app(), 'csc', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.existing(), namespace: 'dsx' });
// @ts-expect-error a chart's metadata has no name: the chart makes many objects, each named as the upstream chart expects
new CscChart(Testing.app(), 'csc', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.existing(), metadata: { name: 'bus' } });
new CscChart(Testing.app(), 'csc', { cluster: EventBusCluster.csc({ cpcIds: ['1'] }), delivery: SecretsDelivery.existing(), metadata: { namespace: 'dsx', labels: { team: 'platform' } } });

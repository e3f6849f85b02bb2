import { Testing } from 'cdk8s';
import {
  CertificateAuthority, ClusterCertificates, EventBusFleet, EventBusFleetProps, LeafTrust, RouteRendering, SecretsDelivery, SecretStoreKind,
} from '../../src';
import { generateEvaluationCa } from '../../src/cli/evaluation';
import { DeterministicKeyStore } from '../../src/testing';
import { issueIntermediates, withIntermediates } from '../certificates/intermediates';
import { tlsFixture } from '../secrets/tls-fixture';

const STANDARD = ['app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/component'];

/** `Kind/name` of every object of the fleet that lacks one of the standard labels. */
function unlabelled(fleet: EventBusFleet): string[] {
  return fleet.charts.flatMap((c) => c.toJson())
    .filter((o: any) => STANDARD.some((k) => !o.metadata.labels?.[k]))
    .map((o: any) => `${o.kind}/${o.metadata.name}`);
}

describe('labels on every object', () => {
  test('a fleet with every kind of object: Secrets, CA issuer, Certificates, Gateway, EnvoyProxy, routes, trust ConfigMap, DaemonSet', async () => {
    const [ca, tls] = await Promise.all([generateEvaluationCa('ecdsa-p256'), tlsFixture()]);
    const base: EventBusFleetProps = {
      keys: new DeterministicKeyStore(),
      delivery: SecretsDelivery.inline({ allowTestKeys: true }),
      certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromPem(ca.certPem)),
      cscTrust: LeafTrust.fromPem(tls.caCrt),
      csc: { gateway: { hostnames: ['csc.example.com'], routeRendering: RouteRendering.MANIFESTS } },
      hostPrerequisites: true,
      cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
    };
    // Each cluster's CA issuer signs with its own intermediate of the root.
    const props = withIntermediates(base, ca, await issueIntermediates(base, ca));
    const fleet = new EventBusFleet(Testing.app(), 'fleet', props);
    const kinds = new Set(fleet.charts.flatMap((c) => c.toJson()).map((o: any) => o.kind));
    expect([...kinds].sort()).toEqual(['Certificate', 'ConfigMap', 'DaemonSet', 'EnvoyProxy', 'Gateway', 'Issuer', 'Secret', 'TCPRoute', 'TLSRoute']);
    expect(unlabelled(fleet)).toEqual([]);
  });

  test('with ExternalSecrets and a self-signed ClusterIssuer, the operator-made Secrets are labelled too', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', {
      delivery: SecretsDelivery.externalSecrets({ storeName: 'vault', storeKind: SecretStoreKind.CLUSTER_SECRET_STORE }),
      certificates: ClusterCertificates.selfSigned(),
      csc: { gateway: { hostnames: ['csc.example.com'], namespace: 'envoy-gateway-system' } },
      cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
      cscTrust: LeafTrust.fromExistingConfigMap('csc-ca'),
      metadata: { labels: { team: 'bus' } },
    });
    expect(unlabelled(fleet)).toEqual([]);
    const es = fleet.csc.toJson().filter((o: any) => o.kind === 'ExternalSecret');
    expect(es.length).toBeGreaterThan(0);
    for (const o of es) {
      expect(o.spec.target.template.metadata.labels).toMatchObject({ 'team': 'bus', 'app.kubernetes.io/component': 'secrets' });
    }
    expect(new Set(fleet.csc.toJson().map((o: any) => o.kind))).toContain('ClusterIssuer');
  });
});

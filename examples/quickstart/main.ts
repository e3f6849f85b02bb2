// Quickstart: a CSC and two CPCs in one cdk8s app.
// In your own project, import from 'cdk8s-dsx-event-bus' instead of '../../src'.
import { App } from 'cdk8s';
import {
  CertificateAuthority, ClusterCertificates, DirectoryKeyStore, EventBusApp, EventBusFleet, IKeyStore, LeafTrust, SecretsDelivery, testing,
} from '../../src';

/**
 * The key store: the output of `dsx-event-bus nkeys -o $DSX_SECRETS_DIR 1 2`
 * when DSX_SECRETS_DIR is set, otherwise deterministic TEST keys (public:
 * fine for trying things out and for snapshot tests, never for a cluster).
 */
export function keyStore(env: NodeJS.ProcessEnv = process.env): IKeyStore {
  return env.DSX_SECRETS_DIR ? DirectoryKeyStore.open(env.DSX_SECRETS_DIR) : new testing.DeterministicKeyStore();
}

export function buildFleet(app: App, keys: IKeyStore): EventBusFleet {
  return new EventBusFleet(app, 'event-bus', {
    keys,
    // Secrets are provisioned elsewhere (e.g. from `dsx-event-bus export`);
    // only their names go into the Helm values. No key material in dist/.
    delivery: SecretsDelivery.existing(),
    // One CA for the whole fleet (`dsx-event-bus certs` makes it): a
    // cert-manager CA issuer in every cluster signs with it, from a Secret
    // you create in each cluster (see docs/certificates.md).
    certificates: ClusterCertificates.fleetCa(CertificateAuthority.fromExistingSecret('event-bus-certificate-issuer-ca')),
    // Each CPC's leaf remote starts with the TLS handshake (the CSC gateway
    // terminates TLS) and trusts the fleet CA's certificate from this
    // ConfigMap, which you create in each CPC (only ca.crt, never the key).
    cscTrust: LeafTrust.fromExistingConfigMap('nats-csc-gateway-ca'),
    csc: { gateway: { hostnames: ['csc.event-bus.example.com'] } },
    cpcs: [
      { id: '1', gateway: { hostnames: ['cpc-1.event-bus.example.com'] } },
      { id: '2', gateway: { hostnames: ['cpc-2.event-bus.example.com'] } },
    ],
  });
}

if (require.main === module) {
  // An EventBusApp's synth() writes one folder per cluster with its manifests
  // and the Helm values file (dist/csc, dist/cpc-1, dist/cpc-2).
  const app = new EventBusApp();
  buildFleet(app, keyStore());
  app.synth();
}

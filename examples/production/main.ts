// Production: keys in Vault delivered by External Secrets, certificates from
// a Vault PKI issuer, mTLS with hostname agreement checked at synth time,
// Gateway API v1 routes owned by this library.
// In your own project, import from 'cdk8s-dsx-event-bus' instead of '../../src'.
import { App, Duration } from 'cdk8s';
import {
  ClusterCertificates, DirectoryKeyStore, EventBusApp, EventBusFleet, IKeyStore, LeafTrust, RouteApiVersion, RouteRendering, SecretsDelivery,
  SecretStoreKind, testing, VaultAuth,
} from '../../src';

export const CPC_IDS = ['1', '2', '3'];

export function buildFleet(app: App, keys?: IKeyStore): EventBusFleet {
  return new EventBusFleet(app, 'event-bus', {
    // Only used to verify the leaf key pairs at synth time: with External
    // Secrets no key material is written to the manifests.
    keys,
    delivery: SecretsDelivery.externalSecrets({
      storeName: 'vault-backend',
      storeKind: SecretStoreKind.CLUSTER_SECRET_STORE,
      prefix: 'dsx-event-bus',
      refreshInterval: Duration.hours(1),
    }),
    immutableSecrets: true,
    extraAccounts: ['LaunchLayer'],
    mtls: true,
    certificates: ClusterCertificates.vault({
      metadata: { name: 'event-bus-vault-issuer' },
      server: 'https://vault.example.com:8200',
      path: 'pki_int/sign/event-bus',
      auth: VaultAuth.kubernetes({ role: 'cert-manager', serviceAccountName: 'cert-manager-vault' }),
    }, { duration: Duration.days(30), renewBefore: Duration.days(10) }),
    // The CSC gateway's certificate comes from the Vault PKI: each CPC's leaf
    // remote starts with the TLS handshake and trusts that PKI's CA chain,
    // from a ConfigMap the deployer provides in every CPC (see docs/gateway.md).
    cscTrust: LeafTrust.fromExistingConfigMap('vault-pki-ca'),
    gateway: {
      routeApiVersion: RouteApiVersion.V1,
      routeRendering: RouteRendering.MANIFESTS,
      envoy: { replicas: 2, metalLbAddressPool: 'event-bus' },
    },
    csc: {
      gateway: {
        hostnames: ['csc.event-bus.example.com'],
        mtlsHostnames: ['mqtt-mtls.csc.event-bus.example.com'],
        mtlsClientUrls: ['mqtts://mqtt-mtls.csc.event-bus.example.com:8883'],
      },
    },
    cpcs: CPC_IDS.map((id) => ({
      id,
      gateway: {
        hostnames: [`cpc-${id}.event-bus.example.com`],
        mtlsHostnames: [`mqtt-mtls.cpc-${id}.event-bus.example.com`],
        mtlsClientUrls: [`mqtts://mqtt-mtls.cpc-${id}.event-bus.example.com:8883`],
      },
    })),
  });
}

if (require.main === module) {
  const app = new EventBusApp();
  // DSX_SECRETS_DIR: the key store the pipeline exported to Vault; without it,
  // deterministic TEST keys stand in for the leaf-pair check.
  const keys = process.env.DSX_SECRETS_DIR ? DirectoryKeyStore.open(process.env.DSX_SECRETS_DIR) : new testing.DeterministicKeyStore();
  buildFleet(app, keys);
  app.synth();
}

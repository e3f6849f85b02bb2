export { ClusterRole, EventBusCluster } from './cluster';
export type { CscClusterOptions } from './cluster';
export { SecretsDelivery, SecretStoreKind } from './delivery';
export type { ExternalSecretsDeliveryOptions, RemoteSecretsOptions, VaultStaticSecretsDeliveryOptions } from './delivery';
export { EventBusSecrets } from './event-bus-secrets';
export type { EventBusSecretsProps, SecretDescription, SecretKeyDescription, SecretOverride } from './event-bus-secrets';
export { MtlsServerTls } from './mtls-server-tls';
export type { MtlsServerTlsPem, MtlsServerTlsPemFiles } from './mtls-server-tls';
export type { SecretReference } from './secret-ref';

export { ClusterRole, EventBusCluster } from './cluster';
export type { CscClusterOptions } from './cluster';
export { SecretsDelivery, SecretsDeliveryKind, SecretStoreKind } from './delivery';
export type { ExternalSecretsDeliveryOptions, VaultStaticSecretsDeliveryOptions } from './delivery';
export { EventBusSecrets } from './event-bus-secrets';
export type { EventBusSecretsProps, SecretDescription, SecretKeyDescription, SecretOverride } from './event-bus-secrets';
export { MtlsServerTls, MtlsServerTlsKind } from './mtls-server-tls';
export type { MtlsServerTlsPem, MtlsServerTlsPemFiles } from './mtls-server-tls';

// The package's public API. Each folder re-exports only what users need;
// generated CRD bindings (src/imports/) stay internal, and so do the `*Kind`
// enums that only the library reads (a public property shows their value as a string).
//
// Naming rule: `EventBus*` for the constructs and props that stand for the
// whole event bus of a cluster or fleet (EventBusSecrets, EventBusGateway,
// EventBusFleet, EventBusListeners); plain, cdk8s-plus-style names for the
// parts (ServerCertificate, GatewayListener, GatewayRoute, GatewayTransport,
// LeafConnection); no `Dsx*` prefix. Objects that exist already are imported
// with a static `from*` method on the construct class, `(scope, id, name, ...)`,
// which returns a private class implementing the interface
// (`ServerCertificate.fromSecretName`, `EventBusEnvoyProxy.fromEnvoyProxyName`,
// `EventBusGateway.fromGatewayName`), as cdk8s-plus does
// (`Secret.fromSecretName`). Values that are not constructs (issuers, CAs,
// trust, delivery, a cluster's certificates) come from factories on their
// class. Constructs that make Kubernetes objects take cdk8s `metadata` (name,
// namespace, labels, annotations) like cdk8s-plus; the charts take `metadata`
// too (ClusterChartMetadata: the namespace and labels a cdk8s chart applies
// to every object it holds). API changes and their migrations: docs/upgrading.md.
export * from './keys';
export * from './secrets';
export * from './certificates';
export * from './gateway';
export * from './connections';
export * from './charts';
export * from './gitops';
// Test helpers (the deterministic key store) as a submodule of their own.
export * as testing from './testing';

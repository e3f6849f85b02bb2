/**
 * Stand-ins for the Kubernetes parts a loopback fleet test needs. Each file
 * says in its header exactly what it stands for and what it does not do.
 *
 * - tls-terminating-proxy.ts: an Envoy Gateway `Terminate` listener + TCPRoute
 *   (`startTlsTerminatingProxy`).
 * - sni-passthrough-proxy.ts: an Envoy Gateway `Passthrough` listener +
 *   TLSRoutes, SNI matched as Envoy does, others reset (`startSniPassthroughProxy`).
 * - auth-callout.ts: the DSX auth-callout service (`AuthCalloutResponder`,
 *   fed by `authCalloutInputsFromPod` or `resolveContainerEnv` + `objectData`).
 * - certs.ts: cert-manager's CA Issuer (`createTestCa`, `issueForCertificate`).
 * - mqtt.ts: a minimal MQTT 3.1.1 client (`MqttClient`), the device side.
 * - nats-jwt.ts, net.ts, wait.ts: plumbing (JWTs, sockets, bounded waits).
 *
 * Every start is async and bounded; every stop() is idempotent and closes
 * what it opened.
 */
export * from './auth-callout';
export * from './certs';
export * from './mqtt';
export * from './nats-jwt';
export * from './net';
export * from './sni-passthrough-proxy';
export * from './tls-terminating-proxy';
export * from './wait';

/**
 * Stand-ins for the Kubernetes parts a loopback fleet test needs. Each file
 * says in its header what it stands for and what it does not do.
 */
export * from './auth-callout';
export * from './certs';
export * from './mqtt';
export * from './nats-jwt';
export * from './net';
export * from './sni-passthrough-proxy';
export * from './tls-terminating-proxy';
export * from './wait';

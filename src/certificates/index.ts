export type { ITlsSecretSource } from './tls-secret';

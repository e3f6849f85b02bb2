/**
 * Something that makes a TLS Secret (keys `tls.crt`, `tls.key`, `ca.crt`)
 * exist under a known name: a cert-manager `ServerCertificate` (the
 * Certificate's `secretName`), or a Secret provisioned elsewhere. Gateways use
 * it for `certificateRefs`; `EventBusSecrets` uses it for
 * `nats-mtls-server-tls`. Joining them through this interface makes the
 * referenced name equal the written name by construction.
 */
export interface ITlsSecretSource {
  /** Name of the Secret holding `tls.crt`, `tls.key` and `ca.crt`. */
  readonly tlsSecretName: string;
  /** Namespace of that Secret, when known (undefined: the consumer's namespace). */
  readonly tlsSecretNamespace?: string;
}

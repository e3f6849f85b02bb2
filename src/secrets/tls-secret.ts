import { validateNamespace, validateObjectName } from '../k8s/names';

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

/**
 * A TLS Secret that exists already, by name (library-internal): the checked
 * reference behind `ServerCertificate.fromSecretName`, and what a fleet
 * file's `serverTlsSecret` names.
 */
export function existingTlsSecret(name: string, namespace: string | undefined, where: string): ITlsSecretSource {
  validateObjectName(name, where, 'Secret name');
  if (namespace !== undefined) validateNamespace(namespace, where);
  return { tlsSecretName: name, tlsSecretNamespace: namespace };
}

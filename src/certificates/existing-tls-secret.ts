import { validateNamespace, validateObjectName } from '../k8s/names';
import { ITlsSecretSource } from './tls-secret';

/** Importers for TLS Secrets this library does not create. */
export class TlsSecret {
  /**
   * A TLS Secret provisioned elsewhere (a secrets pipeline, `kubectl create
   * secret tls`, another chart), referenced by name.
   * @param name the Secret's name
   * @param namespace its namespace, when it is not the consumer's namespace
   */
  public static fromSecretName(name: string, namespace?: string): ITlsSecretSource {
    validateObjectName(name, 'TlsSecret.fromSecretName()', 'Secret name');
    if (namespace !== undefined) validateNamespace(namespace, 'TlsSecret.fromSecretName()');
    return { tlsSecretName: name, tlsSecretNamespace: namespace };
  }

  private constructor() {}
}

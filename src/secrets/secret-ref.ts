/**
 * The bridge from this library's Secrets to workloads: a plain description
 * (name, namespace, keys) that cdk8s-plus (any version: 27, 33, ...) turns
 * into an `ISecret` with one call, without this library depending on it:
 *
 * ```ts
 * const nack = secrets.secretRef('nats-nack-user');
 * const secret = kplus.Secret.fromSecretName(this, 'NackUser', nack.name);
 * container.env.addVariable('NKEY', kplus.EnvValue.fromSecretValue({ secret, key: nack.keys['nack-user.nk'] }));
 * ```
 */

/** A Kubernetes Secret of the event bus, as a workload mounts or reads it. */
export interface SecretReference {
  /** Name of the Kubernetes Secret (after overrides): pass it to `kplus.Secret.fromSecretName(scope, id, name)`. */
  readonly name: string;
  /**
   * Its namespace, when set. A pod can only mount Secrets of its own
   * namespace: put the workload there.
   */
  readonly namespace?: string;
  /** Key in the Kubernetes Secret (after overrides) by upstream key, e.g. `{ 'nack-user.nk': 'nack-user.nk', pubkey: 'pubkey' }`. */
  readonly keys: { [defaultKey: string]: string };
}

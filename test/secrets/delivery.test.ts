import { Duration } from 'cdk8s';
import { EventBusCluster, SecretsDelivery, SecretStoreKind } from '../../src';

describe('SecretsDelivery', () => {
  test('kinds and remote paths', () => {
    expect(SecretsDelivery.inline().kind).toBe('inline');
    expect(SecretsDelivery.existing().kind).toBe('existing');
    const eso = SecretsDelivery.externalSecrets({ storeName: 'vault', storeKind: SecretStoreKind.CLUSTER_SECRET_STORE });
    expect(eso.kind).toBe('externalSecrets');
    expect(eso.prefix).toBe('dsx-event-bus');
    expect(eso.remotePath(EventBusCluster.csc(), 'nats-xkey')).toBe('dsx-event-bus/csc/nats-xkey');
    const vso = SecretsDelivery.vaultStaticSecrets({ prefix: 'prod/dsx.event-bus' });
    expect(vso.kind).toBe('vaultStaticSecrets');
    expect(vso.remotePath(EventBusCluster.cpc('3'), 'nats-leaf-csc')).toBe('prod/dsx.event-bus/cpc-3/nats-leaf-csc');
  });

  test('fails when asked for a remote path of a strategy without a remote store', () => {
    expect(() => SecretsDelivery.inline().remotePath(EventBusCluster.csc(), 'nats-xkey')).toThrow(/SecretsDelivery\.inline: this strategy reads no remote store/);
    expect(() => SecretsDelivery.existing().remotePath(EventBusCluster.csc(), 'nats-xkey')).toThrow(/SecretsDelivery\.existing: this strategy reads no remote store/);
  });

  test('fails when storeName is missing or invalid', () => {
    expect(() => SecretsDelivery.externalSecrets({} as any)).toThrow(/SecretsDelivery\.externalSecrets: storeName is missing\. Fix: pass the name/);
    expect(() => SecretsDelivery.externalSecrets({ storeName: 'Vault Store' })).toThrow(/storeName "Vault Store" is not a valid Kubernetes object name\. Allowed: lower-case letters, digits, .-. and .\.., starting and ending/);
  });

  test('fails when storeKind is unknown', () => {
    expect(() => SecretsDelivery.externalSecrets({ storeName: 'v', storeKind: 'VaultStore' as any })).toThrow(/storeKind "VaultStore" is unknown\. Allowed: SecretStore, ClusterSecretStore/);
  });

  test.each(['', '/abs', 'trailing/', 'a//b', 'a/../b', '.hidden', 'sp ace'])('fails when the prefix is %j', (prefix) => {
    expect(() => SecretsDelivery.externalSecrets({ storeName: 'v', prefix })).toThrow(/SecretsDelivery\.externalSecrets: prefix ".*" is invalid\. Allowed: one or more segments/);
    expect(() => SecretsDelivery.vaultStaticSecrets({ prefix })).toThrow(/SecretsDelivery\.vaultStaticSecrets: prefix ".*" is invalid/);
  });

  test('fails when the Vault mount is invalid', () => {
    expect(() => SecretsDelivery.vaultStaticSecrets({ mount: '/secret' })).toThrow(/mount "\/secret" is invalid/);
  });

  test('fails when vaultAuthRef is invalid', () => {
    expect(() => SecretsDelivery.vaultStaticSecrets({ vaultAuthRef: 'a/b/c' })).toThrow(/vaultAuthRef "a\/b\/c" has more than one "\/"\. Allowed: "<name>" or "<namespace>\/<name>"/);
    expect(() => SecretsDelivery.vaultStaticSecrets({ vaultAuthRef: 'NS/auth' })).toThrow(/vaultAuthRef part "NS" is not a valid Kubernetes object name/);
  });

  test('fails when a refresh duration is not whole seconds', () => {
    expect(() => SecretsDelivery.externalSecrets({ storeName: 'v', refreshInterval: Duration.millis(1500) })).toThrow(/refreshInterval of 1\.5s is not a whole number of seconds/);
    expect(() => SecretsDelivery.vaultStaticSecrets({ refreshAfter: Duration.millis(10) })).toThrow(/refreshAfter of 0\.01s is not a whole number of seconds/);
  });
});

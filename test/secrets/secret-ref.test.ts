import { Chart, Testing } from 'cdk8s';
import * as kplus27 from 'cdk8s-plus-27';
// cdk8s-plus-33 is what `cdk8s init` brings today (here through cdk8s-cli).
import * as kplus33 from 'cdk8s-plus-33';
import { EventBusCluster, EventBusSecrets, SecretsDelivery } from '../../src';
import { DeterministicKeyStore } from '../../src/testing';
import { validateManifests } from '../util/schema';

const keys = new DeterministicKeyStore();

function secretsIn(chart: Chart): EventBusSecrets {
  return new EventBusSecrets(chart, 'Secrets', {
    cluster: EventBusCluster.cpc('1'),
    delivery: SecretsDelivery.inline({ allowTestKeys: true }),
    keys,
    metadata: { namespace: 'dsx' },
    mtls: false,
    createLeafConnections: true,
    secretOverrides: [{ secret: 'nats-nack-user', name: 'nack-credentials', keys: { 'nack-user.nk': 'nkey' } }],
  });
}

describe('EventBusSecrets.secretRef', () => {
  test('name, namespace and keys after overrides', () => {
    const secrets = secretsIn(new Chart(Testing.app(), 'cpc', { namespace: 'dsx' }));
    expect(secrets.secretRef('nats-nack-user')).toEqual({ name: 'nack-credentials', namespace: 'dsx', keys: { 'nack-user.nk': 'nkey', 'pubkey': 'pubkey' } });
    expect(secrets.secretRef('nats-surveyor')).toEqual({ name: 'nats-surveyor', namespace: 'dsx', keys: { seed: 'seed', pubkey: 'pubkey' } });
    expect(() => secrets.secretRef('nats-nack')).toThrow(/secretRef: "nats-nack" is not a Secret of CPC-1\. Allowed: nats-auth-signing, /);
  });

  // The library does not depend on cdk8s-plus: the same one-liner works with every version.
  // Typed as plus-27 (the two share this API); each test runs against the real module.
  describe.each([['cdk8s-plus-27', kplus27], ['cdk8s-plus-33', kplus33 as unknown as typeof kplus27]] as const)('mounted into a %s Deployment', (_version, kplus) => {
    test('as a volume and as an environment variable, naming exactly the emitted Secret and its keys', () => {
      const chart = new Chart(Testing.app(), 'cpc', { namespace: 'dsx' });
      const secrets = secretsIn(chart);
      const nack = secrets.secretRef('nats-nack-user');
      const secret = kplus.Secret.fromSecretName(chart, 'NackUser', nack.name);
      const deployment = new kplus.Deployment(chart, 'Client', { metadata: { namespace: nack.namespace } });
      const container = deployment.addContainer({ name: 'client', image: 'natsio/nats-box:0.14.5', securityContext: { user: 1000 } });
      container.env.addVariable('NKEY', kplus.EnvValue.fromSecretValue({ secret, key: nack.keys['nack-user.nk'] }));
      container.mount('/etc/nack', kplus.Volume.fromSecret(chart, 'NackVolume', secret));

      const objects = Testing.synth(chart);
      const emitted = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'nack-credentials')!;
      expect(Object.keys(emitted.data)).toEqual(['nkey', 'pubkey']);
      const dep = objects.find((o) => o.kind === 'Deployment')!;
      expect(validateManifests([emitted])).toBe(1);
      expect(dep.metadata.namespace).toBe(emitted.metadata.namespace);
      const pod = dep.spec.template.spec;
      expect(pod.containers[0].env).toEqual([{ name: 'NKEY', valueFrom: { secretKeyRef: { name: 'nack-credentials', key: 'nkey' } } }]);
      expect(pod.volumes).toEqual([expect.objectContaining({ secret: expect.objectContaining({ secretName: 'nack-credentials' }) })]);
      expect(pod.containers[0].volumeMounts).toEqual([expect.objectContaining({ mountPath: '/etc/nack', name: pod.volumes[0].name })]);
    });
  });
});

import { Testing } from 'cdk8s';
import { CertificateIssuer, ClusterCertificates, EventBusFleet, EventBusFleetProps, LeafTrust, SecretsDelivery } from '../../src';
import { DeterministicKeyStore } from '../../src/testing';
import { helmTemplate, secretReferences } from '../util/helm-template';
import { chartMissing, helmMissing, toolTest } from '../util/tools';

// Per-cluster Secret overrides: a CPC-only Secret (nats-leaf-csc) or a
// CSC-only one (nats-leaf-cpc-<id>) is renamed under that cluster's entry.
const keys = new DeterministicKeyStore();
const base = (extra: Partial<EventBusFleetProps> = {}): EventBusFleetProps => ({
  keys,
  delivery: SecretsDelivery.existing(),
  extraAccounts: ['LaunchLayer'],
  certificates: ClusterCertificates.issuer(CertificateIssuer.fromIssuerName('event-bus-certificate-issuer')),
  // The issuer is not the library's: the CPCs' trust of the CSC is stated.
  cscTrust: LeafTrust.publicRoots(),
  csc: { gateway: { hostnames: ['csc.example.com'] } },
  cpcs: [
    { id: '1', gateway: { hostnames: ['cpc-1.example.com'] } },
    { id: '2', gateway: { hostnames: ['cpc-2.example.com'] } },
  ],
  ...extra,
});
const fleet = (extra: Partial<EventBusFleetProps> = {}) => new EventBusFleet(Testing.app(), 'fleet', base(extra));

describe('per-cluster secret overrides', () => {
  test('a CPC entry renames its own leaf Secret; the other CPC and the CSC keep theirs', () => {
    const f = fleet({
      cpcs: [
        { id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, secretOverrides: [{ secret: 'nats-leaf-csc', name: 'cpc1-leaf', keys: { seed: 'nkey' } }] },
        { id: '2', gateway: { hostnames: ['cpc-2.example.com'] } },
      ],
      csc: { gateway: { hostnames: ['csc.example.com'] }, secretOverrides: [{ secret: 'nats-leaf-cpc-2', name: 'leaf-from-cpc2' }] },
    });
    expect(f.cpc('1').secrets.secretName('nats-leaf-csc')).toBe('cpc1-leaf');
    expect(f.cpc('1').helmValues().global.eventBus.nkeySecretRefOverrides).toEqual({ 'nats-leaf-csc': { seed: { valueFrom: { secretKeyRef: { name: 'cpc1-leaf', key: 'nkey' } } } } });
    expect(f.cpc('2').secrets.secretName('nats-leaf-csc')).toBe('nats-leaf-csc');
    expect(f.cpc('2').helmValues().global.eventBus.nkeySecretRefOverrides).toBeUndefined();
    expect(f.csc.secrets.secretName('nats-leaf-cpc-2')).toBe('leaf-from-cpc2');
    expect(f.csc.secrets.secretName('nats-leaf-cpc-1')).toBe('nats-leaf-cpc-1');
  });

  test('a cluster\'s override of a Secret the fleet overrides replaces the fleet\'s; the others keep the fleet\'s', () => {
    const f = fleet({
      secretOverrides: [{ secret: 'nats-xkey', name: 'fleet-xkey' }, { secret: 'nats-surveyor', name: 'fleet-surveyor' }],
      cpcs: [
        { id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, secretOverrides: [{ secret: 'nats-xkey', name: 'cpc1-xkey' }] },
        { id: '2', gateway: { hostnames: ['cpc-2.example.com'] } },
      ],
    });
    expect(f.cpc('1').secrets.secretName('nats-xkey')).toBe('cpc1-xkey');
    expect(f.cpc('1').secrets.secretName('nats-surveyor')).toBe('fleet-surveyor');
    expect(f.cpc('2').secrets.secretName('nats-xkey')).toBe('fleet-xkey');
    expect(f.csc.secrets.secretName('nats-xkey')).toBe('fleet-xkey');
  });

  test('fails when a fleet-level override names a Secret only some clusters have', () => {
    expect(() => fleet({ secretOverrides: [{ secret: 'nats-leaf-csc', name: 'x' }] }))
      .toThrow(/^fleet: secretOverrides\[0\]: Secret "nats-leaf-csc" exists only on cpc-1, cpc-2, but a fleet-level override applies to every cluster\. Fix: move this override to cpcs\[0\]\.secretOverrides and cpcs\[1\]\.secretOverrides/);
    expect(() => fleet({ secretOverrides: [{ secret: 'nats-xkey', name: 'y' }, { secret: 'nats-leaf-launchlayer-cpc-2', name: 'x' }] }))
      .toThrow(/secretOverrides\[1\]: Secret "nats-leaf-launchlayer-cpc-2" exists only on csc.*Fix: move this override to csc\.secretOverrides/);
  });

  test('fails when a cluster\'s override names a Secret that cluster does not have', () => {
    expect(() => fleet({
      cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, secretOverrides: [{ secret: 'nats-leaf-cpc-1', name: 'x' }] }],
    })).toThrow(/fleet: cpcs\[0\]\.secretOverrides: "nats-leaf-cpc-1" is not a Secret of CPC-1\. Allowed: .*nats-leaf-csc, nats-leaf-launchlayer-csc\. Fix: use the upstream Secret name/);
    expect(() => fleet({ csc: { gateway: { hostnames: ['csc.example.com'] }, secretOverrides: [{ secret: 'nats-leaf-csc', name: 'x' }] } }))
      .toThrow(/fleet: csc\.secretOverrides: "nats-leaf-csc" is not a Secret of CSC/);
    expect(() => fleet({ csc: { gateway: { hostnames: ['csc.example.com'] }, secretOverrides: [{ secret: 'nats-leaf-cpc-3', name: 'x' }] } }))
      .toThrow(/"nats-leaf-cpc-3" is not a Secret of CSC/);
  });

  toolTest('helm template: the renamed CPC leaf Secret is what CPC-1\'s NATS pods read; CPC-2 still reads the default', [helmMissing(), chartMissing()], async () => {
    const f = fleet({
      cpcs: [
        { id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, secretOverrides: [{ secret: 'nats-leaf-csc', name: 'cpc1-leaf', keys: { seed: 'nkey' } }, { secret: 'nats-leaf-launchlayer-csc', name: 'cpc1-launch' }] },
        { id: '2', gateway: { hostnames: ['cpc-2.example.com'] } },
      ],
    });
    const refs1 = secretReferences(helmTemplate([f.cpc('1').valuesYaml()]));
    expect(refs1.filter((r) => r.object === 'StatefulSet/nats' && /leaf|launch/.test(r.name)).map((r) => `${r.name}/${r.key}`).sort())
      .toEqual(['cpc1-launch/seed', 'cpc1-leaf/nkey']);
    expect(refs1.map((r) => r.name)).not.toContain('nats-leaf-csc');
    const refs2 = secretReferences(helmTemplate([f.cpc('2').valuesYaml()]));
    expect(refs2.filter((r) => r.object === 'StatefulSet/nats' && /leaf|launch/.test(r.name)).map((r) => `${r.name}/${r.key}`).sort())
      .toEqual(['nats-leaf-csc/seed', 'nats-leaf-launchlayer-csc/seed']);
  });
});

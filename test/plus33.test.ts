/**
 * The library beside cdk8s-plus-33, what a fresh `cdk8s init` app brings:
 * the package depends on no cdk8s-plus (nothing in src/ imports one), and a
 * cdk8s-plus-33 workload in one of our charts mounts our Secrets by name.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-33';
import { CertificateIssuer, ClusterCertificates, EventBusFleet, LeafTrust, SecretsDelivery } from '../src';
import { DeterministicKeyStore } from '../src/testing';
import { ensureBuilt, REPO } from './util/cli';
import { withoutTestKeysWarning } from './util/test-keys';

describe('beside cdk8s-plus-33', () => {
  test('package.json: no cdk8s-plus among the dependencies, peer or optional', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    const fields = ['dependencies', 'peerDependencies', 'optionalDependencies', 'peerDependenciesMeta', 'bundleDependencies'];
    const plus = fields.flatMap((f) => Object.keys(pkg[f] ?? {}).filter((n) => n.startsWith('cdk8s-plus')).map((n) => `${f}: ${n}`));
    expect(plus).toEqual([]);
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['cdk8s', 'constructs']);
  });

  test('loading the built package and synthesizing a fleet never loads a cdk8s-plus', () => {
    ensureBuilt();
    const script = `
      const { Testing } = require('cdk8s');
      const lib = require(${JSON.stringify(REPO)});
      const fleet = new lib.EventBusFleet(Testing.app(), 'event-bus', {
        keys: new lib.testing.DeterministicKeyStore(), delivery: lib.SecretsDelivery.existing(), certificates: lib.ClusterCertificates.issuer(lib.CertificateIssuer.fromClusterIssuerName('vault-pki')),
        cscTrust: lib.LeafTrust.publicRoots(), csc: { gateway: { hostnames: ['csc.example.com'] } }, cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
      });
      const kinds = fleet.charts.flatMap((c) => Testing.synth(c).map((o) => o.kind));
      const gateways = kinds.filter((k) => k === 'Gateway').length;
      const plus = Object.keys(require.cache).filter((f) => f.includes('cdk8s-plus-'));
      console.log(JSON.stringify({ gateways, plus }));`;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' });
    expect(withoutTestKeysWarning(run.stderr)).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result.gateways).toBe(2); // the CSC's and the CPC's: the fleet was synthesized
    expect(result.plus).toEqual([]);
  });

  test('a cdk8s-plus-33 Deployment in a CPC chart mounts and reads our Secrets by name, and the chart synthesizes', () => {
    const fleet = new EventBusFleet(Testing.app(), 'event-bus', {
      keys: new DeterministicKeyStore(),
      delivery: SecretsDelivery.inline({ allowTestKeys: true }), // the Secrets are in the same manifests as the workload
      certificates: ClusterCertificates.issuer(CertificateIssuer.fromClusterIssuerName('vault-pki')),
      cscTrust: LeafTrust.publicRoots(),
      csc: { gateway: { hostnames: ['csc.example.com'] } },
      cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
    });
    const cpc = fleet.cpcs[0];
    const nack = kplus.Secret.fromSecretName(cpc, 'NackSecret', cpc.secrets.secretName('nats-nack-user'));
    const app = new kplus.Deployment(cpc, 'Consumer', {
      metadata: { namespace: cpc.releaseNamespace },
      containers: [{
        image: 'registry.example.org/consumer:1.0',
        envVariables: {
          NACK_PUBKEY: kplus.EnvValue.fromSecretValue({ secret: nack, key: cpc.secrets.secretKey('nats-nack-user', 'pubkey') }),
        },
      }],
    });
    app.containers[0].mount('/etc/nack', kplus.Volume.fromSecret(cpc, 'NackVolume', nack));

    const objects = Testing.synth(cpc);
    const deployment = objects.find((o) => o.kind === 'Deployment');
    const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, o]));
    const pod = deployment.spec.template.spec;
    const volumeSecret = pod.volumes.find((v: any) => v.secret).secret.secretName;
    const envRef = pod.containers[0].env.find((e: any) => e.name === 'NACK_PUBKEY').valueFrom.secretKeyRef;

    expect(volumeSecret).toBe('nats-nack-user');
    expect(envRef).toEqual({ name: 'nats-nack-user', key: 'pubkey' });
    // Both references resolve to a Secret this chart emits, with that key.
    expect(Object.keys(secrets.get(volumeSecret)?.data ?? {})).toEqual(expect.arrayContaining(['nack-user.nk', envRef.key]));
    expect(deployment.metadata.namespace).toBe(secrets.get(volumeSecret)?.metadata.namespace);
    expect(pod.containers[0].volumeMounts).toEqual([expect.objectContaining({ mountPath: '/etc/nack' })]);
  });
});

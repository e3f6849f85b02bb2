import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { controllerKeys, ControllerKey, labelOf, openAes, opensslSessionKey, unseal, unsealValue } from './sealed-fixture';
import { tlsFixture } from './tls-fixture';
import {
  EventBusApp, EventBusCluster, EventBusFleet, EventBusFleetProps, EventBusSecrets, IKeyStore, KeyStoreRequest, MtlsServerTls,
  NKeyPublicKey, NKeySeed, SealingScope, SecretsDelivery,
} from '../../src';
import { previousFromManifest, previousFromManifestText } from '../../src/secrets/sealed';
import { DeterministicKeyStore } from '../../src/testing';
import { testFleetProps } from '../charts/fleet-props';
import { manifestErrors, Manifest } from '../util/schema';
import { describeSeeds, findSeeds } from '../util/seeds';

const CLUSTERS = ['csc', 'cpc-1', 'cpc-2'];
/** How RSA-OAEP refuses a wrong label or key (a ciphertext can also exceed another key's modulus). */
const UNSEAL_FAILS = /oaep decoding error|data too large for modulus|decrypt/i;
let keys: Record<string, ControllerKey>;
let certificates: Record<string, string>;

beforeAll(() => {
  const made = controllerKeys(4);
  keys = Object.fromEntries(CLUSTERS.map((c, i) => [c, made[i]]));
  keys.other = made[3];
  certificates = Object.fromEntries(CLUSTERS.map((c) => [c, keys[c].certificate]));
});

/** Every object of each cluster folder (`csc`, `cpc-<id>`) of a fleet. */
function synthFleet(props: EventBusFleetProps): Record<string, Manifest[]> {
  const app = Testing.app();
  const fleet = new EventBusFleet(app, 'fleet', props);
  const errors = app.node.findAll().flatMap((c) => c.node.validate());
  if (errors.length) throw new Error(errors.join('\n'));
  return Object.fromEntries(fleet.charts.map((c) => [c.cluster.directory, Testing.synth(c) as Manifest[]]));
}

const sealedProps = (extra: Partial<EventBusFleetProps> = {}) =>
  testFleetProps({ delivery: SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates }), ...extra });
const byName = (objects: Manifest[], kind: string) => new Map(objects.filter((o) => o.kind === kind).map((o) => [o.metadata!.name!, o]));

/** An inline Secret as the controller would make it: the same object without the inline-only annotation. */
function comparable(secret: any): any {
  const { ['cdk8s-dsx-event-bus/inline-key-material']: _m, ...annotations } = secret.metadata.annotations ?? {};
  return { ...secret, metadata: { ...secret.metadata, annotations } };
}

describe('SecretsDelivery.sealedSecrets', () => {
  test('every SealedSecret unseals, with its cluster\'s key, to exactly the Secret inline delivery writes', () => {
    const inline = synthFleet(testFleetProps());
    const sealed = synthFleet(sealedProps());
    for (const cluster of CLUSTERS) {
      const secrets = byName(inline[cluster], 'Secret');
      const sealedSecrets = byName(sealed[cluster], 'SealedSecret');
      expect(sealed[cluster].filter((o) => o.kind === 'Secret')).toEqual([]);
      expect([...sealedSecrets.keys()].sort()).toEqual([...secrets.keys()].sort());
      expect(sealedSecrets.size).toBeGreaterThanOrEqual(7);
      for (const [name, s] of sealedSecrets) {
        expect(unseal(keys[cluster], s)).toEqual(comparable(secrets.get(name)));
      }
      // Everything else is the same object.
      const rest = (objects: Manifest[]) => objects.filter((o) => o.kind !== 'Secret' && o.kind !== 'SealedSecret');
      expect(rest(sealed[cluster])).toEqual(rest(inline[cluster]));
    }
  });

  test('every SealedSecret is valid against the pinned CRD schema, is strict-scoped, and holds no seed', () => {
    const sealed = synthFleet(sealedProps());
    let n = 0;
    for (const cluster of CLUSTERS) {
      for (const s of sealed[cluster].filter((o) => o.kind === 'SealedSecret')) {
        expect(manifestErrors(s)).toEqual([]);
        expect(s.apiVersion).toBe('bitnami.com/v1alpha1');
        expect(labelOf(s)).toBe(`dsx/${s.metadata!.name}`);
        expect(Object.keys(s.metadata!.annotations!).filter((a) => a.startsWith('sealedsecrets.bitnami.com/'))).toEqual([]);
        n++;
      }
      const text = JSON.stringify(sealed[cluster]);
      const seeds = findSeeds(text);
      expect(seeds.length === 0 ? 'no seeds' : describeSeeds(seeds)).toBe('no seeds');
      expect(text).not.toContain('-----BEGIN');
    }
    expect(n).toBeGreaterThan(20);
  });

  test('fails to unseal under another name, another namespace or another cluster\'s key', () => {
    const sealed = synthFleet(sealedProps());
    const s = byName(sealed['cpc-1'], 'SealedSecret').get('nats-leaf-csc')!;
    const value = (s.spec as any).encryptedData.seed;
    expect(() => unsealValue(keys['cpc-1'], value, 'dsx/nats-leaf-csc')).not.toThrow();
    expect(() => unsealValue(keys['cpc-1'], value, 'dsx/nats-xkey')).toThrow(UNSEAL_FAILS);
    expect(() => unsealValue(keys['cpc-1'], value, 'other/nats-leaf-csc')).toThrow(UNSEAL_FAILS);
    expect(() => unsealValue(keys['cpc-1'], value, 'dsx')).toThrow(UNSEAL_FAILS);
    expect(() => unsealValue(keys['cpc-1'], value, '')).toThrow(UNSEAL_FAILS);
    expect(() => unsealValue(keys.csc, value, 'dsx/nats-leaf-csc')).toThrow(UNSEAL_FAILS);
    // A SealedSecret copied under another name fails as the controller's Unseal would.
    expect(() => unseal(keys['cpc-1'], { ...s, metadata: { ...s.metadata, name: 'stolen' } })).toThrow(UNSEAL_FAILS);
  });

  test('the real openssl decrypts the session key (RSA-OAEP, SHA-256, label namespace/name) that opens the value', () => {
    const sealed = synthFleet(sealedProps());
    const s = byName(sealed.csc, 'SealedSecret').get('nats-auth-signing')!;
    for (const [k, value] of Object.entries((s.spec as any).encryptedData as Record<string, string>)) {
      const sessionKey = opensslSessionKey(keys.csc, value, 'dsx/nats-auth-signing');
      expect(sessionKey.length).toBe(32);
      const expected = Buffer.from((unseal(keys.csc, s).data as Record<string, string>)[k], 'base64');
      expect(openAes(sessionKey, Buffer.from(value, 'base64').subarray(2 + Buffer.from(value, 'base64').readUInt16BE(0)))).toEqual(expected);
    }
  });

  test.each([
    [SealingScope.NAMESPACE_WIDE, 'sealedsecrets.bitnami.com/namespace-wide', 'dsx'],
    [SealingScope.CLUSTER_WIDE, 'sealedsecrets.bitnami.com/cluster-wide', ''],
  ])('scope %s: the annotation on the SealedSecret and its template, and the label the controller then uses', (scope, annotation, label) => {
    const sealed = synthFleet(testFleetProps({ delivery: SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates, scope }) }, ['1']));
    const s = byName(sealed.csc, 'SealedSecret').get('nats-xkey')!;
    expect(s.metadata!.annotations![annotation]).toBe('true');
    expect((s.spec as any).template.metadata.annotations[annotation]).toBe('true');
    expect(labelOf(s)).toBe(label);
    expect(manifestErrors(s)).toEqual([]);
    const value = Object.values((s.spec as any).encryptedData as Record<string, string>)[0];
    expect(() => unsealValue(keys.csc, value, label)).not.toThrow();
    expect(() => unsealValue(keys.csc, value, 'dsx/nats-xkey')).toThrow();
    // Namespace-wide moves within the namespace; cluster-wide anywhere.
    expect(unseal(keys.csc, { ...s, metadata: { ...s.metadata, name: 'renamed' } }).metadata.name).toBe('renamed');
  });

  test('immutable Secrets and renamed keys reach the template and the sealed data', () => {
    const sealed = synthFleet(sealedProps({ immutableSecrets: true, secretOverrides: [{ secret: 'nats-nack-user', name: 'nack', keys: { 'nack-user.nk': 'nkey' } }] }));
    const s = byName(sealed.csc, 'SealedSecret').get('nack')!;
    expect((s.spec as any).template.immutable).toBe(true);
    expect(Object.keys((s.spec as any).encryptedData).sort()).toEqual(['nkey', 'pubkey']);
    expect(unseal(keys.csc, s).data.nkey).toBeDefined();
  });

  test('nats-mtls-server-tls from PEM is sealed (its private key never in clear)', async () => {
    const tls = await tlsFixture();
    const pem = MtlsServerTls.fromPem({ caCrt: tls.caCrt, tlsCrt: tls.tlsCrt, tlsKey: tls.tlsKey });
    const sealed = synthFleet(sealedProps({ mtlsServerTls: pem }));
    const s = byName(sealed['cpc-2'], 'SealedSecret').get('nats-mtls-server-tls')!;
    expect(Buffer.from(unseal(keys['cpc-2'], s).data['tls.key'], 'base64').toString()).toBe(tls.tlsKey);
    expect(JSON.stringify(sealed)).not.toContain('PRIVATE KEY');
  });

  test('fails when a cluster has no certificate', () => {
    const { 'cpc-2': _, ...some } = certificates;
    expect(() => synthFleet(testFleetProps({ delivery: SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: some }) })))
      .toThrow(/sealedSecrets delivery has no certificate for cpc-2 \(it has csc, cpc-1\)\. Allowed: one certificate per cluster.*Fix: give the sealedSecrets delivery a certificate for cpc-2 \(the PEM that kubeseal --fetch-cert prints against that cluster\)/);
  });

  test('fails when the delivery needs values but there are no keys, or no namespace for a strict scope', () => {
    const delivery = SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates });
    expect(() => new EventBusSecrets(Testing.chart(), 's', { cluster: EventBusCluster.cpc('1'), delivery, mtls: false, metadata: { namespace: 'dsx' } }))
      .toThrow(/sealedSecrets delivery needs the key values, but keys is not set/);
    expect(() => new EventBusSecrets(Testing.chart(), 's', { cluster: EventBusCluster.cpc('1'), delivery, mtls: false, keys: new DeterministicKeyStore() }))
      .toThrow(/sealing with scope strict binds each value to its namespace, but no namespace is set\. Fix: set namespace/);
    expect(() => new EventBusSecrets(Testing.chart(), 's', {
      cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates, scope: SealingScope.CLUSTER_WIDE }), mtls: false, keys: new DeterministicKeyStore(),
    })).not.toThrow();
  });

  test('fails when mTLS server TLS is to come from the delivery', () => {
    expect(() => synthFleet(sealedProps({ mtlsServerTls: MtlsServerTls.fromDelivery() })))
      .toThrow(/nats-mtls-server-tls is to come from the delivery strategy, but sealedSecrets delivery has no value for it/);
  });

  test('fails when the certificates are missing, misnamed or not a controller certificate', async () => {
    const tls = await tlsFixture();
    const ok = keys.csc.certificate;
    expect(() => SecretsDelivery.sealedSecrets({} as any)).toThrow(/SecretsDelivery\.sealedSecrets: certificates is missing or empty\. Fix: pass each cluster's controller certificate/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: {} })).toThrow(/certificates is missing or empty/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: { cpc1: ok } })).toThrow(/certificates has the key "cpc1", which is not a cluster folder\. Allowed: "csc" or "cpc-<id>"/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: { 'cpc-A': ok } })).toThrow(/certificates\["cpc-A"\]/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: { csc: 'not a pem' } })).toThrow(/the certificate of csc holds 0 PEM certificates\. Allowed: exactly one .*Fix: write it with kubeseal --fetch-cert/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: { csc: ok + ok } })).toThrow(/holds 2 PEM certificates/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: { csc: ok + keys.csc.privateKey } })).toThrow(/the certificate of csc holds a private key\. Allowed: the controller's public certificate only/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: { csc: tls.caCrt } })).toThrow(/the certificate of csc has a "ec" key\. Allowed: an RSA key/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: { csc: ok.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!') } })).toThrow(/the certificate of csc is not a readable X\.509 certificate/);
    expect(() => SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates, scope: 'global' as any })).toThrow(/scope "global" is unknown\. Allowed: strict, namespace-wide, cluster-wide/);
  });
});

/** A key store that answers one Secret of one cluster from a second store (a rotated key). */
class RotatedKeyStore implements IKeyStore {
  public readonly description = 'rotated test keys';
  constructor(
    private readonly base: IKeyStore, private readonly rotated: IKeyStore, private readonly cluster: string, private readonly secret: string,
  ) {}
  public ensure(request: KeyStoreRequest): void {
    this.base.ensure(request);
  }
  public readSeed(cluster: string, secretName: string, key?: string): NKeySeed {
    return (cluster === this.cluster && secretName === this.secret ? this.rotated : this.base).readSeed(cluster, secretName, key);
  }
  public readPublicKey(cluster: string, secretName: string, key?: string): NKeyPublicKey {
    return (cluster === this.cluster && secretName === this.secret ? this.rotated : this.base).readPublicKey(cluster, secretName, key);
  }
}

describe('stable ciphertext across synths', () => {
  let outdir: string;
  beforeEach(() => {
    outdir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir()), 'sealed-out-'));
  });
  afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));

  function synthTo(props: EventBusFleetProps) {
    const app = new EventBusApp({ outdir });
    new EventBusFleet(app, 'fleet', props);
    return app.synthOutput();
  }
  /** cluster/file -> encryptedData of every SealedSecret in the output. */
  function sealedData(): Map<string, Record<string, string>> {
    const out = new Map<string, Record<string, string>>();
    for (const cluster of CLUSTERS) {
      const dir = path.join(outdir, cluster, 'manifests');
      for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('SealedSecret.'))) {
        out.set(`${cluster}/${f}`, YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8')).spec.encryptedData);
      }
    }
    return out;
  }
  const changedEntries = (a: Map<string, Record<string, string>>, b: Map<string, Record<string, string>>) =>
    [...a.keys()].filter((k) => JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k))).sort();

  test('an unchanged rerun changes no ciphertext and writes nothing', () => {
    expect(synthTo(sealedProps()).changed).toBe(true);
    const first = sealedData();
    expect(first.size).toBeGreaterThan(20);
    const again = synthTo(sealedProps());
    expect(again.changed).toBe(false);
    expect(changedEntries(first, sealedData())).toEqual([]);
  });

  test('a rotated key reseals exactly its SealedSecret', () => {
    synthTo(sealedProps());
    const first = sealedData();
    const rotated = new RotatedKeyStore(new DeterministicKeyStore(), new DeterministicKeyStore({ phrase: 'rotated' }), 'cpc-1', 'nats-nack-user');
    synthTo(sealedProps({ keys: rotated }));
    const second = sealedData();
    expect(changedEntries(first, second)).toEqual(['cpc-1/SealedSecret.dsx.nats-nack-user.k8s.yaml']);
    // And it unseals to the new key.
    const s = YAML.parse(fs.readFileSync(path.join(outdir, 'cpc-1', 'manifests', 'SealedSecret.dsx.nats-nack-user.k8s.yaml'), 'utf8'));
    expect(Buffer.from(unseal(keys['cpc-1'], s).data['nack-user.nk'], 'base64').toString()).toBe(rotated.readSeed('cpc-1', 'nats-nack-user', 'nack-user.nk').reveal());
  });

  test('a new certificate reseals exactly its cluster\'s SealedSecrets', () => {
    synthTo(sealedProps());
    const first = sealedData();
    synthTo(sealedProps({ delivery: SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates: { ...certificates, 'cpc-2': keys.other.certificate } }) }));
    const second = sealedData();
    const changed = changedEntries(first, second);
    expect(changed.length).toBe([...first.keys()].filter((k) => k.startsWith('cpc-2/')).length);
    expect(changed.every((k) => k.startsWith('cpc-2/'))).toBe(true);
    const s = YAML.parse(fs.readFileSync(path.join(outdir, 'cpc-2', 'manifests', 'SealedSecret.dsx.nats-xkey.k8s.yaml'), 'utf8'));
    expect(() => unseal(keys.other, s)).not.toThrow();
    expect(() => unseal(keys['cpc-2'], s)).toThrow();
  });

  test('a changed scope or a changed namespace reseals; an edited SealedSecret is not trusted', () => {
    synthTo(sealedProps());
    const first = sealedData();
    synthTo(sealedProps({ delivery: SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates, scope: SealingScope.NAMESPACE_WIDE }) }));
    expect(changedEntries(first, sealedData()).length).toBe(first.size);
    // A file changed after synth wrote it is not a source of ciphertext.
    const file = path.join(outdir, 'csc', 'manifests', 'SealedSecret.dsx.nats-xkey.k8s.yaml');
    const before = sealedData();
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^( +\S+: )\S+$/m, '$1AAAA'));
    synthTo(sealedProps({ delivery: SecretsDelivery.sealedSecrets({ allowTestKeys: true, certificates, scope: SealingScope.NAMESPACE_WIDE }) }));
    const after = sealedData();
    expect(changedEntries(before, after)).toEqual(['csc/SealedSecret.dsx.nats-xkey.k8s.yaml']);
    expect(() => unseal(keys.csc, YAML.parse(fs.readFileSync(file, 'utf8')))).not.toThrow();
  });

  test('the fast reading of an earlier SealedSecret file agrees with a YAML parser on every file synth wrote', () => {
    synthTo(sealedProps({ secretOverrides: [{ secret: 'nats-nack-user', name: 'nack.user-1', keys: { 'nack-user.nk': 'n.k_1' } }] }));
    let n = 0;
    for (const cluster of CLUSTERS) {
      const dir = path.join(outdir, cluster, 'manifests');
      for (const f of fs.readdirSync(dir).filter((name) => name.startsWith('SealedSecret.'))) {
        const text = fs.readFileSync(path.join(dir, f), 'utf8');
        const fast = previousFromManifestText(text);
        expect(fast).toBeDefined();
        expect(fast).toEqual(previousFromManifest(YAML.parse(text)));
        n++;
      }
    }
    expect(n).toBeGreaterThan(20);
    // Anything else is left to the parser.
    expect(previousFromManifestText('apiVersion: v1\nkind: Secret\n')).toBeUndefined();
    const one = fs.readFileSync(path.join(outdir, 'csc', 'manifests', 'SealedSecret.dsx.nats-xkey.k8s.yaml'), 'utf8');
    expect(previousFromManifestText(one.replace(/^( {4}pubkey: )(\S+)$/m, "$1'$2'"))).toBeUndefined();
    expect(previousFromManifestText(one.replace(/^( {4}pubkey: )(\S+)$/m, '$1|\n      $2'))).toBeUndefined();
  });

  test('the digest annotation reveals nothing: it differs per cluster for equal values and is not a hash of the value alone', () => {
    synthTo(sealedProps());
    const digestOf = (cluster: string, name: string) =>
      YAML.parse(fs.readFileSync(path.join(outdir, cluster, 'manifests', `SealedSecret.dsx.${name}.k8s.yaml`), 'utf8'))
        .metadata.annotations['cdk8s-dsx-event-bus/sealed-digest'];
    const d = digestOf('csc', 'nats-xkey');
    expect(d).toMatch(/^v1:[A-Za-z0-9_-]{43}$/);
    // The leaf pair's public key on the CSC and seed on the CPC are different values; the
    // same Secret name in two clusters (different keys, different certificates) differs too.
    expect(digestOf('cpc-1', 'nats-xkey')).not.toBe(digestOf('cpc-2', 'nats-xkey'));
  });
});

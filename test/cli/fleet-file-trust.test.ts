/**
 * Fleet-file keys for the CPC's trust in the CSC gateway (`cscTrust`) and the
 * fleet CA (`certificates.ca`): what they become, and the errors for
 * conflicting or bad input.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { EventBusFleet } from '../../src';
import { CertificateAuthorityKind } from '../../src/certificates/ca-issuer';
import { LeafTrustKind } from '../../src/certificates/leaf-trust';
import { EvaluationCa, generateEvaluationCa } from '../../src/cli/evaluation';
import { readFleetFile } from '../../src/cli/fleet-file';
import { main } from '../../src/cli/run';
import { tlsFixture, TlsFixture } from '../secrets/tls-fixture';

let ca: EvaluationCa;
let tls: TlsFixture;
let dir: string;
beforeAll(async () => {
  [ca, tls] = await Promise.all([generateEvaluationCa('ecdsa-p256'), tlsFixture()]);
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-trust-'));
  fs.mkdirSync(path.join(dir, 'conf'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const BASE = {
  keys: { deterministicTestKeys: true },
  delivery: { type: 'existing' },
  clusters: [
    { type: 'csc', gateway: { hostnames: ['csc.example.com'] } },
    { type: 'cpc', id: '1', gateway: { hostnames: ['cpc-1.example.com'] } },
    { type: 'cpc', id: '2', gateway: { hostnames: ['cpc-2.example.com'] } },
  ],
};

/** Writes a fleet file (BASE with `extra` merged at the top level) into the temp folder. */
function fleetFile(extra: Record<string, unknown>, clusters?: unknown[]): string {
  const file = path.join(dir, 'conf', 'fleet.yaml');
  fs.writeFileSync(file, YAML.stringify({ ...BASE, ...extra, clusters: clusters ?? BASE.clusters }));
  return file;
}

function writeCa(folder: string, withKey = true): void {
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'ca.crt'), ca.certPem);
  if (withKey) fs.writeFileSync(path.join(folder, 'ca.key'), ca.keyPem);
}

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

describe('fleet file: cscTrust', () => {
  test('pemFile (relative to the fleet file) becomes a ConfigMap in each CPC', () => {
    fs.writeFileSync(path.join(dir, 'csc-ca.pem'), tls.caCrt);
    const props = readFleetFile(fleetFile({ certificates: { issuer: { name: 'x' } }, cscTrust: { pemFile: '../csc-ca.pem', configMapName: 'csc-ca' } }));
    expect(props.cscTrust!.kind).toBe(LeafTrustKind.PEM);
    expect(props.cscTrust!.configMapName).toBe('csc-ca');
    const fleet = new EventBusFleet(Testing.app(), 'fleet', props);
    expect(fleet.cpc('2').toJson().find((o: any) => o.kind === 'ConfigMap').data['ca.crt']).toBe(tls.caCrt);
  });

  test('secretName, configMapName (with key), publicRoots; a CPC entry replaces the fleet\'s', () => {
    const clusters = [BASE.clusters[0], { ...BASE.clusters[1], cscTrust: { configMapName: 'bundle', key: 'trust.pem' } }, { ...BASE.clusters[2], cscTrust: { publicRoots: true } }];
    const props = readFleetFile(fleetFile({ certificates: { issuer: { name: 'x' } }, cscTrust: { secretName: 'csc-ca' } }, clusters));
    expect(props.cscTrust).toMatchObject({ kind: LeafTrustKind.SECRET, secretName: 'csc-ca', key: 'ca.crt' });
    expect(props.cpcs[0].cscTrust).toMatchObject({ kind: LeafTrustKind.CONFIG_MAP, configMapName: 'bundle', key: 'trust.pem' });
    expect(props.cpcs[1].cscTrust!.kind).toBe(LeafTrustKind.PUBLIC_ROOTS);
    const fleet = new EventBusFleet(Testing.app(), 'fleet', props);
    expect(fleet.cpc('1').helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/trust.pem' });
    expect(fleet.cpc('2').helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true });
  });

  test.each([
    ['two sources', { secretName: 'a', configMapName: 'b' }, /cscTrust: cscTrust sets secretName and configMapName\. Allowed: one of pemFile/],
    ['no source', { key: 'ca.crt' }, /cscTrust names no source/],
    ['publicRoots with a key', { publicRoots: true, key: 'x' }, /key is set with publicRoots\. Allowed: key with secretName or configMapName only/],
    ['pemFile with a key', { pemFile: 'ca.pem', key: 'x' }, /key is set with pemFile \(its ConfigMap key is always ca\.crt\)/],
    ['a missing pemFile', { pemFile: 'nope.pem' }, /LeafTrust\.fromPemFile: file ".*conf\/nope\.pem" cannot be read \(ENOENT\)/],
  ])('fails when cscTrust has %s', (_name, cscTrust, message) => {
    expect(() => readFleetFile(fleetFile({ certificates: { issuer: { name: 'x' } }, cscTrust }))).toThrow(message);
  });

  test('fails when the pemFile holds a private key, without echoing it', () => {
    fs.writeFileSync(path.join(dir, 'conf', 'ca.pem'), tls.caCrt + tls.tlsKey);
    let message = '';
    try {
      readFleetFile(fleetFile({ certificates: { issuer: { name: 'x' } }, cscTrust: { pemFile: 'ca.pem' } }));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/holds a PRIVATE KEY block; a trust bundle is public/);
    expect(message).not.toContain(tls.tlsKey.split('\n')[1]);
  });

  test('fails when the csc entry has a cscTrust', () => {
    const clusters = [{ ...BASE.clusters[0], cscTrust: { publicRoots: true } }, BASE.clusters[1]];
    expect(() => readFleetFile(fleetFile({ certificates: { issuer: { name: 'x' } } }, clusters))).toThrow(/clusters\[0\]: the csc entry has a cscTrust\. Allowed: id, cscEndpoint and cscTrust on cpc entries only/);
  });

  test('fails when cscTrust is set and the CSC gateway is plain TCP', () => {
    const props = readFleetFile(fleetFile({ certificates: { issuer: { name: 'x' } }, gateway: { transport: 'tcp' }, cscTrust: { secretName: 'csc-ca' } }));
    expect(() => new EventBusFleet(Testing.app(), 'fleet', props)).toThrow(/cscTrust is set, but cscEndpoint "nats:\/\/csc\.example\.com:7422" uses nats:\/\//);
  });

  test('fails when cscTrust has an unknown field (schema)', () => {
    expect(() => readFleetFile(fleetFile({ cscTrust: { pem: 'x' } }))).toThrow(/\/cscTrust: unknown field "pem"/);
  });
});

describe('fleet file: certificates.ca', () => {
  test('ca: {} reads <keys.directory>/ca; with existing delivery only the certificate is read (no ca.key needed)', () => {
    writeCa(path.join(dir, 'secrets', 'ca'), false);
    const props = readFleetFile(fleetFile({ keys: { directory: '../secrets' }, certificates: { ca: {} } }));
    expect(props.certificates!.ca!.kind).toBe(CertificateAuthorityKind.PEM);
    expect(props.certificates!.ca!.certificatePem).toBe(ca.certPem);
    expect(props.certificates!.ca!.hasPrivateKey).toBe(false);
  });

  test('ca: {} with inline delivery reads the key too; ca: { directory } and { certFile, keyFile } are relative to the fleet file', () => {
    writeCa(path.join(dir, 'pki'));
    for (const caDoc of [{ directory: '../pki' }, { certFile: '../pki/ca.crt', keyFile: '../pki/ca.key' }]) {
      const props = readFleetFile(fleetFile({ delivery: { type: 'inline' }, certificates: { ca: caDoc } }));
      expect(props.certificates!.ca!.hasPrivateKey).toBe(true);
    }
  });

  test('ca: { secretName, certFile }: an existing Secret, and the CPCs trust the certificate', () => {
    writeCa(path.join(dir, 'pki'), false);
    const props = readFleetFile(fleetFile({ certificates: { ca: { secretName: 'company-ca', certFile: '../pki/ca.crt' } } }));
    expect(props.certificates!.ca).toMatchObject({ kind: CertificateAuthorityKind.EXISTING_SECRET, secretName: 'company-ca', certificatePem: ca.certPem });
    const fleet = new EventBusFleet(Testing.app(), 'fleet', props);
    expect(fleet.cpc('1').toJson().find((o: any) => o.kind === 'ConfigMap').data['ca.crt']).toBe(ca.certPem);
  });

  test.each([
    ['secretName with keyFile', { secretName: 'a', certFile: 'c', keyFile: 'k' }, /certificates\.ca: secretName is set with keyFile/],
    ['directory with certFile', { directory: 'd', certFile: 'c' }, /directory is set with certFile\/keyFile/],
    ['keyFile without certFile', { keyFile: 'k' }, /keyFile is set without certFile/],
    ['no key store directory', {}, /certificates\.ca: ca is empty, so the fleet CA is read from the key store directory, but there is none/],
    ['a missing fleet CA', { directory: '../nothing/ca' }, /the fleet CA .*nothing\/ca\/ca\.crt does not exist\. Fix: run dsx-event-bus certs -o .*nothing/],
    ['certificates.ca with selfSigned', { secretName: 'a' }, /certificates: selfSigned and ca are set together\. Allowed: one issuer source: issuer, selfSigned or ca\. Fix: keep one of them/],
    ['certificates.ca with issuer and selfSigned', { secretName: 'a' }, /certificates: issuer and selfSigned and ca are set together/],
  ])('fails when certificates.ca has %s', (name, caDoc, message) => {
    const certificates = name.includes('issuer') ? { issuer: { name: 'x' }, selfSigned: true, ca: caDoc } : name.includes('selfSigned') ? { selfSigned: true, ca: caDoc } : { ca: caDoc };
    expect(() => new EventBusFleet(Testing.app(), 'fleet', readFleetFile(fleetFile({ certificates })))).toThrow(message);
  });

  test('fails when inline delivery has no keyFile', () => {
    writeCa(path.join(dir, 'pki'), false);
    expect(() => readFleetFile(fleetFile({ delivery: { type: 'inline' }, certificates: { ca: { certFile: '../pki/ca.crt' } } })))
      .toThrow(/inline delivery puts the CA Secret into the manifests, but no keyFile is given/);
  });

  test('synth makes the fleet CA once with --generate-missing; without it a missing CA names the command', async () => {
    const file = fleetFile({ keys: { directory: '../secrets' }, delivery: { type: 'inline' }, certificates: { ca: {} } });
    const refused = await cli('synth', '-c', file, '-o', path.join(dir, 'dist'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the fleet CA .*secrets\/ca\/ca\.crt does not exist\. Fix: run dsx-event-bus certs -o .*secrets/);
    expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);

    const first = await cli('synth', '-c', file, '--generate-missing', '-o', path.join(dir, 'dist'));
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/fleet CA: wrote .*secrets\/ca/);
    const crt = fs.readFileSync(path.join(dir, 'secrets', 'ca', 'ca.crt'), 'utf8');
    const second = await cli('synth', '-c', file, '--generate-missing', '-o', path.join(dir, 'dist'));
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/fleet CA: wrote/);
    expect(fs.readFileSync(path.join(dir, 'secrets', 'ca', 'ca.crt'), 'utf8')).toBe(crt);
    const trust = YAML.parse(fs.readFileSync(path.join(dir, 'dist', 'cpc-2', 'manifests', 'ConfigMap.dsx.nats-csc-gateway-ca.k8s.yaml'), 'utf8'));
    expect(trust.data['ca.crt']).toBe(crt);
  });

  test('synth issues one name-constrained intermediate per cluster beside the root, reuses it, and reissues only the one whose names changed', async () => {
    const file = fleetFile({ keys: { directory: '../secrets' }, delivery: { type: 'inline' }, certificates: { ca: {} } });
    const out = path.join(dir, 'dist');
    const first = await cli('synth', '-c', file, '--generate-missing', '-o', out);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    for (const c of ['csc', 'cpc-1', 'cpc-2']) expect(first.stdout).toMatch(new RegExp(`${c}: issued its intermediate CA .*secrets/ca/clusters/${c}\\.pem \\(none yet\\)`));
    expect(first.stdout).toMatch(/cpc-1: issued .*name-constrained to cpc-1\.example\.com, nats-mtls, nats-mtls\.dsx, nats-mtls\.dsx\.svc, nats-mtls\.dsx\.svc\.cluster\.local\n/);
    const rootKey = fs.readFileSync(path.join(dir, 'secrets', 'ca', 'ca.key'), 'utf8');
    const pemOf = (c: string) => fs.readFileSync(path.join(dir, 'secrets', 'ca', 'clusters', `${c}.pem`), 'utf8');
    expect(fs.statSync(path.join(dir, 'secrets', 'ca', 'clusters', 'csc.pem')).mode.toString(8)).toMatch(/600$/);
    const before = Object.fromEntries(['csc', 'cpc-1', 'cpc-2'].map((c) => [c, pemOf(c)]));
    for (const c of ['csc', 'cpc-1', 'cpc-2']) {
      const secret = YAML.parse(fs.readFileSync(path.join(out, c, 'manifests', 'Secret.dsx.event-bus-certificate-issuer-ca.k8s.yaml'), 'utf8'));
      const data = Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
      expect(before[c].startsWith(data['tls.crt'])).toBe(true);
      expect(before[c]).toContain(data['tls.key']);
      expect(data['ca.crt']).toBe(fs.readFileSync(path.join(dir, 'secrets', 'ca', 'ca.crt'), 'utf8'));
      expect(data['tls.key']).not.toBe(rootKey);
    }
    // Unchanged names: every intermediate reused, the output unchanged.
    const second = await cli('synth', '-c', file, '-o', out);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/issued its intermediate/);
    expect(second.stdout).toMatch(/unchanged: nothing written/);
    // A new hostname for cpc-2: only its intermediate is reissued.
    const clusters = [...BASE.clusters.slice(0, 2), { type: 'cpc', id: '2', gateway: { hostnames: ['cpc-2.example.org'] } }];
    const moved = fleetFile({ keys: { directory: '../secrets' }, delivery: { type: 'inline' }, certificates: { ca: {} } }, clusters);
    const third = await cli('synth', '-c', moved, '-o', out);
    expect(third.code).toBe(0);
    expect(third.stdout.match(/issued its intermediate CA/g)).toHaveLength(1);
    expect(third.stdout).toMatch(/cpc-2: issued its intermediate CA .* \(the cluster's names changed\), name-constrained to cpc-2\.example\.org,/);
    expect(pemOf('csc')).toBe(before.csc);
    expect(pemOf('cpc-1')).toBe(before['cpc-1']);
    expect(pemOf('cpc-2')).not.toBe(before['cpc-2']);
  });
});

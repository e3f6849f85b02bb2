/**
 * Trust is stated, never assumed (issue 17): when the CSC's gateway
 * certificate comes from an issuer the library did not make, a CPC reaching
 * it over tls:// needs cscTrust, and the error names both kinds (public
 * roots, a CA bundle) in props and in fleet-file terms. And a PEM private
 * key never lands in a non-Secret (world-readable) output file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, App, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { cpcEntries, testKeys } from './fleet-props';
import { CertificateIssuer, ClusterCertificates, EventBusFleet, EventBusFleetProps, GatewayTransport, LeafTrust, SecretsDelivery, VaultAuth } from '../../src';
import { generateEvaluationCa } from '../../src/cli/evaluation';
import { main } from '../../src/cli/run';

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

const vaultPki = CertificateIssuer.fromClusterIssuerName('vault-pki');
const props = (extra: Partial<EventBusFleetProps> = {}): EventBusFleetProps => ({
  keys: testKeys,
  delivery: SecretsDelivery.inline({ allowTestKeys: true }),
  certificates: ClusterCertificates.issuer(vaultPki),
  csc: { gateway: { hostnames: ['csc.example.com'] } },
  cpcs: cpcEntries(['1', '2']),
  ...extra,
});

describe('trust stated, never assumed', () => {
  test('fails when the CSC certificate comes from certificates.issuer and no cscTrust is given, naming both options', () => {
    expect(() => new EventBusFleet(Testing.app(), 'fleet', props())).toThrow(new RegExp([
      '^fleet: cpcs\\[0\\]\\.cscTrust: the CSC\'s gateway certificate comes from certificates\\.issuer \\(ClusterIssuer "vault-pki"\\), an issuer the library did not make, ',
      'so the CA that signs it is unknown here; CPC "1" states no cscTrust, and its leaf to "tls://csc\\.example\\.com:7422" would verify the CSC against the public roots by assumption\\. ',
      'Allowed: a stated trust: the public roots \\(a publicly trusted issuer, e\\.g\\. ACME\\), or the CA bundle that signs the CSC certificate\\. ',
      'Fix: set cscTrust on this CPC or on the whole fleet: cscTrust: LeafTrust\\.publicRoots\\(\\), or the CA bundle: cscTrust: LeafTrust\\.fromPemFile\\("issuer-ca\\.crt"\\)',
    ].join('')));
  });

  test('fails for certificates.vault as well: Vault\'s CA is unknown to the library', () => {
    const vault = { server: 'https://vault.example.com:8200', path: 'pki_int/sign/event-bus', auth: VaultAuth.token('vault-token') };
    expect(() => new EventBusFleet(Testing.app(), 'fleet', props({ certificates: ClusterCertificates.vault(vault) })))
      .toThrow(/the CSC's gateway certificate comes from certificates\.vault \(a Vault\/OpenBao PKI\), an issuer the library did not make/);
  });

  test('a stated trust passes: public roots or a CA bundle, on the fleet or per CPC; plain TCP needs none', async () => {
    const root = await generateEvaluationCa('ecdsa-p256');
    const publicRoots = new EventBusFleet(Testing.app(), 'fleet', props({ cscTrust: LeafTrust.publicRoots() }));
    expect(publicRoots.cpc('1').helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true });
    const bundle = new EventBusFleet(Testing.app(), 'fleet', props({ cpcs: cpcEntries(['1', '2']).map((c) => ({ ...c, cscTrust: LeafTrust.fromPem(root.certPem) })) }));
    expect(bundle.cpc('2').helmValues().nats.tlsCA.configMapName).toBe('nats-csc-gateway-ca');
    // One CPC without a stated trust is still refused.
    const one = cpcEntries(['1', '2']).map((c, i) => (i === 0 ? { ...c, cscTrust: LeafTrust.publicRoots() } : c));
    expect(() => new EventBusFleet(Testing.app(), 'fleet', props({ cpcs: one }))).toThrow(/^fleet: cpcs\[1\]\.cscTrust: .*CPC "2" states no cscTrust/);
    expect(() => new EventBusFleet(Testing.app(), 'fleet', props({ gateway: { transport: GatewayTransport.TCP } }))).not.toThrow();
  });

  test('fails in fleet-file terms for a fleet file, naming the cscTrust forms of the file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trust-stated-'));
    try {
      const file = path.join(dir, 'fleet.yaml');
      fs.writeFileSync(file, YAML.stringify({
        keys: { deterministicTestKeys: true },
        delivery: { type: 'existing' },
        certificates: { issuer: { kind: 'ClusterIssuer', name: 'vault-pki' } },
        clusters: [
          { type: 'csc', gateway: { hostnames: ['csc.example.com'] } },
          { type: 'cpc', id: '1', gateway: { hostnames: ['cpc-1.example.com'] } },
        ],
      }));
      const r = await cli('synth', '-c', file, '-o', path.join(dir, 'out'));
      expect(r.code).toBe(1);
      const message = r.stderr;
      expect(message).toMatch(/certificates\.issuer \(ClusterIssuer "vault-pki"\), an issuer the library did not make/);
      expect(message).toMatch(/fleet\.yaml: clusters\[1\]\.cscTrust: the CSC's gateway/);
      expect(message).toMatch(/Fix: set cscTrust on this CPC or on the whole fleet: cscTrust: \{ publicRoots: true \}, or the CA bundle: cscTrust: \{ pemFile: \.\.\. \} \(or \{ secretName: \.\.\. \} \/ \{ configMapName: \.\.\. \}/);
      expect(message).not.toMatch(/LeafTrust\./);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('private keys only in Secrets', () => {
  test('fails when a non-Secret object or the values would hold a PEM private key, naming the file, never echoing the key', async () => {
    const root = await generateEvaluationCa('ecdsa-p256');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pem-refused-'));
    try {
      for (const [name, data] of [['text', { 'ca.key': root.keyPem }], ['base64', { blob: Buffer.from(root.keyPem).toString('base64') }]] as const) {
        const fleet = new EventBusFleet(new App({ outdir: path.join(dir, name) }), 'fleet', props({ cscTrust: LeafTrust.publicRoots() }));
        new ApiObject(fleet.cpc('1'), 'Leak', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'leak' }, data });
        let message = '';
        try {
          fleet.synth(path.join(dir, name));
        } catch (e) {
          message = (e as Error).message;
        }
        expect(message).toMatch(/fleet\/cpc-1: cpc-1\/manifests\/ConfigMap\.default\.leak\.k8s\.yaml|cpc-1\/manifests\/ConfigMap\..*leak.*would hold a PEM private key, but it is not a Secret/);
        expect(message).toMatch(/Allowed: private keys in Secret objects only/);
        expect(message).not.toContain(root.keyPem.split('\n')[1]);
        expect(fs.existsSync(path.join(dir, name, 'cpc-1'))).toBe(false);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Least privilege across clusters (issue 17): with the demo fleet
 * (examples/fleet.yaml: inline delivery, certificates.ca: {}), no cluster's
 * output (manifests, Helm values) and no remote-secret export of
 * `dsx-event-bus export` holds the fleet root's private key or another
 * cluster's intermediate key; each cluster's CA Secret holds its own
 * intermediate, which permits only that cluster's names.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeIntermediate } from '../../src/certificates/name-constraints';
import { generateEvaluationCa } from '../../src/cli/evaluation';
import { main } from '../../src/cli/run';

const REPO = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'examples', 'fleet.yaml');
const CLUSTERS = ['csc', 'cpc-1', 'cpc-2'];

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

/** Every text file under `dir`, by path relative to it. */
function filesUnder(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const file = path.join(e.parentPath, e.name);
      out.set(path.relative(dir, file), fs.readFileSync(file, 'utf8'));
    }
  }
  return out;
}

/**
 * The forms a PEM private key takes in output, each a key-specific part (the
 * PKCS#8 prefix and the PEM header are the same for every key of a type):
 * its DER in base64 (a PEM body, on one line or wrapped), and the whole PEM in
 * base64 (a Secret's `data`), both from the middle.
 */
function keyForms(keyPem: string): string[] {
  const der = crypto.createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' }).toString('base64');
  return [der.slice(60, 120), Buffer.from(keyPem).toString('base64').slice(80, 160)];
}

const holds = (text: string, keyPem: string) => keyForms(keyPem).some((f) => text.replace(/\s/g, '').includes(f.replace(/\s/g, '')));

describe('least privilege: no cluster receives a key it does not use', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-least-privilege-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the demo fleet\'s output and export hold neither the root key nor another cluster\'s intermediate key', async () => {
    const secrets = path.join(dir, 'secrets');
    const out = path.join(dir, 'dist');
    const synth = await cli('synth', '-c', EXAMPLE, '--secrets', secrets, '--generate-missing', '-o', out);
    expect(synth).toMatchObject({ code: 0, stderr: '' });
    const exported = path.join(dir, 'export');
    const exp = await cli('export', '-s', secrets, '-o', exported, '--extra-account', 'LaunchLayer', '1', '2');
    expect(exp.code).toBe(0);

    const rootKey = fs.readFileSync(path.join(secrets, 'ca', 'ca.key'), 'utf8');
    const rootCrt = fs.readFileSync(path.join(secrets, 'ca', 'ca.crt'), 'utf8');
    const own = new Map(CLUSTERS.map((c) => {
      const pem = fs.readFileSync(path.join(secrets, 'ca', 'clusters', `${c}.pem`), 'utf8');
      return [c, { crt: /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(pem)![0], key: /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/.exec(pem)![0] }];
    }));
    let scanned = 0;
    for (const c of CLUSTERS) {
      const files = filesUnder(path.join(out, c));
      const all = [...files.values()].join('\n');
      scanned += files.size;
      expect(holds(all, rootKey)).toBe(false);
      for (const other of CLUSTERS.filter((x) => x !== c)) expect(holds(all, own.get(other)!.key)).toBe(false);
      // Positive control: its own intermediate's key is there (in its CA Secret, and only there).
      const withOwnKey = [...files].filter(([, text]) => holds(text, own.get(c)!.key)).map(([f]) => f);
      expect(withOwnKey).toEqual(['manifests/Secret.dsx.event-bus-certificate-issuer-ca.k8s.yaml']);
      // Its intermediate permits its own names only, and chains to the root.
      const described = describeIntermediate(own.get(c)!.crt)!;
      expect(described.dnsNames).toEqual([`${c}.event-bus.example.com`, 'nats-mtls', 'nats-mtls.dsx', 'nats-mtls.dsx.svc', 'nats-mtls.dsx.svc.cluster.local']);
      expect(described.ipAddresses).toEqual([]);
      expect(new crypto.X509Certificate(own.get(c)!.crt).verify(new crypto.X509Certificate(rootCrt).publicKey)).toBe(true);
    }
    const exportFiles = filesUnder(exported);
    expect(exportFiles.size).toBeGreaterThan(0);
    const exportText = [...exportFiles.values()].join('\n');
    expect(holds(exportText, rootKey)).toBe(false);
    for (const c of CLUSTERS) expect(holds(exportText, own.get(c)!.key)).toBe(false);
    expect(scanned).toBeGreaterThan(50);
  });
});

describe('the clusters are checked before the fleet CA and the intermediates are made', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-ids-first-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The demo fleet with its CPC entries replaced, its key store in `dir`. */
  function fleetWith(cpcs: string): string {
    const text = fs.readFileSync(EXAMPLE, 'utf8');
    const file = path.join(dir, 'fleet.yaml');
    fs.writeFileSync(file, `${text.slice(0, text.indexOf('  - type: cpc'))}${cpcs}`.replace('directory: ../.demo-secrets', 'directory: secrets'));
    return file;
  }

  test.each([
    ['an invalid id', '  - type: cpc\n    id: "Bad_1"\n', /clusters\[1\]\.id: CPC id "Bad_1" is invalid/],
    ['an id given twice', '  - type: cpc\n    id: "1"\n  - type: cpc\n    id: "1"\n', /clusters: CPC id "1" is listed twice/],
  ])('%s: the error names the file\'s path, and no key store, CA or intermediate is made', async (_what, cpcs, error) => {
    const file = fleetWith(cpcs);
    const r = await cli('synth', '-c', file, '-o', path.join(dir, 'dist'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ERROR: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${error.source}`));
    expect(r.stdout).toBe('');
    expect(fs.readdirSync(dir)).toEqual(['fleet.yaml']);
  });

  test('a cluster entry\'s own namespace is in its intermediate\'s names (the chart\'s namespace, decided once)', async () => {
    const file = fleetWith('  - type: cpc\n    id: "1"\n    namespace: edge\n    gateway: { hostnames: [cpc-1.event-bus.example.com] }\n');
    const r = await cli('synth', '-c', file, '-o', path.join(dir, 'dist'));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const names = (c: string) => describeIntermediate(fs.readFileSync(path.join(dir, 'secrets', 'ca', 'clusters', `${c}.pem`), 'utf8'))!.dnsNames;
    expect(names('cpc-1')).toEqual(['cpc-1.event-bus.example.com', 'nats-mtls', 'nats-mtls.edge', 'nats-mtls.edge.svc', 'nats-mtls.edge.svc.cluster.local']);
    expect(names('csc')).toContain('nats-mtls.dsx.svc');
  });
});

describe('a root with its key in a fleet file, without intermediates', () => {
  test('is refused with the file\'s way to get intermediates, not the props\' (the construct knows no fleet file)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-root-key-'));
    try {
      const ca = await generateEvaluationCa('ecdsa-p256');
      fs.writeFileSync(path.join(dir, 'root.crt'), ca.certPem);
      fs.writeFileSync(path.join(dir, 'root.key'), ca.keyPem, { mode: 0o600 });
      const text = fs.readFileSync(EXAMPLE, 'utf8').replace('  ca: {}', '  ca: { certFile: root.crt, keyFile: root.key }').replace('directory: ../.demo-secrets', 'directory: secrets');
      fs.writeFileSync(path.join(dir, 'fleet.yaml'), text);
      const r = await cli('synth', '-c', path.join(dir, 'fleet.yaml'), '-o', path.join(dir, 'dist'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/fleet\.yaml: certificates\.ca: certificates\.ca is the fleet's self-signed root with its private key, and inline delivery would put that key into this cluster/);
      expect(r.stderr).toMatch(/Fix: use certificates\.ca: \{\} or ca: \{ directory \} \(synth issues one intermediate per cluster in <directory>\/clusters\/ and keeps the root's key there\)\.$/m);
      expect(r.stderr).toMatch(/Allowed: one name-constrained intermediate per cluster, signed by the root \(which synth issues for certificates\.ca: \{\} or ca: \{ directory \}\); the root keeps its key\./);
      expect(r.stderr).not.toMatch(/CertificateAuthority\.|intermediateCa/);
      expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

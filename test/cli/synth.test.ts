import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv from 'ajv';
import * as YAML from 'yaml';
import { DirectoryKeyStore, NKeyPublicKey, NKeySeed } from '../../src';
import { fleetSchema } from '../../src/cli/fleet-file';
import { main } from '../../src/cli/run';
import { fleetKeyFiles } from '../../src/keys/layout';
import { MINIMAL_FLEET } from '../util/fleet-yaml';
import { validateManifests } from '../util/schema';

const REPO = path.join(__dirname, '..', '..');
const EXAMPLE = path.join(REPO, 'examples', 'fleet.yaml');

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-synth-'));
}

function writeFleet(dir: string, text: string): string {
  const file = path.join(dir, 'fleet.yaml');
  fs.writeFileSync(file, text);
  return file;
}

const MINIMAL = MINIMAL_FLEET;

describe('dsx-event-bus synth', () => {
  test('synthesizes examples/fleet.yaml: one folder per cluster, inline values equal to the key store files', async () => {
    const dir = tmp();
    try {
      const secrets = path.join(dir, 'secrets');
      const out = path.join(dir, 'dist');
      const r = await cli('synth', '-c', EXAMPLE, '--secrets', secrets, '--generate-missing', '-o', out);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^csc +\d+ objects -> .*\/dist\/csc$/m);
      expect(r.stdout).toMatch(/Synthesized 3 clusters: \d+ objects/);
      expect(r.stdout).toMatch(/^fleet CA: wrote .*secrets\/ca \(ca\.crt, ca\.key/m);
      expect(fs.readdirSync(out).sort()).toEqual(['.dsx-event-bus-output.json', '.dsx-event-bus.lock', 'cpc-1', 'cpc-2', 'csc']);

      const objects: any[] = [];
      for (const cluster of ['csc', 'cpc-1', 'cpc-2']) {
        const values = YAML.parse(fs.readFileSync(path.join(out, cluster, 'values.event-bus.yaml'), 'utf8'));
        expect(values.global.eventBus.extraAccounts).toEqual({ LaunchLayer: { enabled: true } });
        expect(values.global.eventBus.mtls).toEqual({ enabled: true });
        if (cluster !== 'csc') {
          // Each CPC reaches the CSC through its TLS gateway, trusting the fleet CA's certificate.
          expect(values.global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/ca.crt' });
          expect(values.nats.tlsCA).toEqual({ enabled: true, configMapName: 'nats-csc-gateway-ca', dir: '/etc/nats-ca-cert', key: 'ca.crt' });
          const trust = YAML.parse(fs.readFileSync(path.join(out, cluster, 'manifests', 'ConfigMap.dsx.nats-csc-gateway-ca.k8s.yaml'), 'utf8'));
          expect(trust.data['ca.crt']).toBe(fs.readFileSync(path.join(secrets, 'ca', 'ca.crt'), 'utf8'));
        }
        for (const f of fs.readdirSync(path.join(out, cluster, 'manifests'))) {
          const obj = YAML.parse(fs.readFileSync(path.join(out, cluster, 'manifests', f), 'utf8'));
          objects.push(obj);
          if (obj.kind !== 'Secret') continue;
          if (obj.metadata.name === 'event-bus-certificate-issuer-ca') {
            // Behind every cluster's CA issuer: its own intermediate, kept beside the fleet root in the key store
            // folder (certificate, then key), and the root's certificate; never the root's key.
            const own = fs.readFileSync(path.join(secrets, 'ca', 'clusters', `${cluster}.pem`), 'utf8');
            expect(own).toBe(Buffer.from(obj.data['tls.crt'], 'base64').toString() + Buffer.from(obj.data['tls.key'], 'base64').toString());
            expect(Buffer.from(obj.data['ca.crt'], 'base64').equals(fs.readFileSync(path.join(secrets, 'ca', 'ca.crt')))).toBe(true);
            expect(Buffer.from(obj.data['tls.key'], 'base64').equals(fs.readFileSync(path.join(secrets, 'ca', 'ca.key')))).toBe(false);
            continue;
          }
          // Every inline value is byte-for-byte the file the key store holds.
          for (const [key, b64] of Object.entries<string>(obj.data)) {
            expect(Buffer.from(b64, 'base64').equals(fs.readFileSync(path.join(secrets, cluster, 'nkeys', obj.metadata.name, key)))).toBe(true);
          }
        }
      }
      validateManifests(objects);
      // The whole fleet is in the store, and the leaf pairs agree.
      for (const f of fleetKeyFiles(['1', '2'], ['launchlayer'])) {
        expect(fs.existsSync(path.join(secrets, f.cluster, 'nkeys', f.secretName, f.key))).toBe(true);
      }
      const seed = NKeySeed.parse(fs.readFileSync(path.join(secrets, 'cpc-2', 'nkeys', 'nats-leaf-launchlayer-csc', 'seed'), 'utf8'));
      expect(seed.publicKey.value).toBe(NKeyPublicKey.parse(fs.readFileSync(path.join(secrets, 'csc', 'nkeys', 'nats-leaf-launchlayer-cpc-2', 'pubkey'), 'utf8')).value);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('renders only what changed: the record keeps each cluster\'s inputs; a rerun writes nothing; a new CPC changes the CSC and its own folder', async () => {
    const dir = tmp();
    try {
      const out = path.join(dir, 'dist');
      const file = writeFleet(dir, `keys: { directory: secrets, generateMissing: true }\n${MINIMAL}`);
      expect((await cli('synth', '-c', file, '-o', out)).code).toBe(0);
      const record = () => JSON.parse(fs.readFileSync(path.join(out, '.dsx-event-bus-output.json'), 'utf8'));
      expect(Object.keys(record().inputs)).toEqual(['cpc-1', 'csc']);
      const mtimes = () => Object.fromEntries(['csc', 'cpc-1'].map((c) => [c, fs.statSync(path.join(out, c, 'values.event-bus.yaml')).mtimeMs]));
      const before = mtimes();
      const again = await cli('synth', '-c', file, '-o', out);
      expect(again.stdout).toMatch(/\(unchanged: nothing written\)/);
      fs.appendFileSync(file, '  - type: cpc\n    id: "2"\n    gateway: { hostnames: [cpc-2.example.com] }\n');
      expect((await cli('synth', '-c', file, '-o', out)).code).toBe(0);
      expect(Object.keys(record().inputs)).toEqual(['cpc-1', 'cpc-2', 'csc']);
      const after = mtimes();
      expect(after['cpc-1']).toBe(before['cpc-1']);
      expect(after.csc).not.toBe(before.csc);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fails when the fleet in the file is wrong: --generate-missing creates no key (generation comes after the fleet is built)', async () => {
    const dir = tmp();
    try {
      const file = writeFleet(dir, `keys: { directory: secrets }\n${MINIMAL}  - type: cpc\n    id: "1"\n    gateway: { hostnames: [cpc-1b.example.com] }\n`);
      const r = await cli('synth', '-c', file, '--generate-missing', '-o', path.join(dir, 'dist'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/fleet\.yaml: clusters: CPC id "1" is listed twice/);
      expect(fs.existsSync(path.join(dir, 'secrets'))).toBe(false);
      expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fails when the key store lacks keys and generation was not asked for, naming the command; writes nothing', async () => {
    const dir = tmp();
    try {
      const file = writeFleet(dir, MINIMAL + 'keys: { directory: ./secrets }\n');
      const r = await cli('synth', '-c', file, '-o', path.join(dir, 'dist'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^ERROR: /);
      expect(r.stderr).toMatch(/dsx-event-bus nkeys -o .*secrets.* 1/);
      expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
      // The same store works once the keys exist.
      DirectoryKeyStore.open(path.join(dir, 'secrets')).generateMissing({ cpcIds: ['1'] });
      expect((await cli('synth', '-c', file, '-o', path.join(dir, 'dist'))).code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['an unknown field', MINIMAL.replace('certificates:', 'certificate:'), /fleet\.yaml:2:1: \(top level\): unknown field "certificate"/],
    ['a wrong cluster type', MINIMAL.replace('type: cpc', 'type: dc'), /fleet\.yaml:7:11: \/clusters\/1\/type: must be one of "csc", "cpc"/],
    ['a wrong delivery', MINIMAL.replace('type: existing', 'type: vault'), /fleet\.yaml:1:19: \/delivery\/type: must be one of "inline", "externalSecrets", "vaultStaticSecrets", "sealedSecrets", "existing"/],
    ['externalSecrets without a store', MINIMAL.replace('type: existing', 'type: externalSecrets'), /\/delivery: missing required field "storeName"/],
    ['a bad duration', MINIMAL.replace('selfSigned: true', 'selfSigned: true, duration: 90 days'), /\/certificates\/duration: does not match/],
    ['invalid YAML', MINIMAL.replace('clusters:', 'clusters: ['), /not valid YAML\/JSON/],
    ['two CSCs', MINIMAL + '  - type: csc\n', /clusters: there are 2 clusters of type csc\. Allowed: exactly one csc/],
    ['no CSC', MINIMAL.replace('type: csc', 'type: cpc\n    id: "9"'), /there is no cluster of type csc/],
    ['a CPC without id', MINIMAL.replace('    id: "1"\n', ''), /clusters\[1\]: a cpc entry has no id/],
    ['a bad CPC id', MINIMAL.replace('id: "1"', 'id: CPC-1'), /fleet\.yaml: clusters\[1\]\.id: CPC id "CPC-1" is invalid/],
    ['a reserved extra account', MINIMAL + 'extraAccounts: [AUTHX]\n', /extra account "AUTHX" conflicts with a built-in NATS account name/],
  ])('fails when the fleet file has %s', async (_name, text, message) => {
    const dir = tmp();
    try {
      const file = writeFleet(dir, text);
      const r = await cli('synth', '-c', file, '-o', path.join(dir, 'dist'));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^ERROR: /);
      expect(r.stderr).toMatch(message);
      expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fails with usage when -c is missing or the file does not exist', async () => {
    const r = await cli('synth');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ERROR: -c\/--config FILE is required/);
    expect(r.stderr).toMatch(/Usage: dsx-event-bus synth/);
    const r2 = await cli('synth', '-c', '/nonexistent/fleet.yaml');
    expect(r2.stderr).toMatch(/\/nonexistent\/fleet\.yaml: cannot read the file \(ENOENT\)/);
  });

  test('--help prints the usage', async () => {
    const r = await cli('synth', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: dsx-event-bus synth -c FILE/);
  });

  test('the published schema compiles and accepts every example fleet file', () => {
    const validate = new Ajv({ strict: true, strictRequired: false, allowUnionTypes: true }).compile(fleetSchema());
    expect(validate(YAML.parse(fs.readFileSync(EXAMPLE, 'utf8')))).toBe(true);
    expect(validate(YAML.parse(MINIMAL))).toBe(true);
  });
});

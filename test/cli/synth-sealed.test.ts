import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { main } from '../../src/cli/run';
import { controllerKeys, ControllerKey, unseal } from '../secrets/sealed-fixture';
import { clustersYaml } from '../util/fleet-yaml';
import { validateManifests } from '../util/schema';
import { describeSeeds, findSeeds } from '../util/seeds';

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

const fleetYaml = (delivery: string) => `namespace: dsx
keys: { directory: secrets, generateMissing: true }
delivery: ${delivery}
certificates: { ca: {} }
${clustersYaml()}`;

/** Every manifest of one cluster folder, by file name. */
function manifests(out: string, cluster: string): Map<string, any> {
  const dir = path.join(out, cluster, 'manifests');
  return new Map(fs.readdirSync(dir).map((f) => [f, YAML.parse(fs.readFileSync(path.join(dir, f), 'utf8'))]));
}

describe('dsx-event-bus synth with delivery.type sealedSecrets', () => {
  let dir: string;
  let keys: Record<string, ControllerKey>;
  beforeAll(() => {
    const [csc, cpc] = controllerKeys(2);
    keys = { 'csc': csc, 'cpc-1': cpc };
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-sealed-'));
    fs.mkdirSync(path.join(dir, 'certs'));
    for (const [cluster, k] of Object.entries(keys)) fs.writeFileSync(path.join(dir, 'certs', `${cluster}.pem`), k.certificate);
    fs.writeFileSync(path.join(dir, 'certs', 'README'), 'not a certificate: ignored');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writes SealedSecrets that unseal to exactly the inline Secrets; a rerun writes nothing', async () => {
    fs.writeFileSync(path.join(dir, 'inline.yaml'), fleetYaml('{ type: inline }'));
    fs.writeFileSync(path.join(dir, 'sealed.yaml'), fleetYaml('{ type: sealedSecrets, certificatesDirectory: certs }'));
    const inline = await cli('synth', '-c', path.join(dir, 'inline.yaml'), '-o', path.join(dir, 'inline'));
    expect(inline.stderr).toMatch(/^(fleet CA: .*\n)?$/);
    expect(inline.code).toBe(0);
    const sealedOut = path.join(dir, 'sealed');
    const sealed = await cli('synth', '-c', path.join(dir, 'sealed.yaml'), '-o', sealedOut);
    expect(sealed.stderr).toBe('');
    expect(sealed.code).toBe(0);
    for (const cluster of ['csc', 'cpc-1']) {
      const plain = manifests(path.join(dir, 'inline'), cluster);
      const objects = manifests(sealedOut, cluster);
      const secrets = [...plain.values()].filter((o) => o.kind === 'Secret');
      const sealedSecrets = [...objects.values()].filter((o) => o.kind === 'SealedSecret');
      expect([...objects.values()].filter((o) => o.kind === 'Secret')).toEqual([]);
      expect(sealedSecrets.map((s) => s.metadata.name).sort()).toEqual(secrets.map((s) => s.metadata.name).sort());
      // The CA Secret (with the fleet CA's key) is sealed too.
      expect(sealedSecrets.map((s) => s.metadata.name)).toContain('event-bus-certificate-issuer-ca');
      for (const s of sealedSecrets) {
        const expected = secrets.find((x) => x.metadata.name === s.metadata.name);
        const { ['cdk8s-dsx-event-bus/inline-key-material']: _m, ...annotations } = expected.metadata.annotations ?? {};
        expect(unseal(keys[cluster], s)).toEqual({ ...expected, metadata: { ...expected.metadata, annotations } });
      }
      validateManifests([...objects.values()]);
      const manifestDir = path.join(sealedOut, cluster, 'manifests');
      const text = fs.readdirSync(manifestDir).map((f) => fs.readFileSync(path.join(manifestDir, f), 'utf8')).join('\n');
      const seeds = findSeeds(text);
      expect(seeds.length === 0 ? 'no seeds' : describeSeeds(seeds)).toBe('no seeds');
      expect(text).not.toContain('PRIVATE KEY');
      // SealedSecrets hold no plaintext: their files are as public as the rest of the output.
      for (const f of fs.readdirSync(path.join(sealedOut, cluster, 'manifests')).filter((n) => n.startsWith('SealedSecret.'))) {
        expect((fs.statSync(path.join(sealedOut, cluster, 'manifests', f)).mode % 0o1000).toString(8)).toBe('644');
      }
      // The values file is the same: the chart reads the Secrets the controller makes.
      expect(fs.readFileSync(path.join(sealedOut, cluster, 'values.event-bus.yaml'), 'utf8'))
        .toBe(fs.readFileSync(path.join(dir, 'inline', cluster, 'values.event-bus.yaml'), 'utf8'));
    }
    const again = await cli('synth', '-c', path.join(dir, 'sealed.yaml'), '-o', sealedOut);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\(unchanged: nothing written\)/);
  });

  test('the fleet file of docs/secrets.md synthesizes as printed, sealing for each cluster', async () => {
    const page = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'secrets.md'), 'utf8');
    const example = /The same in a fleet file[\s\S]*?```yaml\n([\s\S]*?)```/.exec(page)![1];
    fs.renameSync(path.join(dir, 'certs'), path.join(dir, 'sealing-certs'));
    fs.writeFileSync(path.join(dir, 'fleet.yaml'), example);
    const r = await cli('synth', '-c', path.join(dir, 'fleet.yaml'), '--generate-missing', '-o', path.join(dir, 'out'));
    expect(r.code).toBe(0);
    for (const cluster of ['csc', 'cpc-1']) {
      const sealed = [...manifests(path.join(dir, 'out'), cluster).values()].filter((o) => o.kind === 'SealedSecret');
      expect(sealed.length).toBeGreaterThan(8);
      for (const s of sealed) expect(() => unseal(keys[cluster], s)).not.toThrow();
    }
  });

  test('fails when a cluster has no certificate in the folder, naming the file to add', async () => {
    fs.rmSync(path.join(dir, 'certs', 'cpc-1.pem'));
    fs.writeFileSync(path.join(dir, 'fleet.yaml'), fleetYaml('{ type: sealedSecrets, certificatesDirectory: certs }'));
    const r = await cli('synth', '-c', path.join(dir, 'fleet.yaml'), '-o', path.join(dir, 'out'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /fleet\.yaml: delivery: sealedSecrets delivery has no certificate for cpc-1 \(it has csc\)\. .*Fix: give the sealedSecrets delivery a certificate for cpc-1 \(the PEM that kubeseal --fetch-cert prints against that cluster\): cpc-1\.pem in delivery\.certificatesDirectory\.$/m,
    );
    expect(fs.existsSync(path.join(dir, 'out', 'csc'))).toBe(false);
  });

  test('fails when both or neither of certificates and certificatesDirectory are given, or the folder holds no certificate', async () => {
    const run = async (delivery: string) => {
      fs.writeFileSync(path.join(dir, 'fleet.yaml'), fleetYaml(delivery));
      return cli('synth', '-c', path.join(dir, 'fleet.yaml'), '-o', path.join(dir, 'out'));
    };
    expect((await run('{ type: sealedSecrets }')).stderr).toMatch(/delivery: sealedSecrets names no certificates\. Allowed: certificatesDirectory .* or certificates/);
    expect((await run('{ type: sealedSecrets, certificatesDirectory: certs, certificates: { csc: x } }')).stderr)
      .toMatch(/sets both certificates and certificatesDirectory/);
    fs.mkdirSync(path.join(dir, 'empty'));
    expect((await run('{ type: sealedSecrets, certificatesDirectory: empty }')).stderr).toMatch(/delivery\.certificatesDirectory: ".*empty" holds no <cluster>\.pem file/);
    expect((await run('{ type: sealedSecrets, certificatesDirectory: certs, scope: everywhere }')).stderr).toMatch(/scope/);
  });
});

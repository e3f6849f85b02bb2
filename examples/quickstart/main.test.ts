import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { buildFleet, keyStore } from './main';
import { DirectoryKeyStore } from '../../src';
import { validateManifests } from '../../test/util/schema';
import { findSeeds } from '../../test/util/seeds';

const HERE = __dirname;
const ROOT = path.join(HERE, '..', '..');

describe('examples/quickstart', () => {
  test('`npx cdk8s synth` writes csc, cpc-1 and cpc-2 with schema-valid manifests and no seed', () => {
    const out = path.join(HERE, 'dist');
    fs.rmSync(out, { recursive: true, force: true });
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade'], { cwd: HERE, stdio: 'pipe', env: { ...process.env, DSX_SECRETS_DIR: '' } });
    expect(fs.readdirSync(out).filter((f) => !f.startsWith('.')).sort()).toEqual(['cpc-1', 'cpc-2', 'csc']);
    const objects: any[] = [];
    let text = '';
    for (const cluster of fs.readdirSync(out).filter((f) => !f.startsWith('.'))) {
      const values = fs.readFileSync(path.join(out, cluster, 'values.event-bus.yaml'), 'utf8');
      expect(YAML.parse(values).global.eventBus.clusterType).toBe(cluster === 'csc' ? 'csc' : 'cpc');
      text += values;
      for (const f of fs.readdirSync(path.join(out, cluster, 'manifests'))) {
        const body = fs.readFileSync(path.join(out, cluster, 'manifests', f), 'utf8');
        text += body;
        objects.push(YAML.parse(body));
      }
    }
    expect(validateManifests(objects)).toBeGreaterThan(0);
    expect(findSeeds(text)).toEqual([]);
  });

  test('reads its key store from $DSX_SECRETS_DIR', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-quickstart-'));
    try {
      DirectoryKeyStore.open(dir).generateMissing({ cpcIds: ['1', '2'] });
      const store = keyStore({ DSX_SECRETS_DIR: dir });
      expect(store).toBeInstanceOf(DirectoryKeyStore);
      const fleet = buildFleet(Testing.app(), store);
      expect(fleet.csc.helmValues().global.eventBus.cpcIds).toEqual(['1', '2']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('one fleet CA from the deployer\'s Secret; each CPC trusts it from the deployer\'s ConfigMap', () => {
    const fleet = buildFleet(Testing.app(), keyStore({}));
    for (const chart of fleet.charts) {
      const objects = chart.toJson();
      expect(objects.filter((o: any) => o.kind === 'Issuer').map((o: any) => o.spec)).toEqual([{ ca: { secretName: 'event-bus-certificate-issuer-ca' } }]);
      // existing(): neither the CA Secret nor the trust ConfigMap is emitted.
      expect(objects.filter((o: any) => o.kind === 'Secret' || o.kind === 'ConfigMap')).toEqual([]);
    }
    for (const cpc of fleet.cpcs) {
      expect(cpc.helmValues().global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/ca.crt' });
      expect(cpc.helmValues().nats.tlsCA).toEqual({ enabled: true, configMapName: 'nats-csc-gateway-ca', dir: '/etc/nats-ca-cert', key: 'ca.crt' });
    }
  });

  test('snapshot', () => {
    const fleet = buildFleet(new App(), keyStore({}));
    expect(fleet.charts.map((c) => ({ cluster: c.cluster.directory, objects: c.toJson(), values: c.helmValues() }))).toMatchSnapshot();
  });
});

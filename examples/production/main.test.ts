import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { buildFleet, CPC_IDS } from './main';
import { DeterministicKeyStore } from '../../src/testing';
import { validateManifests } from '../../test/util/schema';
import { findSeeds } from '../../test/util/seeds';

const HERE = __dirname;
const ROOT = path.join(HERE, '..', '..');

describe('examples/production', () => {
  test('`npx cdk8s synth` writes every cluster: ExternalSecrets, Vault issuer, v1 routes, no seed', () => {
    const out = path.join(HERE, 'dist');
    fs.rmSync(out, { recursive: true, force: true });
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade'], { cwd: HERE, stdio: 'pipe', env: { ...process.env, DSX_SECRETS_DIR: '' } });
    expect(fs.readdirSync(out).filter((f) => !f.startsWith('.')).sort()).toEqual(['cpc-1', 'cpc-2', 'cpc-3', 'csc']);
    let text = '';
    const objects: any[] = [];
    for (const cluster of fs.readdirSync(out).filter((f) => !f.startsWith('.'))) {
      text += fs.readFileSync(path.join(out, cluster, 'values.event-bus.yaml'), 'utf8');
      for (const f of fs.readdirSync(path.join(out, cluster, 'manifests'))) {
        const body = fs.readFileSync(path.join(out, cluster, 'manifests', f), 'utf8');
        text += body;
        objects.push(YAML.parse(body));
      }
    }
    validateManifests(objects);
    expect(findSeeds(text)).toEqual([]);
    const kinds = new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`));
    expect([...kinds].sort()).toEqual([
      'cert-manager.io/v1 Certificate',
      'cert-manager.io/v1 Issuer',
      'external-secrets.io/v1 ExternalSecret',
      'gateway.envoyproxy.io/v1alpha1 EnvoyProxy',
      'gateway.networking.k8s.io/v1 Gateway',
      'gateway.networking.k8s.io/v1 TLSRoute',
    ]);
    expect(objects.filter((o) => o.kind === 'Issuer').every((o) => o.spec.vault?.path === 'pki_int/sign/event-bus')).toBe(true);
  });

  test('the chart creates no route: every route entry in the values is disabled', () => {
    const fleet = buildFleet(Testing.app(), new DeterministicKeyStore());
    for (const chart of fleet.charts) {
      const routes = chart.helmValues().global.eventBus.gateway.routes;
      expect(Object.values<any>(routes).map((r) => r.enabled)).toEqual([false, false, false, false]);
    }
    expect(fleet.cpcs.map((c) => c.cpcId)).toEqual(CPC_IDS);
  });

  test('each CPC reaches the CSC gateway with TLS first, trusting the Vault PKI CA from the deployer\'s ConfigMap', () => {
    const fleet = buildFleet(Testing.app(), new DeterministicKeyStore());
    for (const cpc of fleet.cpcs) {
      const values = cpc.helmValues();
      expect(values.global.eventBus.cscEndpoint).toBe('tls://csc.event-bus.example.com:7422');
      expect(values.global.eventBus.cpcLeafClientTLS).toEqual({ handshake_first: true, ca_file: '/etc/nats-ca-cert/ca.crt' });
      expect(values.nats.tlsCA).toEqual({ enabled: true, configMapName: 'vault-pki-ca', dir: '/etc/nats-ca-cert', key: 'ca.crt' });
      // The deployer supplies the ConfigMap: the library emits none.
      expect(cpc.toJson().filter((o: any) => o.kind === 'ConfigMap')).toEqual([]);
    }
  });

  test('snapshot of the CSC', () => {
    const fleet = buildFleet(Testing.app(), new DeterministicKeyStore());
    expect({ objects: fleet.csc.toJson(), values: fleet.csc.helmValues() }).toMatchSnapshot();
  });
});

import { Testing } from 'cdk8s';
import {
  CpcChart, CscChart, EventBusCluster, EventBusSecrets, SecretOverride, SecretsDelivery,
} from '../../src';
import { DeterministicKeyStore } from '../../src/testing';
import { helmTemplate, secretReferences } from '../util/helm-template';
import { chartMissing, helmMissing, toolTest } from '../util/tools';

// A renamed Secret must reach every place the chart names it: the
// nkeySecretRefOverrides env refs, and the nack and surveyor subcharts that
// mount their NKey by name. nats-mtls-server-tls is hard-coded in chart lists
// and cannot be renamed.
const keys = new DeterministicKeyStore();
const common = { keys, delivery: SecretsDelivery.existing(), extraAccounts: ['LaunchLayer'], gateway: { enabled: false } };

/** Every renamable Secret of the cluster renamed to `x-<name>`, and every key of the two subchart Secrets renamed too. */
function renameAll(secrets: EventBusSecrets): SecretOverride[] {
  const keyRenames: Record<string, Record<string, string>> = { 'nats-nack-user': { 'nack-user.nk': 'nack.nk' }, 'nats-surveyor': { seed: 'surveyor.nk' } };
  return secrets.listSecrets().filter((s) => s.defaultName !== 'nats-mtls-server-tls').map((s) => ({
    secret: s.defaultName,
    name: `x-${s.defaultName}`,
    keys: keyRenames[s.defaultName],
  }));
}

function charts(mtls: boolean) {
  // First pass learns the Secret names of each cluster, second renames them all.
  const probeApp = Testing.app();
  const probeCsc = new CscChart(probeApp, 'csc', { ...common, mtls, cluster: EventBusCluster.csc({ cpcIds: ['1'] }), createLeafConnections: true });
  const probeCpc = new CpcChart(probeApp, 'cpc', { ...common, mtls, cluster: EventBusCluster.cpc('1'), cscEndpoint: 'tls://csc.example.com:7422', createLeafConnections: true });
  const app = Testing.app();
  const csc = new CscChart(app, 'csc', { ...common, mtls, cluster: EventBusCluster.csc({ cpcIds: ['1'] }), createLeafConnections: true, secretOverrides: renameAll(probeCsc.secrets) });
  const cpc = new CpcChart(app, 'cpc', { ...common, mtls, cluster: EventBusCluster.cpc('1'), cscEndpoint: 'tls://csc.example.com:7422', createLeafConnections: true, secretOverrides: renameAll(probeCpc.secrets) });
  return { csc, cpc };
}

describe('renamed Secrets reach the subcharts', () => {
  test('nack and surveyor values name the renamed Secret and key; nothing is emitted without a rename', () => {
    const { csc } = charts(true);
    const values = csc.helmValues();
    expect(values.nack).toEqual({ jetstream: { nats: { nkey: { secret: { name: 'x-nats-nack-user', key: 'nack.nk' } } } } });
    expect(values.surveyor).toEqual({ config: { nkey: { secret: { name: 'x-nats-surveyor', key: 'surveyor.nk' } } } });

    const plain = new CscChart(Testing.app(), 'csc', { ...common, cluster: EventBusCluster.csc({ cpcIds: ['1'] }), createLeafConnections: true });
    expect(plain.helmValues().nack).toBeUndefined();
    expect(plain.helmValues().surveyor).toBeUndefined();
  });

  test('a key rename alone (same Secret name) still reaches the subchart', () => {
    const chart = new CscChart(Testing.app(), 'csc', { ...common, cluster: EventBusCluster.csc({ cpcIds: [] }), secretOverrides: [{ secret: 'nats-surveyor', keys: { seed: 'nkey' } }] });
    expect(chart.helmValues().surveyor).toEqual({ config: { nkey: { secret: { name: 'nats-surveyor', key: 'nkey' } } } });
    expect(chart.helmValues().nack).toBeUndefined();
  });

  test('fails when nats-mtls-server-tls is renamed, naming the chart lists and the fix', () => {
    expect(() => new EventBusSecrets(Testing.chart(), 'S', {
      cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), secretOverrides: [{ secret: 'nats-mtls-server-tls', name: 'event-bus-mtls' }],
    })).toThrow(/S: secretOverrides: nats-mtls-server-tls cannot be renamed \(to "event-bus-mtls"\): the chart writes that name into the lists nats-mtls\.podTemplate\.patch and auth-callout\.extraVolumeTemplates.*Allowed: the name nats-mtls-server-tls\. Fix: remove this override .* or set mtls: false/);
    // Naming it by its own name is no rename.
    expect(() => new EventBusSecrets(Testing.chart(), 'S', {
      cluster: EventBusCluster.cpc('1'), delivery: SecretsDelivery.existing(), secretOverrides: [{ secret: 'nats-mtls-server-tls', name: 'nats-mtls-server-tls' }],
    })).not.toThrow();
  });

  for (const mtls of [true, false]) {
    toolTest(`helm template (mTLS ${mtls ? 'on' : 'off'}): after renaming every renamable Secret, no rendered object references an old name or key`, [helmMissing(), chartMissing()], async () => {
      const { csc, cpc } = charts(mtls);
      for (const chart of [csc, cpc]) {
        const objects = helmTemplate([chart.valuesYaml()]);
        const refs = secretReferences(objects);
        const produced = new Map(chart.secrets.listSecrets().map((s) => [s.name, new Set(s.keys.map((k) => k.key))]));
        const renamed = chart.secrets.listSecrets().filter((s) => s.name !== s.defaultName).map((s) => s.defaultName);
        expect(renamed.length).toBeGreaterThanOrEqual(mtls ? 11 : 8);
        // Every reference names a Secret (and key) the library describes for this cluster, after the rename.
        const stale = refs.filter((r) => renamed.includes(r.name));
        expect(stale).toEqual([]);
        const unknown = refs.filter((r) => !produced.has(r.name) || (r.key !== undefined && !produced.get(r.name)!.has(r.key)));
        expect(unknown).toEqual([]);
        // Each renamed Secret is referenced (none silently dropped).
        for (const s of chart.secrets.listSecrets().filter((d) => d.name !== d.defaultName)) {
          expect(refs.map((r) => r.name)).toContain(s.name);
        }
        // The mounted NKey files are read under the renamed keys.
        const text = JSON.stringify(objects);
        expect(text).toContain('--nkey=/etc/jsc-nkey/nack.nk');
        expect(text).toContain('--nkey=/nkey/surveyor.nk');
        expect(text).not.toMatch(/nack-user\.nk|\/nkey\/seed"/);
      }
    });
  }
});

/**
 * Synthesis and export of a fleet's Secrets: 1 CSC + 10 CPCs, one extra
 * account, mTLS on (keys from the DeterministicKeyStore, so no disk I/O in the
 * synthesis figures). Median of 7 runs after one warm-up.
 */
import { App, Chart } from 'cdk8s';
import { EventBusCluster, LeafConnection, EventBusSecrets, MtlsServerTls, SecretsDelivery } from '../src';
import type { BenchRow } from './run';
import { renderExport } from '../src/cli/export';
import { exportFleet } from '../src/secrets/inventory';
import { DeterministicKeyStore } from '../src/testing';

const IDS = Array.from({ length: 10 }, (_, i) => String(i + 1));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => unknown, runs = 7): number {
  fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(samples);
}

function synthFleet(delivery: () => SecretsDelivery): number {
  const keys = new DeterministicKeyStore();
  const app = new App({ outdir: '/tmp/unused' });
  const tls = () => MtlsServerTls.fromTlsSecretSource({ tlsSecretName: 'nats-mtls-server-tls' });
  const common = { keys, extraAccounts: ['LaunchLayer'], mtlsServerTls: tls() };
  const csc = new EventBusSecrets(new Chart(app, 'csc'), 'Secrets', { cluster: EventBusCluster.csc({ cpcIds: IDS }), delivery: delivery(), ...common });
  for (const id of IDS) {
    const cpc = new EventBusSecrets(new Chart(app, `cpc-${id}`), 'Secrets', { cluster: EventBusCluster.cpc(id), delivery: delivery(), ...common, mtlsServerTls: tls() });
    new LeafConnection(app, `Leaf-${id}`, { csc, cpc });
  }
  return app.synthYaml().length;
}

export async function run(): Promise<BenchRow[]> {
  const keys = new DeterministicKeyStore();
  return [
    { name: 'synth 1 CSC + 10 CPCs, inline', value: `${time(() => synthFleet(() => SecretsDelivery.inline({ allowTestKeys: true }))).toFixed(0)} ms` },
    { name: 'synth 1 CSC + 10 CPCs, externalSecrets', value: `${time(() => synthFleet(() => SecretsDelivery.externalSecrets({ storeName: 'v' }))).toFixed(0)} ms` },
    { name: 'synth 1 CSC + 10 CPCs, vaultStaticSecrets', value: `${time(() => synthFleet(() => SecretsDelivery.vaultStaticSecrets())).toFixed(0)} ms` },
    {
      name: 'export 1 CSC + 10 CPCs (read + render, json)',
      value: `${time(() => renderExport(exportFleet(keys, { prefix: 'p', cpcIds: IDS, accountTokens: ['launchlayer'], mtls: true }), 'json')).toFixed(1)} ms`,
    },
  ];
}

import { App, Chart, Testing } from 'cdk8s';
import {
  EventBusCluster, EventBusSecrets, EventBusSecretsProps, IKeyStore, LeafConnection, MtlsServerTls, SecretsDelivery,
} from '../../src';
import type { Manifest } from '../util/schema';

/** Options of a test fleet: 1 CSC + CPCs, one chart each, joined by LeafConnections. */
export interface FleetOptions {
  readonly keys?: IKeyStore;
  readonly cpcIds?: string[];
  readonly delivery: () => SecretsDelivery;
  readonly extraAccounts?: string[];
  readonly mtls?: boolean;
  readonly mtlsServerTls?: () => MtlsServerTls | undefined;
  readonly extra?: Partial<EventBusSecretsProps>;
}

export interface Fleet {
  readonly app: App;
  readonly csc: EventBusSecrets;
  readonly cpcs: EventBusSecrets[];
  readonly connections: LeafConnection[];
  readonly cscChart: Chart;
  readonly cpcCharts: Chart[];
}

export function fleet(o: FleetOptions): Fleet {
  const app = Testing.app();
  const ids = o.cpcIds ?? ['1', '2'];
  const common = (): Omit<EventBusSecretsProps, 'cluster'> => ({
    delivery: o.delivery(),
    keys: o.keys,
    extraAccounts: o.extraAccounts,
    mtls: o.mtls,
    mtlsServerTls: o.mtlsServerTls?.(),
    ...o.extra,
  });
  const cscChart = new Chart(app, 'csc');
  const csc = new EventBusSecrets(cscChart, 'Secrets', { cluster: EventBusCluster.csc({ cpcIds: ids }), ...common() });
  const cpcCharts = ids.map((id) => new Chart(app, `cpc-${id}`));
  const cpcs = ids.map((id, i) => new EventBusSecrets(cpcCharts[i], 'Secrets', { cluster: EventBusCluster.cpc(id), ...common() }));
  const connections = cpcs.map((cpc, i) => new LeafConnection(app, `Leaf-${ids[i]}`, { csc, cpc, cscEndpoint: 'tls://csc.example.com:7422' }));
  return { app, csc, cpcs, connections, cscChart, cpcCharts };
}

/** Synthesizes one chart (after validating the whole app). */
export function synth(chart: Chart): Manifest[] {
  App.of(chart).synthYaml(); // runs the app's validations
  return Testing.synth(chart);
}

/** `{ secretName: sorted keys }` of the inline Secrets of a chart. */
export function inlineTable(objects: Manifest[]): Record<string, string[]> {
  return Object.fromEntries(objects.filter((m) => m.kind === 'Secret').map((m) => [m.metadata!.name!, Object.keys((m as any).data).sort()]));
}

/** Decoded data of an inline Secret. */
export function decoded(m: Manifest): Record<string, Buffer> {
  return Object.fromEntries(Object.entries((m as any).data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

const sorted = (xs: string[]) => [...xs].sort();

/** Upstream's Required Secrets (https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md#required-secrets), written out: the per-cluster Secrets and their keys. */
export function expectedTable(role: 'csc' | 'cpc', o: { cpcIds?: string[]; cpcId?: string; mtls: boolean; accounts: string[] }): Record<string, string[]> {
  const t: Record<string, string[]> = {
    'nats-auth-signing': ['pubkey'],
    'nats-xkey': ['pubkey'],
    'nats-authx-user': ['pubkey'],
    'auth-callout-keys': sorted(['nkey-seed', 'issuer-seed', 'xkey-seed']),
    'nats-nack-user': sorted(['nack-user.nk', 'pubkey']),
    'nats-surveyor': sorted(['seed', 'pubkey']),
  };
  if (o.mtls) {
    t['nats-mtls-leaf'] = sorted(['seed', 'pubkey']);
    t['nats-mtls-authx-leaf'] = sorted(['seed', 'pubkey']);
    t['nats-mtls-sys-leaf'] = sorted(['seed', 'pubkey']);
    t['nats-mtls-server-tls'] = ['ca.crt', 'tls.crt', 'tls.key'];
  }
  if (role === 'csc') {
    for (const id of o.cpcIds ?? []) {
      t[`nats-leaf-cpc-${id}`] = ['pubkey'];
      for (const a of o.accounts) t[`nats-leaf-${a}-cpc-${id}`] = ['pubkey'];
    }
  } else {
    t['nats-leaf-csc'] = ['seed'];
    for (const a of o.accounts) t[`nats-leaf-${a}-csc`] = ['seed'];
  }
  return t;
}

/** Every cluster shape the Secrets table depends on: mTLS on and off, with and without an extra account. */
export const SHAPES = [
  { mtls: true, accounts: [] as string[] },
  { mtls: false, accounts: [] as string[] },
  { mtls: true, accounts: ['LaunchLayer'] },
  { mtls: false, accounts: ['LaunchLayer'] },
];

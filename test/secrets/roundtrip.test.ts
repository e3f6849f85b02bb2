/**
 * The loop closes: the export writes exactly what the ExternalSecret and
 * VaultStaticSecret objects reference, and resolving those references
 * against the export yields byte-for-byte the Secrets the inline strategy
 * emits (same names, same keys, same bytes, nothing more).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fleet, synth } from './helpers';
import { resolveAll } from './remote-resolver';
import { MtlsServerTls, SecretOverride, SecretsDelivery } from '../../src';
import { renderExport, writeExport } from '../../src/cli/export';
import { accountSecretToken } from '../../src/keys/layout';
import { exportFleet } from '../../src/secrets/inventory';
import { DeterministicKeyStore } from '../../src/testing';

const keys = new DeterministicKeyStore();
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-bus-export-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const overrides: SecretOverride[] = [
  { secret: 'nats-nack-user', name: 'nack', keys: { 'nack-user.nk': 'nkey' } },
  { secret: 'auth-callout-keys', keys: { 'nkey-seed': 'user.nk', 'issuer-seed': 'issuer.nk', 'xkey-seed': 'xkey.nk' } },
];

describe.each([
  { mtls: true, accounts: ['LaunchLayer'], overrides: [] as SecretOverride[], prefix: 'dsx-event-bus' },
  { mtls: false, accounts: [] as string[], overrides: [] as SecretOverride[], prefix: 'prod/eu-1' },
  { mtls: true, accounts: ['LaunchLayer', 'Ops'], overrides, prefix: 'dsx-event-bus' },
])('export round trip (mTLS $mtls, accounts $accounts, $overrides.length overrides, prefix $prefix)', ({ mtls, accounts, overrides: o, prefix }) => {
  const build = (delivery: () => SecretsDelivery) => fleet({
    keys,
    delivery,
    mtls,
    extraAccounts: accounts,
    extra: { secretOverrides: o },
    // The server certificate is not NKey material and not exported: cert-manager makes it.
    mtlsServerTls: () => (mtls ? MtlsServerTls.fromTlsSecretSource({ tlsSecretName: 'nats-mtls-server-tls' }) : undefined),
  });
  const exportTo = () => {
    const secrets = exportFleet(keys, { prefix, cpcIds: ['1', '2'], accountTokens: accounts.map(accountSecretToken), mtls });
    writeExport(renderExport(secrets, 'vault-kv-json'), dir, 'vault-kv-json', prefix);
    return secrets;
  };

  test.each([
    ['externalSecrets', () => SecretsDelivery.externalSecrets({ storeName: 'vault', prefix })],
    ['vaultStaticSecrets', () => SecretsDelivery.vaultStaticSecrets({ prefix })],
  ])('%s resolves to exactly the inline Secrets', (_name, delivery) => {
    const exported = exportTo();
    const inline = build(() => SecretsDelivery.inline({ allowTestKeys: true }));
    const remote = build(delivery);
    let secrets = 0;
    for (const [i, chart] of [remote.cscChart, ...remote.cpcCharts].entries()) {
      const expected = resolveAll(synth([inline.cscChart, ...inline.cpcCharts][i]), dir);
      const actual = resolveAll(synth(chart), dir);
      expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
      for (const [name, data] of Object.entries(expected)) {
        expect(Object.keys(actual[name]).sort()).toEqual(Object.keys(data).sort());
        for (const [key, bytes] of Object.entries(data)) expect(actual[name][key].equals(bytes)).toBe(true);
        secrets++;
      }
    }
    // Every exported path is referenced by exactly one object, and vice versa.
    expect(secrets).toBe(exported.length);
  });

  test('every object references a path the export wrote, and no path is left unreferenced', () => {
    const exported = new Set(exportTo().map((s) => s.path));
    const f = build(() => SecretsDelivery.externalSecrets({ storeName: 'vault', prefix }));
    const referenced = new Set([f.cscChart, ...f.cpcCharts].flatMap(synth).flatMap((es: any) => es.spec.data.map((d: any) => d.remoteRef.key)));
    expect([...referenced].sort()).toEqual([...exported].sort());
  });
});

test('a remote secret holding more than the chart reads still yields only the listed keys (VaultStaticSecret includes)', () => {
  const prefix = 'dsx-event-bus';
  const secrets = exportFleet(keys, { prefix, cpcIds: ['1'], accountTokens: [], mtls: false });
  writeExport(renderExport(secrets, 'vault-kv-json'), dir, 'vault-kv-json', prefix);
  // Someone stored the signing seed beside the pubkey (as the upstream local kustomizations do).
  const file = path.join(dir, prefix, 'csc', 'nats-auth-signing.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), seed: keys.readSeed('csc', 'nats-auth-signing').reveal() }));
  const f = fleet({ keys, cpcIds: ['1'], delivery: () => SecretsDelivery.vaultStaticSecrets(), mtls: false });
  const resolved = resolveAll(synth(f.cscChart), dir);
  expect(Object.keys(resolved['nats-auth-signing'])).toEqual(['pubkey']);
});

/**
 * Shared by the proof suites: the scenario matrix (every combination a user
 * can pick from the fleet options that shape the output), synthesis through
 * the public `EventBusFleet.synth(outdir)`, reading what it wrote back from
 * disk, and the `test-reports/proof-*.json` reports that `.ci/summary.js`
 * prints.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdk8s';
import * as YAML from 'yaml';
import {
  CertificateIssuer, ClusterCertificates, EventBusFleet, EventBusFleetProps, GatewayTransport, IKeyStore, LeafTrust, RouteApiVersion, RouteRendering,
  SecretsDelivery, SecretStoreKind, VaultAuth,
} from '../../src';
import { VALUES_FILE } from '../../src/charts/fleet';
import { controllerKeys } from '../secrets/sealed-fixture';
import type { Manifest } from '../util/schema';

export const REPO = path.join(__dirname, '..', '..');

/** Writes `test-reports/proof-<name>.json` (read by .ci/summary.js). */
export function writeProofReport(name: string, data: Record<string, unknown>): void {
  const dir = path.join(REPO, 'test-reports');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `proof-${name}.json`), JSON.stringify(data, null, 2) + '\n');
}

/**
 * Temp directories on a RAM disk when there is one: the suites write
 * thousands of small files, which a shared disk makes slow.
 */
const TEMP_ROOT = (() => {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return fs.statSync('/dev/shm').isDirectory() ? '/dev/shm' : os.tmpdir();
  } catch {
    return os.tmpdir();
  }
})();

/** A fresh private temp directory; the caller removes it. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(TEMP_ROOT, prefix));
}

/** One file written by a synthesis. */
export interface SynthFile {
  /** Relative to the output directory, e.g. `csc/manifests/Secret.dsx.nats-xkey.k8s.yaml`. */
  readonly relativePath: string;
  readonly text: string;
  /** The object of a manifest file (undefined for the values file). */
  readonly object?: Manifest;
}

/** What a synthesis wrote, read back from disk. */
export interface SynthOutput {
  readonly files: SynthFile[];
  /** Every manifest, parsed (one object per file). */
  readonly objects: Manifest[];
  /** Parsed values file per cluster directory (`csc`, `cpc-1`, …). */
  readonly values: Record<string, any>;
}

/** Every file below `outdir` (sorted), with manifests and values parsed. */
export function readSynthOutput(outdir: string): SynthOutput {
  const files: SynthFile[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(outdir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else files.push({ relativePath: r, text: fs.readFileSync(path.join(outdir, r), 'utf8') });
    }
  };
  walk('');
  const objects: Manifest[] = [];
  const values: Record<string, any> = {};
  files.forEach((f, i) => {
    if (f.relativePath.endsWith('.k8s.yaml')) {
      const docs = YAML.parseAllDocuments(f.text);
      if (docs.length !== 1 || docs[0].errors.length) throw new Error(`${f.relativePath}: not exactly one valid YAML document`);
      const object = docs[0].toJS() as Manifest;
      objects.push(object);
      files[i] = { ...f, object };
    } else if (path.basename(f.relativePath) === VALUES_FILE) {
      values[path.dirname(f.relativePath)] = YAML.parse(f.text);
    }
  });
  return { files, objects, values };
}

/** Synthesizes a fleet into a fresh temp directory and reads it back; the directory is removed. */
export function synthFleet(build: (app: App) => EventBusFleet): SynthOutput {
  const outdir = tempDir('dsx-proof-synth-');
  try {
    const fleet = build(new App({ outdir }));
    fleet.synth(outdir);
    return readSynthOutput(outdir);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** How the Secrets are delivered in a scenario. */
export type DeliveryName = 'inline' | 'externalSecrets' | 'vaultStaticSecrets' | 'sealedSecrets' | 'existing';
export const DELIVERIES: DeliveryName[] = ['inline', 'externalSecrets', 'vaultStaticSecrets', 'sealedSecrets', 'existing'];

let sealingCertificates: Record<string, string> | undefined;
/** One sealed-secrets controller certificate per cluster of the scenario fleet, made at test time (openssl), once per test file. */
function scenarioSealingCertificates(): Record<string, string> {
  sealingCertificates ??= Object.fromEntries(controllerKeys(3).map((k, i) => [['csc', 'cpc-1', 'cpc-2'][i], k.certificate]));
  return sealingCertificates;
}

export function deliveryOf(name: DeliveryName): SecretsDelivery {
  switch (name) {
    case 'inline': return SecretsDelivery.inline({ allowTestKeys: true }); // scenarios run on test and directory stores alike
    case 'externalSecrets': return SecretsDelivery.externalSecrets({ storeName: 'vault-backend', storeKind: SecretStoreKind.CLUSTER_SECRET_STORE });
    case 'vaultStaticSecrets': return SecretsDelivery.vaultStaticSecrets({ mount: 'kv', vaultAuthRef: 'dsx/event-bus' });
    case 'sealedSecrets': return SecretsDelivery.sealedSecrets({ certificates: scenarioSealingCertificates(), allowTestKeys: true });
    case 'existing': return SecretsDelivery.existing();
  }
}

/** One combination of the options that shape the output. */
export interface Scenario {
  readonly name: string;
  readonly delivery: DeliveryName;
  readonly mtls: boolean;
  readonly transport: GatewayTransport;
  readonly routeApiVersion: RouteApiVersion;
  readonly routeRendering: RouteRendering;
  readonly extraAccount: boolean;
  /** Whether the library accepts the combination (v1 routes need manifest rendering). */
  readonly legal: boolean;
  readonly props: (keys: IKeyStore) => EventBusFleetProps;
}

const ISSUERS = ['selfSigned', 'vault', 'issuer', 'clusterIssuer'] as const;

/**
 * delivery × mTLS × TLS/TCP gateway × route API × route rendering × extra
 * account: 5 × 2 × 2 × 2 × 2 × 2 = 160 combinations, of which the 40 with v1
 * routes rendered by the chart are illegal (the chart only renders v1alpha2).
 * The certificate issuer rotates through self-signed, Vault, Issuer and
 * ClusterIssuer so every issuer shape is validated too.
 */
export function scenarioMatrix(): Scenario[] {
  const out: Scenario[] = [];
  let n = 0;
  for (const delivery of DELIVERIES) {
    for (const mtls of [true, false]) {
      for (const transport of [GatewayTransport.TLS, GatewayTransport.TCP]) {
        for (const routeApiVersion of [RouteApiVersion.V1ALPHA2, RouteApiVersion.V1]) {
          for (const routeRendering of [RouteRendering.HELM_VALUES, RouteRendering.MANIFESTS]) {
            for (const extraAccount of [false, true]) {
              // Shifted per block of 8, so every route setting meets every issuer.
              const issuer = ISSUERS[(n + Math.floor(n / 8)) % ISSUERS.length];
              n++;
              const name = [delivery, mtls ? 'mtls' : 'no-mtls', transport, routeApiVersion, routeRendering, extraAccount ? 'account' : 'no-account', issuer].join('/');
              out.push({
                name,
                delivery,
                mtls,
                transport,
                routeApiVersion,
                routeRendering,
                extraAccount,
                legal: !(routeApiVersion === RouteApiVersion.V1 && routeRendering === RouteRendering.HELM_VALUES),
                props: (keys) => scenarioProps({ delivery, mtls, transport, routeApiVersion, routeRendering, extraAccount, issuer }, keys),
              });
            }
          }
        }
      }
    }
  }
  return out;
}

interface ScenarioChoice {
  delivery: DeliveryName;
  mtls: boolean;
  transport: GatewayTransport;
  routeApiVersion: RouteApiVersion;
  routeRendering: RouteRendering;
  extraAccount: boolean;
  issuer: typeof ISSUERS[number];
}

function scenarioProps(c: ScenarioChoice, keys: IKeyStore): EventBusFleetProps {
  const certificates = c.issuer === 'selfSigned' ? ClusterCertificates.selfSigned()
    : c.issuer === 'vault' ? ClusterCertificates.vault({
      metadata: { name: 'event-bus-vault-issuer' },
      server: 'https://vault.example.com:8200',
      path: 'pki_int/sign/event-bus',
      auth: VaultAuth.kubernetes({ role: 'cert-manager', serviceAccountName: 'cert-manager-vault' }),
    })
      : c.issuer === 'issuer' ? ClusterCertificates.issuer(CertificateIssuer.fromIssuerName('event-bus-certificate-issuer'))
        : ClusterCertificates.issuer(CertificateIssuer.fromClusterIssuerName('event-bus-ca'));
  const tls = c.transport === GatewayTransport.TLS;
  return {
    keys,
    // A CA made inside each cluster: the CPCs trust the one the deployer copies from the CSC. The other issuers
    // are not the library's, so their trust is stated too (the public roots, as before it was required).
    cscTrust: !tls ? undefined : c.issuer === 'selfSigned' ? LeafTrust.fromExistingConfigMap('csc-gateway-ca') : LeafTrust.publicRoots(),
    delivery: deliveryOf(c.delivery),
    mtls: c.mtls,
    extraAccounts: c.extraAccount ? ['LaunchLayer'] : undefined,
    certificates,
    metadata: { labels: { 'app.kubernetes.io/instance': 'proof' } },
    gateway: { transport: c.transport, routeApiVersion: c.routeApiVersion, routeRendering: c.routeRendering },
    csc: {
      gateway: {
        hostnames: ['csc.event-bus.example.com'],
        mtlsClientUrls: c.mtls ? ['mqtts://csc.event-bus.example.com:8883'] : undefined,
      },
    },
    cpcs: [
      { id: '1', gateway: { hostnames: ['cpc-1.event-bus.example.com'] } },
      // An IP SAN next to the DNS name, and a leafnode endpoint outside the gateway.
      { id: '2', gateway: { hostnames: ['cpc-2.event-bus.example.com'], ipAddresses: ['172.18.201.1'] }, cscEndpoint: `${tls ? 'tls' : 'nats'}://leaf.csc.example.net:7422` },
    ],
  };
}

/**
 * `dsx-event-bus certs`: evaluation certificates without cfssl. One CA for
 * the whole fleet (made once), and per cluster the `nats-mtls-server-tls`
 * server certificate and an `mqtt-client.<cluster>` client certificate it
 * signs. The same CA backs each cluster's cert-manager CA issuer
 * (fleet file `certificates.ca`), so every CPC trusts the CSC gateway.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CliIo, Command, DEFAULT_KEY_STORE, parseCommandLine, UsageError } from './command';
import {
  describeCertificate, EvaluationCa, evaluationClientSubject, evaluationServerSans,
  EVALUATION_FILES, FLEET_CA_FILES, generateClusterIntermediate, generateEvaluationCa, generateEvaluationCerts,
  INTERMEDIATE_RENEW_DAYS,
} from './evaluation';
import { warnIfNotGitIgnored } from './git-ignore';
import { CertificateAuthority } from '../certificates/ca-issuer';
import { constraintNames, describeIntermediate, IntermediateNames } from '../certificates/name-constraints';
import { stagingPattern, writeFileAtomic, writeTreeAtomic } from '../files/atomic-write';
import { checkOutputRoot, lstatOrUndefined, mkdirpOwn, readRegularFile, refuseLinksBelow } from '../files/safe-fs';
import { DEFAULT_NAMESPACE, isIpLiteral, validateDnsName, validateNamespace } from '../k8s/names';
import { CSC, cpcIdOfCluster, validateCpcId } from '../keys/layout';

const DEFAULT_DAYS = 365;
const KEY_TYPES = ['ecdsa-p256', 'rsa-2048'] as const;

const USAGE = `Usage: dsx-event-bus certs [OPTIONS] [clusters...]

Writes evaluation certificates (no cfssl needed): one CA for the whole fleet,
made on the first run and reused after, and per cluster the
nats-mtls-server-tls server certificate and a client certificate with subject
CN=mqtt-client.<cluster>, both signed by that CA. Without clusters, only csc.

The fleet CA is also the root of the cert-manager CA issuers (fleet file:
certificates: { ca: {} }): synth issues each cluster its own intermediate CA
from it, name-constrained to that cluster's names (DIR/ca/clusters/), so each
CPC trusts the CSC gateway's certificate and no cluster can speak for another.

Clusters: csc, cpc-<id> (id: lower-case letters and digits).

Options:
  -o, --output DIR       Output root directory (default: ${DEFAULT_KEY_STORE})
  -n, --namespace NS     Namespace of the chart, for the nats-mtls Service SANs
                         (default: ${DEFAULT_NAMESPACE})
      --host [CLUSTER=]HOST
                         DNS name or IP clients use to reach the mqtt-mtls
                         listener; IPs become IP SANs. Repeatable. Without
                         CLUSTER= it applies to every cluster.
      --days N           Validity of server and client certificates in days
                         (default: ${DEFAULT_DAYS}; the CA: 3650)
      --key-type TYPE    ecdsa-p256 (default) or rsa-2048
  -h, --help             Show this help

Output (files 600, directories 700):
  DIR/ca/ca.crt, ca.key                            the fleet CA (keep ca.key private)
per cluster:
  DIR/<cluster>/certs/ca/ca.crt                    the fleet CA's certificate
  DIR/<cluster>/certs/nats-mtls-server-tls/ca.crt, tls.crt, tls.key
                                                   = the keys of Secret nats-mtls-server-tls
  DIR/<cluster>/certs/mqtt-client/ca.crt, tls.crt, tls.key
                                                   client certificate CN=mqtt-client.<cluster>

Server SANs: nats-mtls, nats-mtls.<ns>, nats-mtls.<ns>.svc,
nats-mtls.<ns>.svc.cluster.local and every --host.

Existing certificates are never overwritten: a complete set with the same SANs
and the same CA is left unchanged; anything else is an error (delete
DIR/<cluster>/certs to regenerate; deleting DIR/ca makes a new fleet CA, which
every cluster then needs).

Example:
  dsx-event-bus certs --host csc=172.18.200.1 --host cpc-1=172.18.201.1 csc cpc-1
  kubectl -n ${DEFAULT_NAMESPACE} create secret generic nats-mtls-server-tls \\
    --from-file=${DEFAULT_KEY_STORE}/csc/certs/nats-mtls-server-tls/`;

interface ClusterPlan {
  readonly cluster: string;
  readonly hosts: string[];
}

function parseClusters(positionals: string[]): string[] {
  const clusters = positionals.length ? positionals : [CSC];
  const seen = new Set<string>();
  for (const c of clusters) {
    if (c !== CSC) {
      const id = cpcIdOfCluster(c);
      if (id === undefined) throw new UsageError(`cluster ${JSON.stringify(c)} is invalid. Allowed: "csc" or "cpc-<id>". Fix: e.g. "cpc-1"`);
      validateCpcId(id, `cluster ${JSON.stringify(c)}`);
    }
    if (seen.has(c)) throw new UsageError(`cluster ${JSON.stringify(c)} is listed twice. Fix: list each cluster once`);
    seen.add(c);
  }
  return clusters;
}

function parseHosts(values: string[], clusters: string[]): Map<string, string[]> {
  const byCluster = new Map(clusters.map((c) => [c, [] as string[]]));
  for (const v of values) {
    // `cluster=host`, unless the whole value is an IPv6 literal (which has no "=").
    const eq = v.indexOf('=');
    const cluster = eq >= 0 ? v.slice(0, eq) : undefined;
    const host = eq >= 0 ? v.slice(eq + 1) : v;
    if (cluster !== undefined && !byCluster.has(cluster)) {
      throw new UsageError(`--host ${JSON.stringify(v)} names cluster ${JSON.stringify(cluster)}, which is not being generated. Allowed: ${clusters.join(', ')}. Fix: add the cluster to the command line, or correct the name`);
    }
    if (!isIpLiteral(host)) validateDnsName(host, `--host ${JSON.stringify(v)}`, 'host', { wildcard: true });
    for (const [c, hosts] of byCluster) {
      if ((cluster === undefined || cluster === c) && !hosts.includes(host)) hosts.push(host);
    }
  }
  return byCluster;
}

type KeyType = typeof KEY_TYPES[number];

/**
 * Staging folders of a certs run killed half-way (they hold private keys),
 * beside their target: `.certs.tmp-XXXXXX` and `.ca.tmp-XXXXXX` (see
 * writeTreeAtomic), and `.certs.tmp-<12 hex>` of earlier versions.
 */
const STAGING = [stagingPattern('certs'), stagingPattern('ca'), /^\.certs\.tmp-[0-9a-f]{12}$/];

/** Removes the staging folders a killed run left in `dir` (ours by name; never through a symlink). */
function removeStaleStaging(dir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => STAGING.some((re) => re.test(n)))) {
    const p = path.join(dir, name);
    if (fs.lstatSync(p).isDirectory()) fs.rmSync(p, { recursive: true, force: true });
  }
}

/** Private files (600) in private folders (700), written all at once. */
const PRIVATE = { dirMode: 0o700, fileMode: 0o600 };

/** Options of {@link ensureFleetCa}. */
export interface FleetCaOptions {
  /** Create the CA when `<root>/ca` does not exist. */
  readonly generate: boolean;
  /** Key type of a new CA. */
  readonly keyType?: KeyType;
  /** Where a message about a new CA goes. */
  readonly io?: CliIo;
  /** How the user creates one, for the error when it is missing and not generated. */
  readonly howToCreate?: string;
}

/**
 * The fleet CA in `<root>/ca` (`ca.crt`, `ca.key`): read and checked when it
 * exists, made (once) when it does not and `generate` is set. Never replaced.
 */
export async function ensureFleetCa(root: string, options: FleetCaOptions): Promise<EvaluationCa> {
  const dir = path.join(root, 'ca');
  // Nothing below the root is read through a link (a linked ca/ would hand us another CA).
  refuseLinksBelow(root, dir, 'replace the link with the real folder; nothing was written');
  const files = FLEET_CA_FILES.map((f) => path.join(dir, f));
  const present = files.filter((f) => lstatOrUndefined(f));
  if (present.length === files.length) {
    CertificateAuthority.fromPemFiles(files[0], files[1]); // checks: a CA certificate and its key
    return { certPem: readOwn(files[0]), keyPem: readOwn(files[1]) };
  }
  if (present.length > 0 || fs.existsSync(dir)) {
    const missing = FLEET_CA_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
    throw new UsageError(`${dir} exists but is incomplete (missing ${missing.join(', ')}). Nothing was overwritten. Fix: restore the file, or delete ${dir} to make a new fleet CA (every cluster then needs it)`);
  }
  if (!options.generate) {
    throw new UsageError(`the fleet CA ${dir} does not exist. Fix: ${options.howToCreate ?? `run dsx-event-bus certs -o ${root}`}`);
  }
  const ca = await generateEvaluationCa(options.keyType ?? 'ecdsa-p256');
  writeTreeAtomic(dir, { 'ca.crt': ca.certPem, 'ca.key': ca.keyPem }, PRIVATE);
  options.io?.out(`fleet CA: wrote ${dir} (ca.crt, ca.key; keep ca.key private)\n`);
  return ca;
}

/** A file this tool wrote below the root: regular, not through a link, opened non-blocking, size-capped. */
function readOwn(file: string): string {
  const text = readRegularFile(file, 'remove it; dsx-event-bus certs only writes regular files there', { what: 'a PEM file' });
  if (text === undefined) throw new UsageError(`${file} disappeared while it was read. Nothing was overwritten. Fix: rerun`);
  return text;
}

/** Folder of the per-cluster intermediates inside the fleet CA folder: `<ca>/clusters/<cluster>.pem`. */
export const INTERMEDIATES_DIR = 'clusters';

const CERT_PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/;
const KEY_PEM = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/;

/** The intermediate in `file` (certificate, then key), or why it cannot be reused. */
function readIntermediate(file: string, root: EvaluationCa, wanted: IntermediateNames, now: Date): { ca?: EvaluationCa; reason: string } {
  // The one read discipline (regular file, no symlink, non-blocking, size-capped): it holds a CA key.
  const text = readRegularFile(file, 'remove it: synth then issues a new intermediate for this cluster', { what: 'an intermediate CA (certificate, then key)', below: path.dirname(path.dirname(file)), ownFile: true });
  if (text === undefined) return { reason: 'none yet' };
  const certPem = CERT_PEM.exec(text)?.[0];
  const keyPem = KEY_PEM.exec(text)?.[0];
  if (!certPem || !keyPem) return { reason: 'the file is incomplete' };
  try {
    CertificateAuthority.intermediateFromPem(certPem, keyPem, root.certPem); // a CA, its key, signed by this root
  } catch {
    return { reason: 'it is not a CA of the current root with its key' };
  }
  const have = describeIntermediate(certPem);
  const want = constraintNames(wanted);
  const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!have) return { reason: 'it has no name constraints' };
  if (!same(have.dnsNames, want.dnsNames) || !same(have.ipAddresses, want.ipAddresses)) return { reason: 'the cluster\'s names changed' };
  if (have.notAfter.getTime() - now.getTime() < INTERMEDIATE_RENEW_DAYS * 24 * 3600 * 1000) return { reason: `it expires ${have.notAfter.toISOString()}` };
  return { ca: { certPem, keyPem }, reason: 'reused' };
}

/**
 * One name-constrained intermediate CA per cluster, signed by the fleet root
 * and kept beside it (`<caDir>/clusters/<cluster>.pem`, mode 600: certificate
 * then key): reused while it belongs to this root, permits exactly the
 * cluster's names and has more than INTERMEDIATE_RENEW_DAYS left; otherwise
 * issued anew (each file replaced atomically). The root's key is used only here.
 */
export async function ensureClusterIntermediates(
  caDir: string, root: EvaluationCa, wanted: readonly IntermediateNames[], io?: CliIo, now: Date = new Date(),
): Promise<Map<string, EvaluationCa>> {
  const dir = path.join(caDir, INTERMEDIATES_DIR);
  const out = new Map<string, EvaluationCa>();
  for (const w of wanted) {
    const file = path.join(dir, `${w.cluster}.pem`);
    const existing = fs.existsSync(dir) ? readIntermediate(file, root, w, now) : { reason: 'none yet' } as { ca?: EvaluationCa; reason: string };
    if (existing.ca) {
      out.set(w.cluster, existing.ca);
      continue;
    }
    const ica = await generateClusterIntermediate({ ...w, root, now });
    mkdirpOwn(dir, 0o700);
    writeFileAtomic(file, `${ica.certPem}${ica.keyPem}`, 0o600);
    io?.out(`${w.cluster}: issued its intermediate CA ${file} (${existing.reason}), name-constrained to ${[...constraintNames(w).dnsNames, ...constraintNames(w).ipAddresses].join(', ')}\n`);
    out.set(w.cluster, ica);
  }
  return out;
}

async function writeClusterCerts(
  root: string, plan: ClusterPlan, ca: EvaluationCa, namespace: string, days: number, keyType: KeyType, io: CliIo,
): Promise<void> {
  const clusterDir = path.join(root, plan.cluster);
  const certsDir = path.join(clusterDir, 'certs');
  const wanted = evaluationServerSans(namespace, plan.hosts);
  // Private keys are never written through (nor an existing set read through) a linked folder.
  refuseLinksBelow(root, certsDir, 'replace the link with the real folder; nothing was written');
  if (lstatOrUndefined(certsDir)) {
    const missing = EVALUATION_FILES.filter((f) => !lstatOrUndefined(path.join(certsDir, f)));
    if (missing.length) {
      throw new UsageError(`${certsDir} exists but is incomplete (missing ${missing.join(', ')}). Nothing was overwritten. Fix: delete ${certsDir} to generate a new set`);
    }
    if (readOwn(path.join(certsDir, 'ca/ca.crt')).trim() !== ca.certPem.trim()) {
      throw new UsageError(`${certsDir} was signed by another CA than the fleet CA ${path.join(root, 'ca/ca.crt')} (a per-cluster CA of an older version, or a replaced fleet CA). Nothing was overwritten. Fix: delete ${certsDir} to generate a set signed by the fleet CA`);
    }
    const have = describeCertificate(readOwn(path.join(certsDir, 'nats-mtls-server-tls/tls.crt')));
    const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
    if (!sameSet(have.dnsNames, wanted.dnsNames) || !sameSet(have.ipAddresses, wanted.ipAddresses)) {
      throw new UsageError(`${path.join(certsDir, 'nats-mtls-server-tls/tls.crt')} has SANs ${JSON.stringify([...have.dnsNames, ...have.ipAddresses])}, but ${JSON.stringify([...wanted.dnsNames, ...wanted.ipAddresses])} were requested. Nothing was overwritten. Fix: delete ${certsDir} to generate a new set (clients then need the new ca.crt), or request the same SANs`);
    }
    io.out(`${plan.cluster}: ${certsDir} exists with the same SANs, left unchanged\n`);
    return;
  }

  const files = await generateEvaluationCerts({ cluster: plan.cluster, namespace, hosts: plan.hosts, days, keyType, ca });
  writeTreeAtomic(certsDir, Object.fromEntries(EVALUATION_FILES.map((rel) => [rel, files[rel]])), PRIVATE);
  const sans = [...wanted.dnsNames, ...wanted.ipAddresses].join(', ');
  io.out(`${plan.cluster}: wrote ${certsDir} (fleet CA certificate; nats-mtls-server-tls with SANs ${sans}; client ${evaluationClientSubject(plan.cluster)})\n`);
}

export const command: Command = {
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseCommandLine(args, {
      'output': { type: 'string', short: 'o' },
      'namespace': { type: 'string', short: 'n' },
      'host': { type: 'string', multiple: true },
      'days': { type: 'string' },
      'key-type': { type: 'string' },
      'help': { type: 'boolean', short: 'h' },
    });
    // Every argument is checked before anything is written.
    const root = (values.output as string | undefined) ?? DEFAULT_KEY_STORE;
    if (root === '') throw new UsageError('--output is empty. Fix: pass a directory');
    const namespace = (values.namespace as string | undefined) ?? DEFAULT_NAMESPACE;
    validateNamespace(namespace, '--namespace');
    const daysText = (values.days as string | undefined) ?? String(DEFAULT_DAYS);
    const days = Number(daysText);
    if (!/^\d+$/.test(daysText) || days < 1 || days > 3650) {
      throw new UsageError(`--days ${JSON.stringify(daysText)} is invalid. Allowed: a whole number of days from 1 to 3650. Fix: e.g. --days 365`);
    }
    const keyType = ((values['key-type'] as string | undefined) ?? 'ecdsa-p256') as typeof KEY_TYPES[number];
    if (!KEY_TYPES.includes(keyType)) {
      throw new UsageError(`--key-type ${JSON.stringify(keyType)} is invalid. Allowed: ${KEY_TYPES.join(', ')}. Fix: e.g. --key-type ecdsa-p256`);
    }
    const clusters = parseClusters(positionals);
    const hosts = parseHosts((values.host as string[] | undefined) ?? [], clusters);

    // A root the tool did not create keeps its mode; one others may write is refused.
    const created = !checkOutputRoot(root, '-o/--output', { keyMaterial: true }).exists;
    if (created) mkdirpOwn(root, 0o700);
    removeStaleStaging(root);
    for (const cluster of clusters) removeStaleStaging(path.join(root, cluster));
    const ca = await ensureFleetCa(root, { generate: true, keyType, io });
    for (const cluster of clusters) {
      await writeClusterCerts(root, { cluster, hosts: hosts.get(cluster)! }, ca, namespace, days, keyType, io);
    }
    if (created) warnIfNotGitIgnored(root, io);
    return 0;
  },
};

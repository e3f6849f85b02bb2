/**
 * `dsx-event-bus certs`: evaluation certificates for the mTLS MQTT endpoint,
 * without cfssl. Per cluster: a CA, the `nats-mtls-server-tls` server
 * certificate and an `mqtt-client.<cluster>` client certificate.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CliIo, Command, parseCommandLine, UsageError } from './command';
import { describeCertificate, evaluationClientSubject, evaluationServerSans, EVALUATION_FILES, generateEvaluationCerts } from '../certificates/evaluation';
import { isIpLiteral, validateDnsName, validateNamespace } from '../certificates/names';
import { checkOutputRoot, fsyncDir, mkdirOwn, mkdirpOwn, writeNewFile } from '../files/safe-fs';
import { CSC, validateCpcId } from '../keys/layout';

const DEFAULT_OUTPUT = 'deploy/secrets';
const DEFAULT_NAMESPACE = 'dsx';
const DEFAULT_DAYS = 365;
const KEY_TYPES = ['ecdsa-p256', 'rsa-2048'] as const;

const USAGE = `Usage: dsx-event-bus certs [OPTIONS] [clusters...]

Writes evaluation certificates for the mTLS MQTT endpoint (no cfssl needed):
per cluster a CA, the nats-mtls-server-tls server certificate and a client
certificate with subject CN=mqtt-client.<cluster>. Without clusters, only csc.

Clusters: csc, cpc-<id> (id: lower-case letters and digits).

Options:
  -o, --output DIR       Output root directory (default: ${DEFAULT_OUTPUT})
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

Output (files 600, directories 700), per cluster:
  DIR/<cluster>/certs/ca/ca.crt, ca.key            the evaluation CA (keep ca.key private)
  DIR/<cluster>/certs/nats-mtls-server-tls/ca.crt, tls.crt, tls.key
                                                   = the keys of Secret nats-mtls-server-tls
  DIR/<cluster>/certs/mqtt-client/ca.crt, tls.crt, tls.key
                                                   client certificate CN=mqtt-client.<cluster>

Server SANs: nats-mtls, nats-mtls.<ns>, nats-mtls.<ns>.svc,
nats-mtls.<ns>.svc.cluster.local and every --host.

Existing certificates are never overwritten: a complete set with the same SANs
is left unchanged; anything else is an error (delete DIR/<cluster>/certs to
regenerate).

Example:
  dsx-event-bus certs --host csc=172.18.200.1 --host cpc-1=172.18.201.1 csc cpc-1
  kubectl -n dsx create secret generic nats-mtls-server-tls \\
    --from-file=deploy/secrets/csc/certs/nats-mtls-server-tls/`;

interface ClusterPlan {
  readonly cluster: string;
  readonly hosts: string[];
}

function parseClusters(positionals: string[]): string[] {
  const clusters = positionals.length ? positionals : [CSC];
  const seen = new Set<string>();
  for (const c of clusters) {
    if (c !== CSC) {
      const m = /^cpc-(.*)$/.exec(c);
      if (!m) throw new UsageError(`cluster ${JSON.stringify(c)} is invalid. Allowed: "csc" or "cpc-<id>". Fix: e.g. "cpc-1"`);
      validateCpcId(m[1], `cluster ${JSON.stringify(c)}`);
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

/** Staging folders of a certs run killed half-way (they hold private keys). */
const STAGING = /^\.certs\.tmp-[0-9a-f]{12}$/;

function removeStaleStaging(clusterDir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(clusterDir);
  } catch {
    return;
  }
  for (const name of names.filter((n) => STAGING.test(n))) {
    const p = path.join(clusterDir, name);
    if (fs.lstatSync(p).isDirectory()) fs.rmSync(p, { recursive: true, force: true });
  }
}

async function writeClusterCerts(root: string, plan: ClusterPlan, namespace: string, days: number, keyType: KeyType, io: CliIo): Promise<void> {
  const clusterDir = path.join(root, plan.cluster);
  const certsDir = path.join(clusterDir, 'certs');
  const wanted = evaluationServerSans(namespace, plan.hosts);
  if (fs.existsSync(certsDir)) {
    const missing = EVALUATION_FILES.filter((f) => !fs.existsSync(path.join(certsDir, f)));
    if (missing.length) {
      throw new UsageError(`${certsDir} exists but is incomplete (missing ${missing.join(', ')}). Nothing was overwritten. Fix: delete ${certsDir} to generate a new set`);
    }
    const have = describeCertificate(fs.readFileSync(path.join(certsDir, 'nats-mtls-server-tls/tls.crt'), 'utf8'));
    const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
    if (!sameSet(have.dnsNames, wanted.dnsNames) || !sameSet(have.ipAddresses, wanted.ipAddresses)) {
      throw new UsageError(`${path.join(certsDir, 'nats-mtls-server-tls/tls.crt')} has SANs ${JSON.stringify([...have.dnsNames, ...have.ipAddresses])}, but ${JSON.stringify([...wanted.dnsNames, ...wanted.ipAddresses])} were requested. Nothing was overwritten. Fix: delete ${certsDir} to generate a new set (clients then need the new ca.crt), or request the same SANs`);
    }
    io.out(`${plan.cluster}: ${certsDir} exists with the same SANs, left unchanged\n`);
    return;
  }

  const files = await generateEvaluationCerts({ cluster: plan.cluster, namespace, hosts: plan.hosts, days, keyType });
  mkdirpOwn(clusterDir, 0o700);
  // Written into a private temporary directory, then renamed into place: a
  // failure never leaves a half-written set behind.
  const tmp = path.join(clusterDir, `.certs.tmp-${randomBytes(6).toString('hex')}`);
  mkdirOwn(tmp, 0o700);
  try {
    for (const rel of EVALUATION_FILES) {
      const file = path.join(tmp, rel);
      mkdirpOwn(path.dirname(file), 0o700);
      writeNewFile(file, files[rel], 0o600);
    }
    fsyncDir(tmp);
    fs.renameSync(tmp, certsDir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const sans = [...wanted.dnsNames, ...wanted.ipAddresses].join(', ');
  io.out(`${plan.cluster}: wrote ${certsDir} (CA; nats-mtls-server-tls with SANs ${sans}; client ${evaluationClientSubject(plan.cluster)})\n`);
}

export const command: Command = {
  name: 'certs',
  summary: 'Write evaluation mTLS certificates (CA, nats-mtls-server-tls, mqtt-client) per cluster',
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
    const root = (values.output as string | undefined) ?? DEFAULT_OUTPUT;
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
    if (!checkOutputRoot(root, '-o/--output', { keyMaterial: true }).exists) mkdirpOwn(root, 0o700);
    for (const cluster of clusters) removeStaleStaging(path.join(root, cluster));
    for (const cluster of clusters) {
      await writeClusterCerts(root, { cluster, hosts: hosts.get(cluster)! }, namespace, days, keyType, io);
    }
    return 0;
  },
};

/**
 * Errors in a fleet-file user's terms, mapped at the boundary: constructs
 * report the prop path of the bad value (`csc.gateway.mtlsHostnames` of
 * EventBusFleetProps) and word their fixes in props terms; the CLI re-words
 * both here, through the same props-to-file mapping that generates the
 * schema (src/cli/fleet-doc.ts): FileForm keeps every member's name, so a
 * prop path is the file's path except for the CSC/CPC split (`csc`, `cpcs[i]`
 * are entries of `clusters`) and the members FileForm maps by TYPE, whose
 * props spellings (`Duration.days(90)`, `GatewayTransport.TCP`,
 * `CertificateIssuer.fromIssuerName("x")`) are written the file's way.
 */
import type { FleetDoc } from './fleet-doc';
import { fleetSchema } from './fleet-file';
import { PrivateKeyAlgorithm } from '../certificates/private-key';
import { MqttStreamStorage } from '../charts/chart-values';
import { EventBusError, problem, ProblemDescription } from '../errors';
import { EnvoyServiceType } from '../gateway/envoy-proxy';
import { GatewayTransport } from '../gateway/gateway';
import { RouteApiVersion, RouteRendering } from '../gateway/route-types';
import { SecretStoreKind } from '../secrets/delivery';

/**
 * The fleet file's path of a prop path of EventBusFleetProps: `csc...` and
 * `cpcs[i]...` name entries of `clusters` (by their place in the file),
 * `metadata.namespace` and `metadata.labels` are written flat (`namespace`,
 * `labels`), an `mtlsServerTls` and an `intermediateCa` (which a file cannot
 * hold) are the file's `mtlsCertsDirectory` and `certificates.ca`; every other
 * member keeps its name (FileForm).
 */
export function fleetFileField(field: string, doc: Pick<FleetDoc, 'clusters'>): string {
  let path = field;
  const entry = (c: object) => `clusters[${doc.clusters.indexOf(c as FleetDoc['clusters'][number])}]`;
  const csc = doc.clusters.find((c) => c.type === 'csc');
  const cpcs = doc.clusters.filter((c) => c.type === 'cpc');
  const m = /^(csc|cpcs\[(\d+)\])(?=$|[.[])/.exec(path);
  if (m) {
    const c = m[1] === 'csc' ? csc : cpcs[Number(m[2])];
    if (c) path = entry(c) + path.slice(m[0].length);
  } else if (path === 'cpcs') {
    path = 'clusters';
  }
  // metadata (ClusterChartMetadata) is written flat: `metadata.labels` is the file's `labels`.
  path = path.replace(/(^|\.)metadata\.(?=namespace|labels)/, '$1');
  // A file cannot hold an intermediate: synth issues them for certificates.ca.
  if (/^clusters\[\d+\]\.intermediateCa$/.test(path)) return 'certificates.ca';
  // One mtlsCertsDirectory, at the top, gives every cluster its nats-mtls-server-tls.
  return /(^|\.)mtlsServerTls$/.test(path) ? 'mtlsCertsDirectory' : path;
}

/**
 * The fleet's prop paths inside a text (a fix that names another field, e.g.
 * `move this override to csc.secretOverrides and cpcs[0].secretOverrides`)
 * as the file's. A `csc.` path is one only when its next part is a member
 * of a `clusters` entry in the schema (`csc.example.com` is a host).
 */
export function fleetFileText(text: string, doc: Pick<FleetDoc, 'clusters'>): string {
  const members = clusterMembers();
  return text
    .replace(/(?<![\w/.:@-])(csc|cpcs\[\d+\])((?:\.[A-Za-z]\w*)+)/g, (m, head: string, rest: string) =>
      (head === 'csc' && !members.has(rest.split('.')[1]) && !rest.startsWith('.metadata.') ? m : fleetFileField(head + rest, doc)))
    .replace(/(?<![\w/.:@[\]-])metadata\.(namespace|labels)\b/g, '$1');
}

let members: Set<string> | undefined;
/** The members of a `clusters` entry, from the published schema (generated from ClusterModel). */
function clusterMembers(): Set<string> {
  const defs = (fleetSchema() as { definitions: Record<string, { properties?: object; allOf?: Array<{ properties?: object }> }> }).definitions;
  const model = defs.ClusterModel;
  members ??= new Set([model.properties, ...(model.allOf ?? []).map((a) => a.properties)].flatMap((p) => Object.keys(p ?? {})));
  return members;
}

/** Enums whose members the file writes as their values (`tcp`, not `GatewayTransport.TCP`). */
const FILE_ENUMS: { [name: string]: { [member: string]: string } } = {
  GatewayTransport, RouteApiVersion, RouteRendering, PrivateKeyAlgorithm, EnvoyServiceType, MqttStreamStorage, SecretStoreKind,
};

const DURATION_UNIT: { [unit: string]: string } = { days: 'd', hours: 'h', minutes: 'm', seconds: 's', millis: 'ms' };

/** Props spellings of values and the file's spelling of each (the types FileForm maps). */
const SPELLINGS: Array<[RegExp, (...groups: string[]) => string]> = [
  [/\bDuration\.(days|hours|minutes|seconds|millis)\((\d+|n)\)/g, (unit, n) => `${n === 'n' ? 'N' : n}${DURATION_UNIT[unit]}`],
  [/\b([A-Z][A-Za-z]+)\.([A-Z][A-Z0-9_]*)\b/g, (name, member) => FILE_ENUMS[name]?.[member] ?? `${name}.${member}`],
  [/\bCertificateIssuer\.fromIssuerName\(("[^"]*"|\.\.\.|…)\)/g, (n) => `{ kind: Issuer, name: ${n.replace(/"/g, '')} }`],
  [/\bCertificateIssuer\.fromClusterIssuerName\(("[^"]*"|\.\.\.|…)\)/g, (n) => `{ kind: ClusterIssuer, name: ${n.replace(/"/g, '')} }`],
  [/\bCertificateAuthority\.fromPemFiles\([^)]*\)/g, () => '{} (the CA of dsx-event-bus certs, in the key store folder; synth --generate-missing makes it) or { certFile, keyFile }'],
  [/\bCertificateAuthority\.fromExistingSecret\([^)]*\)/g, () => '{ secretName, certFile }'],
  [/\bServerCertificate\.fromSecretName\([^)]*\)/g, () => 'the name of an existing TLS Secret'],
  [/\bLeafTrust\.fromExistingConfigMap\([^)]*\)/g, () => '{ configMapName: ... }'],
  [/\bLeafTrust\.fromExistingSecret\([^)]*\)/g, () => '{ secretName: ... }'],
  [/\bLeafTrust\.fromPemFile\([^)]*\)/g, () => '{ pemFile: ... }'],
  [/\bLeafTrust\.publicRoots\(\)/g, () => '{ publicRoots: true }'],
  [/\bSecretsDelivery\.inline\(\{ allowTestKeys: true \}\)/g, () => '{ type: inline, allowTestKeys: true }'],
  [/\bSecretsDelivery\.sealedSecrets\(\{ \.\.\., allowTestKeys: true \}\)/g, () => '{ type: sealedSecrets, ..., allowTestKeys: true }'],
  [/\bSecretsDelivery\.(inline|existing|externalSecrets|vaultStaticSecrets)\([^)]*\)/g, (type) => `{ type: ${type} }`],
  [/\bDirectoryKeyStore\.open\(dir\)\.generateMissing\(request\)/g, () => 'keys.generateMissing: true (or synth --generate-missing)'],
  [/\bDirectoryKeyStore\.open\(dir\)/g, () => '{ directory: DIR } (or --secrets DIR)'],
  [/\bMtlsServerTls\.fromPemFiles\([^)]*\)/g, () => 'the output of dsx-event-bus certs (mtlsCertsDirectory)'],
  // A sealed delivery's certificate of one cluster: a file in the delivery's folder.
  [/\bcertificates\["([a-z0-9-]+)"\]/g, (cluster) => `${cluster}.pem in delivery.certificatesDirectory`],
  // The fleet's intermediates: synth issues them for a CA in the key store.
  [/\bCertificateAuthority\.intermediateFromPem(\([^)]*\))?/g, () => 'which synth issues for certificates.ca: {} or ca: { directory }'],
  [/\bset intermediateCa on the CSC and on every CPC, and pass the root without its key \(CertificateAuthority\.fromPem\(certificatePem\)\)/g,
    () => 'use certificates.ca: {} or ca: { directory } (synth issues one intermediate per cluster in <directory>/clusters/ and keeps the root\'s key there)'],
  [/\bMtlsServerTls\.fromTlsSecretSource\([^)]*\)/g, () => 'nothing: certificates.ca, issuer or selfSigned make cert-manager issue it'],
  // Last: the values inside a factory's parentheses are in the file's spelling by now (one level of parentheses left).
  [/\(ClusterCertificates\.issuer\(\.\.\.\) or \.selfSigned\(\)\)/g, () => '(issuer or selfSigned)'],
  [/\bClusterCertificates\.(issuer|fleetCa|vault)\(((?:[^()]|\([^()]*\))*)\)/g, (f, v) => `{ ${f === 'fleetCa' ? 'ca' : f}: ${v} }`],
  [/\bClusterCertificates\.selfSigned\(\)/g, () => '{ selfSigned: true }'],
];

/** A props-terms text in the file's spelling of each value. */
export function fileSpelling(text: string): string {
  return SPELLINGS.reduce((t, [re, to]) => t.replace(re, (_m, ...groups) => to(...groups.slice(0, -2))), text);
}

/**
 * The error as a fleet-file user reads it: the fleet's prop path as the
 * file's path at `file` (errors of the construct at `fleetPath` only; others
 * keep their place), and every value in the file's spelling.
 */
export function inFileTerms(e: EventBusError, where?: { fleetPath: string; file: string; doc: Pick<FleetDoc, 'clusters'> }): EventBusError {
  const d = e.description;
  if (!d) return new EventBusError(fileSpelling(e.message));
  let located: ProblemDescription = d;
  if (where && d.where !== undefined && (d.where === where.fleetPath || d.where.startsWith(`${where.fleetPath}: `))) {
    // `fleet: addCpc` cannot come from a file; the fleet's own path is the file.
    located = { ...d, where: where.file, field: d.field === undefined ? undefined : fleetFileField(d.field, where.doc) };
  }
  const text = (t: string) => fileSpelling(where ? fleetFileText(t, where.doc) : t);
  return problem({
    ...located,
    problem: text(located.problem),
    allowed: located.allowed && text(located.allowed),
    fix: located.fix && text(located.fix),
  });
}

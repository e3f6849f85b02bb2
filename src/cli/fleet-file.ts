import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { loadValidatedYaml } from './config-file';
import { CertificatesSpec, ClusterDoc, DeliveryDoc, DurationText, FileForm, FleetDoc, GitOpsDoc, LeafTrustDoc } from './fleet-doc';
import { CertificateAuthority } from '../certificates/ca-issuer';
import { ClusterCertificates } from '../certificates/cluster-certificates';
import { CertificateIssuer } from '../certificates/issuers';
import { LeafTrust } from '../certificates/leaf-trust';
import { MqttStreamsOptions } from '../charts/chart-values';
import { EventBusFleetProps, FleetCpcOptions } from '../charts/fleet';
import type { ClusterChartMetadata, ClusterGatewayOptions } from '../charts/options';
import { EventBusError, problem, quote } from '../errors';
import { readRegularFile, refuseLinksBelow } from '../files/safe-fs';
import { GitOps } from '../gitops/gitops';
import { MAX_GO_DURATION_SECONDS } from '../k8s/names';
import { MTLS_SERVER_TLS } from '../keys/catalogue';
import { DirectoryKeyStore } from '../keys/directory-store';
import { IKeyStore } from '../keys/store';
import { EventBusCluster } from '../secrets/cluster';
import { SecretsDelivery } from '../secrets/delivery';
import { MtlsServerTls } from '../secrets/mtls-server-tls';
import { existingTlsSecret } from '../secrets/tls-secret';
import { DeterministicKeyStore } from '../testing';

export type { FleetDoc } from './fleet-doc';

/** Command-line settings that override the file. */
export interface FleetFileOverrides {
  /** `--secrets DIR`: the key store directory. */
  readonly secretsDirectory?: string;
  /** `--generate-missing`. */
  readonly generateMissing?: boolean;
  /**
   * Each cluster's intermediate CA (by cluster folder name), issued by synth
   * beside the root of `certificates.ca`: with them the root is read without
   * its key, and each cluster's CA issuer signs with its own intermediate.
   */
  readonly intermediates?: ReadonlyMap<string, { readonly certPem: string; readonly keyPem: string }>;
}

let schema: object | undefined;
/** The published JSON Schema of fleet files (schemas/fleet.schema.json in the package). */
export function fleetSchema(): object {
  // Two levels up from src/cli and lib/cli alike.
  schema ??= JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'schemas', 'fleet.schema.json'), 'utf8'));
  return schema!;
}

/**
 * Whether this run creates what is missing (keys, the fleet CA): `--generate-missing`
 * or `keys.generateMissing`. An explicit step before synthesis, which only reads.
 */
export function generationRequested(doc: FleetDoc, overrides: FleetFileOverrides = {}): boolean {
  return overrides.generateMissing ?? doc.keys?.generateMissing ?? false;
}

/** Reads and validates a fleet file (JSON Schema). */
export function loadFleetDoc(file: string): FleetDoc {
  return loadValidatedYaml<FleetDoc>(file, fleetSchema());
}

/** Reads, validates and converts a fleet file into the props of an EventBusFleet. */
export function readFleetFile(file: string, overrides: FleetFileOverrides = {}): EventBusFleetProps {
  return fleetPropsFromDoc(loadFleetDoc(file), path.dirname(path.resolve(file)), file, overrides);
}

/** Where the fleet CA of `certificates.ca` lives as a `dsx-event-bus certs` CA folder, if it does. */
export interface FleetCaLocation {
  /** The output root of `dsx-event-bus certs` (the CA is `<root>/ca/ca.crt`, `ca.key`). */
  readonly root: string;
  /** Whether a missing CA is to be made (the key store creates missing keys too). */
  readonly generateMissing: boolean;
}

/**
 * The `dsx-event-bus certs` output root whose `ca/` folder `certificates.ca`
 * reads: `<key store directory>` for `ca: {}`, the parent of `directory`
 * when its last part is `ca`, else undefined (explicit files or a Secret).
 */
export function fleetCaLocation(doc: FleetDoc, baseDir: string, file: string, overrides: FleetFileOverrides = {}): FleetCaLocation | undefined {
  const ca = doc.certificates?.ca;
  if (!ca || ca.certFile || ca.secretName) return undefined;
  const generateMissing = generationRequested(doc, overrides);
  if (ca.directory) {
    const dir = path.resolve(baseDir, ca.directory);
    return path.basename(dir) === 'ca' ? { root: path.dirname(dir), generateMissing } : undefined;
  }
  const storeDir = overrides.secretsDirectory ?? (doc.keys?.directory ? path.resolve(baseDir, doc.keys.directory) : undefined);
  const store = storeDir === undefined ? undefined : path.resolve(storeDir);
  if (!store) {
    throw problem({
      where: `${file}: certificates.ca`,
      problem: 'ca is empty, so the fleet CA is read from the key store directory, but there is none (keys.directory or --secrets)',
      allowed: 'ca: {} with keys.directory; ca: { directory }; ca: { certFile, keyFile }; ca: { secretName, certFile }',
      fix: 'set keys.directory, or name the CA files (e.g. ca: { directory: deploy/secrets/ca })',
    });
  }
  return { root: store, generateMissing };
}

/** Converts a validated fleet document; relative paths are resolved from `baseDir`. */
export function fleetPropsFromDoc(
  doc: FleetDoc, baseDir: string, file: string, overrides: FleetFileOverrides = {}, clusters: EventBusCluster = fleetClusters(doc, file),
): EventBusFleetProps {
  const cscDoc = doc.clusters.find((c) => c.type === 'csc')!;
  // Each cpc entry's cluster, its id checked where the file entered (fleetClusters).
  const cpcDocs = doc.clusters.filter((c) => c.type === 'cpc');
  const clusterOf = (c: ClusterDoc) => (c.type === 'csc' ? clusters : clusters.cpcs[cpcDocs.indexOf(c)]);
  const delivery = deliveryOf(doc.delivery, baseDir, file);
  const ca = doc.certificates?.ca ? caOf(doc, baseDir, file, overrides, delivery) : undefined;
  const rootPem = ca?.certificatePem;
  // Members the file spells as the props do pass through; only the others are converted.
  const memberOf = (c: ClusterDoc): FleetCpcOptions => {
    const where = `${file}: clusters[${doc.clusters.indexOf(c)}]`;
    const { type: _type, id, gateway, mqttStreams, cscTrust, namespace, labels, ...same } = c;
    const ica = overrides.intermediates?.get(clusterOf(c).directory);
    return {
      ...same,
      metadata: metadataOf(namespace, labels),
      intermediateCa: ica && rootPem !== undefined ? CertificateAuthority.intermediateFromPem(ica.certPem, ica.keyPem, rootPem) : undefined,
      id: String(id),
      gateway: gateway && gatewayOptions(gateway),
      mqttStreams: mqttStreams && mqttStreamsOf(mqttStreams, `${where}.mqttStreams`),
      cscTrust: cscTrust && cscTrustOf(cscTrust, baseDir, `${where}.cscTrust`),
    };
  };
  const { id: _id, cscEndpoint: _e, cscTrust: _t, ...cscOptions } = memberOf(cscDoc);
  const cpcs = cpcDocs.map(memberOf);
  const {
    $schema: _schema, clusters: _clusters, mtlsCertsDirectory, keys: _keys, delivery: _delivery,
    certificates, gateway, mqttStreams, cscTrust, gitops, namespace, labels, ...same
  } = doc;
  const props: EventBusFleetProps = {
    ...same,
    metadata: metadataOf(namespace, labels),
    keys: keyStore(doc, baseDir, file, overrides),
    delivery,
    certificates: certificates && certificateOptions(certificates, file, ca),
    gateway: gateway && gatewayOptions(gateway),
    mqttStreams: mqttStreams && mqttStreamsOf(mqttStreams, `${file}: mqttStreams`),
    cscTrust: cscTrust && cscTrustOf(cscTrust, baseDir, `${file}: cscTrust`),
    gitops: gitops && gitOpsOf(gitops, file),
    csc: cscOptions,
    cpcs,
  };
  // The fleet checks its rules once and names its props' paths; the CLI maps
  // them to this file's (file-terms.ts).
  return mtlsCertsDirectory ? withMtlsCerts(props, clusters, path.resolve(baseDir, mtlsCertsDirectory)) : props;
}

/**
 * The file's CSC and its CPCs, checked where the file enters, before anything
 * is read or written for it (synth makes the fleet CA and the intermediates
 * only for a file whose clusters are right): one csc entry; id, cscEndpoint
 * and cscTrust on cpc entries only; every cpc with a valid id, each once.
 * Errors name the file's paths (`clusters[2].id`).
 */
export function fleetClusters(doc: FleetDoc, file: string): EventBusCluster {
  const csc = doc.clusters.filter((c) => c.type === 'csc');
  if (csc.length !== 1) {
    throw problem({
      where: `${file}: clusters`,
      problem: csc.length === 0 ? 'there is no cluster of type csc' : `there are ${csc.length} clusters of type csc`,
      allowed: 'exactly one csc and any number of cpc clusters',
      fix: csc.length === 0 ? 'add "- type: csc" to clusters' : 'keep one csc entry',
    });
  }
  for (const [i, c] of doc.clusters.entries()) {
    if (c.type === 'csc' && (c.id !== undefined || c.cscEndpoint !== undefined || c.cscTrust !== undefined)) {
      const what = c.id !== undefined ? 'an id' : c.cscEndpoint !== undefined ? 'a cscEndpoint' : 'a cscTrust';
      throw problem({ where: `${file}: clusters[${i}]`, problem: `the csc entry has ${what}`, allowed: 'id, cscEndpoint and cscTrust on cpc entries only', fix: 'remove it from the csc entry' });
    }
    if (c.type === 'cpc' && (c.id === undefined || String(c.id) === '')) {
      throw problem({ where: `${file}: clusters[${i}]`, problem: 'a cpc entry has no id', allowed: 'lower-case letters and digits (^[a-z0-9]+$)', fix: 'add e.g. id: "1"' });
    }
  }
  const cpcEntries = [...doc.clusters.entries()].filter(([, c]) => c.type === 'cpc');
  return EventBusCluster._csc(cpcEntries.map(([, c]) => String(c.id)), (k) => `${file}: clusters[${cpcEntries[k][0]}].id`, `${file}: clusters`);
}

/** The file's flat `namespace` and `labels` (at the top, or of a `clusters` entry) as the props' `metadata`. */
function metadataOf(namespace: string | undefined, labels: { [key: string]: string } | undefined): ClusterChartMetadata | undefined {
  if (namespace === undefined && labels === undefined) return undefined;
  return { ...(namespace === undefined ? {} : { namespace }), ...(labels === undefined ? {} : { labels }) };
}

function mqttStreamsOf(m: FileForm<MqttStreamsOptions>, where: string): MqttStreamsOptions {
  return { ...m, maxAge: duration(m.maxAge, `${where}.maxAge`) };
}

/** `nats-mtls-server-tls` of each cluster from the `certs` command's output. */
function withMtlsCerts(props: EventBusFleetProps, clusters: EventBusCluster, dir: string): EventBusFleetProps {
  const forCluster = (cluster: EventBusCluster) => MtlsServerTls.fromPemDirectory(path.join(dir, cluster.directory, 'certs', MTLS_SERVER_TLS));
  return {
    ...props,
    csc: { ...props.csc, mtlsServerTls: forCluster(clusters) },
    cpcs: props.cpcs.map((c, i) => ({ ...c, mtlsServerTls: forCluster(clusters.cpcs[i]) })),
  };
}

function keyStore(doc: FleetDoc, baseDir: string, file: string, overrides: FleetFileOverrides): IKeyStore | undefined {
  const k = doc.keys ?? {};
  // Synthesis only reads the store; synth creates missing keys before it (generationRequested).
  if (overrides.secretsDirectory) {
    return DirectoryKeyStore.open(path.resolve(overrides.secretsDirectory));
  }
  if (k.deterministicTestKeys) {
    if (k.directory) throw problem({ where: `${file}: keys`, problem: 'both directory and deterministicTestKeys are set', fix: 'keep one of keys.directory and keys.deterministicTestKeys' });
    return new DeterministicKeyStore({ phrase: k.phrase });
  }
  if (k.directory) {
    return DirectoryKeyStore.open(path.resolve(baseDir, k.directory));
  }
  return undefined;
}

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/**
 * A {@link DurationText} (`90d`, `1h30m`; the schema checked the form) as a
 * Duration; the size is checked here (a 20-digit count would render as
 * `2.4e+21h`).
 */
function duration(text: DurationText | undefined, where: string): Duration | undefined {
  if (text === undefined) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(d|h|ms|m|s)/g)) ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms) || ms > MAX_GO_DURATION_SECONDS * 1000) {
    throw problem({
      where,
      problem: `${text.length > 24 ? `${text.slice(0, 20)}…` : text} is longer than cert-manager, NATS and the secret operators can read`,
      allowed: `at most ${MAX_GO_DURATION_SECONDS / 3600}h, ${Math.floor(MAX_GO_DURATION_SECONDS / 86400)}d (Go's time.Duration, about 292 years)`,
      fix: 'use e.g. 90d',
    });
  }
  return Duration.millis(ms);
}

function deliveryOf(d: DeliveryDoc, baseDir: string, file: string): SecretsDelivery {
  switch (d.type) {
    case 'inline': return SecretsDelivery.inline({ allowTestKeys: d.allowTestKeys });
    case 'existing': return SecretsDelivery.existing();
    case 'externalSecrets': {
      const { type: _t, refreshInterval, ...options } = d;
      return SecretsDelivery.externalSecrets({ ...options, refreshInterval: duration(refreshInterval, `${file}: delivery.refreshInterval`) });
    }
    case 'vaultStaticSecrets': {
      const { type: _t, refreshAfter, ...options } = d;
      return SecretsDelivery.vaultStaticSecrets({ ...options, refreshAfter: duration(refreshAfter, `${file}: delivery.refreshAfter`) });
    }
    case 'sealedSecrets': {
      const { type: _t, certificatesDirectory, certificates, scope, allowTestKeys } = d;
      const where = `${file}: delivery`;
      if ((certificatesDirectory === undefined) === (certificates === undefined)) {
        throw problem({
          where,
          problem: certificates === undefined ? 'sealedSecrets names no certificates' : 'sealedSecrets sets both certificates and certificatesDirectory',
          allowed: 'certificatesDirectory (a folder of <cluster>.pem files) or certificates (<cluster>: <PEM>)',
          fix: 'write each cluster\'s certificate with kubeseal --fetch-cert > <folder>/<cluster>.pem and set certificatesDirectory: <folder>',
        });
      }
      return SecretsDelivery.sealedSecrets({ certificates: certificates ?? sealingCertificates(path.resolve(baseDir, certificatesDirectory!), `${where}.certificatesDirectory`), scope, allowTestKeys });
    }
  }
}

/** `gitops` of the fleet file: the schema allows exactly one engine; its errors name the file's fields. */
function gitOpsOf(g: GitOpsDoc, file: string): GitOps {
  try {
    return g.argocd ? GitOps.argoCd(g.argocd) : GitOps.flux(g.flux!);
  } catch (e) {
    // The factory reports its own prop path (`GitOps.flux`, `chart.version`); the file's is `gitops.flux.chart.version`.
    const d = e instanceof EventBusError ? e.description : undefined;
    if (!d || !/^GitOps\.(argoCd|flux)$/.test(d.where ?? '')) throw e;
    throw problem({ ...d, where: file, field: `gitops.${g.argocd ? 'argocd' : 'flux'}${d.field === undefined ? '' : `.${d.field}`}` });
  }
}

/** `<cluster>.pem` of a folder, by cluster folder name; other files are not read. */
function sealingCertificates(dir: string, where: string): { [cluster: string]: string } {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw problem({ where, problem: `${quote(dir)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fix: 'check the path (relative to the fleet file)' });
  }
  const out: { [cluster: string]: string } = {};
  for (const name of names.sort()) {
    const m = /^(csc|cpc-[a-z0-9]+)\.pem$/.exec(name);
    if (m) out[m[1]] = readText(path.join(dir, name), where);
  }
  if (Object.keys(out).length === 0) {
    throw problem({ where, problem: `${quote(dir)} holds no <cluster>.pem file`, allowed: 'csc.pem, cpc-<id>.pem', fix: 'kubeseal --fetch-cert > <folder>/csc.pem (and one per CPC, against each cluster)' });
  }
  return out;
}

/** `cscTrust` of the fleet file: exactly one source; a PEM file relative to the fleet file. */
function cscTrustOf(t: LeafTrustDoc, baseDir: string, where: string): LeafTrust {
  const given = (['pemFile', 'secretName', 'configMapName', 'publicRoots'] as const).filter((k) => t[k] !== undefined && t[k] !== false);
  if (given.length !== 1 && !(given.length === 2 && given.includes('pemFile') && given.includes('configMapName'))) {
    throw problem({
      where,
      problem: given.length ? `cscTrust sets ${given.join(' and ')}` : 'cscTrust names no source',
      allowed: 'one of pemFile (optionally with configMapName: the ConfigMap made from it), secretName, configMapName, publicRoots: true; key with secretName or configMapName',
      fix: 'keep one source',
    });
  }
  if (t.key !== undefined && (t.pemFile || t.publicRoots)) {
    throw problem({ where, problem: `key is set with ${t.pemFile ? 'pemFile (its ConfigMap key is always ca.crt)' : 'publicRoots'}`, allowed: 'key with secretName or configMapName only', fix: 'remove key' });
  }
  if (t.pemFile) return LeafTrust.fromPemFile(path.resolve(baseDir, t.pemFile), { configMapName: t.configMapName });
  if (t.secretName) return LeafTrust.fromExistingSecret(t.secretName, t.key);
  if (t.configMapName) return LeafTrust.fromExistingConfigMap(t.configMapName, t.key);
  return LeafTrust.publicRoots();
}

/**
 * `certificates.ca` of the fleet file. The CA key is read only for inline
 * delivery (the only one that puts it into the manifests); otherwise the CA
 * Secret comes from the delivery strategy or exists, and only the public
 * certificate is read (for the CPCs' trust).
 */
function caOf(
  doc: FleetDoc, baseDir: string, file: string, overrides: FleetFileOverrides, delivery: SecretsDelivery,
): CertificateAuthority | undefined {
  const ca = doc.certificates?.ca;
  if (!ca) return undefined;
  const where = `${file}: certificates.ca`;
  if (ca.secretName && (ca.keyFile || ca.directory)) {
    throw problem({ where, problem: `secretName is set with ${ca.keyFile ? 'keyFile' : 'directory'}`, allowed: 'secretName (an existing Secret) with an optional certFile, or files', fix: 'keep secretName and certFile, or drop secretName' });
  }
  if (ca.directory && (ca.certFile || ca.keyFile)) {
    throw problem({ where, problem: 'directory is set with certFile/keyFile', allowed: 'directory (holding ca.crt and ca.key) or certFile and keyFile', fix: 'keep one of them' });
  }
  if (ca.keyFile && !ca.certFile) {
    throw problem({ where, problem: 'keyFile is set without certFile', fix: 'add certFile: the CA certificate of that key' });
  }
  if (ca.secretName) {
    const pem = ca.certFile ? readText(path.resolve(baseDir, ca.certFile), `${where}.certFile`) : undefined;
    return CertificateAuthority.fromExistingSecret(ca.secretName, pem);
  }
  // inline and sealedSecrets carry the CA Secret's values (in clear or sealed).
  const inline = delivery._needsValues;
  let certFile: string;
  let keyFile: string | undefined;
  if (ca.certFile) {
    certFile = path.resolve(baseDir, ca.certFile);
    keyFile = ca.keyFile ? path.resolve(baseDir, ca.keyFile) : undefined;
  } else {
    const storeRoot = ca.directory ? undefined : fleetCaLocation(doc, baseDir, file, overrides)!.root;
    const dir = storeRoot === undefined ? path.resolve(baseDir, ca.directory!) : path.join(storeRoot, 'ca');
    // The fleet CA inside the key store is never read through a link planted there.
    if (storeRoot !== undefined) refuseLinksBelow(storeRoot, dir, 'replace the link with the real folder (dsx-event-bus certs writes ca/ there)');
    certFile = path.join(dir, 'ca.crt');
    keyFile = path.join(dir, 'ca.key');
    if (!fs.existsSync(certFile)) {
      throw problem({
        where,
        problem: `the fleet CA ${certFile} does not exist`,
        fix: `run dsx-event-bus certs -o ${path.dirname(dir)} (it writes ca/ca.crt and ca/ca.key), or synth with --generate-missing`,
      });
    }
  }
  // With the clusters' intermediates (issued by synth beside the root), the root's key is not read at all.
  if (overrides.intermediates) return CertificateAuthority.fromPemFiles(certFile);
  if (inline && !keyFile) {
    throw problem({ where, problem: `${delivery.kind} delivery puts the CA Secret into the manifests, but no keyFile is given`, fix: 'add keyFile, or use another delivery (the CA Secret then comes from its store)' });
  }
  return CertificateAuthority.fromPemFiles(certFile, inline ? keyFile : undefined);
}

/** A PEM file the fleet file names: regular, opened non-blocking, at most 1 MiB (src/files/safe-fs.ts). */
function readText(file: string, where: string): string {
  let text: string | undefined;
  try {
    text = readRegularFile(file, 'check the path (relative to the fleet file)', { followNamed: true, what: 'a PEM file' });
  } catch (e) {
    if (e instanceof EventBusError) throw e;
    throw problem({ where, problem: `${quote(file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fix: 'check the path (relative to the fleet file)' });
  }
  if (text === undefined) throw problem({ where, problem: `${quote(file)} cannot be read (ENOENT)`, fix: 'check the path (relative to the fleet file)' });
  return text;
}

/** The file's `certificates` as the ClusterCertificates factory of its one issuer source. */
function certificateOptions(c: FileForm<CertificatesSpec>, file: string, ca: CertificateAuthority | undefined): ClusterCertificates | undefined {
  const { issuer, ca: _ca, selfSigned, duration: lifetime, renewBefore, privateKey } = c;
  const sources = [issuer && 'issuer', selfSigned && 'selfSigned', ca && 'ca'].filter(Boolean);
  if (sources.length > 1) {
    throw problem({ where: `${file}: certificates`, problem: `${sources.join(' and ')} are set together`, allowed: 'one issuer source: issuer, selfSigned or ca', fix: 'keep one of them' });
  }
  const options = {
    duration: duration(lifetime, `${file}: certificates.duration`),
    renewBefore: duration(renewBefore, `${file}: certificates.renewBefore`),
    privateKey,
  };
  if (issuer) return ClusterCertificates.issuer(issuer.kind === 'ClusterIssuer' ? CertificateIssuer.fromClusterIssuerName(issuer.name) : CertificateIssuer.fromIssuerName(issuer.name), options);
  if (selfSigned) return ClusterCertificates.selfSigned(options);
  if (ca) return ClusterCertificates.fleetCa(ca, options);
  // Durations without an issuer source have nothing to apply to (as before: a gateway then needs serverTlsSecret).
  return undefined;
}

/** The file's gateway gives the server TLS Secret by name. */
function gatewayOptions(g: FileForm<ClusterGatewayOptions>): ClusterGatewayOptions {
  const { serverTlsSecret, ...options } = g;
  return serverTlsSecret === undefined ? options : { ...options, serverTlsSecret: existingTlsSecret(serverTlsSecret, undefined, 'gateway.serverTlsSecret') };
}

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { inspect } from 'util';
import { Duration, Testing } from 'cdk8s';
import {
  CertificateIssuer, ClusterCertificates, EventBusCluster, EventBusFleet, EventBusFleetProps, GatewayTransport, LeafTrust, SecretsDelivery, VaultAuth,
} from '../src';
import { fileSpelling, fleetFileField, fleetFileText, inFileTerms } from '../src/cli/file-terms';
import { loadFleetDoc, readFleetFile } from '../src/cli/fleet-file';
import { EventBusError, problem } from '../src/errors';
import { DeterministicKeyStore } from '../src/testing';

// The error catalogue, audited: each rule a fleet checks (itself or in a
// construct it makes), triggered once through the props API and once through
// a fleet file. A construct user must read the prop path they set, a
// fleet-file user the file's path and the file's spelling of each value;
// neither ever reads a field of a construct made for them.

const keys = new DeterministicKeyStore();
const issuer = CertificateIssuer.fromIssuerName('event-bus-certificate-issuer');
const base = (extra: Partial<EventBusFleetProps>): EventBusFleetProps => ({
  keys,
  delivery: SecretsDelivery.existing(),
  certificates: ClusterCertificates.issuer(issuer),
  // The issuer is not the library's: the CPCs' trust of the CSC is stated.
  cscTrust: LeafTrust.publicRoots(),
  csc: { gateway: { hostnames: ['csc.example.com'] } },
  cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
  ...extra,
});

/** The base fleet file; `top` adds top-level lines, `csc`/`cpc` lines of the entries (indented by 4). */
function fleetYaml(o: { top?: string; csc?: string; cpc?: string; certificates?: string; delivery?: string; keys?: string } = {}): string {
  return `delivery: ${o.delivery ?? '{ type: existing }'}
${o.keys ?? 'keys: { deterministicTestKeys: true }'}
certificates: ${o.certificates ?? '{ issuer: { kind: Issuer, name: event-bus-certificate-issuer } }'}
${o.top ?? ''}
clusters:
  - type: csc
${o.csc ?? '    gateway: { hostnames: [csc.example.com] }'}
  - type: cpc
    id: "1"
${o.cpc ?? '    gateway: { hostnames: [cpc-1.example.com] }'}
`;
}

interface Case {
  /** The rule. */
  readonly rule: string;
  /** Props that break it. */
  readonly props: Partial<EventBusFleetProps>;
  /** The prop path the message must name (after `fleet: `). */
  readonly propPath: string;
  /** A fleet file that breaks it (omitted: a file cannot express the input). */
  readonly file?: string;
  /** The file path the CLI's message must name (after `<file>: `). */
  readonly filePath?: string;
  /** What the fix must say, in both forms (props form, file form). */
  readonly says?: [RegExp, RegExp];
}

const CASES: Case[] = [
  {
    rule: 'a CPC id is lower-case letters and digits; a "cpc-" prefix is the cluster name\'s, not the id\'s',
    props: { cpcs: [{ id: 'cpc-1', gateway: { hostnames: ['cpc-1.example.com'] } }] },
    propPath: 'cpcs[0].id',
    file: fleetYaml().replace('id: "1"', 'id: "cpc-1"'),
    filePath: 'clusters[1].id',
    says: [/Fix: use "1": the cluster's name adds the "cpc-" prefix/, /Fix: use "1": the cluster's name adds the "cpc-" prefix/],
  },
  {
    rule: 'CPC ids are unique',
    props: { cpcs: [{ id: '1', gateway: { hostnames: ['a.example.com'] } }, { id: '1', gateway: { hostnames: ['b.example.com'] } }] },
    propPath: 'cpcs',
    file: `${fleetYaml()}  - type: cpc\n    id: "1"\n    gateway: { hostnames: [b.example.com] }\n`,
    filePath: 'clusters',
  },
  {
    rule: 'gateway hostnames are DNS names; an IP address goes to gateway.ipAddresses',
    props: { csc: { gateway: { hostnames: ['10.0.0.5'] } } },
    propPath: 'csc.gateway.hostnames',
    file: fleetYaml({ csc: '    gateway: { hostnames: [10.0.0.5] }' }),
    filePath: 'clusters[0].gateway.hostnames',
    says: [/Fix: move "10\.0\.0\.5" to gateway\.ipAddresses\./, /Fix: move "10\.0\.0\.5" to gateway\.ipAddresses\./],
  },
  {
    rule: 'gateway.ipAddresses are IP addresses; a DNS name goes to gateway.hostnames',
    props: { csc: { gateway: { hostnames: ['csc.example.com'], ipAddresses: ['lb.example.com'] } } },
    propPath: 'csc.gateway.ipAddresses',
    file: fleetYaml({ csc: '    gateway: { hostnames: [csc.example.com], ipAddresses: [lb.example.com] }' }),
    filePath: 'clusters[0].gateway.ipAddresses',
    says: [/Fix: move "lb\.example\.com" to gateway\.hostnames\./, /Fix: move "lb\.example\.com" to gateway\.hostnames\./],
  },
  {
    rule: 'the Envoy proxy\'s replicas are a replica count',
    props: { gateway: { envoy: { replicas: -1 } } },
    propPath: 'gateway.envoy.replicas',
    // In a file, the schema refuses it first (at /gateway/envoy/replicas, with the line).
  },
  {
    rule: 'envoy options need an EnvoyProxy of ours',
    props: { gateway: { envoyProxyName: 'p', envoy: { replicas: 2 } } },
    propPath: 'gateway.envoy',
    file: fleetYaml({ top: 'gateway: { envoyProxyName: p, envoy: { replicas: 2 } }' }),
    filePath: 'gateway.envoy',
  },
  {
    rule: 'cscTrust needs a tls:// endpoint',
    props: { gateway: { transport: GatewayTransport.TCP }, certificates: undefined, cscTrust: LeafTrust.publicRoots() },
    propPath: 'cscTrust',
    file: fleetYaml({ certificates: '{}', top: 'gateway: { transport: tcp }\ncscTrust: { publicRoots: true }' }),
    filePath: 'cscTrust',
  },
  {
    rule: 'extra account settings name an extra account',
    props: { extraAccountSettings: { Nope: { jetstream: true } } },
    propPath: 'extraAccountSettings.Nope',
    file: fleetYaml({ top: 'extraAccountSettings: { Nope: { jetstream: true } }' }),
    filePath: 'extraAccountSettings.Nope',
  },
  {
    rule: 'the auth-callout image repository is a repository',
    props: { csc: { gateway: { hostnames: ['csc.example.com'] }, authCallout: { image: { repository: '', tag: 'x' } } } },
    propPath: 'csc.authCallout.image.repository',
    file: fleetYaml({ csc: '    gateway: { hostnames: [csc.example.com] }\n    authCallout: { image: { repository: "", tag: x } }' }),
    filePath: 'clusters[0].authCallout.image.repository',
  },
  {
    rule: 'gateway.mtlsHostnames are DNS names',
    props: { gateway: { mtlsHostnames: ['10.0.0.5'] } },
    propPath: 'gateway.mtlsHostnames',
    file: fleetYaml({ top: 'gateway: { mtlsHostnames: [10.0.0.5] }' }),
    filePath: 'gateway.mtlsHostnames',
  },
  {
    rule: 'the mTLS client URL host is in the certificate and the route (hostnames, the default of mtlsHostnames)',
    props: { csc: { gateway: { hostnames: ['csc.example.com'], mtlsClientUrls: ['mqtts://other.example.com:8883'] } } },
    propPath: 'csc.gateway.hostnames',
    file: fleetYaml({ csc: '    gateway: { hostnames: [csc.example.com], mtlsClientUrls: ["mqtts://other.example.com:8883"] }' }),
    filePath: 'clusters[0].gateway.hostnames',
    says: [/Fix: add "other\.example\.com" to gateway\.hostnames\./, /Fix: add "other\.example\.com" to gateway\.hostnames\./],
  },
  {
    rule: 'the mTLS client URL host is in gateway.mtlsHostnames when that is set',
    props: { csc: { gateway: { hostnames: ['csc.example.com'], mtlsHostnames: ['mqtt.example.com'], mtlsClientUrls: ['mqtts://other.example.com:8883'] } } },
    propPath: 'csc.gateway.mtlsHostnames',
    file: fleetYaml({ csc: '    gateway: { hostnames: [csc.example.com], mtlsHostnames: [mqtt.example.com], mtlsClientUrls: ["mqtts://other.example.com:8883"] }' }),
    filePath: 'clusters[0].gateway.mtlsHostnames',
    says: [/Fix: add "other\.example\.com" to gateway\.mtlsHostnames\./, /Fix: add "other\.example\.com" to gateway\.mtlsHostnames\./],
  },
  {
    rule: 'the mTLS client URL port is the listener\'s',
    props: { csc: { gateway: { hostnames: ['csc.example.com'], mtlsClientUrls: ['mqtts://csc.example.com:1883'] } } },
    propPath: 'csc.gateway.mtlsClientUrls',
    file: fleetYaml({ csc: '    gateway: { hostnames: [csc.example.com], mtlsClientUrls: ["mqtts://csc.example.com:1883"] }' }),
    filePath: 'clusters[0].gateway.mtlsClientUrls',
  },
  {
    rule: 'mTLS client URLs need a certificate cert-manager issues here',
    props: { certificates: undefined, gateway: { transport: GatewayTransport.TCP, mtlsClientUrls: ['mqtts://csc.example.com:8883'] } },
    propPath: 'gateway.mtlsClientUrls',
    file: fleetYaml({ certificates: '{}', top: 'gateway: { transport: tcp, mtlsClientUrls: ["mqtts://csc.example.com:8883"] }' }),
    filePath: 'gateway.mtlsClientUrls',
  },
  {
    rule: 'a TLS gateway has a certificate source',
    props: { certificates: undefined },
    propPath: 'certificates',
    file: fleetYaml({ certificates: '{}' }),
    filePath: 'certificates',
    says: [/CertificateIssuer\.fromIssuerName\("event-bus-certificate-issuer"\).*GatewayTransport\.TCP/, /\{ kind: Issuer, name: event-bus-certificate-issuer \}.*gateway\.transport: tcp/],
  },
  {
    rule: 'the Vault issuer\'s server is an http(s) URL (props only: a file cannot hold Vault settings)',
    props: { certificates: ClusterCertificates.vault({ server: 'vault.example.com', path: 'pki/sign/event-bus', auth: VaultAuth.kubernetes({ role: 'r', serviceAccountName: 'vault-issuer' }) }) },
    propPath: 'certificates.vault.server',
  },
  {
    rule: 'a certificate lives at least an hour',
    props: { certificates: ClusterCertificates.issuer(issuer, { duration: Duration.minutes(30) }) },
    propPath: 'certificates.duration',
    file: fleetYaml({ certificates: '{ issuer: { kind: Issuer, name: x }, duration: 30m }' }),
    filePath: 'certificates.duration',
    says: [/Fix: use e\.g\. Duration\.days\(90\)\./, /Fix: use e\.g\. 90d\./],
  },
  {
    rule: 'renewBefore is shorter than the duration',
    props: { certificates: ClusterCertificates.issuer(issuer, { duration: Duration.days(10), renewBefore: Duration.days(10) }) },
    propPath: 'certificates.renewBefore',
    file: fleetYaml({ certificates: '{ issuer: { kind: Issuer, name: x }, duration: 10d, renewBefore: 10d }' }),
    filePath: 'certificates.renewBefore',
    says: [/Duration\.days\(30\) for Duration\.days\(90\)/, /30d for 90d/],
  },
  {
    rule: 'a self-signed CSC certificate needs a trust the CPCs can know',
    props: { certificates: ClusterCertificates.selfSigned() },
    propPath: 'certificates',
    file: fleetYaml({ certificates: '{ selfSigned: true }' }),
    filePath: 'certificates',
    says: [
      /replace ClusterCertificates\.selfSigned\(\) with ClusterCertificates\.fleetCa\(.*LeafTrust\.fromExistingConfigMap/,
      /replace \{ selfSigned: true \} with \{ ca: \{\} .*\}.*cscTrust to the ConfigMap or Secret .*\{ configMapName: \.\.\. \}/,
    ],
  },
  {
    rule: 'inline delivery needs a key store',
    props: { delivery: SecretsDelivery.inline({ allowTestKeys: true }), keys: undefined, mtls: false },
    propPath: 'keys',
    file: fleetYaml({ delivery: '{ type: inline }', keys: 'mtls: false' }),
    filePath: 'keys',
    says: [/DirectoryKeyStore\.open\(dir\)/, /set keys to \{ directory: DIR \} \(or --secrets DIR\)/],
  },
  {
    rule: 'immutable Secrets need a delivery that creates Secrets',
    props: { immutableSecrets: true },
    propPath: 'immutableSecrets',
    file: fleetYaml({ top: 'immutableSecrets: true' }),
    filePath: 'immutableSecrets',
    says: [/SecretsDelivery\.externalSecrets/, /\{ type: externalSecrets \}/],
  },
  {
    rule: 'a fleet-level Secret override names a Secret every cluster has',
    props: { secretOverrides: [{ secret: 'nats-leaf-csc', name: 'x' }] },
    propPath: 'secretOverrides[0]',
    file: fleetYaml({ top: 'secretOverrides: [{ secret: nats-leaf-csc, name: x }]' }),
    filePath: 'secretOverrides[0]',
    says: [/Fix: move this override to cpcs\[0\]\.secretOverrides\./, /Fix: move this override to clusters\[1\]\.secretOverrides\./],
  },
  {
    rule: 'a cluster\'s Secret override names a Secret of that cluster',
    props: { csc: { gateway: { hostnames: ['csc.example.com'] }, secretOverrides: [{ secret: 'nats-leaf-csc', name: 'x' }] } },
    propPath: 'csc.secretOverrides',
    file: fleetYaml({ csc: '    gateway: { hostnames: [csc.example.com] }\n    secretOverrides: [{ secret: nats-leaf-csc, name: x }]' }),
    filePath: 'clusters[0].secretOverrides',
  },
  {
    rule: 'a CPC\'s cscEndpoint speaks the CSC gateway\'s protocol',
    props: { cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, cscEndpoint: 'nats://csc.example.com:7422' }] },
    propPath: 'cpcs[0].cscEndpoint',
    file: fleetYaml({ cpc: '    gateway: { hostnames: [cpc-1.example.com] }\n    cscEndpoint: nats://csc.example.com:7422' }),
    filePath: 'clusters[1].cscEndpoint',
  },
  {
    rule: 'the fleet\'s cscEndpoint is a leafnode URL',
    props: { cscEndpoint: 'https://csc.example.com' },
    propPath: 'cscEndpoint',
    file: fleetYaml({ top: 'cscEndpoint: https://csc.example.com' }),
    filePath: 'cscEndpoint',
  },
  {
    rule: 'a CPC has a cscEndpoint (given, or derived from the CSC gateway)',
    props: { mtls: false, csc: { gateway: { enabled: false } } },
    propPath: 'cpcs[0].cscEndpoint',
    file: fleetYaml({ top: 'mtls: false', csc: '    gateway: { enabled: false }' }),
    filePath: 'clusters[1].cscEndpoint',
  },
  {
    rule: 'extra account names are not reserved',
    props: { extraAccounts: ['SYS'] },
    propPath: 'extraAccounts',
    file: fleetYaml({ top: 'extraAccounts: [SYS]' }),
    filePath: 'extraAccounts',
  },
  {
    rule: 'a cluster\'s MQTT stream replicas are a replica count',
    props: { cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, mqttStreams: { replicas: 9 } }] },
    propPath: 'cpcs[0].mqttStreams.replicas',
    // In a file, the schema refuses it first (at /clusters/1/mqttStreams/replicas, with the line).
  },
  {
    rule: 'crossLayer exports do not overlap',
    props: { crossLayer: { cscExports: ['x.>'], cpcExports: ['x.y'] } },
    propPath: 'crossLayer',
    file: fleetYaml({ top: 'crossLayer: { cscExports: [x.>], cpcExports: [x.y] }' }),
    filePath: 'crossLayer',
  },
  {
    rule: 'user NKey permission names are not the chart\'s own',
    props: { nkeyPermissions: [{ name: 'surveyor', publicKey: 'U', account: 'CSC' }] },
    propPath: 'nkeyPermissions',
    file: fleetYaml({ top: 'nkeyPermissions: [{ name: surveyor, publicKey: U, account: CSC }]' }),
    filePath: 'nkeyPermissions',
  },
  {
    rule: 'the namespace is a Kubernetes namespace name',
    props: { metadata: { namespace: 'Bad_NS' } },
    propPath: 'metadata.namespace',
    file: fleetYaml({ top: 'namespace: Bad_NS' }),
    filePath: 'namespace',
  },
  {
    rule: 'a cluster\'s labels are Kubernetes labels',
    props: { csc: { gateway: { hostnames: ['csc.example.com'] }, metadata: { labels: { 'a b': 'x' } } } },
    propPath: 'csc.metadata.labels',
    file: fleetYaml({ csc: '    gateway: { hostnames: [csc.example.com] }\n    labels: { "a b": x }' }),
    filePath: 'clusters[0].labels',
  },
];

/** Fields and names of constructs the library makes for the user, and the CLI's old side channel. */
const INTERNAL = /externalHostnames|MtlsServerCertificate|ServerCertificate: |TLSRoute hostnames(?! \[)|addIpAddress|addDnsName|cliMessage|fleet\/c(sc|pc-\w+)\b|\/(Secrets|Gateway|Issuer|EnvoyProxy)\b|\boverrides\b(?!\]| (to|apply|of|a))/;
/** How props spell values; a fleet file spells them otherwise. */
const PROPS_SPELLING = /\b[A-Z][A-Za-z]+\.(from[A-Za-z]*|open|inline|existing|externalSecrets|vaultStaticSecrets|days|hours|minutes|seconds)\(|\b(GatewayTransport|RouteApiVersion|RouteRendering|PrivateKeyAlgorithm|MqttStreamStorage|EnvoyServiceType)\.|\bcpcs\[|(?<![\w/.:-])csc\.(gateway|secretOverrides|labels|mqttStreams|nkeyPermissions|authCallout)\b|\baddCpc\b/;

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-errors-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function messageOf(build: () => unknown): string {
  try {
    build();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error, got none');
}

/** What `dsx-event-bus synth -c FILE` prints after `ERROR: `, built the way synth builds it. */
let n = 0;
function fileMessage(text: string): { file: string; message: string } {
  const file = path.join(dir, `fleet-${n++}.yaml`);
  fs.writeFileSync(file, text);
  const message = messageOf(() => {
    try {
      new EventBusFleet(Testing.app(), 'fleet', readFleetFile(file));
    } catch (e) {
      if (!(e instanceof EventBusError)) throw e;
      throw inFileTerms(inFileTerms(e, { fleetPath: 'fleet', file, doc: loadFleetDoc(file) }));
    }
  });
  return { file, message };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

describe('the error catalogue, through the props API', () => {
  test.each(CASES.map((c) => [c.rule, c] as const))('fails when %s: the message names the prop path', (_rule, c) => {
    const message = messageOf(() => new EventBusFleet(Testing.app(), 'fleet', base(c.props)));
    expect(message).toMatch(new RegExp(`^fleet: ${esc(c.propPath)}: `));
    expect(message).not.toMatch(INTERNAL);
    if (c.says) expect(message).toMatch(c.says[0]);
  });

  test('fails when addCpc gets an id with the cpc- prefix: the fix strips the prefix', () => {
    const fleet = new EventBusFleet(Testing.app(), 'fleet', base({}));
    expect(() => fleet.addCpc({ id: 'cpc-2' })).toThrow(/^fleet: addCpc: id: CPC id "cpc-2" is invalid\. .*Fix: use "2": the cluster's name adds the "cpc-" prefix to the id \("cpc-2" would name it cpc-cpc-2\)\.$/);
    expect(() => EventBusCluster.cpc('CPC_3')).toThrow(/Fix: use "3"/);
    // A valid-looking id without a separator is not second-guessed.
    expect(() => EventBusCluster.cpc('CPC4')).toThrow(/Fix: use e\.g\. "cpc4"/);
  });
});

describe('the error catalogue, through a fleet file', () => {
  test.each(CASES.filter((c) => c.file).map((c) => [c.rule, c] as const))('fails when %s: the message names the file path in file spelling', (_rule, c) => {
    const { file, message } = fileMessage(c.file!);
    expect(message).toMatch(new RegExp(`^${esc(file)}: ${esc(c.filePath!)}: `));
    expect(message).not.toMatch(INTERNAL);
    expect(message).not.toMatch(PROPS_SPELLING);
    if (c.says) expect(message).toMatch(c.says[1]);
  });
});

describe('the mapping of prop paths to file paths', () => {
  const doc = { clusters: [{ type: 'cpc', id: 'a' }, { type: 'csc' }, { type: 'cpc', id: 'b' }] } as never;

  test('csc and cpcs[i] are entries of clusters, in the file\'s order; other members keep their names', () => {
    expect(fleetFileField('csc.gateway.hostnames', doc)).toBe('clusters[1].gateway.hostnames');
    expect(fleetFileField('cpcs[0].id', doc)).toBe('clusters[0].id');
    expect(fleetFileField('cpcs[1].secretOverrides[2]', doc)).toBe('clusters[2].secretOverrides[2]');
    expect(fleetFileField('cpcs', doc)).toBe('clusters');
    expect(fleetFileField('certificates.duration', doc)).toBe('certificates.duration');
    expect(fleetFileField('cpcs[1].mtlsServerTls', doc)).toBe('mtlsCertsDirectory');
  });

  test('prop paths inside a text are mapped, hosts that start with csc. are not', () => {
    expect(fleetFileText('move it to csc.secretOverrides and cpcs[1].secretOverrides; tls://csc.example.com:7422', doc))
      .toBe('move it to clusters[1].secretOverrides and clusters[2].secretOverrides; tls://csc.example.com:7422');
  });

  test('values are written the file\'s way', () => {
    expect(fileSpelling('use GatewayTransport.TCP, Duration.days(90), Duration.hours(3) or CertificateIssuer.fromClusterIssuerName("ca")'))
      .toBe('use tcp, 90d, 3h or { kind: ClusterIssuer, name: ca }');
    expect(fileSpelling('ClusterRole.CSC stays')).toBe('ClusterRole.CSC stays');
  });
});

describe('an uncaught error', () => {
  test('prints its message and stack only (no cliMessage: undefined, no description)', () => {
    const e = problem({ where: 'fleet', field: 'cpcs[0].id', problem: 'x is wrong', fix: 'fix it' });
    const printed = inspect(e);
    expect(printed).toMatch(/^EventBusError: fleet: cpcs\[0\]\.id: x is wrong\. Fix: fix it\./);
    expect(printed).not.toMatch(/cliMessage|description|undefined/);
    expect(Object.keys(e)).not.toContain('description');
    expect(e.description?.field).toBe('cpcs[0].id');
  });
});

describe('constructs word errors in props terms only', () => {
  /** Every .ts file under src/ outside the CLI and the generated bindings. */
  function constructSources(folder = path.join(__dirname, '..', 'src')): string[] {
    return fs.readdirSync(folder, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(folder, e.name);
      if (e.isDirectory()) return e.name === 'cli' || e.name === 'imports' ? [] : constructSources(p);
      return e.name.endsWith('.ts') ? [p] : [];
    });
  }

  test('no construct imports the CLI or words a fix for the fleet file (the CLI maps at the boundary)', () => {
    const offending = constructSources().flatMap((file) => {
      const text = fs.readFileSync(file, 'utf8');
      const rel = path.relative(path.join(__dirname, '..'), file);
      return [
        ...(/from '(\.\.?\/)+cli\//.test(text) ? [`${rel}: imports src/cli`] : []),
        ...(/\bcliFix\b|cliMessage|withFieldNames|in the fleet file/.test(text) ? [`${rel}: words an error for the fleet file`] : []),
      ];
    });
    expect(offending).toEqual([]);
  });
});

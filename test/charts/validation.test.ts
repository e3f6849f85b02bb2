import { Testing } from 'cdk8s';
import {
  CertificateIssuer, ClusterCertificates, CpcChart, CscChart, EventBusCluster, EventBusFleet, EventBusFleetProps, GatewayTransport, LeafTrust,
  NKeyKind, NKeySeed, SecretsDelivery,
} from '../../src';
import { DeterministicKeyStore } from '../../src/testing';
import { validateManifests } from '../util/schema';

// Validation parity with the upstream chart (https://github.com/NVIDIA/dsx-exchange/blob/main/deploy/nats-event-bus/templates/validation.yaml):
// every rule fails at synth time with the bad value and the fix.
const keys = new DeterministicKeyStore();
const issuer = CertificateIssuer.fromIssuerName('event-bus-certificate-issuer');
const base = (extra: Partial<EventBusFleetProps> = {}): EventBusFleetProps => ({
  keys,
  delivery: SecretsDelivery.existing(),
  certificates: ClusterCertificates.issuer(issuer),
  // The issuer is not the library's: the CPCs' trust of the CSC is stated.
  cscTrust: LeafTrust.publicRoots(),
  csc: { gateway: { hostnames: ['csc.example.com'] } },
  cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
  ...extra,
});
const fleet = (extra: Partial<EventBusFleetProps> = {}) => new EventBusFleet(Testing.app(), 'fleet', base(extra));

describe('validation parity with the upstream chart', () => {
  test('fails when a CPC id is not lower-case letters and digits', () => {
    expect(() => fleet({ cpcs: [{ id: 'CPC_1' }] })).toThrow(/fleet: cpcs\[0\]\.id: CPC id "CPC_1" is invalid\. Allowed: lower-case letters and digits only \(\^\[a-z0-9\]\+\$\).*Fix: use "1": the cluster\'s name adds the "cpc-" prefix/);
    expect(() => new CpcChart(Testing.app(), 'cpc', { cluster: EventBusCluster.cpc('1.2'), cscEndpoint: 'tls://csc:7422', delivery: SecretsDelivery.existing(), gateway: { enabled: false } }))
      .toThrow(/CPC id "1\.2" is invalid/);
  });

  test('fails when a CPC id is listed twice', () => {
    expect(() => fleet({ cpcs: [{ id: '1' }, { id: '2' }, { id: '1' }] })).toThrow(/^fleet: cpcs: CPC id "1" is listed twice\. Fix: list each CPC id once/);
    expect(() => new CscChart(Testing.app(), 'csc', { cluster: EventBusCluster.csc({ cpcIds: ['7', '7'] }), delivery: SecretsDelivery.existing(), gateway: { enabled: false } })).toThrow(/CPC id "7" is listed twice/);
  });

  test('fails when a CPC has no CSC endpoint', () => {
    expect(() => fleet({ mtls: false, csc: { gateway: { enabled: false } } })).toThrow(/fleet: cpcs\[0\]\.cscEndpoint: cscEndpoint is missing: a CPC needs the URL of the CSC leafnode endpoint.*Fix: set cscEndpoint/);
    expect(() => new CpcChart(Testing.app(), 'cpc', { cluster: EventBusCluster.cpc('1'), cscEndpoint: '', delivery: SecretsDelivery.existing() })).toThrow(/cscEndpoint is missing/);
  });

  test('fails when the CSC endpoint is not a leafnode URL', () => {
    expect(() => fleet({ cscEndpoint: 'https://csc.example.com' })).toThrow(/cscEndpoint "https:\/\/csc\.example\.com" is not a leafnode URL\. Allowed: scheme nats, tls, ws or wss/);
    expect(() => fleet({ cscEndpoint: 'tls://csc.example.com:99999' })).toThrow(/is not a leafnode URL/);
  });

  test('fails when a CPC would reach the CSC TLS gateway without TLS (or the TCP gateway with TLS)', () => {
    expect(() => fleet({ cscEndpoint: 'nats://csc.example.com:7422' })).toThrow(/uses nats:\/\/ but the CSC gateway terminates TLS.*Fix: use tls:\/\/csc\.example\.com:7422/);
    expect(() => fleet({ certificates: undefined, gateway: { transport: GatewayTransport.TCP }, cscEndpoint: 'tls://csc.example.com:7422' }))
      .toThrow(/uses tls:\/\/ but the CSC gateway's nats-leafnode listener is plain TCP/);
  });

  test.each([
    ['Launch-Layer', /extra account "Launch-Layer" is not a valid NATS account name\. Allowed: letters and digits only, starting with a letter/],
    ['9Lives', /is not a valid NATS account name/],
    ['sys', /extra account "sys" conflicts with a built-in NATS account name/],
    ['Csc', /conflicts with a built-in NATS account name/],
    ['cpcTools', /extra account "cpcTools" starts with "cpc"/],
  ])('fails when an extra account is %s', (name, message) => {
    expect(() => fleet({ extraAccounts: [name] })).toThrow(message);
    // Named as the fleet's option (found by test/proof/fuzz.test.ts: it used to name the key store).
    expect(() => fleet({ extraAccounts: [name] })).toThrow(/^fleet: extraAccounts: extra account/);
  });

  test('fails when two extra accounts share a secret (and env) token', () => {
    expect(() => fleet({ extraAccounts: ['LaunchLayer', 'launchLayer'] }))
      .toThrow(/extra account "launchLayer" normalizes to secret token launchlayer, which is already used by extra account "LaunchLayer"/);
  });

  test('fails when a user NKey permission takes a name the chart generates', () => {
    const publicKey = NKeySeed.generate(NKeyKind.USER).publicKey.value;
    for (const name of ['nack-controller', 'surveyor', 'mtls-leaf', 'mtls-authx-leaf', 'mtls-sys-leaf', 'leaf-cpc-1', 'leaf-launchlayer-cpc-2']) {
      expect(() => fleet({ nkeyPermissions: [{ name, publicKey, account: 'SYS' }] }))
        .toThrow(new RegExp(`permission name "${name}" is reserved: the chart generates an entry of that name.*Fix: rename the entry`));
    }
  });

  test('fails when a user NKey permission has a bad public key or account', () => {
    const account = NKeySeed.generate(NKeyKind.ACCOUNT).publicKey.value;
    expect(() => fleet({ nkeyPermissions: [{ name: 'sensor', publicKey: account, account: 'SYS' }] })).toThrow(/sensor\.publicKey: holds A[A-Z2-7]{55}, which is an account key, not a user key/);
    const user = NKeySeed.generate(NKeyKind.USER).publicKey.value;
    expect(() => fleet({ nkeyPermissions: [{ name: 'sensor', publicKey: user, account: 'Ghost' }] }))
      .toThrow(/account "Ghost" does not exist on CSC\. Allowed: CSC, SYS, AUTHX/);
    expect(() => fleet({ cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, nkeyPermissions: [{ name: 'sensor', publicKey: user, account: 'Ghost' }] }] }))
      .toThrow(/account "Ghost" does not exist on CPC-1\. Allowed: CPC, CSC, SYS, AUTHX/);
  });

  // Found by test/e2e/fleet.test.ts: the chart renders the account CSC on every CPC (its leaf binds to it).
  test('a CPC user may be placed in the account CSC, as on the CSC', () => {
    const user = NKeySeed.generate(NKeyKind.USER).publicKey.value;
    const f = fleet({ cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] }, nkeyPermissions: [{ name: 'sensor', publicKey: user, account: 'CSC' }] }] });
    const nkey = f.cpcs[0].helmValues().global.eventBus.auth.permissions.nkey;
    expect(nkey.sensor).toMatchObject({ public_key: user, account: 'CSC' });
  });

  test.each(['sensors. temperature', 'sensors..x', 'events.>.x', 'sen*sors', '', 'a.b>'])('fails when a permission subject is %j', (subject) => {
    const user = NKeySeed.generate(NKeyKind.USER).publicKey.value;
    expect(() => fleet({ nkeyPermissions: [{ name: 'sensor', publicKey: user, account: 'SYS', subscribeAllow: ['ok.>', subject] }] }))
      .toThrow(/nkeyPermissions\.sensor\.subscribeAllow: ".*" is not a NATS subject\. Allowed: dot-separated tokens/);
  });

  test('accepts user NKey permissions and writes them to the values', () => {
    const user = NKeySeed.generate(NKeyKind.USER).publicKey.value;
    const f = fleet({ extraAccounts: ['LaunchLayer'], nkeyPermissions: [{ name: 'sensor', publicKey: user, account: 'LaunchLayer', publishAllow: ['sensors.>'] }] });
    expect(f.csc.helmValues().global.eventBus.auth.permissions.nkey.sensor).toEqual({ public_key: user, account: 'LaunchLayer', permissions: { pub: { allow: ['sensors.>'] } } });
  });

  test('a gateway in another namespace gets its certificate from a ClusterIssuer the chart creates', () => {
    const f = fleet({ certificates: ClusterCertificates.selfSigned(), cscTrust: LeafTrust.fromExistingConfigMap('csc-gateway-ca'), gateway: { namespace: 'envoy-gateway-system' } });
    const objects = f.csc.toJson();
    const cert = objects.find((o: any) => o.kind === 'Certificate' && o.metadata.name === 'event-bus-server-tls-certificate');
    expect(cert.metadata.namespace).toBe('envoy-gateway-system');
    expect(cert.spec.issuerRef).toMatchObject({ kind: 'ClusterIssuer' });
    expect(objects.filter((o: any) => o.kind === 'Issuer')).toEqual([]);
    validateManifests(objects);
  });

  test('fails when a TLS gateway has no certificate source or no names', () => {
    expect(() => fleet({ certificates: undefined })).toThrow(/the TLS gateway needs a server certificate, but there is no certificate issuer and no serverTlsSecret/);
    expect(() => fleet({ csc: {} })).toThrow(/fleet: gateway\.hostnames: the TLS gateway certificate has no names/);
  });

  test('fails when mTLS client URLs cannot be checked', () => {
    expect(() => fleet({ certificates: undefined, gateway: { transport: GatewayTransport.TCP, mtlsClientUrls: ['mqtts://csc.example.com:8883'] } }))
      .toThrow(/gateway\.mtlsClientUrls is set, but the mTLS server certificate is not issued by cert-manager here/);
  });

  test('fails when the mTLS hostnames disagree, naming all three values', () => {
    const build = () => fleet({ csc: { gateway: { hostnames: ['csc.example.com'], mtlsClientUrls: ['mqtts://other.example.com:8883'] } } });
    expect(build).toThrow(/client URL host "other\.example\.com".*server certificate SANs \[.*"csc\.example\.com"\].*TLSRoute hostnames \["csc\.example\.com"\]/);
  });

  test('fails when the mTLS client URL host is in neither the certificate nor the route, naming the prop the user set', () => {
    const build = () => fleet({ csc: { gateway: { hostnames: ['csc.example.com'], mtlsClientUrls: ['mqtts://other.example.com:8883'] } } });
    expect(build).toThrow(/^fleet: csc\.gateway\.hostnames: mTLS hostname agreement fails: .*Fix: add "other\.example\.com" to gateway\.hostnames\./);
    expect(build).not.toThrow(/externalHostnames|MtlsServerCertificate|TLSRoute hostnames\b(?! \[)/);
  });
});

/**
 * The NKeys in the synthesized Secrets, proven against a real nats-server and
 * the official `nats` client: every user key of a CSC and two CPCs (over a key
 * store written by `dsx-event-bus nkeys`, and over the deterministic test
 * store) authenticates with the seed from the same Secrets and round-trips a
 * message; a seed of another cluster is refused. The account and curve keys
 * of auth_callout are checked by parsing and by sealing/opening with nkeys.js.
 *
 * The auth_callout block and the leafnode remotes with `nkey:` are checked
 * here as the keys relate (issuer, xkey, auth users, remote seeds) and parsed
 * by the installed nats-server, which must be >= 2.12 (the chart's nats
 * subchart pins 2.12.x; scripts/test-tools.sh fetches it). Whether they work
 * when running is proven by the end-to-end fleet under test/e2e/: real leafs
 * through a real auth callout.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { connect, NatsConnection, nkeyAuthenticator } from 'nats';
import * as nkeys from 'nkeys.js';
import { SynthOutput, synthFleet, tempDir, writeProofReport } from './scenarios';
import {
  ClusterCertificates, DirectoryKeyStore, EventBusFleet, IKeyStore, LeafTrust, NKeyKind, NKeyPublicKey, NKeySeed, SecretsDelivery,
} from '../../src';
import { DeterministicKeyStore } from '../../src/testing';
import { useNativeEd25519, withTweetnaclEd25519 } from '../e2e/native-ed25519';
import { ensureBuilt, nkeys as nkeysCli } from '../util/cli';
import { NATS_SERVER_BIN, natsServerAvailable, natsTest, RunningNatsServer, startNatsServer } from '../util/nats-server';
import { findSeeds } from '../util/seeds';
import { waitFor } from '../util/wait';

// The clients sign the servers' nonces with Node's ed25519 (nkeys.js's own
// tweetnacl took 12 of this file's 22 s in jest): nats-server, which verifies
// every signature, is the judge of the keys. The checks that use nkeys.js as
// an implementation independent of Node's crypto run on its tweetnacl
// (withTweetnaclEd25519).
useNativeEd25519();

const enc = new TextEncoder();
const dec = new TextDecoder();
const CPC_IDS = ['1', '2'];
const ACCOUNT = 'LaunchLayer';
const TOKEN = 'launchlayer';

/** Replaces anything seed-shaped, so a failure message never prints a seed. */
function redact(text: string): string {
  return text.replace(/S[UAXONCP][A-Z2-7]{56}/g, (s) => `${s.slice(0, 2)}…(seed redacted)`);
}

/** The Secrets of one cluster as the manifests carry them: name -> key -> decoded value. */
type ClusterSecrets = Map<string, Record<string, string>>;

function secretsOf(out: SynthOutput, cluster: string): ClusterSecrets {
  const map: ClusterSecrets = new Map();
  for (const f of out.files) {
    if (!f.relativePath.startsWith(`${cluster}/manifests/`) || f.object?.kind !== 'Secret') continue;
    const data = f.object.data as Record<string, string>;
    map.set(f.object.metadata!.name!, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])));
  }
  return map;
}

function value(secrets: ClusterSecrets, name: string, key: string): string {
  const s = secrets.get(name);
  if (!s || s[key] === undefined) throw new Error(`no ${name}/${key} among the synthesized Secrets (${[...secrets.keys()].join(', ')})`);
  return s[key];
}

/** One user of a server: its public key (server side) and its seed (client side), both from Secrets. */
interface User {
  readonly name: string;
  readonly pubkey: string;
  readonly seed: string;
}

/** The fleet of this suite: inline Secrets, mTLS, one extra account, two CPCs. */
function synthesize(keys: IKeyStore): { out: SynthOutput; clusters: Record<string, ClusterSecrets> } {
  const out = synthFleet((app) => new EventBusFleet(app, 'fleet', {
    keys,
    delivery: SecretsDelivery.inline({ allowTestKeys: true }),
    extraAccounts: [ACCOUNT],
    certificates: ClusterCertificates.selfSigned(),
    cscTrust: LeafTrust.fromExistingConfigMap('csc-gateway-ca'),
    csc: { gateway: { hostnames: ['csc.event-bus.example.com'] } },
    cpcs: CPC_IDS.map((id) => ({ id, gateway: { hostnames: [`cpc-${id}.event-bus.example.com`] } })),
  }));
  const clusters: Record<string, ClusterSecrets> = {};
  for (const c of ['csc', ...CPC_IDS.map((id) => `cpc-${id}`)]) clusters[c] = secretsOf(out, c);
  return { out, clusters };
}

/** Every user key a cluster's NATS server knows, with the seed its client uses. */
function usersOf(clusters: Record<string, ClusterSecrets>, cluster: string): User[] {
  const s = clusters[cluster];
  const users: User[] = [
    { name: 'authx', pubkey: value(s, 'nats-authx-user', 'pubkey'), seed: value(s, 'auth-callout-keys', 'nkey-seed') },
    { name: 'nack', pubkey: value(s, 'nats-nack-user', 'pubkey'), seed: value(s, 'nats-nack-user', 'nack-user.nk') },
    { name: 'surveyor', pubkey: value(s, 'nats-surveyor', 'pubkey'), seed: value(s, 'nats-surveyor', 'seed') },
    ...['nats-mtls-leaf', 'nats-mtls-authx-leaf', 'nats-mtls-sys-leaf'].map((n) => ({ name: n, pubkey: value(s, n, 'pubkey'), seed: value(s, n, 'seed') })),
  ];
  if (cluster === 'csc') {
    // The CSC accepts each CPC's leaf users; their seeds live only on the CPCs.
    for (const id of CPC_IDS) {
      for (const token of [undefined, TOKEN]) {
        const t = token ? `${token}-` : '';
        users.push({ name: `leaf-${t}cpc-${id}`, pubkey: value(s, `nats-leaf-${t}cpc-${id}`, 'pubkey'), seed: value(clusters[`cpc-${id}`], `nats-leaf-${t}csc`, 'seed') });
      }
    }
  }
  return users;
}

function serverConfig(users: User[]): string {
  return `authorization {\n  users: [\n${users.map((u) => `    { nkey: ${u.pubkey} }  # ${u.name}`).join('\n')}\n  ]\n}`;
}

async function connectAs(server: RunningNatsServer, seed: string, name: string): Promise<NatsConnection> {
  return connect({ servers: server.url, authenticator: nkeyAuthenticator(enc.encode(seed)), name, reconnect: false, timeout: 5000 });
}

/** Runs `body`; on failure adds the server log (public keys only) to the error. */
async function withServer(users: User[], body: (server: RunningNatsServer) => Promise<void>): Promise<void> {
  const server = await startNatsServer({ config: serverConfig(users) });
  try {
    await body(server);
  } catch (e) {
    throw new Error(`${redact((e as Error).message)}\n--- nats-server log ---\n${redact(server.logs())}`);
  } finally {
    await server.stop();
  }
}

let keysAuthenticated = 0;
let seedsRefused = 0;
let directory: { out: SynthOutput; clusters: Record<string, ClusterSecrets> };
let deterministic: { out: SynthOutput; clusters: Record<string, ClusterSecrets> };
let storeRoot: string;

beforeAll(() => {
  ensureBuilt();
  storeRoot = tempDir('dsx-proof-nats-');
  const root = path.join(storeRoot, 'secrets');
  const r = nkeysCli(['-o', root, '--extra-account', ACCOUNT, ...CPC_IDS]);
  if (r.status !== 0) throw new Error(`dsx-event-bus nkeys failed: ${redact(r.stderr)}`);
  directory = synthesize(DirectoryKeyStore.open(root));
  deterministic = synthesize(new DeterministicKeyStore());
}, 240_000);

afterAll(() => {
  if (storeRoot) fs.rmSync(storeRoot, { recursive: true, force: true });
  writeProofReport('nats', { keysAuthenticated, seedsRefused, server: natsServerVersion() ?? 'absent' });
});

function natsServerVersion(): string | undefined {
  if (!natsServerAvailable()) return undefined;
  const r = spawnSync(NATS_SERVER_BIN, ['--version'], { encoding: 'utf8' });
  return /v?(\d+\.\d+\.\d+)/.exec(r.stdout + r.stderr)?.[1];
}

const STORES: Array<[string, () => typeof directory, () => typeof directory]> = [
  ['a key store written by `dsx-event-bus nkeys`', () => directory, () => deterministic],
  ['the DeterministicKeyStore', () => deterministic, () => directory],
];

describe.each(STORES)('Secrets synthesized over %s', (_name, mine, other) => {
  natsTest('every user key of the CSC (incl. every CPC leaf user) authenticates with its seed and round-trips a message; foreign seeds are refused', async () => {
    const { clusters } = mine();
    const users = usersOf(clusters, 'csc');
    expect(users.map((u) => u.name)).toEqual([
      'authx', 'nack', 'surveyor', 'nats-mtls-leaf', 'nats-mtls-authx-leaf', 'nats-mtls-sys-leaf',
      'leaf-cpc-1', 'leaf-launchlayer-cpc-1', 'leaf-cpc-2', 'leaf-launchlayer-cpc-2',
    ]);
    // Ten distinct users: a copy mix-up (e.g. two Secrets with one key) would shrink the set.
    expect(new Set(users.map((u) => u.pubkey)).size).toBe(users.length);
    await withServer(users, async (server) => {
      await roundTripAll(server, users);
      // Seeds of other clusters and of the other key store are refused by the server.
      const foreign = [
        usersOf(clusters, 'cpc-1')[0], // cpc-1's authx user
        usersOf(clusters, 'cpc-2')[2], // cpc-2's surveyor
        usersOf(other().clusters, 'csc')[6], // leaf-cpc-1 of another fleet
      ];
      await expectRefused(server, foreign);
    });
  });

  for (const id of CPC_IDS) {
    natsTest(`every user key of CPC-${id} authenticates with its seed and round-trips a message; seeds of the CSC and the other CPC are refused`, async () => {
      const { clusters } = mine();
      const users = usersOf(clusters, `cpc-${id}`);
      expect(users).toHaveLength(6);
      await withServer(users, async (server) => {
        await roundTripAll(server, users);
        const otherCpc = CPC_IDS.find((x) => x !== id)!;
        await expectRefused(server, [usersOf(clusters, 'csc')[1], usersOf(clusters, `cpc-${otherCpc}`)[0]]);
      });
    });
  }

  test('auth_callout keys: the issuer is an account key, the xkey a curve key, and the seeds in auth-callout-keys derive them', () => withTweetnaclEd25519(() => {
    for (const cluster of ['csc', ...CPC_IDS.map((id) => `cpc-${id}`)]) {
      const s = mine().clusters[cluster];
      const issuerPub = value(s, 'nats-auth-signing', 'pubkey');
      const xkeyPub = value(s, 'nats-xkey', 'pubkey');
      expect(NKeyPublicKey.parse(issuerPub, `${cluster} nats-auth-signing`, NKeyKind.ACCOUNT).kind).toBe(NKeyKind.ACCOUNT);
      expect(NKeyPublicKey.parse(xkeyPub, `${cluster} nats-xkey`, NKeyKind.CURVE).kind).toBe(NKeyKind.CURVE);
      expect(() => NKeyPublicKey.parse(xkeyPub, 'xkey', NKeyKind.ACCOUNT)).toThrow(/which is a curve key, not an account key/);
      expect(NKeyPublicKey.parse(value(s, 'nats-authx-user', 'pubkey'), 'authx', NKeyKind.USER).kind).toBe(NKeyKind.USER);
      // nkeys.js, an independent implementation, agrees on the checksums and the derivations.
      expect(nkeys.fromPublic(issuerPub).getPublicKey()).toBe(issuerPub);
      const issuer = nkeys.fromSeed(enc.encode(value(s, 'auth-callout-keys', 'issuer-seed')));
      expect([dec.decode(issuer.getSeed()).slice(0, 2), issuer.getPublicKey()]).toEqual(['SA', issuerPub]);
      const xkey = nkeys.fromCurveSeed(enc.encode(value(s, 'auth-callout-keys', 'xkey-seed')));
      expect([dec.decode(xkey.getSeed()).slice(0, 2), xkey.getPublicKey()]).toEqual(['SX', xkeyPub]);
      const authx = nkeys.fromSeed(enc.encode(value(s, 'auth-callout-keys', 'nkey-seed')));
      expect(authx.getPublicKey()).toBe(value(s, 'nats-authx-user', 'pubkey'));
      // The issuer signs what the server verifies with the public key (auth-callout responses are signed JWTs).
      const signature = issuer.sign(enc.encode('authorization response'));
      expect(nkeys.fromPublic(issuerPub).verify(enc.encode('authorization response'), signature)).toBe(true);
      expect(NKeySeed.parse(value(s, 'auth-callout-keys', 'issuer-seed'), 'issuer-seed', NKeyKind.ACCOUNT).publicKey.value).toBe(issuerPub);
    }
  }));

  test('sealing with the xkey works as nkeys defines: sealed to the xkey public key, opened with the xkey seed (and back)', () => {
    for (const cluster of ['csc', 'cpc-1']) {
      const s = mine().clusters[cluster];
      const xkeyPub = value(s, 'nats-xkey', 'pubkey');
      const service = nkeys.fromCurveSeed(enc.encode(value(s, 'auth-callout-keys', 'xkey-seed')));
      // The server side: its own curve pair, sealing an authorization request to the service's xkey.
      const server = nkeys.createCurve();
      const request = enc.encode(`authorization request for ${cluster}`);
      const sealed = server.seal(request, xkeyPub);
      expect(Buffer.from(sealed).includes(Buffer.from(request))).toBe(false);
      expect(dec.decode(service.open(sealed, server.getPublicKey())!)).toBe(`authorization request for ${cluster}`);
      // The response is sealed by the service's xkey seed to the server's curve key.
      const response = service.seal(enc.encode('authorization response'), server.getPublicKey());
      expect(dec.decode(server.open(response, xkeyPub)!)).toBe('authorization response');
      // Only that pair opens it: another cluster's xkey, a tampered box or a wrong sender fail.
      const otherXkey = nkeys.fromCurveSeed(enc.encode(value(other().clusters[cluster], 'auth-callout-keys', 'xkey-seed')));
      expect(otherXkey.open(sealed, server.getPublicKey())).toBeNull();
      const tampered = Uint8Array.from(sealed);
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] + 1) % 256;
      expect(service.open(tampered, server.getPublicKey())).toBeNull();
      expect(service.open(sealed, nkeys.createCurve().getPublicKey())).toBeNull();
      // Curve keys cannot sign and user keys cannot seal: the kinds are not interchangeable.
      expect(() => service.sign(request)).toThrow(/curve key is not valid for sign\/verify/);
      expect(() => nkeys.createUser().seal(request, xkeyPub)).toThrow(/only curve key can seal\/open/);
    }
  });
});

/** Every user connects, and requests an echo from the first one: a full round trip through the server. */
async function roundTripAll(server: RunningNatsServer, users: User[]): Promise<void> {
  const responder = await connectAs(server, users[0].seed, users[0].name);
  try {
    responder.subscribe('proof.echo', { callback: (err, m) => { if (!err) m.respond(m.data); } });
    await responder.flush();
    for (const u of users) {
      const nc = u === users[0] ? responder : await connectAs(server, u.seed, u.name);
      try {
        const reply = await nc.request('proof.echo', enc.encode(`hello from ${u.name}`), { timeout: 5000 });
        expect(dec.decode(reply.data)).toBe(`hello from ${u.name}`);
        // And a plain publish to itself.
        const sub = nc.subscribe(`proof.${u.name}`, { max: 1 });
        nc.publish(`proof.${u.name}`, enc.encode(u.pubkey));
        for await (const m of sub) expect(dec.decode(m.data)).toBe(u.pubkey);
        keysAuthenticated++;
      } finally {
        if (nc !== responder) await nc.close();
      }
    }
  } finally {
    await responder.close();
  }
}

async function expectRefused(server: RunningNatsServer, users: User[]): Promise<void> {
  const logged = () => (server.logs().match(/authentication error/g) ?? []).length;
  const before = logged();
  for (const u of users) {
    const error = await connectAs(server, u.seed, u.name).then(async (nc) => {
      await nc.close();
      return undefined;
    }, (e: Error & { code?: string }) => e);
    // The server answers -ERR 'Authorization Violation' and closes at once; a
    // client still writing may see the close (EPIPE, ECONNRESET) before the
    // -ERR. Either way it never connected, and the server logs the refusal.
    expect({ user: u.name, code: error?.code }).toEqual({ user: u.name, code: expect.stringMatching(/^(AUTHORIZATION_VIOLATION|EPIPE|ECONNRESET)$/) });
    seedsRefused++;
  }
  // One authentication error in the server's log per refused seed.
  await waitFor(`nats-server to log ${users.length} authentication errors`, () => logged() - before >= users.length, { timeoutMs: 10_000 }).catch(() => undefined);
  expect(logged() - before).toBe(users.length);
}

// ---------------------------------------------------------------------------

/** `major.minor.patch` as a comparable number. */
function versionNumber(v: string): number {
  const [a, b, c] = v.split('.').map(Number);
  return a * 1_000_000 + b * 1_000 + c;
}

/**
 * Runs `nats-server -t` (parse the config, start nothing) on a fragment that
 * may hold a seed: the file is private, removed after, and the output redacted.
 */
function testConfig(text: string): { status: number | null; output: string } {
  const dir = tempDir('dsx-proof-natsconf-');
  try {
    const file = path.join(dir, 'nats.conf');
    fs.writeFileSync(file, text, { mode: 0o600 });
    const r = spawnSync(NATS_SERVER_BIN, ['-t', '-c', file], { encoding: 'utf8', timeout: 10_000 });
    return { status: r.status, output: redact(`${r.stdout}${r.stderr}`.replace(file, 'nats.conf')) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('configuration the chart renders for nats-server >= 2.12 (auth_callout; leafnode remotes with nkey:)', () => {
  const version = natsServerVersion();

  /** The CSC's auth_callout block, built from its Secrets as the chart does. */
  function authCalloutConfig(s: ClusterSecrets): string {
    const authx = value(s, 'nats-authx-user', 'pubkey');
    return [
      'accounts {',
      `  AUTHX { users: [ { nkey: ${authx} } ] }`,
      '  CSC {}',
      '  SYS {}',
      '}',
      'system_account: SYS',
      'authorization {',
      '  auth_callout {',
      `    issuer: ${value(s, 'nats-auth-signing', 'pubkey')}`,
      `    xkey: ${value(s, 'nats-xkey', 'pubkey')}`,
      '    account: AUTHX',
      `    auth_users: [ ${authx} ]`,
      '  }',
      '}',
    ].join('\n');
  }

  /** A CPC's leafnode remotes to the CSC, one per account, each with the seed of its leaf user. */
  function leafRemoteConfig(s: ClusterSecrets, cscEndpoint: string): string {
    return [
      'accounts {',
      '  CPC {}',
      `  ${ACCOUNT} {}`,
      '}',
      'leafnodes {',
      '  remotes: [',
      `    { url: "${cscEndpoint}", account: CPC, nkey: ${value(s, 'nats-leaf-csc', 'seed')} }`,
      `    { url: "${cscEndpoint}", account: ${ACCOUNT}, nkey: ${value(s, `nats-leaf-${TOKEN}-csc`, 'seed')} }`,
      '  ]',
      '}',
    ].join('\n');
  }

  test('keys relate: auth_callout issuer is the CSC\'s account key, xkey its curve key, auth_users its authx user; each CPC remote carries the seed whose public key the CSC holds', () => {
    for (const { clusters, out } of [directory, deterministic]) {
      const csc = clusters.csc;
      const callout = authCalloutConfig(csc);
      const field = (name: string) => new RegExp(`^\\s*${name}: (\\S+)$`, 'm').exec(callout)![1];
      expect(NKeyPublicKey.parse(field('issuer'), 'issuer', NKeyKind.ACCOUNT).value).toBe(value(csc, 'nats-auth-signing', 'pubkey'));
      expect(NKeyPublicKey.parse(field('xkey'), 'xkey', NKeyKind.CURVE).value).toBe(value(csc, 'nats-xkey', 'pubkey'));
      const authUsers = /auth_users: \[ (.*) \]/.exec(callout)![1].split(/,\s*/);
      expect(authUsers.map((u) => NKeyPublicKey.parse(u, 'auth_users', NKeyKind.USER).value)).toEqual([value(csc, 'nats-authx-user', 'pubkey')]);
      expect(findSeeds(callout)).toEqual([]);

      for (const id of CPC_IDS) {
        const endpoint = out.values[`cpc-${id}`].global.eventBus.cscEndpoint;
        expect(endpoint).toBe('tls://csc.event-bus.example.com:7422');
        const remotes = [...leafRemoteConfig(clusters[`cpc-${id}`], endpoint).matchAll(/\{ url: "([^"]+)", account: (\w+), nkey: (\S+) \}/g)];
        expect(remotes.map((m) => [m[1], m[2]])).toEqual([[endpoint, 'CPC'], [endpoint, ACCOUNT]]);
        // Each remote's seed is a user seed whose public key the CSC's leaf Secret holds.
        const cscSide = [value(csc, `nats-leaf-cpc-${id}`, 'pubkey'), value(csc, `nats-leaf-${TOKEN}-cpc-${id}`, 'pubkey')];
        expect(remotes.map((m) => NKeySeed.parse(m[3], 'remote nkey', NKeyKind.USER).publicKey.value)).toEqual(cscSide);
      }
    }
  });

  const recentEnough = version !== undefined && versionNumber(version) >= versionNumber('2.12.0');
  natsTest(`the installed nats-server ${version ?? '(absent)'} is >= 2.12 and loads the auth_callout block and the leaf remotes with nkey:`, async () => {
    expect(version).toBeDefined();
    expect({ version, recentEnough }).toEqual({ version, recentEnough: true });
    const callout = testConfig(`port: -1\n${authCalloutConfig(directory.clusters.csc)}\n`);
    const remote = testConfig(`port: -1\n${leafRemoteConfig(directory.clusters['cpc-1'], 'tls://csc.event-bus.example.com:7422')}\n`);
    expect(findSeeds(callout.output + remote.output)).toEqual([]);
    expect(callout).toEqual({ status: 0, output: expect.any(String) });
    expect(remote).toEqual({ status: 0, output: expect.any(String) });
    // The same server accepts the plain NKey users of the suites above.
    const users = testConfig(`port: -1\n${serverConfig(usersOf(directory.clusters, 'csc'))}\n`);
    expect(users.status).toBe(0);
  });
});

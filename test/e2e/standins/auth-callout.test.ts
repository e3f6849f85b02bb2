import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { Authenticator, connect, NatsConnection, nkeyAuthenticator, StringCodec } from 'nats';
import { createAccount, createCurve, createServer, createUser, KeyPair } from 'nkeys.js';
import { AuthCalloutKeys, AuthCalloutResponder, authCalloutInputsFromPod, expandEnv, objectData, resolveContainerEnv } from './auth-callout';
import { createTestCa, TestCa } from './certs';
import { MqttClient } from './mqtt';
import { decodeJwt, encodeJwt, goNkeyAuthenticator, nkeySign, nkeyVerify } from './nats-jwt';
import { waitFor } from './wait';
import { natsTest, RunningNatsServer, startNatsServer } from '../../util/nats-server';
import { useNativeEd25519, withTweetnaclEd25519 } from '../native-ed25519';

// nkeys.js signs and derives keys with Node's ed25519 here (test/e2e/native-ed25519.ts;
// same keys and signatures, checked against tweetnacl when it switches): its own
// tweetnacl was most of this file's time in jest. The one test that compares the
// stand-in's signing with nkeys.js's runs on tweetnacl (withTweetnaclEd25519).
useNativeEd25519();

const sc = StringCodec();
const td = new TextDecoder();
const seedOf = (kp: KeyPair) => td.decode(kp.getSeed());
const SEED_SHAPE = /S[UAXONCP][A-Z2-7]{56}/;

interface Keys {
  readonly authx: KeyPair;
  readonly issuer: KeyPair;
  readonly xkey: KeyPair;
  /** The auth-callout-keys Secret data. */
  readonly secret: AuthCalloutKeys;
}

function newKeys(): Keys {
  const authx = createUser();
  const issuer = createAccount();
  const xkey = createCurve();
  return { authx, issuer, xkey, secret: { 'nkey-seed': seedOf(authx), 'issuer-seed': seedOf(issuer), 'xkey-seed': seedOf(xkey) } };
}

/**
 * The accounts and auth_callout block of the chart's main NATS config
 * (values.yaml `nats.config.merge`), with CSC and one extra account.
 */
function calloutConfig(keys: Keys, options: { xkey?: boolean } = {}): string {
  const authx = keys.authx.getPublicKey();
  return `
system_account: SYS
accounts {
  SYS: {}
  AUTH: { imports: [ { service: { account: AUTHX, subject: "$SYS.REQ.USER.AUTH" } }, { service: { account: AUTHX, subject: "$SRV.>" } } ] }
  AUTHX: {
    users: [ { nkey: ${authx} } ]
    exports: [ { service: "$SYS.REQ.USER.AUTH", accounts: [AUTH] }, { service: "$SRV.>", accounts: [AUTH] } ]
  }
  CSC: { jetstream: enabled }
  LaunchLayer: {}
}
authorization {
  auth_callout {
    account: AUTH
    issuer: ${keys.issuer.getPublicKey()}
    ${options.xkey === false ? '' : `xkey: ${keys.xkey.getPublicKey()}`}
    auth_users: [ ${authx} ]
  }
}`;
}

/** permissions.json as the chart renders it: auto nkey entries with ${VAR} references, plus operator entries. */
const PERMISSIONS_JSON = JSON.stringify({
  mtls: {
    'mqtt-client': { identity: 'CN=mqtt-client.csc', account: 'CSC', permissions: { pub: { allow: ['sensors.>'] }, sub: { allow: ['commands.>'] } } },
  },
  nkey: {
    'leaf-cpc-1': { public_key: '${NKEY_LEAF_CPC_1_PUBKEY}', account: 'CSC' },
    'leaf-launchlayer-cpc-1': { public_key: '${NKEY_LEAF_LAUNCHLAYER_CPC_1_PUBKEY}', account: 'LaunchLayer' },
    'app': { public_key: '$NKEY_APP_PUBKEY', account: 'CSC', permissions: { pub: { allow: ['events.>'] }, sub: { allow: ['events.>', '_INBOX.>'] } } },
  },
  oauth2: {},
  noauth: null,
});

interface Users {
  readonly leafCpc1: KeyPair;
  readonly leafLaunchLayer: KeyPair;
  readonly app: KeyPair;
  readonly env: Record<string, string>;
}

function newUsers(): Users {
  const leafCpc1 = createUser();
  const leafLaunchLayer = createUser();
  const app = createUser();
  return {
    leafCpc1,
    leafLaunchLayer,
    app,
    env: {
      NKEY_LEAF_CPC_1_PUBKEY: leafCpc1.getPublicKey(),
      NKEY_LEAF_LAUNCHLAYER_CPC_1_PUBKEY: leafLaunchLayer.getPublicKey(),
      NKEY_APP_PUBKEY: app.getPublicKey(),
    },
  };
}

function asUser(server: RunningNatsServer, kp: KeyPair, extra: { authenticator?: Authenticator } = {}): Promise<NatsConnection> {
  return connect({ servers: server.url, authenticator: extra.authenticator ?? goNkeyAuthenticator(kp.getSeed()), timeout: 5000, reconnect: false });
}

/**
 * A nats-server configured like the chart's (auth_callout with issuer and
 * xkey), with the callout stand-in started against it; `body` runs between,
 * and both are stopped after it, whatever happens.
 */
async function withCallout(body: (ctx: { server: RunningNatsServer; callout: AuthCalloutResponder; users: Users }) => Promise<void>): Promise<void> {
  const keys = newKeys();
  const users = newUsers();
  const server = await startNatsServer({ config: calloutConfig(keys) });
  const callout = new AuthCalloutResponder({ servers: server.url, permissions: PERMISSIONS_JSON, env: users.env, keys: keys.secret });
  try {
    await callout.start();
    await body({ server, callout, users });
  } finally {
    await callout.stop();
    await server.stop();
  }
}

describe('auth-callout responder (stand-in for the DSX auth-callout service)', () => {
  natsTest('admits a known nkey into the account of its permissions entry, with that entry\'s pub/sub permissions (encrypted with xkey)', async () => {
    await withCallout(async ({ server, callout, users }) => {
      const conns: NatsConnection[] = [];
      try {
        const full = await asUser(server, users.leafCpc1);
        conns.push(full);
        const app = await asUser(server, users.app);
        conns.push(app);
        const other = await asUser(server, users.leafLaunchLayer);
        conns.push(other);

        const fullSub = full.subscribe('events.>');
        const otherSub = other.subscribe('events.>');
        await Promise.all([full.flush(), other.flush()]);
        app.publish('events.a', sc.encode('from app'));
        for await (const m of fullSub) {
          expect(`${m.subject}=${sc.decode(m.data)}`).toBe('events.a=from app');
          break;
        }
        // The LaunchLayer user is in another account: it sees its own marker, never events.a.
        other.publish('events.marker', sc.encode('marker'));
        for await (const m of otherSub) {
          expect(m.subject).toBe('events.marker');
          break;
        }

        // Outside its permissions: the server refuses the publish and the subscription.
        const statuses: string[] = [];
        void (async () => {
          for await (const s of app.status()) statuses.push(`${s.type}:${s.data}:${JSON.stringify((s as { permissionContext?: unknown }).permissionContext ?? null)}`);
        })();
        app.publish('secrets.x', sc.encode('nope'));
        app.subscribe('secrets.>');
        await waitFor('both permission violations', () => statuses.filter((s) => s.includes('PERMISSIONS_VIOLATION')).length >= 2);
        expect(statuses.join('\n')).toMatch(/"operation":"publish","subject":"secrets\.x"/);
        expect(statuses.join('\n')).toMatch(/"operation":"subscription","subject":"secrets\.>"/);

        expect(callout.decisions()).toEqual([
          { mode: 'nkey', entry: 'leaf-cpc-1', account: 'CSC', kind: 'Client', type: 'nats', server: expect.any(String), encrypted: true },
          { mode: 'nkey', entry: 'app', account: 'CSC', kind: 'Client', type: 'nats', server: expect.any(String), encrypted: true },
          { mode: 'nkey', entry: 'leaf-launchlayer-cpc-1', account: 'LaunchLayer', kind: 'Client', type: 'nats', server: expect.any(String), encrypted: true },
        ]);
      } finally {
        await Promise.all(conns.map((c) => c.close()));
      }
    });
  });

  natsTest('fails when the nkey is not in the permissions: the client gets an authorization violation', async () => {
    await withCallout(async ({ server, callout }) => {
      const stranger = createUser();
      await expect(asUser(server, stranger)).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      expect(callout.decisions()).toEqual([expect.objectContaining({ mode: 'nkey', error: 'authentication failed: NKey not found in permissions config' })]);
      expect(callout.decisions()[0].error).not.toContain(stranger.getPublicKey());
    });
  });

  natsTest('fails when the signature over the nonce is not made by the nkey\'s seed', async () => {
    await withCallout(async ({ server, callout, users }) => {
      // Claims to be the CPC-1 leaf, signs with another key: a CPC holding another CPC's public key but not its seed.
      const impostor = createUser();
      const forged: Authenticator = (nonce?: string) => ({
        nkey: users.leafCpc1.getPublicKey(),
        sig: Buffer.from(impostor.sign(Buffer.from(nonce ?? ''))).toString('base64url'),
      });
      await expect(asUser(server, users.leafCpc1, { authenticator: forged })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      const noSig: Authenticator = () => ({ nkey: users.leafCpc1.getPublicKey(), sig: '' });
      await expect(asUser(server, users.leafCpc1, { authenticator: noSig })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      expect(callout.decisions().map((d) => d.error)).toEqual([
        'authentication failed: NKey signature does not verify',
        'authentication failed: no signature over the nonce',
      ]);
    });
  });

  natsTest('fails when the nonce signature is in standard base64 (as nats.js signs), valid or not; unpadded URL-safe base64 (as nats.go signs) passes', async () => {
    await withCallout(async ({ server, callout, users }) => {
      // nats.js's own authenticator: a valid signature, standard base64. nats-server would accept it; the service does not.
      await expect(asUser(server, users.leafCpc1, { authenticator: nkeyAuthenticator(users.leafCpc1.getSeed()) })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      const padded: Authenticator = (nonce?: string) => ({
        nkey: users.leafCpc1.getPublicKey(),
        sig: Buffer.from(users.leafCpc1.sign(Buffer.from(nonce ?? ''))).toString('base64url') + '==',
      });
      await expect(asUser(server, users.leafCpc1, { authenticator: padded })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      const nc = await asUser(server, users.leafCpc1, { authenticator: goNkeyAuthenticator(users.leafCpc1.getSeed()) });
      await nc.close();
      expect(callout.decisions().map((d) => d.error)).toEqual([
        'authentication failed: NKey signature is not unpadded URL-safe base64',
        'authentication failed: NKey signature is not unpadded URL-safe base64',
        undefined,
      ]);
    });
  });

  natsTest('fails when the client brings no nkey, certificate or supported credentials', async () => {
    await withCallout(async ({ server, callout }) => {
      await expect(connect({ servers: server.url, timeout: 5000, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      await expect(connect({ servers: server.url, user: 'oauthtoken', pass: 'a.b.c', timeout: 5000, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
      expect(callout.decisions().map((d) => d.error)).toEqual([
        'authentication failed: no valid authenticator available for provided credentials',
        'authentication failed: OAuth2/JWT credentials are not supported by this stand-in',
      ]);
    });
  });

  natsTest('answers in plain text when the server has no auth_callout xkey', async () => {
    const keys = newKeys();
    const users = newUsers();
    const server = await startNatsServer({ config: calloutConfig(keys, { xkey: false }) });
    const { 'xkey-seed': _unused, ...noXkey } = keys.secret;
    const callout = new AuthCalloutResponder({ servers: server.url, permissions: PERMISSIONS_JSON, env: users.env, keys: noXkey });
    try {
      await callout.start();
      const nc = await asUser(server, users.app);
      await nc.close();
      expect(callout.decisions()).toEqual([expect.objectContaining({ mode: 'nkey', account: 'CSC', encrypted: false })]);
    } finally {
      await callout.stop();
      await server.stop();
    }
  });

  natsTest('admits a leaf node that signs with its nkey seed (a CPC leaf) into its account, and messages cross', async () => {
    const keys = newKeys();
    const users = newUsers();
    const hub = await startNatsServer({ config: ({ leafnode }) => `${calloutConfig(keys)}\nleafnodes { host: 127.0.0.1, port: ${leafnode} }`, extraPorts: ['leafnode'] });
    const callout = new AuthCalloutResponder({ servers: hub.url, permissions: PERMISSIONS_JSON, env: users.env, keys: keys.secret });
    let leaf: RunningNatsServer | undefined;
    const conns: NatsConnection[] = [];
    try {
      await callout.start();
      // The CPC side, as the chart's leaf remote (`nkey: $LEAF_USER_SEED`): the seed
      // comes from an included file (600, temp dir), so a start-up error, which
      // prints the main config, never shows it.
      leaf = await startNatsServer({
        files: { 'leaf-seed.conf': `LEAF_USER_SEED: "${seedOf(users.leafCpc1)}"\n` },
        config: `include "leaf-seed.conf"
server_name: cpc-1
leafnodes { remotes: [ { urls: ["nats-leaf://127.0.0.1:${hub.ports.leafnode}"], nkey: $LEAF_USER_SEED } ] }`,
      });
      const hubUser = await asUser(hub, users.leafCpc1);
      conns.push(hubUser);
      const leafUser = await connect({ servers: leaf.url, timeout: 5000, reconnect: false });
      conns.push(leafUser);
      const sub = hubUser.subscribe('cross.>');
      await hubUser.flush();
      const got: string[] = [];
      void (async () => { for await (const m of sub) got.push(sc.decode(m.data)); })();
      await waitFor('a message from the CPC leaf to arrive in account CSC', async () => {
        leafUser.publish('cross.cpc-1', sc.encode('cpc->csc'));
        await leafUser.flush();
        await hubUser.flush();
        return got.includes('cpc->csc');
      }, 10_000);
      expect(callout.decisions()).toContainEqual(expect.objectContaining({ mode: 'nkey', entry: 'leaf-cpc-1', account: 'CSC', kind: 'Leafnode' }));
      expect(leaf.logs()).not.toMatch(SEED_SHAPE);
      expect(hub.logs()).not.toMatch(SEED_SHAPE);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
      await leaf?.stop();
      await callout.stop();
      await hub.stop();
    }
  });

  describe('mTLS mode (MQTT over TLS with verify: true, as the chart\'s nats-mtls instance)', () => {
    async function mqttServer(keys: Keys, ca: TestCa, alsoTrusted: TestCa): Promise<RunningNatsServer> {
      const serverCert = await ca.issue({ dnsNames: ['nats-mtls'] });
      return startNatsServer({
        extraPorts: ['mqtt'],
        // The server trusts both CAs; the auth-callout only the mTLS CA it is given.
        files: { 'tls.crt': serverCert.cert, 'tls.key': serverCert.key, 'ca.crt': ca.cert + alsoTrusted.cert },
        config: ({ mqtt }, dir) => `${calloutConfig(keys)}
server_name: nats-mtls-standin-test
jetstream { store_dir: "${dir}/js", max_memory_store: 64MB, max_file_store: 64MB }
mqtt { host: 127.0.0.1, port: ${mqtt}, tls { cert_file: "${dir}/tls.crt", key_file: "${dir}/tls.key", ca_file: "${dir}/ca.crt", verify: true } }`,
      });
    }

    async function mqttConnect(server: RunningNatsServer, ca: TestCa, client: { cert: string; key: string }, clientId: string): Promise<MqttClient> {
      const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: server.ports.mqtt, servername: 'nats-mtls', ca: ca.cert, cert: client.cert, key: client.key }, () => resolve(s));
        s.once('error', reject);
      });
      const mqtt = new MqttClient(socket, 10_000);
      try {
        await mqtt.connect({ clientId });
      } catch (e) {
        await mqtt.disconnect();
        throw e;
      }
      return mqtt;
    }

    /**
     * {@link withCallout} for MQTT over mTLS: the server trusts the mTLS CA and
     * another one, the callout stand-in only the mTLS CA.
     */
    async function withMtlsCallout(
      body: (ctx: { server: RunningNatsServer; callout: AuthCalloutResponder; users: Users; ca: TestCa; other: TestCa }) => Promise<void>,
    ): Promise<void> {
      const keys = newKeys();
      const users = newUsers();
      const ca = await createTestCa('nats-mtls CA');
      const other = await createTestCa('another CA');
      const server = await mqttServer(keys, ca, other);
      const callout = new AuthCalloutResponder({
        servers: server.url, permissions: PERMISSIONS_JSON, env: users.env, keys: keys.secret, mtlsCa: ca.cert,
      });
      try {
        await callout.start();
        await body({ server, callout, users, ca, other });
      } finally {
        await callout.stop();
        await server.stop();
      }
    }

    natsTest('admits a client certificate from the mTLS CA whose CN is an mtls identity, into its account and permissions', async () => {
      await withMtlsCallout(async ({ server, callout, users, ca }) => {
        const watcher = await asUser(server, users.leafCpc1); // account CSC, all subjects
        try {
          const sub = watcher.subscribe('sensors.>', { max: 1 });
          await watcher.flush();
          const mqtt = await mqttConnect(server, ca, await ca.issue({ commonName: 'mqtt-client.csc', usage: 'client' }), 'device-1');
          try {
            await mqtt.publish('sensors/temp', '21.5', 1);
            for await (const m of sub) expect(`${m.subject}=${sc.decode(m.data)}`).toBe('sensors.temp=21.5');
            await expect(mqtt.subscribe('secrets/#', 1)).rejects.toThrow(/refused the subscription to secrets\/#/);
          } finally {
            await mqtt.disconnect();
          }
          expect(callout.decisions()).toContainEqual(expect.objectContaining({ mode: 'mtls', entry: 'mqtt-client', account: 'CSC', type: 'mqtt', encrypted: true }));
        } finally {
          await watcher.close();
        }
      });
    });

    natsTest('fails when the CN is not an mtls identity, or the certificate is not from the mTLS CA', async () => {
      await withMtlsCallout(async ({ server, callout, ca, other }) => {
        await expect(mqttConnect(server, ca, await ca.issue({ commonName: 'mqtt-client.cpc-9', usage: 'client' }), 'unknown-cn'))
          .rejects.toThrow(/CONNACK return code 5 \(not authorized\)/);
        await expect(mqttConnect(server, ca, await other.issue({ commonName: 'mqtt-client.csc', usage: 'client' }), 'wrong-ca'))
          .rejects.toThrow(/CONNACK return code 5 \(not authorized\)/);
        expect(callout.decisions().map((d) => `${d.mode}: ${d.error}`)).toEqual([
          'mtls: authentication failed: mTLS identity not found in permissions config',
          'mtls: authentication failed: certificate validation failed: not issued by the mTLS CA',
        ]);
      });
    });
  });

  describe('inputs', () => {
    test('fails when a seed of auth-callout-keys has the wrong type, without printing it', () => {
      const keys = newKeys();
      const users = newUsers();
      const wrong = { ...keys.secret, 'issuer-seed': keys.secret['nkey-seed'] };
      let message = '';
      try {
        new AuthCalloutResponder({ servers: 'nats://127.0.0.1:1', permissions: PERMISSIONS_JSON, env: users.env, keys: wrong });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^auth-callout-keys issuer-seed is not an account seed: it does not start with SA\. Fix: pass the issuer-seed key/);
      expect(message).not.toMatch(SEED_SHAPE);
      expect(() => new AuthCalloutResponder({ servers: 'nats://127.0.0.1:1', permissions: PERMISSIONS_JSON, env: users.env, keys: { ...keys.secret, 'xkey-seed': 'SXnot-a-seed' } }))
        .toThrow(/^auth-callout-keys xkey-seed is not a valid a curve \(xkey\) seed\. Fix: /);
    });

    test('fails when the permissions reference an env var the container does not have', () => {
      const keys = newKeys();
      const { NKEY_LEAF_CPC_1_PUBKEY: _dropped, ...env } = newUsers().env;
      expect(() => new AuthCalloutResponder({ servers: 'nats://127.0.0.1:1', permissions: PERMISSIONS_JSON, env, keys: keys.secret }))
        .toThrow(/^permissions nkey\.leaf-cpc-1\.public_key references \$\{NKEY_LEAF_CPC_1_PUBKEY\}, which env does not set\. .*Fix: /);
    });

    test('fails when two nkey entries expand to the same public key (the service would pick one at random)', () => {
      const keys = newKeys();
      const users = newUsers();
      // E.g. a rotation entry that repeats the key the generated entry already holds.
      const duplicate = JSON.parse(PERMISSIONS_JSON);
      duplicate.nkey['rotation-leaf-cpc-1'] = { public_key: users.env.NKEY_LEAF_CPC_1_PUBKEY, account: 'CSC' };
      expect(() => new AuthCalloutResponder({ servers: 'nats://127.0.0.1:1', permissions: duplicate, env: users.env, keys: keys.secret }))
        .toThrow(/^permissions nkey\.rotation-leaf-cpc-1 and nkey\.leaf-cpc-1 have the same public_key; the service would pick one of them at random .*Fix: give each user its own key$/);
    });

    test('fails when permissions.json is not JSON', () => {
      expect(() => new AuthCalloutResponder({ servers: 'nats://127.0.0.1:1', permissions: '{nope', env: {}, keys: newKeys().secret }))
        .toThrow(/^permissions\.json is not valid JSON .*Fix: pass data\["permissions\.json"\]/);
    });

    test('fails when the pod lacks a file the service reads, naming it', () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-callout-pod-'));
      try {
        expect(() => authCalloutInputsFromPod({ root, env: {} })).toThrow(/^auth-callout pod has no config file at \/etc\/config\/config\.yaml\. Fix: /);
        fs.mkdirSync(path.join(root, 'etc/config'), { recursive: true });
        fs.writeFileSync(path.join(root, 'etc/config/config.yaml'), 'nats:\n  url: nats://nats:4222\nmtls:\n  ca-path: ""\n');
        expect(() => authCalloutInputsFromPod({ root, env: {} })).toThrow(/^auth-callout pod has no permissions file at \/etc\/auth-callout\/permissions\.json\. /);
        fs.mkdirSync(path.join(root, 'etc/auth-callout'), { recursive: true });
        fs.writeFileSync(path.join(root, 'etc/auth-callout/permissions.json'), '{}');
        // An empty ca-path in the file means no mTLS, unless the env sets it (as the chart does).
        expect(authCalloutInputsFromPod({ root, env: {} })).toMatchObject({ natsUrl: 'nats://nats:4222', mtlsCa: undefined });
        expect(() => authCalloutInputsFromPod({ root, env: { AUTH_CALLOUT_MTLS_CA_PATH: '/etc/mtls-ca/ca.crt' } }))
          .toThrow(/^auth-callout pod has no mTLS CA \(AUTH_CALLOUT_MTLS_CA_PATH\) at \/etc\/mtls-ca\/ca\.crt\. /);
        expect(authCalloutInputsFromPod({ root, env: { AUTH_CALLOUT_NATS_URL: 'nats://other:4222' } }).natsUrl).toBe('nats://other:4222');
      } finally {
        fs.rmSync(root, { recursive: true, force: true });
      }
    });

    test('expands ${VAR} and $VAR as Go\'s os.ExpandEnv does', () => {
      expect(expandEnv('${A}-$B_1.$C', { A: 'x', B_1: 'y' })).toEqual({ value: 'x-y.', missing: ['C'] });
      expect(expandEnv('plain', {})).toEqual({ value: 'plain', missing: [] });
    });

    test('resolves a rendered container env from Secrets and ConfigMaps, as the kubelet does', () => {
      const secrets: Record<string, { data: Record<string, string> }> = {
        'nats-leaf-cpc-1': { data: { pubkey: Buffer.from('UPUB').toString('base64') } },
      };
      const env = resolveContainerEnv([
        { name: 'LITERAL', value: 'v' },
        { name: 'NKEY_LEAF_CPC_1_PUBKEY', valueFrom: { secretKeyRef: { name: 'nats-leaf-cpc-1', key: 'pubkey' } } },
        { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
        { name: 'OPTIONAL', valueFrom: { secretKeyRef: { name: 'absent', key: 'x', optional: true } } },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      ], {
        secret: (n) => (secrets[n] ? objectData(secrets[n]) : undefined),
        configMap: (n) => (n === 'cm' ? objectData({ kind: 'ConfigMap', data: { k: 'cmv' } }) : undefined),
        fields: { POD_NAME: 'auth-callout-0' },
      });
      expect(env).toEqual({ LITERAL: 'v', NKEY_LEAF_CPC_1_PUBKEY: 'UPUB', FROM_CM: 'cmv', POD_NAME: 'auth-callout-0' });
    });

    test('fails when a required secretKeyRef is missing, naming the Secret and key but no value', () => {
      expect(() => resolveContainerEnv([{ name: 'AUTH_CALLOUT_NATS_NKEY_SEED', valueFrom: { secretKeyRef: { name: 'auth-callout-keys', key: 'nkey-seed' } } }], { secret: () => undefined }))
        .toThrow(/^env AUTH_CALLOUT_NATS_NKEY_SEED refers to Secret auth-callout-keys key nkey-seed, which does not exist\. Fix: /);
      expect(() => resolveContainerEnv([{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }], { secret: () => ({ other: 'secret-value' }) }))
        .toThrow(/^env X refers to Secret s key k, which has no key k\. Fix: (?!.*secret-value)/);
    });

    test('signs and verifies with Node\'s ed25519 exactly as nkeys.js does', () => withTweetnaclEd25519(() => {
      for (const kp of [createAccount(), createUser(), createServer()]) {
        const data = Buffer.from(`nonce for ${kp.getPublicKey()}`);
        const sig = nkeySign(kp, data);
        expect(sig.equals(Buffer.from(kp.sign(data)))).toBe(true);
        expect(nkeyVerify(kp.getPublicKey(), data, sig)).toBe(true);
        expect(kp.verify(data, sig)).toBe(true);
        expect(nkeyVerify(kp.getPublicKey(), Buffer.from('other'), sig)).toBe(false);
        expect(nkeyVerify(createUser().getPublicKey(), data, sig)).toBe(false);
        expect(nkeyVerify('not-a-key', data, sig)).toBe(false);
      }
    }));

    test('JWTs round-trip, and a tampered one fails to verify', () => {
      const issuer = createAccount();
      const token = encodeJwt({ iss: issuer.getPublicKey(), sub: createUser().getPublicKey(), aud: 'CSC', nats: { type: 'user' } }, issuer);
      const claims = decodeJwt(token, 'A');
      expect(claims).toMatchObject({ aud: 'CSC', nats: { type: 'user', version: 2 } });
      expect(claims.jti).toMatch(/^[A-Z2-7]{52}$/);
      const [h, p, s] = token.split('.');
      const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), aud: 'SYS' })).toString('base64url');
      expect(() => decodeJwt(`${h}.${tampered}.${s}`, 'A')).toThrow(/^JWT signature does not verify with its issuer key$/);
      expect(() => decodeJwt(token, 'N')).toThrow(/^JWT issuer "A[A-Z2-7]+" is not a public key starting with one of N$/);
      expect(() => encodeJwt({ iss: createServer().getPublicKey(), sub: 'U', nats: { type: 'user' } }, issuer)).toThrow(/not the claims issuer/);
    });
  });
});

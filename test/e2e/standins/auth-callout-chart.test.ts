/**
 * The auth-callout stand-in fed with what the real chart renders: the
 * auth-callout Deployment of `helm template` (its env, its config, permissions
 * and mTLS CA volumes), materialized from test-time Secrets of the names the
 * chart references, then answering a real nats-server.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connect } from 'nats';
import { createAccount, createCurve, createUser, KeyPair } from 'nkeys.js';
import * as YAML from 'yaml';
import { AuthCalloutResponder, authCalloutInputsFromPod, objectData, resolveContainerEnv } from './auth-callout';
import { createTestCa } from './certs';
import { goNkeyAuthenticator } from './nats-jwt';
import { startNatsServer } from '../../util/nats-server';
import { chartMissing, helmMissing, HELM_BIN, toolTest, UPSTREAM_CHART } from '../../util/tools';
import { useNativeEd25519 } from '../native-ed25519';

// nkeys.js signs and derives keys with Node's ed25519 here (test/e2e/native-ed25519.ts;
// same keys and signatures, checked against tweetnacl when it switches): its own
// tweetnacl was most of this file's time in jest.
useNativeEd25519();

const td = new TextDecoder();
const seedOf = (kp: KeyPair) => td.decode(kp.getSeed());

function helmTemplate(values: object, dir: string): any[] {
  const file = path.join(dir, 'values.yaml');
  fs.writeFileSync(file, YAML.stringify(values));
  const r = spawnSync(HELM_BIN, ['template', 'nats-event-bus', UPSTREAM_CHART!, '-n', 'dsx', '-f', file], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout).map((d) => d.toJSON()).filter((o) => o);
}

/** The container's volume mounts written under `root` (configMap and secret volumes, with items). */
function writeMounts(podSpec: any, container: any, root: string, find: (kind: string, name: string) => Record<string, string>): void {
  for (const m of container.volumeMounts ?? []) {
    const v = podSpec.volumes.find((x: any) => x.name === m.name);
    const src = v.configMap ? find('ConfigMap', v.configMap.name) : find('Secret', v.secret.secretName);
    const items: Array<{ key: string; path: string }> = (v.configMap ?? v.secret).items ?? Object.keys(src).map((key) => ({ key, path: key }));
    for (const it of items) {
      const file = path.join(root, m.mountPath, it.path);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, src[it.key], { mode: 0o600 });
    }
  }
}

describe('auth-callout stand-in fed with the real chart\'s rendered Deployment', () => {
  toolTest('reads the rendered config, env and volumes, and admits the chart\'s auto nkey entries into their accounts', [helmMissing(), chartMissing()], async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'auth-callout-chart-'));
    const authx = createUser();
    const issuer = createAccount();
    const xkey = createCurve();
    const users: Record<string, KeyPair> = {
      'nats-leaf-cpc-1': createUser(),
      'nats-leaf-launchlayer-cpc-1': createUser(),
      'nats-nack-user': createUser(),
      'nats-surveyor': createUser(),
      'nats-mtls-leaf': createUser(),
      'nats-mtls-authx-leaf': createUser(),
      'nats-mtls-sys-leaf': createUser(),
    };
    const ca = await createTestCa('nats-mtls CA');
    // The Secrets the Deployment references (as the library would produce them; data base64).
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const secrets: Record<string, { kind: string; data: Record<string, string> }> = {
      'auth-callout-keys': { kind: 'Secret', data: { 'nkey-seed': b64(seedOf(authx)), 'issuer-seed': b64(seedOf(issuer)), 'xkey-seed': b64(seedOf(xkey)) } },
      'nats-mtls-server-tls': { kind: 'Secret', data: { 'ca.crt': b64(ca.cert) } },
    };
    for (const [name, kp] of Object.entries(users)) secrets[name] = { kind: 'Secret', data: { pubkey: b64(kp.getPublicKey()) } };

    const server = await startNatsServer({
      config: `
system_account: SYS
accounts {
  SYS: {}
  AUTH: { imports: [ { service: { account: AUTHX, subject: "$SYS.REQ.USER.AUTH" } } ] }
  AUTHX: { users: [ { nkey: ${authx.getPublicKey()} } ], exports: [ { service: "$SYS.REQ.USER.AUTH", accounts: [AUTH] } ] }
  CSC: {}
  LaunchLayer: {}
}
authorization { auth_callout { account: AUTH, issuer: ${issuer.getPublicKey()}, xkey: ${xkey.getPublicKey()}, auth_users: [ ${authx.getPublicKey()} ] } }`,
    });
    let callout: AuthCalloutResponder | undefined;
    try {
      const objects = helmTemplate({
        global: { eventBus: { clusterType: 'csc', cpcIds: ['1'], extraAccounts: { LaunchLayer: { jetstream: true } } } },
      }, dir);
      const find = (kind: string, name: string) => {
        if (kind === 'Secret') return objectData(secrets[name]);
        const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
        if (!o) throw new Error(`the chart rendered no ${kind}/${name}`);
        return objectData(o);
      };
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'nats-event-bus-auth-callout');
      const podSpec = deployment.spec.template.spec;
      const container = podSpec.containers.find((c: any) => c.name === 'auth-callout');
      const env = resolveContainerEnv(container.env, {
        secret: (name) => (secrets[name] ? objectData(secrets[name]) : undefined),
        fields: { POD_NAME: 'nats-event-bus-auth-callout-0', POD_NAMESPACE: 'dsx', NODE_NAME: 'node-0' },
      });
      const root = path.join(dir, 'pod');
      writeMounts(podSpec, container, root, find);

      const inputs = authCalloutInputsFromPod({ root, env, container });
      expect(inputs.natsUrl).toBe('nats://nats:4222');
      expect(inputs.mtlsCa).toBe(ca.cert);
      expect(JSON.parse(inputs.permissions as string).nkey['leaf-cpc-1']).toEqual({ account: 'CSC', public_key: '${NKEY_LEAF_CPC_1_PUBKEY}' });

      callout = new AuthCalloutResponder({ ...inputs, servers: server.url });
      expect(callout.publicKeys).toEqual({ user: authx.getPublicKey(), issuer: issuer.getPublicKey(), xkey: xkey.getPublicKey() });
      await callout.start();

      // Each auto entry the chart generates for a CSC lands its key in the chart's account.
      const expected: Record<string, [string, string]> = {
        'nats-leaf-cpc-1': ['leaf-cpc-1', 'CSC'],
        'nats-leaf-launchlayer-cpc-1': ['leaf-launchlayer-cpc-1', 'LaunchLayer'],
        'nats-nack-user': ['nack-controller', 'CSC'],
        'nats-surveyor': ['surveyor', 'SYS'],
        'nats-mtls-leaf': ['mtls-leaf', 'CSC'],
        'nats-mtls-sys-leaf': ['mtls-sys-leaf', 'SYS'],
      };
      for (const [secret, [entry, account]] of Object.entries(expected)) {
        const authenticator = goNkeyAuthenticator(users[secret].getSeed());
        const nc = await connect({ servers: server.url, authenticator, timeout: 5000, reconnect: false });
        await nc.close();
        expect(callout.decisions().at(-1)).toMatchObject({ mode: 'nkey', entry, account, encrypted: true });
      }
    } finally {
      await callout?.stop();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/**
 * Stand-in for the DSX auth-callout service (NVIDIA/dsx-exchange
 * `auth-callout/`, deployed by the `nats-event-bus` chart as its
 * `auth-callout` subchart; https://github.com/NVIDIA/dsx-exchange), which
 * answers the NATS auth-callout protocol
 * (https://docs.nats.io/running-a-nats-service/configuration/securing_nats/auth_callout).
 *
 * What it does, as the service does: connects to NATS as the AUTHX user
 * (`nkey-seed`), subscribes to `$SYS.REQ.USER.AUTH`, decrypts each request
 * with its xkey when the server sent one (`Nats-Server-Xkey` header), checks
 * the request JWT's signature, authenticates the client and answers with an
 * authorization response JWT signed by the issuer key (`issuer-seed`, the
 * AUTH account's signing key), encrypted to the server's xkey. An admitted
 * client gets a user JWT whose `aud` is the account from the permissions
 * entry and whose pub/sub permissions are the entry's `permissions`
 * (unlimited subs/data/payload, as the service sets). Its inputs are what the
 * chart renders: `permissions.json` of the `auth-callout-permissions`
 * ConfigMap, whose `${VAR}` references are expanded from the container's env
 * (as the service's os.ExpandEnv does), the `auth-callout-keys` Secret data,
 * and the mTLS CA the chart mounts from `nats-mtls-server-tls` `ca.crt`.
 * Modes, in the service's order:
 * - mTLS (when a CA is given and the client presented a certificate): the
 *   certificate must be issued by that CA; its identity `CN=<common name>`
 *   is looked up in `mtls` entries' `identity`.
 * - NKey (the client sent `nkey`): the key is looked up in `nkey` entries'
 *   `public_key`; its `sig` over the server's nonce must be unpadded
 *   URL-safe base64, as the service decodes it (nats.go's encoding; standard
 *   base64, which nats.js sends and nats-server accepts, is refused), and
 *   must verify with that key. The stand-in and the test clients sign as
 *   nats.go does (`goNkeyAuthenticator`). The refusal messages are ours.
 *   Checked against the service's source, `TryAuthenticate` in
 *   https://github.com/NVIDIA/dsx-exchange/blob/main/auth-callout/src/internal/auth/nkey.go
 *   (read from a public fork's copy, pdmack/dsx-exchange at commit
 *   3a49bbd38168589f36b4af85547e7408077c13c0, as the index holds no copy of
 *   NVIDIA's own): the same order (public key looked up, empty signature
 *   refused, `base64.RawURLEncoding.DecodeString` of the signature, then
 *   `Verify` over the nonce); RawURLEncoding rejects `+`, `/` and `=`, so a
 *   standard-base64 signature fails to decode there as here.
 * Everything else is refused with an error in the response.
 *
 * What it does not do: no OAuth2/JWKS mode and no `noauth` fallback (both
 * refused, by name), no hot reload of permissions (the service polls
 * permissions.json every 5 s; here a new permissions file means a restart), no Vault, no HTTP health or
 * metrics endpoints, no tracing. Stricter than the service on purpose: a
 * `${VAR}` the env does not set is a construction error (the service would
 * expand it to "", but in Kubernetes such a pod would not start, since every
 * env var comes from a required secretKeyRef); two `nkey` entries whose
 * public keys expand to the same key are a construction error (the service
 * keys its lookup by public key and one of them would win at random).
 *
 * const callout = new AuthCalloutResponder({ servers: nats.url, permissions, env, keys });
 * await callout.start();
 * try { … } finally { await callout.stop(); }
 */
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import { connect, Msg, NatsConnection, Subscription } from 'nats';
import { fromCurveSeed, fromSeed, KeyPair } from 'nkeys.js';
import * as YAML from 'yaml';
import { decodeGoNonceSignature, decodeJwt, encodeJwt, goNkeyAuthenticator, nkeyVerify } from './nats-jwt';

/** The subject the server sends authorization requests to. */
export const AUTH_REQUEST_SUBJECT = '$SYS.REQ.USER.AUTH';
/** The header carrying the server's public xkey when requests are encrypted. */
export const SERVER_XKEY_HEADER = 'Nats-Server-Xkey';

/** NATS pub/sub permissions, as in the permissions file (and nats-io/jwt `Permissions`). */
export interface PermissionsRule {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}
export interface UserPermissions {
  readonly pub?: PermissionsRule;
  readonly sub?: PermissionsRule;
  readonly resp?: { readonly max?: number; readonly ttl?: number };
}
export interface NkeyEntry {
  readonly public_key: string;
  readonly account: string;
  readonly permissions?: UserPermissions;
}
export interface MtlsEntry {
  readonly identity: string;
  readonly account: string;
  readonly permissions?: UserPermissions;
}
/** `permissions.json` of the `auth-callout-permissions` ConfigMap. */
export interface AuthCalloutPermissions {
  readonly oauth2?: Record<string, unknown> | null;
  readonly mtls?: Record<string, MtlsEntry> | null;
  readonly nkey?: Record<string, NkeyEntry> | null;
  readonly noauth?: unknown;
}

/** The data of the `auth-callout-keys` Secret (decoded). */
export interface AuthCalloutKeys {
  /** User seed (SU…) the service connects to NATS with: the AUTHX user. */
  readonly 'nkey-seed': string;
  /** Account seed (SA…) that signs responses and user JWTs: the auth_callout `issuer`. */
  readonly 'issuer-seed': string;
  /** Curve seed (SX…) for encrypted requests: the auth_callout `xkey`. Optional, as in the service. */
  readonly 'xkey-seed'?: string;
}

export interface AuthCalloutResponderOptions {
  /** NATS URL(s) to connect to (the chart's `serviceConfig.nats.url`, host and port rewritten). */
  readonly servers: string | readonly string[];
  /** `permissions.json` as the ConfigMap holds it (a JSON string) or parsed. */
  readonly permissions: string | AuthCalloutPermissions;
  /** The container's env, resolved (see `resolveContainerEnv`); expands `${VAR}` in the permissions. */
  readonly env: Readonly<Record<string, string>>;
  /** The `auth-callout-keys` Secret data. */
  readonly keys: AuthCalloutKeys;
  /**
   * The mTLS CA (PEM): what the chart mounts at AUTH_CALLOUT_MTLS_CA_PATH
   * from `nats-mtls-server-tls` `ca.crt`. @default - mTLS mode is off, as in the service without a CA path
   */
  readonly mtlsCa?: string;
  /** Initial connect deadline. @default 10000 */
  readonly connectTimeoutMs?: number;
}

/** One answered request (no secrets). */
export interface AuthDecision {
  readonly mode: 'mtls' | 'nkey' | 'none';
  /** Permissions entry name when admitted. */
  readonly entry?: string;
  /** Account when admitted. */
  readonly account?: string;
  /** Why it was refused. */
  readonly error?: string;
  /** `client_info.kind` (Client, Leafnode, …) and `type` (nats, mqtt, …). */
  readonly kind?: string;
  readonly type?: string;
  /** `server_id.name` of the asking server. */
  readonly server?: string;
  /** Whether the request arrived encrypted. */
  readonly encrypted: boolean;
}

interface AuthorizationRequest {
  readonly server_id: { readonly id: string; readonly name?: string };
  readonly user_nkey: string;
  readonly client_info?: { readonly kind?: string; readonly type?: string; readonly nonce?: string };
  readonly connect_opts?: {
    readonly nkey?: string;
    readonly sig?: string;
    readonly user?: string;
    readonly jwt?: string;
    readonly auth_token?: string;
  };
  readonly client_tls?: { readonly certs?: readonly string[]; readonly verified_chains?: readonly (readonly string[])[] };
}

interface Profile {
  readonly name: string;
  readonly account: string;
  readonly permissions?: UserPermissions;
}

/** Go's os.ExpandEnv: `${NAME}` and `$NAME`. Returns the names it could not resolve. */
export function expandEnv(value: string, env: Readonly<Record<string, string>>): { value: string; missing: string[] } {
  const missing: string[] = [];
  const out = value.replace(/\$\{([^}]*)\}|\$([A-Za-z0-9_]+)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (!(name in env)) missing.push(name);
    return env[name] ?? '';
  });
  return { value: out, missing };
}

function keyPair(keys: AuthCalloutKeys, name: keyof AuthCalloutKeys, prefix: string, what: string): KeyPair {
  const seed = keys[name];
  const fix = `Fix: pass the ${name} key of the auth-callout-keys Secret`;
  if (typeof seed !== 'string' || seed.length === 0) throw new Error(`auth-callout-keys ${name} is missing. Allowed: ${what} (${prefix}…). ${fix}`);
  if (!seed.trim().startsWith(prefix)) throw new Error(`auth-callout-keys ${name} is not ${what}: it does not start with ${prefix}. ${fix}`);
  try {
    const bytes = Buffer.from(seed.trim());
    return prefix === 'SX' ? fromCurveSeed(bytes) : fromSeed(bytes);
  } catch {
    throw new Error(`auth-callout-keys ${name} is not a valid ${what}. ${fix}`);
  }
}

/** The auth-callout stand-in; see the file header. */
export class AuthCalloutResponder {
  /** Public keys (not secrets): compare with the server's auth_callout `auth_users`, `issuer`, `xkey`. */
  public readonly publicKeys: { readonly user: string; readonly issuer: string; readonly xkey?: string };
  private readonly user: KeyPair;
  private readonly issuer: KeyPair;
  private readonly xkey?: KeyPair;
  private readonly nkeys = new Map<string, Profile>();
  private readonly mtls = new Map<string, Profile>();
  private readonly ca?: X509Certificate;
  private readonly log: AuthDecision[] = [];
  private nc?: NatsConnection;
  private sub?: Subscription;

  constructor(private readonly options: AuthCalloutResponderOptions) {
    this.user = keyPair(options.keys, 'nkey-seed', 'SU', 'a user seed');
    this.issuer = keyPair(options.keys, 'issuer-seed', 'SA', 'an account seed');
    this.xkey = options.keys['xkey-seed'] ? keyPair(options.keys, 'xkey-seed', 'SX', 'a curve (xkey) seed') : undefined;
    this.publicKeys = { user: this.user.getPublicKey(), issuer: this.issuer.getPublicKey(), xkey: this.xkey?.getPublicKey() };

    let permissions: AuthCalloutPermissions;
    try {
      permissions = typeof options.permissions === 'string' ? JSON.parse(options.permissions) : options.permissions;
    } catch (e) {
      throw new Error(`permissions.json is not valid JSON (${(e as Error).message}). Fix: pass data["permissions.json"] of the auth-callout-permissions ConfigMap`);
    }
    const expand = (v: string, where: string) => {
      const r = expandEnv(v, options.env);
      if (r.missing.length) {
        throw new Error(`permissions ${where} references ${r.missing.map((m) => `\${${m}}`).join(', ')}, which env does not set. Allowed: variables of the auth-callout container's env. Fix: pass the resolved env of the rendered auth-callout Deployment (resolveContainerEnv)`);
      }
      return r.value;
    };
    for (const [name, e] of Object.entries(permissions.nkey ?? {})) {
      const key = expand(e.public_key, `nkey.${name}.public_key`);
      // The service keys its lookup by the expanded public key (a Go map filled in map order): of two
      // entries with one key, a random one wins. A rotation must never render that, so it is an error here.
      const other = this.nkeys.get(key);
      if (other) {
        throw new Error(`permissions nkey.${name} and nkey.${other.name} have the same public_key; the service would pick one of them at random (its lookup is keyed by public key). Fix: give each user its own key`);
      }
      this.nkeys.set(key, { name, account: expand(e.account, `nkey.${name}.account`), permissions: e.permissions });
    }
    for (const [name, e] of Object.entries(permissions.mtls ?? {})) {
      this.mtls.set(expand(e.identity, `mtls.${name}.identity`), { name, account: expand(e.account, `mtls.${name}.account`), permissions: e.permissions });
    }
    if (options.mtlsCa !== undefined) this.ca = new X509Certificate(options.mtlsCa);
  }

  /** Connects as the AUTHX user and starts answering; resolves once subscribed. */
  async start(): Promise<void> {
    if (this.nc) throw new Error('AuthCalloutResponder is already started');
    this.nc = await connect({
      servers: typeof this.options.servers === 'string' ? this.options.servers : [...this.options.servers],
      authenticator: goNkeyAuthenticator(Buffer.from(this.options.keys['nkey-seed'].trim())),
      name: 'auth-callout-standin',
      timeout: this.options.connectTimeoutMs ?? 10_000,
      maxReconnectAttempts: -1,
    });
    this.sub = this.nc.subscribe(AUTH_REQUEST_SUBJECT, {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.answer(msg);
        } catch (e) {
          // Never let one request stop the subscription; the server times that client out.
          this.log.push({ mode: 'none', error: `could not answer: ${(e as Error).message}`, encrypted: !!msg.headers?.get(SERVER_XKEY_HEADER) });
        }
      },
    });
    await this.nc.flush();
  }

  /** Unsubscribes and closes the connection. Idempotent. */
  async stop(): Promise<void> {
    const nc = this.nc;
    this.sub?.unsubscribe();
    this.sub = undefined;
    if (nc && !nc.isClosed()) await nc.close();
  }

  /** Every request answered so far, in order. */
  decisions(): AuthDecision[] {
    return [...this.log];
  }

  private answer(msg: Msg): void {
    const serverXkey = msg.headers?.get(SERVER_XKEY_HEADER) || undefined;
    let request: AuthorizationRequest;
    try {
      let body: Uint8Array = msg.data;
      if (serverXkey) {
        if (!this.xkey) throw new Error('the server encrypted the request, but auth-callout-keys has no xkey-seed');
        const opened = this.xkey.open(body, serverXkey);
        if (!opened) throw new Error('the request does not decrypt with xkey-seed (the server\'s auth_callout xkey is another key)');
        body = opened;
      }
      const claims = decodeJwt(Buffer.from(body).toString('utf8'), 'N');
      if (claims.nats.type !== 'authorization_request') throw new Error(`request JWT type is ${JSON.stringify(claims.nats.type)}, not "authorization_request"`);
      request = claims.nats as unknown as AuthorizationRequest;
    } catch (e) {
      // Nothing to answer to: the server times the client out.
      this.log.push({ mode: 'none', error: `unreadable request: ${(e as Error).message}`, encrypted: !!serverXkey });
      return;
    }

    const base = { kind: request.client_info?.kind, type: request.client_info?.type, server: request.server_id?.name, encrypted: !!serverXkey };
    let nats: Record<string, unknown>;
    try {
      const { mode, profile } = this.authenticate(request);
      const userJwt = encodeJwt({
        iss: this.publicKeys.issuer,
        sub: request.user_nkey,
        aud: profile.account,
        name: profile.name,
        nats: { ...userPermissions(profile.permissions), subs: -1, data: -1, payload: -1, type: 'user', version: 2 },
      }, this.issuer);
      nats = { jwt: userJwt, type: 'authorization_response', version: 2 };
      this.log.push({ ...base, mode, entry: profile.name, account: profile.account });
    } catch (e) {
      const error = `authentication failed: ${(e as AuthError).message}`;
      nats = { error, type: 'authorization_response', version: 2 };
      this.log.push({ ...base, mode: (e as AuthError).mode ?? 'none', error });
    }
    const response = encodeJwt({
      iss: this.publicKeys.issuer,
      sub: request.user_nkey,
      aud: request.server_id.id,
      nats: nats as { type: string },
    }, this.issuer);
    let data: Uint8Array = Buffer.from(response);
    if (serverXkey && this.xkey) data = this.xkey.seal(data, serverXkey);
    msg.respond(data);
  }

  private authenticate(req: AuthorizationRequest): { mode: 'mtls' | 'nkey'; profile: Profile } {
    const tlsCert = req.client_tls?.verified_chains?.[0]?.[0] ?? req.client_tls?.certs?.[0];
    if (this.ca && tlsCert) return { mode: 'mtls', profile: this.authenticateMtls(tlsCert) };
    const opts = req.connect_opts ?? {};
    if (opts.nkey) return { mode: 'nkey', profile: this.authenticateNkey(opts.nkey, opts.sig, req.client_info?.nonce) };
    if (opts.user === 'oauthtoken' || opts.jwt || opts.auth_token) {
      throw new AuthError('none', 'OAuth2/JWT credentials are not supported by this stand-in');
    }
    throw new AuthError('none', 'no valid authenticator available for provided credentials');
  }

  private authenticateMtls(pem: string): Profile {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch {
      throw new AuthError('mtls', 'client certificate is not a readable certificate');
    }
    if (!cert.checkIssued(this.ca!) || !cert.verify(this.ca!.publicKey)) {
      throw new AuthError('mtls', 'certificate validation failed: not issued by the mTLS CA');
    }
    const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
    const profile = cn === undefined ? undefined : this.mtls.get(`CN=${cn}`);
    if (!profile) throw new AuthError('mtls', 'mTLS identity not found in permissions config');
    return profile;
  }

  private authenticateNkey(nkey: string, sig: string | undefined, nonce: string | undefined): Profile {
    // Never echo the key the client sent (it is client-controlled text).
    const profile = this.nkeys.get(nkey);
    if (!profile) throw new AuthError('nkey', 'NKey not found in permissions config');
    if (!sig) throw new AuthError('nkey', 'no signature over the nonce');
    if (!nonce) throw new AuthError('nkey', 'the server sent no nonce to verify the signature against');
    // As the service decodes it (nats.go's encoding): a signature in standard base64 is refused, valid or not.
    const raw = decodeGoNonceSignature(sig);
    if (!raw) throw new AuthError('nkey', 'NKey signature is not unpadded URL-safe base64');
    if (!nkeyVerify(nkey, Buffer.from(nonce), raw)) throw new AuthError('nkey', 'NKey signature does not verify');
    return profile;
  }
}

class AuthError extends Error {
  constructor(public readonly mode: 'mtls' | 'nkey' | 'none', message: string) {
    super(message);
  }
}

/** nats-io/jwt `Permissions` JSON: only the parts that are set. */
function userPermissions(p: UserPermissions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p?.pub && (p.pub.allow?.length || p.pub.deny?.length)) out.pub = p.pub;
  if (p?.sub && (p.sub.allow?.length || p.sub.deny?.length)) out.sub = p.sub;
  if (p?.resp) out.resp = p.resp;
  return out;
}

/** A Secret or ConfigMap (the parts `objectData` reads). */
export interface KubeDataObject {
  readonly kind?: string;
  readonly data?: Record<string, string>;
  readonly stringData?: Record<string, string>;
}

/** A Kubernetes Secret's or ConfigMap's data, decoded: `data` (base64 in a Secret) merged with `stringData`. */
export function objectData(obj: KubeDataObject): Record<string, string> {
  const out: Record<string, string> = {};
  const base64 = obj.kind !== 'ConfigMap';
  for (const [k, v] of Object.entries(obj.data ?? {})) out[k] = base64 ? Buffer.from(v, 'base64').toString('utf8') : v;
  for (const [k, v] of Object.entries(obj.stringData ?? {})) out[k] = v;
  return out;
}

/** One entry of a container's `env` list. */
export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
    readonly configMapKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
    readonly fieldRef?: unknown;
  };
}

/** Where `resolveContainerEnv` looks up referenced keys. */
export interface EnvSources {
  /** Decoded data of a Secret by name, or undefined when there is none. */
  readonly secret: (name: string) => Record<string, string> | undefined;
  /** Data of a ConfigMap by name. @default - none */
  readonly configMap?: (name: string) => Record<string, string> | undefined;
  /** Values for `fieldRef` entries (POD_NAME, …) by env name. @default - fieldRef entries are left out */
  readonly fields?: Readonly<Record<string, string>>;
}

/**
 * A container's env as the kubelet resolves it: literal values, and
 * `secretKeyRef`/`configMapKeyRef` looked up in `sources`. A required
 * reference that is missing throws (the pod would not start); an optional
 * one is left out. Errors name the variable, the object and the key, never a value.
 */
export function resolveContainerEnv(env: readonly EnvVar[], sources: EnvSources): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined || !e.valueFrom) {
      out[e.name] = e.value ?? '';
      continue;
    }
    const ref = e.valueFrom.secretKeyRef ?? e.valueFrom.configMapKeyRef;
    if (ref) {
      const kind = e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap';
      const data = kind === 'Secret' ? sources.secret(ref.name) : sources.configMap?.(ref.name);
      const value = data?.[ref.key];
      if (value === undefined) {
        if (ref.optional) continue;
        throw new Error(`env ${e.name} refers to ${kind} ${ref.name} key ${ref.key}, which ${data ? `has no key ${ref.key}` : 'does not exist'}. Fix: provide that ${kind} with that key (the pod would not start without it)`);
      }
      out[e.name] = value;
    } else if (e.valueFrom.fieldRef && sources.fields?.[e.name] !== undefined) {
      out[e.name] = sources.fields[e.name];
    }
  }
  return out;
}

/** A materialized auth-callout container: its env, resolved, and its volume mounts written under `root`. */
export interface AuthCalloutPod {
  /** Stands for the container's `/`: a file mounted at /etc/x is at `<root>/etc/x`. */
  readonly root: string;
  /** The container's env, resolved (resolveContainerEnv). */
  readonly env: Readonly<Record<string, string>>;
  /** The container spec (for `args: [--config, <file>]`). @default - the chart's /etc/config/config.yaml */
  readonly container?: { readonly args?: readonly string[] };
}

/** What the service reads from its pod: the responder's options, and the NATS URL it is configured with. */
export interface AuthCalloutPodInputs extends Omit<AuthCalloutResponderOptions, 'servers'> {
  /** `nats.url` of the service config (the chart: `nats://nats:4222`); the harness maps it to a loopback URL. */
  readonly natsUrl: string;
}

// Env variables the service reads over its config file (its env provider strips
// AUTH_CALLOUT_ and maps the rest onto serviceConfig keys).
const ENV_KEYS: Record<string, string> = {
  AUTH_CALLOUT_NATS_URL: 'nats.url',
  AUTH_CALLOUT_NATS_NKEY_SEED: 'nats.nkey-seed',
  AUTH_CALLOUT_NATS_ISSUER_SEED: 'nats.issuer-seed',
  AUTH_CALLOUT_NATS_XKEY_SEED: 'nats.xkey-seed',
  AUTH_CALLOUT_MTLS_CA_PATH: 'mtls.ca-path',
  AUTH_CALLOUT_PERMISSIONS_FILE: 'permissions.file',
};

/**
 * Reads what the service reads at start-up from a materialized pod of the
 * rendered auth-callout Deployment: the config file named by `--config`
 * (the chart's `serviceConfig`), overridden by the AUTH_CALLOUT_* env the
 * chart sets (seeds from `auth-callout-keys`, the mTLS CA path), the
 * permissions file and the mTLS CA file. Errors name the missing file or
 * setting, never a value.
 */
export function authCalloutInputsFromPod(pod: AuthCalloutPod): AuthCalloutPodInputs {
  const inPod = (file: string) => `${pod.root}${file.startsWith('/') ? '' : '/'}${file}`;
  const read = (file: string, what: string) => {
    try {
      return fs.readFileSync(inPod(file), 'utf8');
    } catch {
      throw new Error(`auth-callout pod has no ${what} at ${file}. Fix: materialize the Deployment's volume mounts under ${pod.root}`);
    }
  };
  const args = pod.container?.args ?? [];
  const at = args.indexOf('--config');
  const configFile = at >= 0 ? args[at + 1] : '/etc/config/config.yaml';
  const config = (YAML.parse(read(configFile, 'config file')) ?? {}) as Record<string, Record<string, unknown>>;
  const setting = (key: string): string | undefined => {
    const env = Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0];
    if (env && pod.env[env] !== undefined) return pod.env[env];
    const [section, name] = key.split('.');
    const v = config[section]?.[name];
    return v === undefined || v === null || v === '' ? undefined : String(v);
  };
  const natsUrl = setting('nats.url');
  if (!natsUrl) throw new Error(`auth-callout config ${configFile} has no nats.url and AUTH_CALLOUT_NATS_URL is unset. Fix: render the chart's serviceConfig.nats.url`);
  const seed = (key: string) => setting(`nats.${key}`) ?? '';
  const caPath = setting('mtls.ca-path');
  return {
    natsUrl,
    permissions: read(setting('permissions.file') ?? '/etc/auth-callout/permissions.json', 'permissions file'),
    env: pod.env,
    keys: { 'nkey-seed': seed('nkey-seed'), 'issuer-seed': seed('issuer-seed'), 'xkey-seed': seed('xkey-seed') || undefined },
    mtlsCa: caPath ? read(caPath, 'mTLS CA (AUTH_CALLOUT_MTLS_CA_PATH)') : undefined,
  };
}

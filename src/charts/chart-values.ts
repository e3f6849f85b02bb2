/**
 * The chart values a deployer needs beyond cluster identity: extra account
 * properties, cross-layer subjects, the MQTT streams and the auth-callout
 * image and JWKS settings. Typed here, checked where they enter (the chart's
 * rules at synth time, not at `helm install`), and turned into values of the
 * DSX Event Bus chart (https://github.com/NVIDIA/dsx-exchange/tree/main/deploy/nats-event-bus).
 */
import { Duration } from 'cdk8s';
import { problem, quote } from '../errors';

/**
 * Properties of one extra NATS account (`global.eventBus.extraAccounts.<name>`).
 * The chart passes them to the account on the CSC; a CPC always keeps the
 * account's JetStream off and maps its `$JS.API`, `$KV` and `$OBJ` subjects to
 * the CSC's JetStream domain, so JetStream of an extra account lives on the CSC.
 */
export interface ExtraAccountSettings {
  /**
   * Enable JetStream for the account on the CSC (streams, KV and object
   * stores of the account, reached from every CPC through the leaf).
   * @default false - the chart's default: no JetStream, so a JetStream, KV or
   * object-store request in the account gets no responder
   */
  readonly jetstream?: boolean;
}

/**
 * Subjects routed between the CSC and the CPCs (`global.eventBus.crossLayer`).
 * A subject (or one a wildcard of it matches) may appear in only one of the
 * three lists: the chart warns that overlap creates cyclic imports that crash
 * the NATS pod.
 */
export interface CrossLayerSubjects {
  /**
   * Subjects the CSC exports to every CPC, imported unchanged.
   * @default - none
   */
  readonly cscExports?: string[];
  /**
   * Subjects the CSC exports per CPC: published on the CSC as
   * `cpc.<id>.<subject>`, received on that CPC as `<subject>`.
   * @default - none
   */
  readonly cscPrefixedExports?: string[];
  /**
   * Subjects each CPC exports to the CSC, received there as `cpc.<id>.<subject>`.
   * @default - none
   */
  readonly cpcExports?: string[];
}

/** Storage of the MQTT JetStream streams. */
export enum MqttStreamStorage {
  /** In memory (the chart's default): lost when every replica restarts. */
  MEMORY = 'memory',
  /** On disk (the NATS server's JetStream file store must be enabled). */
  FILE = 'file',
}

/** The JetStream streams behind MQTT (`global.eventBus.mqttStreams`; created by the NACK controller). */
export interface MqttStreamsOptions {
  /**
   * Size limit of each stream in bytes (oldest messages are discarded); -1 for no limit.
   * @default 67108864 (64 MiB, the chart's)
   * @asType integer
   */
  readonly maxBytes?: number;
  /**
   * Replicas of each stream, at most 5 (JetStream's limit) and at most the
   * NATS cluster's size (the chart's `nats.config.cluster.replicas`, 3).
   * @default 3 (the chart's)
   * @asType integer
   * @minimum 1
   * @maximum 5
   */
  readonly replicas?: number;
  /**
   * Memory or file storage.
   * @default MqttStreamStorage.MEMORY (the chart's)
   */
  readonly storage?: MqttStreamStorage;
  /**
   * Maximum age of messages (every stream but the session stream); zero for no limit.
   * Written as a Go duration (`3h`, `1h30m`).
   * @default Duration.hours(3) (the chart's)
   */
  readonly maxAge?: Duration;
}

/** The auth-callout container image (`auth-callout.image`). */
export interface AuthCalloutImage {
  /**
   * Repository, without tag or digest, e.g. `registry.example.com/dsx/auth-callout`.
   * The image is not published: build it from the dsx-exchange `auth-callout` sources and push it.
   */
  readonly repository: string;
  /** Tag, e.g. `v0.1.0`. */
  readonly tag: string;
}

/** The auth-callout service's OAuth2 JWT validation settings (`auth-callout.serviceConfig.jwks`). */
export interface AuthCalloutJwks {
  /** URL of the JWKS endpoint, e.g. `https://keycloak.example.com/realms/event-bus/protocol/openid-connect/certs`. */
  readonly url: string;
  /** Expected JWT issuer (`iss`), e.g. `https://keycloak.example.com/realms/event-bus`. */
  readonly issuer: string;
  /**
   * Expected JWT audience (`aud`).
   * @default - none: the audience is not checked
   */
  readonly audience?: string;
}

/** The auth-callout subchart's deployer settings. */
export interface AuthCalloutOptions {
  /**
   * The auth-callout image. The chart cannot start without it: its default
   * (`registry.example.com/dsx-exchange/auth-callout`) is a placeholder.
   * @default - not set: the values file says the deployer must set
   * `auth-callout.image.repository` and `tag`
   */
  readonly image?: AuthCalloutImage;
  /**
   * Names of image pull Secrets for the (private) image.
   * @default - none
   */
  readonly imagePullSecrets?: string[];
  /**
   * JWKS settings for OAuth2 (JWT) clients.
   * @default - not set: the values file says the deployer must set
   * `auth-callout.serviceConfig.jwks` for OAuth2 clients
   */
  readonly jwks?: AuthCalloutJwks;
}

/**
 * Throws unless `subject` is a NATS subject filter: dot-separated non-empty
 * tokens without whitespace; `*` only as a whole token, `>` only as the
 * whole last token.
 */
export function validateSubject(subject: string, where: string): void {
  const tokens = typeof subject === 'string' ? subject.split('.') : [];
  const bad = tokens.length === 0
    || tokens.some((t, i) => t === '' || /\s/.test(t) || (t.includes('*') && t !== '*') || (t.includes('>') && (t !== '>' || i !== tokens.length - 1)));
  if (bad) {
    throw problem({
      where,
      problem: `${quote(subject)} is not a NATS subject`,
      allowed: 'dot-separated tokens without spaces; "*" as a whole token; ">" only as the whole last token (e.g. "sensors.*.temperature", "events.>")',
      fix: 'correct the subject',
    });
  }
}

/**
 * Whether some subject matches both filters (the rule nats-server applies
 * when it looks for import cycles): token by token, `*` matches any one
 * token and `>` any rest of one or more tokens.
 */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < x.length && i < y.length; i++) {
    if (x[i] === '>' || y[i] === '>') return true;
    if (x[i] !== y[i] && x[i] !== '*' && y[i] !== '*') return false;
  }
  return x.length === y.length;
}

const CROSS_LAYER_LISTS = ['cscExports', 'cscPrefixedExports', 'cpcExports'] as const;

/**
 * Checks the cross-layer subjects: each a NATS subject, none listed twice in
 * one list (nats-server refuses a second identical stream import), and none
 * overlapping a subject of another list (the chart: cyclic imports crash the
 * NATS pod; nats-server refuses `cscPrefixedExports` overlapping `cpcExports`
 * with "import forms a cycle"). Overlap counts wildcards: `a.>` overlaps `a.b`.
 */
export function validateCrossLayer(crossLayer: CrossLayerSubjects, where: string): void {
  const seen: Array<{ list: string; subject: string }> = [];
  for (const list of CROSS_LAYER_LISTS) {
    const subjects = crossLayer[list] ?? [];
    if (!Array.isArray(subjects)) throw problem({ where: `${where}.${list}`, problem: 'is not a list of subjects', fix: `write e.g. ${list}: ['sensors.>']` });
    for (const subject of subjects) {
      validateSubject(subject, `${where}.${list}`);
      for (const other of seen) {
        if (other.list === list) {
          if (other.subject === subject) {
            throw problem({ where: `${where}.${list}`, problem: `subject ${quote(subject)} is listed twice (nats-server refuses the second, identical import)`, fix: 'list it once' });
          }
        } else if (subjectsOverlap(subject, other.subject)) {
          throw problem({
            where,
            problem: `${list} subject ${quote(subject)} overlaps ${other.list} subject ${quote(other.subject)}: a subject routed by two lists creates cyclic imports that crash the NATS pod`,
            allowed: 'each subject (and every subject its wildcards match) in one of cscExports, cscPrefixedExports and cpcExports only',
            fix: 'keep the subject in one list, or narrow the wildcard so the lists are disjoint',
          });
        }
      }
      seen.push({ list, subject });
    }
  }
}

/** `global.eventBus.crossLayer`: the non-empty lists. */
export function crossLayerValues(crossLayer: CrossLayerSubjects): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const list of CROSS_LAYER_LISTS) {
    if (crossLayer[list]?.length) out[list] = [...crossLayer[list]!];
  }
  return out;
}

/** Checks the MQTT stream settings against what the chart and JetStream accept. */
export function validateMqttStreams(s: MqttStreamsOptions, where: string): void {
  if (s.maxBytes !== undefined && !(Number.isSafeInteger(s.maxBytes) && (s.maxBytes >= 1 || s.maxBytes === -1))) {
    throw problem({ where: `${where}.maxBytes`, problem: `${s.maxBytes} is not a stream size`, allowed: 'a whole number of bytes of at least 1, or -1 for no limit', fix: 'e.g. 67108864 (64 MiB)' });
  }
  if (s.replicas !== undefined && !(Number.isInteger(s.replicas) && s.replicas >= 1 && s.replicas <= 5)) {
    throw problem({ where: `${where}.replicas`, problem: `${s.replicas} is not a replica count`, allowed: 'a whole number from 1 to 5 (JetStream\'s limit), at most the NATS cluster\'s size (3 by default)', fix: 'e.g. 3' });
  }
  if (s.storage !== undefined && !Object.values(MqttStreamStorage).includes(s.storage)) {
    throw problem({ where: `${where}.storage`, problem: `${quote(s.storage)} is not a stream storage`, allowed: 'MqttStreamStorage.MEMORY ("memory") or MqttStreamStorage.FILE ("file")' });
  }
  if (s.maxAge !== undefined) {
    const ms = s.maxAge instanceof Duration ? s.maxAge.toMilliseconds({ integral: false }) : NaN;
    if (!(Number.isSafeInteger(ms) && ms >= 0)) {
      throw problem({ where: `${where}.maxAge`, problem: 'is not a duration of whole milliseconds', allowed: 'a cdk8s Duration of zero (no limit) or more', fix: 'e.g. Duration.hours(3)' });
    }
  }
}

/** `global.eventBus.mqttStreams`: the fields that are set. */
export function mqttStreamsValues(s: MqttStreamsOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.maxBytes !== undefined) out.maxBytes = s.maxBytes;
  if (s.replicas !== undefined) out.replicas = s.replicas;
  if (s.storage !== undefined) out.storage = s.storage;
  if (s.maxAge !== undefined) out.maxAge = goDuration(s.maxAge.toMilliseconds());
  return out;
}

/** A whole number of milliseconds as a Go duration (`time.ParseDuration`): `3h`, `1h30m`, `1s500ms`, `0s`. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: Array<[string, number]> = [['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/** Milliseconds of a Go duration made of `h`, `m`, `s` and `ms` parts (e.g. `1h30m`); undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (typeof text !== 'string' || !/^(\d+(h|ms|m|s))+$/.test(text)) return undefined;
  const size: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let ms = 0;
  for (const m of text.matchAll(/(\d+)(h|ms|m|s)/g)) ms += Number(m[1]) * size[m[2]];
  return Number.isSafeInteger(ms) ? ms : undefined;
}

// An image repository: an optional registry host[:port], then lower-case path
// components (https://github.com/distribution/reference, without tag or digest).
const REPOSITORY = /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
/** The chart's placeholder repository: naming it is the same as not setting it. */
const PLACEHOLDER_REPOSITORY = 'registry.example.com/dsx-exchange/auth-callout';

/** Checks the auth-callout settings. */
export function validateAuthCallout(a: AuthCalloutOptions, where: string): void {
  if (a.image) {
    const { repository, tag } = a.image;
    if (typeof repository !== 'string' || !REPOSITORY.test(repository)) {
      const hasRef = typeof repository === 'string' && (/@/.test(repository) || /:[^/]*$/.test(repository.replace(/^[^/]*\//, '')));
      throw problem({
        where: `${where}.image.repository`,
        problem: `${quote(repository)} is not an image repository${hasRef ? ' (it holds a tag or digest)' : ''}`,
        allowed: 'registry/path in lower case, without tag or digest, e.g. "registry.example.com/dsx/auth-callout"',
        fix: hasRef ? 'put the tag into image.tag' : 'correct the repository',
      });
    }
    if (repository === PLACEHOLDER_REPOSITORY) {
      throw problem({ where: `${where}.image.repository`, problem: `${quote(repository)} is the chart's placeholder; no such image exists`, fix: 'build the auth-callout image, push it to your registry and name that repository' });
    }
    if (typeof tag !== 'string' || !TAG.test(tag)) {
      throw problem({ where: `${where}.image.tag`, problem: `${quote(tag)} is not an image tag`, allowed: 'letters, digits, "_", "." and "-", at most 128, not starting with "." or "-"', fix: 'e.g. "v0.1.0"' });
    }
  }
  for (const name of a.imagePullSecrets ?? []) {
    if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
      throw problem({ where: `${where}.imagePullSecrets`, problem: `${quote(name)} is not a Secret name`, allowed: 'a Kubernetes object name (lower-case letters, digits, "-" and ".")' });
    }
  }
  if (a.jwks) {
    const { url, issuer, audience } = a.jwks;
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['https:', 'http:'].includes(parsed.protocol) || /\s/.test(url)) {
      throw problem({ where: `${where}.jwks.url`, problem: `${quote(url)} is not an http(s) URL`, fix: 'use the identity provider\'s JWKS endpoint, e.g. "https://keycloak.example.com/realms/event-bus/protocol/openid-connect/certs"' });
    }
    if (typeof issuer !== 'string' || issuer.trim() === '' || issuer !== issuer.trim()) {
      throw problem({ where: `${where}.jwks.issuer`, problem: `${quote(issuer)} is not an issuer`, allowed: 'the exact "iss" of the tokens, without surrounding spaces', fix: 'e.g. "https://keycloak.example.com/realms/event-bus"' });
    }
    if (audience !== undefined && (typeof audience !== 'string' || audience.trim() === '' || audience !== audience.trim())) {
      throw problem({ where: `${where}.jwks.audience`, problem: `${quote(audience)} is not an audience`, allowed: 'the exact "aud" of the tokens, or leave it unset', fix: 'remove audience or give the value' });
    }
  }
}

/** The `auth-callout` subchart values that are set. */
export function authCalloutValues(a: AuthCalloutOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (a.image) out.image = { repository: a.image.repository, tag: a.image.tag };
  if (a.imagePullSecrets?.length) out.imagePullSecrets = a.imagePullSecrets.map((name) => ({ name }));
  if (a.jwks) {
    const { url, issuer, audience } = a.jwks;
    out.serviceConfig = { jwks: { url, issuer, ...(audience !== undefined ? { audience } : {}) } };
  }
  return out;
}

/** What the deployer must still set for the chart to run, as lines for the values file's header. */
export function deployerValues(a: AuthCalloutOptions): string[] {
  const out: string[] = [];
  if (!a.image) out.push('REQUIRED auth-callout.image.repository and .tag: the image is not published and the auth-callout pod cannot start without it; build it from the dsx-exchange auth-callout sources and push it (or set authCallout.image)');
  if (!a.jwks) out.push('auth-callout.serviceConfig.jwks (url, issuer, audience): needed for OAuth2 (JWT) clients (or set authCallout.jwks)');
  return out;
}

/**
 * `global.eventBus.extraAccounts`: every account enabled, with its settings.
 * Settings for an account that is not listed are refused.
 */
export function extraAccountValues(
  names: readonly string[], settings: { [account: string]: ExtraAccountSettings }, where: string,
): Record<string, Record<string, unknown>> {
  for (const [name, s] of Object.entries(settings)) {
    if (!names.includes(name)) {
      throw problem({
        where: `${where}.${name}`,
        problem: `settings are given for ${quote(name)}, which is not in extraAccounts`,
        allowed: names.length ? names.map((n) => quote(n)).join(', ') : 'no account: extraAccounts is empty',
        fix: `add ${quote(name)} to extraAccounts, or remove its settings`,
      });
    }
    if (s === null || typeof s !== 'object' || (s.jetstream !== undefined && typeof s.jetstream !== 'boolean')) {
      throw problem({ where: `${where}.${name}`, problem: 'is not an ExtraAccountSettings', allowed: '{ jetstream?: boolean }' });
    }
  }
  return Object.fromEntries(names.map((name) => [name, { enabled: true, ...(settings[name]?.jetstream ? { jetstream: true } : {}) }]));
}

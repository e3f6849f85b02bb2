/**
 * Host-name rules shared by certificates and gateways (module-internal, not
 * part of the public API). Certificates may name IPs (in `ipAddresses`);
 * Gateway API hostnames and TLS SNI may not.
 */
import { isIP } from 'net';
import { problem, quote } from '../errors';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const WILDCARD_DNS_NAME = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
/** Kubernetes object names that end up in DNS (Service, Secret, Gateway): RFC 1123 subdomain. */
const OBJECT_NAME = DNS_NAME;
/** Gateway API SectionName: RFC 1123 subdomain, at most 253 characters. */
export const SECTION_NAME = DNS_NAME;

/** Whether `value` is an IPv4 or IPv6 literal (brackets allowed around IPv6). */
export function isIpLiteral(value: string): boolean {
  return isIP(stripBrackets(value)) !== 0;
}

function stripBrackets(value: string): string {
  return value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
}

/** Canonical text of an IP literal, so `::0001` and `::1` compare equal. */
export function canonicalIp(value: string): string {
  const v = stripBrackets(value);
  if (isIP(v) === 4) return v.split('.').map((o) => String(Number(o))).join('.');
  if (isIP(v) === 6) {
    // Expand to 8 groups, then print each group without leading zeros (no :: compression).
    const [head, tail] = v.toLowerCase().includes('::') ? v.toLowerCase().split('::') : [v.toLowerCase(), undefined];
    const h = head ? head.split(':') : [];
    const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
    const expand = (groups: string[]) => groups.flatMap((g) => (g.includes('.') ? v4ToGroups(g) : [g]));
    const hh = expand(h);
    const tt = expand(t);
    const middle = tail === undefined ? [] : new Array(8 - hh.length - tt.length).fill('0');
    return [...hh, ...middle, ...tt].map((g) => parseInt(g, 16).toString(16)).join(':');
  }
  return v;
}

function v4ToGroups(v4: string): string[] {
  const o = v4.split('.').map(Number);
  return [(o[0] * 256 + o[1]).toString(16), (o[2] * 256 + o[3]).toString(16)];
}

/** Throws unless `value` is a DNS name (RFC 1123, lower case; `*.` prefix when `wildcard`). */
export function validateDnsName(value: string, where: string, what: string, options: { wildcard?: boolean } = {}): void {
  const pattern = options.wildcard ? WILDCARD_DNS_NAME : DNS_NAME;
  if (typeof value !== 'string' || value.length === 0 || value.length > 253 || !pattern.test(value) || value.split('.').some((l) => l.length > 63)) {
    const lower = typeof value === 'string' ? value.toLowerCase().replace(/\.$/, '') : '';
    throw problem({
      where,
      problem: `${what} ${quote(value)} is not a valid DNS name`,
      allowed: `lower-case RFC 1123 names of at most 253 characters, labels of 1-63 letters, digits and '-'${options.wildcard ? ", optionally starting with '*.'" : ''} (e.g. "event-bus.example.com")`,
      fix: lower !== value && pattern.test(lower) ? `write it as ${quote(lower)}` : 'correct the name',
    });
  }
}

/**
 * Throws unless `value` can be a Gateway API hostname (listener hostname or
 * TLSRoute hostname): a DNS name, never an IP literal, because TLS clients do
 * not send IP addresses as SNI.
 */
export function validateSniHostname(value: string, where: string, what: string): void {
  if (typeof value === 'string' && isIpLiteral(value)) {
    throw problem({
      where,
      problem: `${what} ${quote(value)} is an IP address. Gateway API hostnames are matched against the TLS SNI, and TLS clients never send an IP address as SNI (RFC 6066 section 3: literal IPv4 and IPv6 addresses are not permitted in HostName), so this route could never match`,
      allowed: 'DNS names such as "mqtt.example.com" or "*.example.com"',
      fix: 'give the clients a DNS name that resolves to the gateway address and use it here and in the server certificate SANs; to accept clients that connect by IP, leave the hostnames empty (route API v1alpha2 only) and put the IP in the server certificate\'s ipAddresses',
    });
  }
  validateDnsName(value, where, what, { wildcard: true });
}

/** Throws unless `value` is a valid Kubernetes object name (RFC 1123 subdomain). */
export function validateObjectName(value: string, where: string, what: string): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 253 || !OBJECT_NAME.test(value)) {
    throw problem({
      where,
      problem: `${what} ${quote(value)} is not a valid Kubernetes object name`,
      allowed: "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters",
      fix: 'choose a name such as "event-bus-server-tls"',
    });
  }
}

/** The namespace the upstream chart is installed in when none is given (upstream's [pre-deployment page](https://github.com/NVIDIA/dsx-exchange/blob/main/docs/pre-deployment.md)). */
export const DEFAULT_NAMESPACE = 'dsx';

/** Throws unless `value` is a valid namespace name (RFC 1123 label). */
export function validateNamespace(value: string, where: string, what = 'namespace'): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 63 || !new RegExp(`^${LABEL}$`).test(value)) {
    throw problem({
      where,
      problem: `${what} ${quote(value)} is not a valid Kubernetes namespace`,
      allowed: "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
      fix: `use a namespace such as ${quote(DEFAULT_NAMESPACE)}`,
    });
  }
}

const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * Why `key` is not a Kubernetes qualified name (label or annotation key), or
 * undefined when it is one: an optional DNS-subdomain prefix of at most 253
 * characters and "/", then a name of at most 63 letters, digits, "-", "_" and
 * "." that starts and ends with a letter or digit
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set).
 */
export function qualifiedNameProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'it is empty';
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    if (prefix.length === 0) return 'the prefix before "/" is empty';
    if (prefix.includes('/')) return 'it has more than one "/"';
    if (prefix.length > 253) return `the prefix before "/" has ${prefix.length} characters (at most 253)`;
    if (!DNS_NAME.test(prefix) || prefix.split('.').some((l) => l.length > 63)) return 'the prefix before "/" is not a lower-case DNS subdomain';
  }
  if (name.length === 0) return 'the name part is empty';
  if (name.length > 63) return `the name part${prefix !== undefined ? ' after "/"' : ''} has ${name.length} characters (at most 63)`;
  if (!QUALIFIED_NAME_PART.test(name)) return 'the name part has characters other than letters, digits, "-", "_" and "." or does not start and end with a letter or digit';
  return undefined;
}

const QUALIFIED_NAME_ALLOWED = 'an optional DNS-subdomain prefix (at most 253 characters) and "/", then a name of at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit';

/** Throws on the first invalid label key or value (Kubernetes label syntax). */
export function validateLabels(labels: Record<string, string>, where: string, what = 'label'): void {
  for (const [key, value] of Object.entries(labels)) {
    const why = qualifiedNameProblem(key);
    if (why) {
      throw problem({ where, problem: `${what} key ${quote(key)} is invalid: ${why}`, allowed: QUALIFIED_NAME_ALLOWED, fix: 'e.g. "app.kubernetes.io/part-of"' });
    }
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      throw problem({
        where,
        problem: `${what} ${key} has the invalid value ${quote(value)}${typeof value === 'string' && value.length > 63 ? ` (${value.length} characters)` : ''}`,
        allowed: 'at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit (or empty)',
        fix: 'put free text in an annotation instead',
      });
    }
  }
}

/** Throws on the first invalid annotation key or non-string value. */
export function validateAnnotations(annotations: Record<string, string>, where: string, what = 'annotation'): void {
  for (const [key, value] of Object.entries(annotations)) {
    const why = qualifiedNameProblem(key);
    if (why) {
      throw problem({ where, problem: `${what} key ${quote(key)} is invalid: ${why}`, allowed: QUALIFIED_NAME_ALLOWED, fix: 'e.g. "example.com/owner"' });
    }
    if (typeof value !== 'string') {
      throw problem({ where, problem: `${what} ${key} has a non-string value ${quote(value)}`, fix: 'pass the value as a string' });
    }
  }
}

/**
 * The longest duration Go's `time.Duration` holds (2562047h47m16s, about 292
 * years), in whole seconds. cert-manager, External Secrets and the Vault
 * Secrets Operator parse durations with Go's `time.ParseDuration`, which
 * refuses anything longer (https://pkg.go.dev/time#Duration).
 */
export const MAX_GO_DURATION_SECONDS = 2562047 * 3600;

/** Throws unless `seconds` is a finite duration that Go can parse (0 to {@link MAX_GO_DURATION_SECONDS}). */
export function validateGoDurationBound(seconds: number, where: string, what: string): void {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_GO_DURATION_SECONDS) {
    throw problem({
      where,
      problem: `${what} is ${Number.isFinite(seconds) ? `${Math.round(seconds / 86400)} days` : 'not a finite duration'}, longer than cert-manager and the secret operators can read`,
      allowed: `at most ${MAX_GO_DURATION_SECONDS / 3600}h (about 292 years: Go's time.Duration)`,
      fix: 'use a duration of days or years, e.g. Duration.days(90) for a certificate',
    });
  }
}

/** Throws unless `port` is an integer TCP port (1-65535). */
export function validatePort(port: number, where: string, what = 'port'): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw problem({ where, problem: `${what} ${quote(port)} is not a TCP port`, allowed: 'integers 1 to 65535', fix: 'use e.g. 8883' });
  }
}

/**
 * Whether DNS name `pattern` (maybe `*.x`) covers `host`, as TLS name checks
 * and Gateway API hostname matching do: `*.example.com` covers
 * `a.example.com`, not `example.com`. Gateway API would also let it cover
 * `a.b.example.com`; TLS (RFC 6125) would not, so the stricter rule is used.
 */
export function dnsNameCovers(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return p === h;
  const dot = h.indexOf('.');
  return dot > 0 && h.slice(dot + 1) === p.slice(2);
}

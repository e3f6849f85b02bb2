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

/** Throws unless `value` is a valid namespace name (RFC 1123 label). */
export function validateNamespace(value: string, where: string, what = 'namespace'): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > 63 || !new RegExp(`^${LABEL}$`).test(value)) {
    throw problem({
      where,
      problem: `${what} ${quote(value)} is not a valid Kubernetes namespace`,
      allowed: "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters",
      fix: 'use a namespace such as "dsx"',
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

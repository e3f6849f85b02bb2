/**
 * The one parser of the URLs the event bus takes: a CPC's leafnode remote to
 * the CSC (`cscEndpoint`, e.g. `tls://csc.example.com:<NATS_LEAFNODE_PORT>`) and the broker
 * URLs of mTLS clients (`mtlsClientUrls`, e.g. `mqtts://mqtt-mtls.example.com:8883`).
 * Module-internal (not exported from the package).
 *
 * Leafnode remote URLs: https://docs.nats.io/running-a-nats-service/configuration/leafnodes/leafnode_conf
 */
import { problem, quote } from './errors';

/** A URL split into the parts the checks compare. */
export interface Endpoint {
  /** The scheme, lower-case, without `://`. */
  readonly scheme: string;
  /** The host without IPv6 brackets, DNS names lower-case. */
  readonly host: string;
  /** The host as a URL writes it (IPv6 literals in brackets). */
  readonly hostText: string;
  /** The port, when the URL gives one. */
  readonly port?: number;
  /** Whatever follows host and port (a path), or ''. */
  readonly path: string;
}

// scheme://host[:port][/path]: a bracketed IPv6 literal or a name without URL delimiters.
const URL_SHAPE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[0-9A-Fa-f:.]+\]|[^\s/?#@[\]:]+)(?::(\d{1,5}))?([/?#].*)?$/s;

/** Splits `url`, or undefined when it is not `scheme://host[:port][path]` with a port of 1 to 65535. */
export function splitUrl(url: unknown): Endpoint | undefined {
  const m = typeof url === 'string' ? URL_SHAPE.exec(url) : null;
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const bracketed = m[2].startsWith('[');
  const host = bracketed ? m[2].slice(1, -1) : m[2].toLowerCase();
  return { scheme: m[1].toLowerCase(), host, hostText: bracketed ? m[2] : host, port, path: m[4] ?? '' };
}

/** `scheme://host:port`, with an IPv6 literal in brackets. */
export function formatUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/**
 * The NATS leafnode port: the upstream chart's `nats` Service port of
 * `nats-leafnode`, which the gateway's `nats-leafnode` listener also uses.
 * The one place this number is written in src/ (test/decided-once.test.ts).
 */
export const NATS_LEAFNODE_PORT = 7422;

/** The schemes of a NATS leafnode remote. */
export const LEAF_SCHEMES = ['nats', 'tls', 'ws', 'wss'] as const;

/** Parses a CPC's `cscEndpoint`; throws a described error unless NATS accepts it as a leafnode remote URL. */
export function parseLeafEndpoint(url: string | undefined, where: string): Endpoint {
  const e = splitUrl(url);
  if (!e || !(LEAF_SCHEMES as readonly string[]).includes(e.scheme) || e.path !== '' || !/^[A-Za-z0-9.-]+$|:/.test(e.host)) {
    throw problem({
      where,
      problem: url === undefined || url === '' ? 'cscEndpoint is missing: a CPC needs the URL of the CSC leafnode endpoint' : `cscEndpoint ${quote(url)} is not a leafnode URL`,
      allowed: `scheme ${LEAF_SCHEMES.slice(0, -1).join(', ')} or ${LEAF_SCHEMES[LEAF_SCHEMES.length - 1]}, a host and an optional port, e.g. tls://csc.example.com:${NATS_LEAFNODE_PORT}`,
      fix: `set cscEndpoint to the CSC gateway's nats-leafnode listener (port ${NATS_LEAFNODE_PORT})`,
    });
  }
  return e;
}

/** Parses a broker URL of an mTLS client (`mqtts://host:8883`, `ssl://…`, `tls://…`); throws a described error when it is not one. */
export function parseClientUrl(url: string, where: string | undefined): Endpoint {
  const e = splitUrl(url);
  if (!e) {
    throw problem({
      where,
      problem: `client URL ${quote(url)} is not a URL with a host`,
      allowed: 'URLs such as "mqtts://mqtt-mtls.example.com:8883" or "ssl://172.18.200.1:8883"',
      fix: 'write the URL the MQTT clients use, including the scheme',
    });
  }
  return e;
}

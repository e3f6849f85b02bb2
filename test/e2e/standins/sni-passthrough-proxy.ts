/**
 * Stand-in for an Envoy Gateway listener with `protocol: TLS`,
 * `tls.mode: Passthrough` and TLSRoutes
 * (https://gateway-api.sigs.k8s.io/reference/spec/#tlsroutespec).
 *
 * What it does, as Envoy does: reads the client's first TLS record(s) without
 * terminating TLS (Envoy's tls_inspector), takes the SNI from the
 * ClientHello, picks the route whose `hostnames` match it, and forwards the
 * raw bytes, ClientHello included, to that route's backend, so the backend
 * terminates TLS and sees the client certificate. Hostname matching follows
 * Envoy's `server_names` (which Envoy Gateway sets from the TLSRoute
 * hostnames): case-insensitive; an exact name wins over a wildcard, a longer
 * wildcard over a shorter one; `*.example.com` matches one *or more* leading
 * labels (`a.example.com`, `a.b.example.com`) but not `example.com`
 * (https://www.envoyproxy.io/docs/envoy/latest/api-v3/config/listener/v3/listener_components.proto#config-listener-v3-filterchainmatch).
 * A route without hostnames matches every TLS connection, SNI or not. A
 * connection that matches no route, or is not TLS, is reset (TCP RST) — the
 * "silent reset" a client of an Envoy passthrough listener sees.
 *
 * What it does not do: no Gateway/TLSRoute objects are read (the caller
 * passes hostnames and a backend per route), no listener `hostname`
 * intersection, no weights or several backendRefs, no ALPN matching, no
 * PROXY protocol, no idle timeouts, no access logs.
 *
 * const proxy = await startSniPassthroughProxy({
 *   routes: [{ hostnames: ['mqtt.csc.example.com'], backend: { host: '127.0.0.1', port: 8883 } }],
 * });
 * try { … tls.connect({ port: proxy.port, servername: 'mqtt.csc.example.com', … }) … } finally { await proxy.stop(); }
 */
import * as net from 'net';
import { closeServer, connectBackend, Endpoint, listen, SocketSet, splice } from './net';

/** One TLSRoute: its hostnames and its backend. */
export interface PassthroughRoute {
  /** TLSRoute `spec.hostnames` (exact or `*.`-prefixed). Empty: every TLS connection. */
  readonly hostnames: readonly string[];
  /** The backendRef the raw bytes go to. */
  readonly backend: Endpoint;
}

export interface SniPassthroughProxyOptions {
  /** The TLSRoutes attached to this listener. */
  readonly routes: readonly PassthroughRoute[];
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on. @default 0 (a free port the OS picks) */
  readonly port?: number;
  /** A client that has not sent a complete ClientHello within this time is reset. @default 5000 */
  readonly clientHelloTimeoutMs?: number;
  /** Backend connects not complete within this time reset the client. @default 5000 */
  readonly connectTimeoutMs?: number;
}

/** A connection the proxy reset, and why. */
export interface PassthroughRefusal {
  /** The SNI the client sent (undefined: none, or not TLS). */
  readonly sni?: string;
  readonly reason: string;
}

export interface SniPassthroughProxyStats {
  readonly accepted: number;
  /** SNIs of the connections forwarded, in order. */
  readonly forwarded: readonly (string | undefined)[];
  /** Connections reset, with the reason. */
  readonly refused: readonly PassthroughRefusal[];
}

export interface RunningSniPassthroughProxy {
  readonly host: string;
  readonly port: number;
  stats(): SniPassthroughProxyStats;
  /** Closes the listener and every open connection. Idempotent. */
  stop(): Promise<void>;
}

/** Largest ClientHello we wait for (Envoy's tls_inspector reads at most 64 KiB). */
const MAX_CLIENT_HELLO = 64 * 1024;

/** What the first bytes of a connection say. */
export type ClientHelloResult =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'not-tls'; readonly reason: string }
  | { readonly kind: 'client-hello'; readonly sni?: string };

/**
 * Reads the SNI from the start of a TLS connection: one or more TLS
 * handshake records carrying a ClientHello (RFC 8446 §4.1.2, RFC 6066 §3).
 */
export function parseClientHello(data: Buffer): ClientHelloResult {
  // Reassemble the handshake bytes from consecutive handshake records.
  const parts: Buffer[] = [];
  let offset = 0;
  let handshakeLength: number | undefined;
  let have = 0;
  for (;;) {
    if (data.length < offset + 5) return { kind: 'incomplete' };
    if (data[offset] !== 0x16) return { kind: 'not-tls', reason: `first record type is ${data[offset]}, not a TLS handshake (22)` };
    if (data[offset + 1] !== 0x03) return { kind: 'not-tls', reason: 'record version is not TLS 1.x' };
    const recordLength = data.readUInt16BE(offset + 3);
    if (data.length < offset + 5 + recordLength) return { kind: 'incomplete' };
    parts.push(data.subarray(offset + 5, offset + 5 + recordLength));
    have += recordLength;
    offset += 5 + recordLength;
    if (handshakeLength === undefined && have >= 4) {
      const hs = Buffer.concat(parts);
      if (hs[0] !== 0x01) return { kind: 'not-tls', reason: `first handshake message is type ${hs[0]}, not a ClientHello (1)` };
      handshakeLength = hs.readUIntBE(1, 3);
    }
    if (handshakeLength !== undefined && have >= 4 + handshakeLength) break;
  }
  const hello = Buffer.concat(parts).subarray(4, 4 + handshakeLength);
  try {
    return { kind: 'client-hello', sni: sniFromClientHello(hello) };
  } catch (e) {
    return { kind: 'not-tls', reason: `malformed ClientHello: ${(e as Error).message}` };
  }
}

function sniFromClientHello(body: Buffer): string | undefined {
  let p = 2 + 32; // legacy_version, random
  const need = (n: number) => {
    if (p + n > body.length) throw new Error(`truncated at byte ${p}`);
  };
  need(1); p += 1 + body[p]; // legacy_session_id
  need(2); p += 2 + body.readUInt16BE(p); // cipher_suites
  need(1); p += 1 + body[p]; // legacy_compression_methods
  if (p === body.length) return undefined; // no extensions at all
  need(2);
  const end = p + 2 + body.readUInt16BE(p);
  p += 2;
  if (end > body.length) throw new Error('extensions run past the ClientHello');
  while (p + 4 <= end) {
    const type = body.readUInt16BE(p);
    const len = body.readUInt16BE(p + 2);
    p += 4;
    need(len);
    if (type === 0) { // server_name
      let q = p + 2; // server_name_list length
      while (q + 3 <= p + len) {
        const nameType = body[q];
        const nameLen = body.readUInt16BE(q + 1);
        if (nameType === 0) return body.subarray(q + 3, q + 3 + nameLen).toString('ascii');
        q += 3 + nameLen;
      }
      return undefined;
    }
    p += len;
  }
  return undefined;
}

/**
 * Whether `sni` matches a TLSRoute hostname as Envoy's `server_names` does:
 * case-insensitive; `*.example.com` matches any name with one or more labels
 * before `.example.com`.
 */
export function hostnameMatches(hostname: string, sni: string): boolean {
  const h = hostname.toLowerCase();
  const s = sni.toLowerCase().replace(/\.$/, '');
  if (!h.startsWith('*.')) return h === s;
  const suffix = h.slice(1); // ".example.com"
  return s.length > suffix.length && s.endsWith(suffix);
}

/**
 * The route for `sni`: an exact hostname first, then the longest matching
 * wildcard, then a route without hostnames (Envoy's filter-chain order).
 */
export function selectRoute<R extends PassthroughRoute>(routes: readonly R[], sni: string | undefined): R | undefined {
  if (sni !== undefined) {
    const exact = routes.find((r) => r.hostnames.some((h) => !h.startsWith('*.') && hostnameMatches(h, sni)));
    if (exact) return exact;
    let best: { route: R; length: number } | undefined;
    for (const r of routes) {
      for (const h of r.hostnames) {
        if (h.startsWith('*.') && hostnameMatches(h, sni) && (!best || h.length > best.length)) best = { route: r, length: h.length };
      }
    }
    if (best) return best.route;
  }
  return routes.find((r) => r.hostnames.length === 0);
}

/** Starts the proxy; resolves once it listens. */
export async function startSniPassthroughProxy(options: SniPassthroughProxyOptions): Promise<RunningSniPassthroughProxy> {
  for (const r of options.routes) {
    for (const h of r.hostnames) {
      if (!/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(h)) {
        throw new Error(`TLSRoute hostname ${JSON.stringify(h)} is invalid. Allowed: a lower-case RFC 1123 name, optionally prefixed by "*." (the TLSRoute schema). Fix: e.g. "mqtt.example.com" or "*.example.com"`);
      }
    }
  }
  const sockets = new SocketSet();
  const stats = { accepted: 0, forwarded: [] as (string | undefined)[], refused: [] as PassthroughRefusal[] };
  const helloTimeoutMs = options.clientHelloTimeoutMs ?? 5000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;

  const reset = (socket: net.Socket, refusal: PassthroughRefusal) => {
    stats.refused.push(refusal);
    if (!socket.destroyed) socket.resetAndDestroy();
  };

  const server = net.createServer((client) => {
    stats.accepted++;
    sockets.add(client);
    client.once('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => {
      client.off('data', onData);
      reset(client, { reason: `no complete ClientHello within ${helloTimeoutMs} ms` });
    }, helloTimeoutMs);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const hello = parseClientHello(buffered);
      if (hello.kind === 'incomplete' && buffered.length <= MAX_CLIENT_HELLO) return;
      clearTimeout(timer);
      client.off('data', onData);
      client.pause();
      if (hello.kind === 'incomplete') {
        reset(client, { reason: `ClientHello larger than ${MAX_CLIENT_HELLO} bytes` });
        return;
      }
      if (hello.kind === 'not-tls') {
        reset(client, { reason: hello.reason });
        return;
      }
      const route = selectRoute(options.routes, hello.sni);
      if (!route) {
        reset(client, { sni: hello.sni, reason: hello.sni === undefined ? 'no SNI and no route without hostnames' : `SNI ${hello.sni} matches no TLSRoute hostname` });
        return;
      }
      connectBackend(route.backend, connectTimeoutMs, sockets).then((upstream) => {
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        stats.forwarded.push(hello.sni);
        upstream.write(buffered);
        splice(client, upstream);
        client.resume();
      }, (e: Error) => reset(client, { sni: hello.sni, reason: `backend: ${e.message}` }));
    };
    client.on('data', onData);
    client.once('close', () => clearTimeout(timer));
  });

  const bound = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  let stopping: Promise<void> | undefined;
  return {
    host: bound.host,
    port: bound.port,
    stats: () => ({ accepted: stats.accepted, forwarded: [...stats.forwarded], refused: [...stats.refused] }),
    stop: () => (stopping ??= closeServer(server, sockets)),
  };
}

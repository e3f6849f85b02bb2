/**
 * Stand-in for an Envoy Gateway listener with `protocol: TLS`,
 * `tls.mode: Terminate` and a TCPRoute to one backend Service port
 * (https://gateway-api.sigs.k8s.io/reference/spec/#gatewaytlsconfig).
 *
 * What it does, as Envoy does: listens on loopback, completes the TLS
 * handshake with the certificate of the listener's `certificateRefs` (the
 * caller passes the PEM cert/key, whose SANs must be those of the library's
 * Certificate), then opens a plain TCP connection to the backend and copies
 * the decrypted bytes both ways. The client must speak first (ClientHello):
 * a client that waits for the server to speak, as a plaintext NATS client
 * waiting for INFO does, waits until its own timeout.
 *
 * What it does not do: no Gateway/TCPRoute objects are read (the caller
 * wires one listener to one backend), no SNI-based certificate selection (one
 * certificate per listener), no client-certificate validation, no ALPN, no
 * PROXY protocol, no load balancing, no idle timeouts, no access logs, no
 * config reload. TLS 1.2 is the minimum, as Envoy's default.
 *
 * const proxy = await startTlsTerminatingProxy({ cert, key, backend: { host: '127.0.0.1', port: 4222 } });
 * try { … connect to proxy.port with TLS-first … } finally { await proxy.stop(); }
 */
import * as net from 'net';
import * as tls from 'tls';
import { closeServer, connectBackend, Endpoint, listen, SocketSet, splice } from './net';

export interface TlsTerminatingProxyOptions {
  /** Server certificate chain (PEM), as in the listener's TLS Secret `tls.crt`. */
  readonly cert: string;
  /** Its private key (PEM), as in `tls.key`. */
  readonly key: string;
  /** Where the decrypted bytes go (the TCPRoute's backendRef). */
  readonly backend: Endpoint;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port to listen on. @default 0 (a free port the OS picks) */
  readonly port?: number;
  /** Handshakes not complete within this time are dropped. @default 10000 */
  readonly handshakeTimeoutMs?: number;
  /** Backend connects not complete within this time drop the client. @default 5000 */
  readonly connectTimeoutMs?: number;
}

/** What the proxy has seen, for assertions. */
export interface TlsTerminatingProxyStats {
  /** TCP connections accepted. */
  readonly accepted: number;
  /** TLS handshakes completed. */
  readonly handshakes: number;
  /** Handshakes that failed (client alert, timeout, not TLS), with their messages. */
  readonly tlsErrors: readonly string[];
  /** Connections joined to the backend. */
  readonly forwarded: number;
  /** Backend connects that failed. */
  readonly backendErrors: readonly string[];
}

export interface RunningTlsTerminatingProxy {
  readonly host: string;
  readonly port: number;
  /** `tls://host:port`. */
  readonly url: string;
  stats(): TlsTerminatingProxyStats;
  /** Closes the listener and every open connection. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the proxy; resolves once it listens. */
export async function startTlsTerminatingProxy(options: TlsTerminatingProxyOptions): Promise<RunningTlsTerminatingProxy> {
  const sockets = new SocketSet();
  const stats = { accepted: 0, handshakes: 0, tlsErrors: [] as string[], forwarded: 0, backendErrors: [] as string[] };
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;

  const server = tls.createServer({
    cert: options.cert,
    key: options.key,
    minVersion: 'TLSv1.2',
    handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
  });
  server.on('connection', (socket: net.Socket) => {
    stats.accepted++;
    sockets.add(socket);
  });
  server.on('tlsClientError', (err, socket) => {
    stats.tlsErrors.push(err.message);
    socket.destroy();
  });
  server.on('secureConnection', (client: tls.TLSSocket) => {
    stats.handshakes++;
    sockets.add(client);
    client.pause(); // hold the client's first bytes until the backend is there
    client.once('error', () => client.destroy());
    connectBackend(options.backend, connectTimeoutMs, sockets).then((upstream) => {
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      stats.forwarded++;
      splice(client, upstream);
      client.resume();
    }, (e: Error) => {
      stats.backendErrors.push(e.message);
      client.destroy();
    });
  });

  const bound = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  let stopping: Promise<void> | undefined;
  return {
    host: bound.host,
    port: bound.port,
    url: `tls://${bound.host}:${bound.port}`,
    stats: () => ({ ...stats, tlsErrors: [...stats.tlsErrors], backendErrors: [...stats.backendErrors] }),
    stop: () => (stopping ??= closeServer(server, sockets)),
  };
}

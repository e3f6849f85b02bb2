/**
 * Plumbing shared by the proxy stand-ins: listen on loopback, join two
 * sockets, and on stop() close the listener and destroy every socket still
 * open, so no test leaves a socket behind.
 */
import * as net from 'net';

/** A TCP address. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** The sockets a proxy opened or accepted; destroyed together on stop. */
export class SocketSet {
  private readonly sockets = new Set<net.Socket>();

  add(socket: net.Socket): net.Socket {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return socket;
  }

  get size(): number {
    return this.sockets.size;
  }

  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

/** Listens on host:port (0: the OS picks) and resolves with the bound address. */
export function listen(server: net.Server, host: string, port: number): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as net.AddressInfo;
      resolve({ host: addr.address, port: addr.port });
    });
  });
}

/** Stops accepting, destroys every open socket and resolves once the listener is closed. */
export function closeServer(server: net.Server, sockets: SocketSet): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      sockets.destroyAll();
      resolve();
      return;
    }
    server.close(() => resolve());
    sockets.destroyAll();
  });
}

/**
 * Opens a TCP connection to `backend`, failing after `timeoutMs` (a bounded
 * connect, as Envoy's cluster `connect_timeout`).
 */
export function connectBackend(backend: Endpoint, timeoutMs: number, sockets: SocketSet): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = sockets.add(net.connect({ host: backend.host, port: backend.port }));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`backend ${backend.host}:${backend.port} did not accept a connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
}

/**
 * Joins two sockets both ways. When either side ends or fails, the other
 * is ended (half-close passed on) or destroyed, as a TCP proxy does.
 */
export function splice(a: net.Socket, b: net.Socket): void {
  a.pipe(b);
  b.pipe(a);
  const fail = () => {
    a.destroy();
    b.destroy();
  };
  a.once('error', fail);
  b.once('error', fail);
  // A clean close ends the other side (flushing what is queued); a failed one destroys it.
  a.once('close', (hadError) => (hadError ? b.destroy() : b.end()));
  b.once('close', (hadError) => (hadError ? a.destroy() : a.end()));
}

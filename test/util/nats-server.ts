/**
 * A real nats-server for tests: started on 127.0.0.1 with a config you give,
 * free ports, a private temp dir, bounded start-up time, and always stopped.
 * Its log is kept and added to any start-up error.
 *
 * const server = await startNatsServer({
 *   config: ({ port }) => `tls { cert_file: "…", key_file: "…", ca_file: "…", verify: true }`,
 * });
 * try { … connect to server.port … } finally { await server.stop(); }
 *
 * Tests that need the binary use `natsTest(...)`: when nats-server
 * is missing they are skipped with a visible reason, unless CI is set, in
 * which case they run and fail.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { executable, TOOLS_CACHE } from './tools';


/**
 * Path of the binary: NATS_SERVER_BIN, else .cache/test-tools/nats-server
 * (scripts/test-tools.sh), else the first nats-server on PATH or
 * in /usr/bin, /usr/sbin (the Debian package installs it in /usr/sbin).
 */
export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN
  ?? [path.join(TOOLS_CACHE, 'nats-server')].find(executable)
  ?? [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin', '/usr/sbin', '/usr/local/bin']
    .map((d) => path.join(d, 'nats-server'))
    .find(executable)
  ?? '/usr/bin/nats-server';

/** Whether the binary is present. */
export function natsServerAvailable(): boolean {
  return executable(NATS_SERVER_BIN);
}

/**
 * `test(...)`, or, when nats-server is missing and CI is not set, a skipped
 * test whose name says why. Under CI a missing binary fails the test.
 */
export function natsTest(name: string, fn: () => Promise<void>, timeoutMs?: number): void {
  if (natsServerAvailable() || process.env.CI) {
    test(name, fn, timeoutMs);
  } else {
    test.skip(`${name} [skipped: ${NATS_SERVER_BIN} not found; set CI=1 to make this a failure]`, fn);
  }
}

/** Ports handed to the config function: `port` (client) plus any named extra ports. */
export type NatsPorts = { port: number } & Record<string, number>;

export interface NatsServerOptions {
  /**
   * Server config (nats-server syntax), without `host`/`port`: the helper
   * prepends `host: 127.0.0.1` and `port: <free port>`. A function receives
   * the allocated ports (and the temp dir) so it can place leafnode or
   * monitoring listeners.
   */
  readonly config: string | ((ports: NatsPorts, dir: string) => string);
  /** Names of extra free ports to allocate (e.g. `['leafnode', 'http']`). */
  readonly extraPorts?: string[];
  /** Files to write into the temp dir first (name -> content), e.g. certificates. Mode 600. */
  readonly files?: Record<string, string>;
  /** Start-up deadline: a bound on waiting for the port, not a delay (default 30 s, for a loaded machine). */
  readonly readyTimeoutMs?: number;
}

export interface RunningNatsServer {
  readonly host: string;
  readonly port: number;
  readonly ports: NatsPorts;
  /** Private temp dir (config, files); removed by stop(). */
  readonly dir: string;
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Everything the server logged so far. */
  logs(): string;
  /** Resolves with the first match of `pattern` in the log (now or later); rejects after `timeoutMs` or when the server exits. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Ports for the servers a test starts: from 10000-29999, below the kernel's
 * ephemeral range (32768 and up by default), a slice of 2,500 per jest
 * worker, taken in turn from a random start and checked bindable. A port
 * the OS hands out for "port 0" is an ephemeral one, which any outgoing
 * connection (a nats client, helm, the cdk8s CLI) may take as its source port
 * between our check and the server's bind: with several fleets starting at
 * once that race was seen ("bind: address already in use").
 */
const PORT_SLICE = 2500;
const portSlice = (() => {
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const start = 10_000 + ((Number.isFinite(worker) ? worker - 1 : 0) % 8) * PORT_SLICE;
  return { start, next: Math.floor(Math.random() * PORT_SLICE) };
})();

/** True when `port` can be bound on 127.0.0.1 right now. */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port free right now, outside the ephemeral range, never handed out twice by this process. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < PORT_SLICE; i++) {
    const port = portSlice.start + (portSlice.next++ % PORT_SLICE);
    if (await canBind(port)) return port;
  }
  throw new Error(`no free port in ${portSlice.start}-${portSlice.start + PORT_SLICE - 1}`);
}

const running = new Set<ChildProcess>();
// Never leave a server behind, even when a test aborts.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts nats-server and resolves once it accepts TCP connections on its client port. */
export async function startNatsServer(options: NatsServerOptions): Promise<RunningNatsServer> {
  if (!natsServerAvailable()) throw new Error(`nats-server not found at ${NATS_SERVER_BIN}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nats-test-'));
  const ports = { port: await freePort() } as NatsPorts;
  for (const name of options.extraPorts ?? []) (ports as Record<string, number>)[name] = await freePort();
  for (const [name, content] of Object.entries(options.files ?? {})) {
    fs.writeFileSync(path.join(dir, name), content, { mode: 0o600 });
  }
  const body = typeof options.config === 'function' ? options.config(ports, dir) : options.config;
  const configFile = path.join(dir, 'nats.conf');
  fs.writeFileSync(configFile, `host: 127.0.0.1\nport: ${ports.port}\n${body}\n`, { mode: 0o600 });
  return startNatsServerProcess({ configFile, cwd: dir, ports, removeOnStop: dir, readyTimeoutMs: options.readyTimeoutMs });
}

/** A nats-server run on a complete config file you wrote (see startNatsServerProcess). */
export interface NatsServerProcessOptions {
  /** The config file, complete: nothing is prepended. */
  readonly configFile: string;
  /** Working directory of the process (default: the config file's folder). */
  readonly cwd?: string;
  /**
   * The process environment, exactly: nats-server resolves `$VAR` in its
   * config from it. Nothing of this process's environment is passed on.
   * @default {}
   */
  readonly env?: Record<string, string>;
  /** `port` is the client port the config listens on (127.0.0.1); the others are reported back. */
  readonly ports: NatsPorts;
  /** A folder removed by stop(). */
  readonly removeOnStop?: string;
  /** Name in error messages. @default none */
  readonly name?: string;
  /** Start-up deadline (default 10 s). */
  readonly readyTimeoutMs?: number;
  /**
   * A DNS stand-in: this file is bind-mounted over /etc/hosts in a private
   * user + mount namespace of the process only (`unshare --user
   * --map-root-user --mount`), so names it lists resolve as a DNS server
   * would answer them, for this nats-server and nothing else. See
   * unshareMissing(). @default the machine's /etc/hosts
   */
  readonly hostsFile?: string;
}

/** unshare(1) and mount(8) by absolute path: the process env is the pod's, without PATH. */
const UNSHARE = ['/usr/bin/unshare', '/bin/unshare'].find((p) => fs.existsSync(p)) ?? 'unshare';
const MOUNT = ['/usr/bin/mount', '/bin/mount'].find((p) => fs.existsSync(p)) ?? 'mount';
let unshareChecked: string | undefined | null = null;
/** Why a private /etc/hosts (NatsServerProcessOptions.hostsFile) cannot be used here, or undefined when it can. */
export function unshareMissing(): string | undefined {
  if (unshareChecked === null) {
    const r = spawnSync(UNSHARE, ['--user', '--map-root-user', '--mount', '/bin/sh', '-c', `${MOUNT} --bind /dev/null /etc/hosts`], { encoding: 'utf8' });
    unshareChecked = r.status === 0 ? undefined
      : `unprivileged user + mount namespaces are unavailable (unshare: ${(r.error?.message ?? r.stderr).trim()}); the DNS stand-in needs them`;
  }
  return unshareChecked;
}

/**
 * Starts nats-server on a config file as it is, with exactly the given
 * environment, and resolves once it accepts TCP connections on
 * `ports.port` (127.0.0.1). On a start-up failure it is stopped and the
 * error carries its log; the config is not added (it may name secrets
 * through variables only, but the caller knows best what to show).
 */
export async function startNatsServerProcess(options: NatsServerProcessOptions): Promise<RunningNatsServer> {
  if (!natsServerAvailable()) throw new Error(`nats-server not found at ${NATS_SERVER_BIN}`);
  const { configFile, ports } = options;
  const dir = options.cwd ?? path.dirname(configFile);
  const label = options.name ? `nats-server (${options.name})` : 'nats-server';
  let log = '';
  // With a hosts file: unshare execs sh, which execs nats-server after the bind mount, so `child` is nats-server itself.
  const [command, args] = options.hostsFile
    ? [UNSHARE, ['--user', '--map-root-user', '--mount', '/bin/sh', '-c', `${MOUNT} --bind "$0" /etc/hosts && exec "$1" -c "$2"`, options.hostsFile, NATS_SERVER_BIN, configFile]]
    : [NATS_SERVER_BIN, ['-c', configFile]];
  const child = spawn(command, args, { cwd: dir, env: { ...(options.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const listeners = new Set<() => void>();
  const onLog = (d: Buffer) => {
    log += d;
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onLog);
  child.stderr!.on('data', onLog);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    running.delete(child);
    for (const l of [...listeners]) l();
    resolve();
  }));

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    if (options.removeOnStop) fs.rmSync(options.removeOnStop, { recursive: true, force: true });
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + readyTimeoutMs;
  try {
    for (;;) {
      if (exited) throw new Error(`${label} exited during start-up`);
      if (await canConnect(ports.port)) break;
      if (Date.now() > deadline) throw new Error(`${label} did not accept connections within ${readyTimeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    const config = options.removeOnStop && fs.existsSync(configFile) ? fs.readFileSync(configFile, 'utf8') : undefined;
    await stop();
    throw new Error(`${(e as Error).message}${config !== undefined ? `\n--- config ---\n${config}` : ''}\n--- log ---\n${log}`);
  }

  const waitForLog = (pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> => new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(log);
      if (m) return finish(() => resolve(m));
      if (exited) return finish(() => reject(new Error(`${label} exited before logging ${pattern}\n--- log ---\n${log}`)));
      return undefined;
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`${label} logged no ${pattern} within ${timeoutMs} ms\n--- log ---\n${log}`))), timeoutMs);
    const finish = (f: () => void) => {
      clearTimeout(timer);
      listeners.delete(check);
      f();
    };
    listeners.add(check);
    check();
  });

  return {
    host: '127.0.0.1',
    port: ports.port,
    ports,
    dir,
    url: `nats://127.0.0.1:${ports.port}`,
    logs: () => log,
    waitForLog,
    stop,
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(500, () => done(false));
  });
}

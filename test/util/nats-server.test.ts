import * as fs from 'fs';
import * as net from 'net';
import { connect } from 'nats';
import { freePort, natsTest, startNatsServer } from './nats-server';

// The helper other suites rely on: it must start, report and always clean up.
describe('nats-server test helper', () => {
  natsTest('starts a server on a free 127.0.0.1 port and stop() removes it and its temp dir', async () => {
    const server = await startNatsServer({ config: 'max_payload: 4096', extraPorts: ['http'], files: { 'note.txt': 'x' } });
    let stopped = false;
    try {
      expect(server.ports.http).toBeGreaterThan(0);
      expect(fs.readFileSync(`${server.dir}/note.txt`, 'utf8')).toBe('x');
      expect(fs.statSync(`${server.dir}/note.txt`).mode % 0o1000).toBe(0o600);
      const nc = await connect({ servers: server.url });
      expect(nc.info?.max_payload).toBe(4096);
      await nc.close();
      await server.stop();
      stopped = true;
      await server.stop(); // idempotent
      expect(fs.existsSync(server.dir)).toBe(false);
      await expect(new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: server.port });
        s.once('connect', () => { s.destroy(); resolve('connected'); });
        s.once('error', reject);
      })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      if (!stopped) await server.stop();
    }
  });

  natsTest('fails with the config and the server log when the server cannot start', async () => {
    await expect(startNatsServer({ config: 'this is { not valid', readyTimeoutMs: 5000 }))
      .rejects.toThrow(/nats-server exited during start-up\n--- config ---\nhost: 127.0.0.1\nport: \d+\nthis is \{ not valid\n[\s\S]*--- log ---\n.+/);
  });

  test('freePort returns a bindable port', async () => {
    const port = await freePort();
    await new Promise<void>((resolve, reject) => {
      const srv = net.createServer().once('error', reject).listen(port, '127.0.0.1', () => srv.close(() => resolve()));
    });
  });
});

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXPORT_USAGE, renderExport, writeExport } from '../../src/cli/export';
import { main } from '../../src/cli/run';
import { exportFleet } from '../../src/secrets/inventory';
import { DeterministicKeyStore } from '../../src/testing';

const keys = new DeterministicKeyStore();
const fleetExport = (mtls = true) => exportFleet(keys, { prefix: 'dsx-event-bus', cpcIds: ['1', '2'], accountTokens: ['launchlayer'], mtls });

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => { out += t; }, err: (t) => { err += t; } });
  return { code, out, err };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'event-bus-export-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('export formats', () => {
  test('vault-kv-json: one JSON object per remote path, exactly the §3 keys', () => {
    const files = renderExport(fleetExport(), 'vault-kv-json');
    // 9 NKey Secrets per cluster with mTLS (3 clusters) + 2 leaf Secrets per CPC on each side.
    expect(files).toHaveLength(3 * 9 + 2 * 2 * 2);
    const byPath = Object.fromEntries(files.map((f) => [f.relativePath, JSON.parse(f.content)]));
    expect(Object.keys(byPath['dsx-event-bus/csc/nats-auth-signing.json'])).toEqual(['pubkey']);
    expect(Object.keys(byPath['dsx-event-bus/cpc-2/nats-nack-user.json'])).toEqual(['nack-user.nk', 'pubkey']);
    expect(byPath['dsx-event-bus/cpc-2/nats-nack-user.json']['nack-user.nk']).toBe(keys.readSeed('cpc-2', 'nats-nack-user', 'nack-user.nk').reveal());
    expect(byPath['dsx-event-bus/csc/nats-leaf-launchlayer-cpc-2.json']).toEqual({ pubkey: keys.readPublicKey('csc', 'nats-leaf-launchlayer-cpc-2').value });
    expect(byPath['dsx-event-bus/cpc-1/nats-leaf-csc.json']).toEqual({ seed: keys.readSeed('cpc-1', 'nats-leaf-csc').reveal() });
    expect(byPath['dsx-event-bus/csc/nats-leaf-csc.json']).toBeUndefined();
    expect(Object.keys(byPath).filter((p) => p.includes('server-tls'))).toEqual([]);
  });

  test('without mTLS no nats-mtls-* path is exported', () => {
    const paths = renderExport(fleetExport(false), 'vault-kv-json').map((f) => f.relativePath);
    expect(paths).toHaveLength(3 * 6 + 2 * 2 * 2);
    expect(paths.filter((p) => p.includes('nats-mtls-'))).toEqual([]);
  });

  test('env: key=value lines, one file per path (kubectl --from-env-file)', () => {
    const files = renderExport(fleetExport(), 'env');
    const callout = files.find((f) => f.relativePath === 'dsx-event-bus/cpc-1/auth-callout-keys.env')!;
    expect(callout.content).toBe([
      `nkey-seed=${keys.readSeed('cpc-1', 'auth-callout-keys', 'nkey-seed').reveal()}`,
      `issuer-seed=${keys.readSeed('cpc-1', 'auth-callout-keys', 'issuer-seed').reveal()}`,
      `xkey-seed=${keys.readSeed('cpc-1', 'auth-callout-keys', 'xkey-seed').reveal()}`,
    ].join('\n') + '\n');
    // Keys are valid env-file names for kubectl ([-._a-zA-Z][-._a-zA-Z0-9]*).
    for (const f of files) for (const line of f.content.trimEnd().split('\n')) expect(line).toMatch(/^[-._a-zA-Z][-._a-zA-Z0-9]*=[A-Z2-7]+$/);
  });

  test('json: one document keyed by remote path', () => {
    const [file] = renderExport(fleetExport(), 'json');
    expect(file.relativePath).toBe('export.json');
    const doc = JSON.parse(file.content);
    expect(Object.keys(doc)).toHaveLength(35);
    expect(doc['dsx-event-bus/csc/nats-xkey']).toEqual({ pubkey: keys.readPublicKey('csc', 'nats-xkey').value });
  });
});

describe('writeExport', () => {
  test('files 600, directories 700, no temp files left', () => {
    const out = path.join(dir, 'out');
    writeExport(renderExport(fleetExport(), 'vault-kv-json'), out, 'vault-kv-json', 'dsx-event-bus');
    const walk = (p: string): string[] => [p, ...(fs.statSync(p).isDirectory() ? fs.readdirSync(p).flatMap((e) => walk(path.join(p, e))) : [])];
    const all = walk(out);
    for (const p of all) {
      const st = fs.statSync(p);
      expect([path.relative(out, p), (st.mode % 0o1000).toString(8)]).toEqual([path.relative(out, p), st.isDirectory() ? '700' : '600']);
    }
    expect(all.filter((p) => p.endsWith('.tmp'))).toEqual([]);
    expect(all.filter((p) => p.endsWith('.json'))).toHaveLength(35);
  });

  test('creates a missing output directory 700, leaves an existing one\'s mode alone, and reports stale files of an earlier export', () => {
    const out = path.join(dir, 'out');
    writeExport(renderExport(fleetExport(true), 'env'), out, 'env', 'dsx-event-bus');
    expect((fs.statSync(out).mode % 0o1000).toString(8)).toBe('700');
    fs.chmodSync(out, 0o755); // the user's choice: a folder the export did not create is never chmod-ed
    const stale = writeExport(renderExport(fleetExport(false), 'env'), out, 'env', 'dsx-event-bus');
    expect((fs.statSync(out).mode % 0o1000).toString(8)).toBe('755');
    expect(stale).toHaveLength(3 * 3);
    expect(stale.every((f) => /nats-mtls-(authx-|sys-)?leaf\.env$/.test(f))).toBe(true);
  });

  test('fails when a path component is a file', () => {
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'dsx-event-bus'), 'x');
    expect(() => writeExport(renderExport(fleetExport(), 'env'), out, 'env', 'dsx-event-bus')).toThrow(/dsx-event-bus: exists and is not a directory/);
  });
});

describe('dsx-event-bus export: command line', () => {
  test('is registered and documents its formats', async () => {
    const top = await run(['--help']);
    expect(top.out).toMatch(/\n {2}export {5}Write the key store in the remote layout/);
    const help = await run(['export', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toBe(EXPORT_USAGE + '\n');
    expect(help.out).toMatch(/vault kv put -mount=secret <prefix>\/<cluster>\/<secret-name> @<file>/);
    expect(help.out).toMatch(/kubectl -n <ns> create secret generic <secret-name> --from-env-file=<file>/);
  });

  test.each([
    [['--format', 'yaml'], /^ERROR: --format "yaml" is unknown\. Allowed: vault-kv-json, env, json\.\n/],
    [['-o', '-'], /^ERROR: -o - writes one document to stdout, but --format vault-kv-json writes one file per path\. Fix: use --format json with -o -/],
    [['--format', 'env', '-o', '-'], /--format env writes one file per path/],
    [['--prefix', '/abs'], /^ERROR: --prefix: prefix "\/abs" is invalid\. Allowed: one or more segments/],
    [['-o', ''], /^ERROR: --output is empty/],
    [['CPC-1'], /^ERROR: dsx-event-bus export: CPC id "CPC-1" is invalid/],
    [['1', '1'], /CPC id "1" is listed twice/],
    [['--extra-account', 'sys', '1'], /extra account "sys" conflicts with a built-in NATS account name/],
    [['--bogus'], /^ERROR: Unknown option: --bogus\n/],
    [['--secrets'], /^ERROR: --secrets requires a value/],
  ])('fails when the arguments are %j, writing nothing', async (args, message) => {
    const out = path.join(dir, 'out');
    const argv = args.includes('-o') ? args : [...args, '-o', out];
    const r = await run(['export', ...argv]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
    expect(fs.existsSync(out)).toBe(false);
  });
});

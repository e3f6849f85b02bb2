/**
 * Issue 17, "every read path is as strict as nkeys": each reproduction as a
 * regression test on real processes of the compiled CLI (and the library
 * calls that read files). One read discipline (src/files/safe-fs.ts): regular
 * files only, opened non-blocking, no link below the root, size-capped,
 * the key store's root mode and owner checked as `nkeys --check` checks them.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { LeafTrust, MtlsServerTls } from '../../src';
import { loadValidatedYaml, MAX_FLEET_DEPTH, MAX_FLEET_NODES } from '../../src/cli/config-file';
import { dsxEventBus, ensureBuilt, MAIN } from '../util/cli';
import { clustersYaml } from '../util/fleet-yaml';
import { cleanupTempDirs, tempDir } from '../util/keytree';

const asRoot = process.getuid?.() === 0;
const rootOnly = asRoot || process.env.CI ? test : test.skip;
const rootNote = asRoot || process.env.CI ? '' : ' (skipped: needs root to act as uid 65534)';
const NOBODY = 65534;

let dir: string;
beforeAll(() => ensureBuilt(), 600_000);
beforeEach(() => {
  dir = tempDir('dsx-readpath-');
  fs.chmodSync(dir, 0o755); // uid 65534 may reach what it is given
});
afterAll(() => cleanupTempDirs());

/** Runs the CLI; a hang would end at 20 s and fail the status check. */
const dsx = (...args: string[]) => dsxEventBus(args, { timeout: 20_000, cwd: dir });

function expectRefused(r: { status: number | null; signal: string | null; stderr: string }, about: RegExp): void {
  expect({ status: r.status, signal: r.signal }).toEqual({ status: 1, signal: null });
  expect(r.stderr).toMatch(/^ERROR: /);
  expect(r.stderr).toMatch(about);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

function fleetFile(store: string, extra: string[] = []): string {
  const file = path.join(dir, 'fleet.yaml');
  fs.writeFileSync(file, [
    'namespace: dsx',
    `keys: { directory: ${JSON.stringify(store)} }`,
    'delivery: { type: inline }',
    ...extra,
    clustersYaml().trimEnd(),
  ].join('\n') + '\n');
  return file;
}

const selfSigned = ['certificates: { selfSigned: true }', 'cscTrust: { configMapName: csc-gateway-ca }'];

describe('the key store read by synth and export is checked as nkeys checks it', () => {
  function store(): string {
    const ks = path.join(dir, 'ks');
    expect(dsx('nkeys', '-o', ks, '1').status).toBe(0);
    return ks;
  }

  test('fails when the key-store root is world-writable (chmod 777): synth, export and nkeys --check alike', () => {
    const ks = store();
    fs.chmodSync(ks, 0o777);
    const file = fleetFile(ks, selfSigned);
    expectRefused(dsx('synth', '-c', file, '-o', path.join(dir, 'out')), /ks: the output root has mode 777: others may write in it.*Fix: chmod go-w/s);
    expectRefused(dsx('export', '-s', ks, '-f', 'json', '-o', path.join(dir, 'exp'), '1'), /the output root has mode 777/);
    expectRefused(dsx('nkeys', '--check', '-o', ks), /the output root has mode 777/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'exp'))).toBe(false);
  });

  rootOnly(`fails when another user replaced a cluster folder, even after the root is chmod-ed back${rootNote}`, () => {
    const ks = store();
    fs.chmodSync(ks, 0o777);
    // What uid 65534 can do in a world-writable root: move csc/ away and put its own keys there.
    const theirs = path.join(dir, 'theirs');
    expect(dsx('nkeys', '-o', theirs, '1').status).toBe(0);
    fs.renameSync(path.join(ks, 'csc'), path.join(ks, 'csc.old'));
    fs.cpSync(path.join(theirs, 'csc'), path.join(ks, 'csc'), { recursive: true });
    execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path.join(ks, 'csc')]);
    fs.rmSync(path.join(ks, 'csc.old'), { recursive: true });
    fs.chmodSync(ks, 0o700);
    const file = fleetFile(ks, selfSigned);
    const synth = dsx('synth', '-c', file, '-o', path.join(dir, 'out'));
    expectRefused(synth, /key material must belong to you \(or root\); these belong to another user[^]*ks\/csc \(uid 65534, not you \(uid 0\) or root\)/);
    expectRefused(dsx('export', '-s', ks, '-f', 'json', '-o', path.join(dir, 'exp'), '1'), /belong to another user/);
    expectRefused(dsx('nkeys', '--check', '-o', ks), /belong to another user/);
    expect(fs.existsSync(path.join(dir, 'out'))).toBe(false);
  });

  rootOnly(`fails when one key file belongs to another user${rootNote}`, () => {
    const ks = store();
    const seed = path.join(ks, 'cpc-1', 'nkeys', 'nats-auth-signing', 'seed');
    fs.chownSync(seed, NOBODY, NOBODY);
    expectRefused(dsx('export', '-s', ks, '-f', 'json', '-o', path.join(dir, 'exp'), '1'), /cpc-1\/nkeys\/nats-auth-signing\/seed \(uid 65534/);
  });

  test('fails when a key file is 1 MiB (nkeys --check ran past 120 s): refused by its size before it is read', () => {
    const ks = store();
    fs.writeFileSync(path.join(ks, 'csc', 'nkeys', 'nats-auth-signing', 'pubkey'), 'A'.repeat(1024 * 1024), { mode: 0o600 });
    const about = /nats-auth-signing\/pubkey: is larger than 65536 bytes\. Allowed: a key-store file of at most 65536 bytes/;
    expectRefused(dsx('nkeys', '--check', '-o', ks), about);
    expectRefused(dsx('export', '-s', ks, '-f', 'json', '-o', path.join(dir, 'exp'), '1'), /nats-auth-signing\/pubkey: is larger than 65536 bytes/);
  });

  test('fails when a key file is a FIFO: at once, naming it', () => {
    const ks = store();
    const seed = path.join(ks, 'csc', 'nkeys', 'nats-auth-signing', 'seed');
    fs.rmSync(seed);
    expect(spawnSync('mkfifo', ['-m', '600', seed]).status).toBe(0);
    expectRefused(dsx('export', '-s', ks, '-f', 'json', '-o', path.join(dir, 'exp'), '1'), /nats-auth-signing\/seed/);
  });
});

describe('certs never writes or reads through a link below its root', () => {
  test('fails when a cluster folder is a symlink: nothing written through it, and a rerun fails the same way', () => {
    const c = path.join(dir, 'c');
    expect(dsx('certs', '-o', c, 'csc').status).toBe(0);
    const v = path.join(dir, 'v');
    fs.mkdirSync(v);
    fs.symlinkSync(v, path.join(c, 'cpc-9'));
    for (let run = 0; run < 2; run++) {
      expectRefused(dsx('certs', '-o', c, 'cpc-9'), /c\/cpc-9: is a symbolic link \(to .*\/v\); nothing below .*\/c is read or written through a link/);
      expect(fs.readdirSync(v)).toEqual([]);
    }
  });

  test('fails when ca/ is a symlink to another CA, naming it, for certs and synth', () => {
    const elsewhere = path.join(dir, 'elsewhere');
    expect(dsx('certs', '-o', elsewhere, 'csc').status).toBe(0);
    const ks = path.join(dir, 'ks');
    expect(dsx('nkeys', '-o', ks, '1').status).toBe(0);
    fs.symlinkSync(path.join(elsewhere, 'ca'), path.join(ks, 'ca'));
    expectRefused(dsx('certs', '-o', ks, 'csc'), /ks\/ca: is a symbolic link/);
    expectRefused(dsx('synth', '-c', fleetFile(ks, ['certificates: { ca: {} }']), '-o', path.join(dir, 'out')), /ks\/ca: is a symbolic link/);
    expect(fs.existsSync(path.join(ks, 'csc', 'certs'))).toBe(false);
  });

  test.each(['ca.crt', 'ca.key'])('fails at once when ca/%s is a FIFO (certs and synth used to hang)', (name) => {
    const ks = path.join(dir, 'ks');
    expect(dsx('certs', '-o', ks, 'csc').status).toBe(0);
    expect(dsx('nkeys', '-o', ks, '1').status).toBe(0);
    fs.rmSync(path.join(ks, 'ca', name));
    expect(spawnSync('mkfifo', ['-m', '600', path.join(ks, 'ca', name)]).status).toBe(0);
    expectRefused(dsx('certs', '-o', ks, 'cpc-1'), new RegExp(`ca/${name.replace('.', '\\.')}: is a FIFO, expected a regular file`));
    expectRefused(dsx('synth', '-c', fleetFile(ks, ['certificates: { ca: {} }']), '-o', path.join(dir, 'out')), /is a FIFO, expected a regular file/);
  });

  const strace = spawnSync('strace', ['-V']).status === 0;
  (strace ? test : test.skip)(`fails when ca.key is a symlink (to /etc/shadow), which is never opened${strace ? '' : ' (skipped: strace is not installed)'}`, () => {
    const ks = path.join(dir, 'ks');
    expect(dsx('certs', '-o', ks, 'csc').status).toBe(0);
    fs.rmSync(path.join(ks, 'ca', 'ca.key'));
    fs.symlinkSync('/etc/shadow', path.join(ks, 'ca', 'ca.key'));
    const r = spawnSync('strace', ['-f', '-e', 'trace=open,openat', '-o', path.join(dir, 'trace'), process.execPath, MAIN, 'certs', '-o', ks, 'cpc-1'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ca\/ca\.key: is a symbolic link, expected a regular file/);
    const opened = fs.readFileSync(path.join(dir, 'trace'), 'utf8').split('\n').filter((l) => /shadow|ca\.key/.test(l) && /open/.test(l));
    expect(opened.filter((l) => l.includes('/etc/shadow'))).toEqual([]);
    expect(opened.every((l) => /O_NOFOLLOW/.test(l) || /ELOOP/.test(l))).toBe(true);
  });
});

describe('PEM files named by the library user', () => {
  test('LeafTrust.fromPemFile fails at once on a FIFO', () => {
    const fifo = path.join(dir, 'ca.pem');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => LeafTrust.fromPemFile(fifo)).toThrow(/ca\.pem: is a FIFO, expected a regular file/);
  });

  test('MtlsServerTls.fromPemFiles refuses a key file that is a symlink or a FIFO, and a PEM file over 1 MiB', () => {
    const ks = path.join(dir, 'ks');
    expect(dsx('certs', '-o', ks, 'csc').status).toBe(0);
    const certs = path.join(ks, 'csc', 'certs', 'nats-mtls-server-tls');
    const files = { caFile: path.join(certs, 'ca.crt'), certFile: path.join(certs, 'tls.crt'), keyFile: path.join(certs, 'tls.key') };
    expect(() => MtlsServerTls.fromPemFiles(files)).not.toThrow();
    const link = path.join(dir, 'tls.key');
    fs.symlinkSync(files.keyFile, link);
    expect(() => MtlsServerTls.fromPemFiles({ ...files, keyFile: link })).toThrow(/tls\.key: is a symbolic link.*pass the real path of the key file/s);
    const fifo = path.join(dir, 'fifo.key');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => MtlsServerTls.fromPemFiles({ ...files, keyFile: fifo })).toThrow(/fifo\.key: is a FIFO/);
    const big = path.join(dir, 'big.crt');
    fs.writeFileSync(big, fs.readFileSync(files.certFile, 'utf8') + '#'.repeat(1024 * 1024));
    expect(() => MtlsServerTls.fromPemFiles({ ...files, certFile: big })).toThrow(/big\.crt: is larger than 1048576 bytes/);
  });
});

describe('fleet files: depth and node limits before the document is built', () => {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'schemas', 'fleet.schema.json'), 'utf8'));
  const FOUR_MIB = 4 * 1024 * 1024 - 64;

  function load(text: string): { error: string; documents: number } {
    const file = path.join(dir, 'fleet.yaml');
    fs.writeFileSync(file, text);
    // Counting, not timing: the composer (which builds the document) never runs for a refused shape.
    const spy = jest.spyOn(YAML.Composer.prototype, 'compose');
    try {
      loadValidatedYaml(file, schema);
      return { error: '', documents: spy.mock.calls.length };
    } catch (e) {
      return { error: (e as Error).message, documents: spy.mock.calls.length };
    } finally {
      spy.mockRestore();
    }
  }

  test.each([
    ['nested flow sequences [[…]]', '['.repeat(FOUR_MIB / 2) + ']'.repeat(FOUR_MIB / 2)],
    ['nested flow mappings {a: {a: …}}', '{a: '.repeat(FOUR_MIB / 8) + '1' + '}'.repeat(FOUR_MIB / 8)],
    ['compact block sequences - - - …', '- '.repeat(FOUR_MIB / 2 - 1) + 'x\n'],
    ['indented block mappings', Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}k:\n`).join('')],
  ])('fails on %s past depth 64, before building the document', (_name, text) => {
    const r = load(text);
    expect(r.error).toMatch(new RegExp(`the fleet file nests deeper than ${MAX_FLEET_DEPTH} levels\\. Allowed: at most ${MAX_FLEET_DEPTH} levels`));
    expect(r.documents).toBe(0);
  });

  test('fails on 200k label keys in 4 MiB past the node limit, before building the document', () => {
    const text = 'labels:\n' + Array.from({ length: 200_000 }, (_, i) => `  k${i}: v\n`).join('');
    const r = load(text);
    expect(r.error).toMatch(new RegExp(`the fleet file has more than ${MAX_FLEET_NODES} YAML nodes`));
    expect(r.documents).toBe(0);
  });

  test('a file just inside the limits is parsed (the limits do not refuse a large real fleet)', () => {
    const cpcs = Array.from({ length: 1000 }, (_, i) => `  - type: cpc\n    id: "${i + 1}"\n    gateway: { hostnames: [cpc-${i + 1}.example.com] }\n    labels: { team: a, tier: b }`);
    const r = load(`namespace: dsx\nclusters:\n  - type: csc\n    gateway: { hostnames: [csc.example.com] }\n${cpcs.join('\n')}\n`);
    expect(r.documents).toBe(1);
    expect(r.error).not.toMatch(/nests deeper|YAML nodes/);
  });
});

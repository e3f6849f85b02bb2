/**
 * Issue 11's "input that should be refused cleanly" and "errors in the user's
 * terms": every reproduction runs the CLI in-process (src/cli/run.ts `main`)
 * and asserts the message with a regex.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NKeySeed } from '../../src';
import { loadValidatedYaml, MAX_FLEET_FILE_BYTES } from '../../src/cli/config-file';
import { fleetSchema } from '../../src/cli/fleet-file';
import { main } from '../../src/cli/run';
import { LOCK_DIR } from '../../src/files/lock';
import { cpcLeafSecretName, cscLeafSecretName } from '../../src/keys/layout';
import { writeProofReport } from '../proof/scenarios';
import { ensureBuilt, MAIN } from '../util/cli';
import { MINIMAL_FLEET } from '../util/fleet-yaml';

async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { code, stdout, stderr };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-input-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const MINIMAL = `keys: { deterministicTestKeys: true }\n${MINIMAL_FLEET}`;

function fleet(text: string): string {
  const file = path.join(dir, 'fleet.yaml');
  fs.writeFileSync(file, text);
  return file;
}

async function synth(text: string) {
  return cli('synth', '-c', fleet(text), '-o', path.join(dir, 'dist'));
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('command lines', () => {
  test('fails when -c has no value, naming the flag as typed', async () => {
    const r = await cli('synth', '-c');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('ERROR: -c requires a value (-c/--config). Fix: put the value right after it, e.g. -c FILE.\n');
  });

  test.each([
    [['synth', '--confg', 'x.yaml'], /^ERROR: Unknown option: --confg\. Did you mean --config\? Run with --help to list every option\.\n$/],
    [['synth', '--generate-mising'], /^ERROR: Unknown option: --generate-mising\. Did you mean --generate-missing\?/],
    [['export', '--formt', 'env'], /^ERROR: Unknown option: --formt\. Did you mean --format\?/],
    [['certs', '--outptu', 'x'], /^ERROR: Unknown option: --outptu\. Did you mean --output\?/],
    [['nkeys', '--chek'], /^ERROR: Unknown option: --chek\. Did you mean --check\?/],
    [['nkeys', '--extra-acount', 'A'], /^ERROR: Unknown option: --extra-acount\. Did you mean --extra-account\?/],
    [['synht', '-c', 'x'], /^ERROR: Unknown command: synht\. Did you mean synth\?/],
  ])('fails when a flag or command is misspelled, with "did you mean" and no usage: %j', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  test('fails when nkeys -o names a regular file: says it is not a folder', async () => {
    const file = path.join(dir, 'afile');
    fs.writeFileSync(file, 'keep');
    const r = await cli('nkeys', '-o', file, '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${escape(file)}: .*not a (directory|folder)`));
    expect(r.stderr).not.toMatch(/permission/i);
    expect(fs.readFileSync(file, 'utf8')).toBe('keep');
  });

  test('fails when --check finds an interrupted run: the fix names the id and the --extra-account flag of the rerun', async () => {
    const root = path.join(dir, 'ks');
    expect((await cli('nkeys', '-o', root, '--extra-account', 'Ops', '1')).code).toBe(0);
    // What a run killed between the CPC seed and the CSC pubkey leaves: the journal, the CPC side, an empty CSC directory.
    const cscPub = path.join(root, 'csc', 'nkeys', cscLeafSecretName('1', 'ops'), 'pubkey');
    const cpcSeed = path.join(root, 'cpc-1', 'nkeys', cpcLeafSecretName('ops'), 'seed');
    fs.unlinkSync(cscPub);
    const pubkey = NKeySeed.parse(fs.readFileSync(cpcSeed, 'utf8')).publicKey.value;
    fs.mkdirSync(path.join(root, LOCK_DIR), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(root, LOCK_DIR, 'journal.json'), JSON.stringify({ pairs: [{ cpcId: '1', accountToken: 'ops', pubkey }] }), { mode: 0o600 });
    const r = await cli('nkeys', '--check', '-o', root, '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^ERROR: leaf secret output for CPC-1 \\(extra account ops\\) was left half-written by an interrupted run\\. Fix: rerun dsx-event-bus nkeys -o ${escape(root)} --extra-account ops 1 \\(it completes the pair\\)`, 'm'));
    // The fix works as printed.
    expect((await cli('nkeys', '-o', root, '--extra-account', 'ops', '1')).code).toBe(0);
    expect(fs.readFileSync(cscPub, 'utf8').trim()).toBe(pubkey);
  });
});

describe('a reader that stops early', () => {
  beforeAll(() => ensureBuilt(), 600_000);

  test('export -o - | head ends quietly on EPIPE: no stack trace, the broken-pipe exit code', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => String(i + 1));
    const store = path.join(dir, 'ks');
    expect((await cli('nkeys', '-o', store, ...ids)).code).toBe(0);
    // The document (about 2 KB per CPC) is larger than a pipe holds (64 KB), so
    // closing the read end before reading anything makes the write fail with EPIPE.
    const child = spawn(process.execPath, [MAIN, 'export', '-s', store, '-f', 'json', '-o', '-', ...ids], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  }, 120_000);
});

describe('fleet files', () => {
  test.each([
    ['010', '10'],
    ['0x1A', '26'],
    ['1e3', '1000'],
    ['12345678901234567890', '12345678901234567000'],
  ])('fails when a CPC id is the YAML number %s, telling the user to quote it', async (id, read) => {
    const r = await synth(MINIMAL.replace('id: "1"', `id: ${id}`));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`fleet\\.yaml:9:9: /clusters/1/id: ${escape(id)} is a YAML number \\(read as ${read}\\), not a string\\. Fix: put it in quotes: "${escape(id)}"`));
    expect(fs.existsSync(path.join(dir, 'dist'))).toBe(false);
  });

  test('fails when a YAML alias bomb expands too far: our error, no stack trace', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${new Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const r = await synth(`${bomb.join('\n')}\n${MINIMAL}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: .*fleet\.yaml: the YAML aliases \(\*name\) expand to too many nodes .*Fix: write the values out/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('fails when the fleet file is larger than 4 MiB', async () => {
    const r = await synth(MINIMAL + `# ${'x'.repeat(MAX_FLEET_FILE_BYTES)}\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fleet\.yaml: the fleet file is larger than 4 MiB\. Allowed: at most 4194304 bytes/);
  });

  test('fails when a key appears twice in one mapping, naming its line', async () => {
    const r = await synth(MINIMAL.replace('certificates: { selfSigned: true }', 'certificates: { selfSigned: true }\ncertificates: { selfSigned: false }'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fleet\.yaml:4:1: the key "certificates" appears twice in the same mapping/);
  });

  test('parses a 512 KB fleet file of 40,000 labels in linear time (duplicate keys found with a Set, not pair by pair)', () => {
    const lines = ['labels:'];
    for (let i = 0; lines.join('\n').length < 512 * 1024 && i < 1e6; i += 1000) {
      for (let j = i; j < i + 1000; j++) lines.push(`  k${j}: v`);
    }
    const file = fleet(`${MINIMAL}${lines.join('\n')}\n`);
    expect(fs.statSync(file).size).toBeGreaterThan(512 * 1024);
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const doc = loadValidatedYaml<{ labels: Record<string, string> }>(file, fleetSchema());
    const used = process.cpuUsage(cpu);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(Object.keys(doc.labels).length).toBeGreaterThan(40_000);
    // Reported, not asserted (no timed assertions): the quadratic check took 24 s here.
    writeProofReport('input-limits', { bytes: fs.statSync(file).size, keys: Object.keys(doc.labels).length, ms: Math.round(ms), cpuMs: Math.round((used.user + used.system) / 1000) });
  }, 60_000);

  test('fails when a duration does not fit Go\'s time.Duration instead of rendering 2.4e+21h', async () => {
    const r = await synth(MINIMAL.replace('selfSigned: true', 'selfSigned: true, duration: 99999999999999999999d'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fleet\.yaml: certificates\.duration: 99999999999999999999d is longer than cert-manager, NATS and the secret operators can read\. Allowed: at most 2562047h/);
    const refresh = await synth(MINIMAL.replace('type: existing', 'type: externalSecrets, storeName: vault, refreshInterval: 9999999999999d'));
    expect(refresh.stderr).toMatch(/delivery\.refreshInterval: 9999999999999d is longer than/);
  });

  test('fails when a label key\'s name part is over 63 characters', async () => {
    const r = await synth(`${MINIMAL}labels: { example.com/${'n'.repeat(64)}: x }\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/labels: label key "example\.com\/n{64}" is invalid: the name part after "\/" has 64 characters \(at most 63\)/);
  });

  test('fails when a label key\'s prefix is over 253 characters or a label value over 63', async () => {
    const prefix = Array.from({ length: 5 }, () => 'p'.repeat(60)).join('.');
    expect((await synth(`${MINIMAL}labels: { ${prefix}/x: y }\n`)).stderr).toMatch(/the prefix before "\/" has 304 characters \(at most 253\)/);
    expect((await synth(`${MINIMAL}labels: { a: ${'v'.repeat(64)} }\n`)).stderr).toMatch(/label a has the invalid value "v{64}" \(64 characters\)/);
  });

  test('fails when a Service annotation key is invalid', async () => {
    const r = await synth(MINIMAL.replace('gateway: { hostnames: [csc.example.com] }', `gateway: { hostnames: [csc.example.com], envoy: { serviceAnnotations: { "${'a'.repeat(64)}": x } } }`));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Service annotation key "a{64}" is invalid: the name part has 64 characters/);
  });

  test('a hostname over 64 characters never becomes a Certificate commonName', async () => {
    const long = `${'h'.repeat(60)}.example.com`;
    const r = await synth(MINIMAL.replace('hostnames: [csc.example.com]', `hostnames: [${long}]`));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const manifests = path.join(dir, 'dist', 'csc', 'manifests');
    const certs = fs.readdirSync(manifests).filter((f) => f.startsWith('Certificate.')).map((f) => fs.readFileSync(path.join(manifests, f), 'utf8'));
    expect(certs.join('\n')).toContain(long);
    expect(certs.join('\n')).not.toMatch(/commonName: h{60}/);
  });

  test('fails when an extra account name is over 63 characters (it becomes part of Secret and file names)', async () => {
    const r = await synth(`${MINIMAL}extraAccounts: [A${'b'.repeat(63)}]\n`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/extraAccounts: extra account "Ab{19}…" is 64 characters long\. Allowed: at most 63 characters/);
    const n = await cli('nkeys', '-o', path.join(dir, 'ks'), '--extra-account', `A${'b'.repeat(63)}`, '1');
    expect(n.stderr).toMatch(/--extra-account: extra account "Ab{19}…" is 64 characters long/);
  });
});

describe('errors in the fleet-file user\'s terms', () => {
  test('fails when a TLS gateway has no issuer: the fix names fleet-file keys, not TypeScript', async () => {
    const r = await synth(MINIMAL.replace('certificates: { selfSigned: true }\n', ''));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fleet\.yaml: certificates: the TLS gateway needs a server certificate.* Fix: set certificates to \{ ca: \{\} .*or \{ certFile, keyFile \} \} \(one fleet CA that every CPC trusts\), \{ issuer: \{ kind: Issuer, name: event-bus-certificate-issuer \} \} or \{ selfSigned: true \}, .*or gateway\.transport: tcp for an evaluation cluster/);
    expect(r.stderr).not.toMatch(/CertificateIssuer\.|CertificateAuthority\.|ServerCertificate\.|GatewayTransport\.|fleet\/csc/);
  });

  test('fails when keys are missing: the fix names --generate-missing, not DirectoryKeyStore.generateMissing', async () => {
    const r = await cli('synth', '-c', fleet(MINIMAL.replace('keys: { deterministicTestKeys: true }', 'keys: { directory: ks }')), '-o', path.join(dir, 'dist'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Fix: run `dsx-event-bus nkeys -o .*ks 1`, or create them before synthesis: keys\.generateMissing: true \(or synth --generate-missing\)/);
    expect(r.stderr).not.toMatch(/DirectoryKeyStore|generateMissing: true \}/);
  });

  test('fails when the mTLS client URL host is not in the CSC entry\'s hostnames: the message names that entry\'s key', async () => {
    const r = await synth(MINIMAL.replace('gateway: { hostnames: [csc.example.com] }', 'gateway: { hostnames: [csc.example.com], mtlsClientUrls: ["mqtts://other.example.com:8883"] }'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: \S*fleet\.yaml: clusters\[0\]\.gateway\.hostnames: mTLS hostname agreement fails: .*Fix: add "other\.example\.com" to gateway\.hostnames\./);
    expect(r.stderr).not.toMatch(/externalHostnames|MtlsServerCertificate|fleet\/csc|csc\.gateway/);
  });

  test('fails when an IP address is under hostnames: move it to gateway.ipAddresses, no method call', async () => {
    const r = await synth(MINIMAL.replace('gateway: { hostnames: [cpc-1.example.com] }', 'gateway: { hostnames: [10.0.0.5] }'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: \S*fleet\.yaml: clusters\[1\]\.gateway\.hostnames: "10\.0\.0\.5" is an IP address, not a DNS name\. .*Fix: move "10\.0\.0\.5" to gateway\.ipAddresses\./);
    expect(r.stderr).not.toMatch(/addIpAddress|cliMessage/);
  });

  test('fails when a certificate duration is too short: the fix is in fleet-file units', async () => {
    const r = await synth(MINIMAL.replace('selfSigned: true', 'selfSigned: true, duration: 30m'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fleet\.yaml: certificates\.duration: 30m is shorter than cert-manager's minimum duration\. Allowed: at least 1 hour\. Fix: use e\.g\. 90d\./);
    expect(r.stderr).not.toMatch(/Duration\.days/);
  });
});

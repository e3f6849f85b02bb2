/**
 * `dsx-event-bus nkeys`, run as a real process (the compiled CLI): layout,
 * idempotence, every upstream error condition and tree defect (each leaving
 * the tree untouched), `--check`, concurrency, kill -9, upstream-shaped trees
 * and awkward paths. The argument-error and tree-defect tables of a
 * generating run call the CLI's `main` in this process (each defect also runs
 * as a real process in the --check table).
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DirectoryKeyStore } from '../../src';
import { main } from '../../src/cli/run';
import { CRASH_ENV, FSYNC_ENV } from '../../src/keys/engine/fsops';
import { fleetKeyFiles } from '../../src/keys/layout';
import { CliResult, ensureBuilt, MAIN, nkeys, startNKeys } from '../util/cli';
import { cleanupTempDirs, listFiles, nkeysPair, nkeysPairs, nkeysPublicOfAll, read, snapshot, tempDir, write } from '../util/keytree';
import { describeSeeds, findSeeds } from '../util/seeds';
import { waitFor } from '../util/wait';

beforeAll(() => ensureBuilt(), 240_000);
afterAll(() => cleanupTempDirs());

const ACCOUNT = ['--extra-account', 'LaunchLayer'];

/** Asserts that no seed-shaped string reached the output. */
function expectNoSeeds(r: { stdout: string; stderr: string }): void {
  const seeds = findSeeds(r.stdout + r.stderr);
  if (seeds.length) throw new Error(`output contains seeds: ${describeSeeds(seeds)}`);
}

/** Runs the CLI expecting exit 1 with `message` on stderr and the tree under `root` unchanged. */
function expectFailsUnchanged(root: string, args: string[], message: RegExp): void {
  const before = fs.existsSync(root) ? snapshot(root) : undefined;
  const r = nkeys(args);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(message) });
  expect(r.stderr).toMatch(/^ERROR: /m);
  expect(fs.existsSync(root) ? snapshot(root) : undefined).toEqual(before);
  expectNoSeeds(r);
}

/**
 * `dsx-event-bus nkeys <args>` in this process: `main` of src/cli/run.ts (what
 * the compiled CLI runs) with its output captured, without a process start
 * (~0.3 s of CPU each). The argument and tree-defect tables of a generating
 * run use it; every tree defect also runs as a real process in the --check
 * table, and the other tests run the compiled CLI.
 */
async function nkeysInProcess(args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await main(['nkeys', ...args], { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  return { status, signal: null, stdout, stderr };
}

/** {@link expectFailsUnchanged} for a run in this process ({@link nkeysInProcess}). */
async function expectFailsUnchangedInProcess(root: string, args: string[], message: RegExp): Promise<void> {
  const before = fs.existsSync(root) ? snapshot(root) : undefined;
  const r = await nkeysInProcess(args);
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr: expect.stringMatching(message) });
  expect(r.stderr).toMatch(/^ERROR: /m);
  expect(fs.existsSync(root) ? snapshot(root) : undefined).toEqual(before);
  expectNoSeeds(r);
}

/**
 * Every pubkey of the fleet equals what nkeys.js derives from the matching
 * seed (every file of the fleet must exist). nkeys.js derives them all in one
 * plain Node process (keytree's nkeysPublicOfAll: in jest's sandbox its
 * tweetnacl is ~13x slower).
 */
function expectConsistentWithNkeysJs(root: string, cpcIds: string[], tokens: string[]): void {
  const pairs: Array<{ pubkeyFile: string; seed: string; pubkey: string }> = [];
  const files = fleetKeyFiles(cpcIds, tokens);
  for (const f of files) {
    const rel = `${f.cluster}/nkeys/${f.secretName}/${f.key}`;
    const text = read(root, rel);
    if (f.key === 'pubkey' && !f.secretName.startsWith('nats-leaf-')) {
      pairs.push({ pubkeyFile: rel, seed: read(root, `${f.cluster}/nkeys/${f.secretName}/seed`), pubkey: text.trim() });
    }
  }
  for (const id of cpcIds) {
    for (const t of [undefined, ...tokens]) {
      const cscRel = `csc/nkeys/nats-leaf-${t ? `${t}-` : ''}cpc-${id}/pubkey`;
      const csc = read(root, cscRel);
      const cpc = read(root, `cpc-${id}/nkeys/nats-leaf-${t ? `${t}-` : ''}csc/seed`);
      pairs.push({ pubkeyFile: cscRel, seed: cpc, pubkey: csc.trim() });
    }
  }
  const derived = nkeysPublicOfAll(pairs.map((p) => p.seed));
  expect(pairs.map((p, i) => ({ file: p.pubkeyFile, derived: derived[i] }))).toEqual(pairs.map((p) => ({ file: p.pubkeyFile, derived: p.pubkey })));
}

/** Generates a tree (ids 1, extra account LaunchLayer) to damage. */
let pristine: string;
function damageable(): string {
  if (!pristine) {
    pristine = path.join(tempDir(), 'secrets');
    expect(nkeys(['-o', pristine, ...ACCOUNT, '1']).status).toBe(0);
  }
  const copy = path.join(tempDir(), 'secrets');
  fs.cpSync(pristine, copy, { recursive: true, preserveTimestamps: true });
  fs.chmodSync(copy, 0o700);
  return copy;
}

// ---------------------------------------------------------------------------

describe('layout (upstream generate-nkeys.sh)', () => {
  // The tree https://github.com/NVIDIA/dsx-exchange/blob/main/deploy/scripts/generate-nkeys.sh writes, written out: secret directory, files, key kind.
  const TABLE: Array<[string, string[], string]> = [
    ['nats-auth-signing', ['seed', 'pubkey'], 'account'],
    ['nats-xkey', ['seed', 'pubkey'], 'curve'],
    ['nats-authx-user', ['seed', 'pubkey'], 'user'],
    ['nats-nack-user', ['seed', 'pubkey', 'nack-user.nk'], 'user'],
    ['nats-mtls-leaf', ['seed', 'pubkey'], 'user'],
    ['nats-mtls-authx-leaf', ['seed', 'pubkey'], 'user'],
    ['nats-mtls-sys-leaf', ['seed', 'pubkey'], 'user'],
    ['nats-surveyor', ['seed', 'pubkey'], 'user'],
    ['auth-callout-keys', ['nkey-seed', 'issuer-seed', 'xkey-seed'], 'copies'],
  ];
  const COPIES: Record<string, string> = {
    'auth-callout-keys/nkey-seed': 'nats-authx-user/seed',
    'auth-callout-keys/issuer-seed': 'nats-auth-signing/seed',
    'auth-callout-keys/xkey-seed': 'nats-xkey/seed',
    'nats-nack-user/nack-user.nk': 'nats-nack-user/seed',
  };
  const LETTER: Record<string, string> = { user: 'U', account: 'A', curve: 'X' };

  test('--extra-account LaunchLayer 1 2 writes exactly the upstream tree', () => {
    const root = path.join(tempDir(), 'secrets');
    const r = nkeys(['-o', root, ...ACCOUNT, '1', '2']);
    expect(r.status).toBe(0);
    expectNoSeeds(r);

    const expected: Record<string, string> = { '': '700', '.dsx-event-bus.lock': '700' };
    for (const cluster of ['csc', 'cpc-1', 'cpc-2']) {
      expected[cluster] = '700';
      expected[`${cluster}/nkeys`] = '700';
      for (const [secret, files] of TABLE) {
        expected[`${cluster}/nkeys/${secret}`] = '700';
        for (const f of files) expected[`${cluster}/nkeys/${secret}/${f}`] = '600';
      }
    }
    for (const id of ['1', '2']) {
      for (const csc of [`nats-leaf-cpc-${id}`, `nats-leaf-launchlayer-cpc-${id}`]) {
        expected[`csc/nkeys/${csc}`] = '700';
        expected[`csc/nkeys/${csc}/pubkey`] = '600';
      }
      for (const cpc of ['nats-leaf-csc', 'nats-leaf-launchlayer-csc']) {
        expected[`cpc-${id}/nkeys/${cpc}`] = '700';
        expected[`cpc-${id}/nkeys/${cpc}/seed`] = '600';
      }
    }
    const snap = snapshot(root);
    expect(Object.fromEntries(Object.entries(snap).map(([p, e]) => [p, e.mode]))).toEqual(expected);

    // One value per file, no trailing newline, the right kind, copies equal their sources.
    for (const cluster of ['csc', 'cpc-1', 'cpc-2']) {
      for (const [secret, files, kind] of TABLE) {
        for (const f of files) {
          const rel = `${cluster}/nkeys/${secret}/${f}`;
          const text = read(root, rel);
          const copyOf = COPIES[`${secret}/${f}`];
          if (copyOf) {
            expect(text).toBe(read(root, `${cluster}/nkeys/${copyOf}`));
          } else {
            expect(text).toMatch(new RegExp(`^${f === 'seed' ? 'S' : ''}${LETTER[kind]}[A-Z2-7]{${f === 'seed' ? 56 : 55}}$`));
          }
        }
      }
    }
    for (const rel of Object.keys(snap).filter((p) => snap[p].type === 'file' && p.includes('nats-leaf-'))) {
      expect(read(root, rel)).toMatch(rel.endsWith('/seed') ? /^SU[A-Z2-7]{56}$/ : /^U[A-Z2-7]{55}$/);
    }
    expectConsistentWithNkeysJs(root, ['1', '2'], ['launchlayer']);
  });

  test('prints the upstream progress lines and never a seed', () => {
    const root = path.join(tempDir(), 'out');
    const r = nkeys(['-o', root, '7']);
    expect(r.stdout).toBe([
      'Generating NATS Event Bus NKey outputs...',
      `Output directory: ${root}`,
      '',
      '=== csc: NKey secrets ===',
      `Output directory: ${root}/csc`,
      'Generating secrets for csc...',
      '',
      '=== cpc-7: NKey secrets ===',
      `Output directory: ${root}/cpc-7`,
      'Generating secrets for cpc-7...',
      '',
      '=== CPC-7: CSC leaf secret ===',
      'Generating CSC leaf secret for CPC-7...',
      '',
      '=== Secret generation complete ===',
      '',
      `Secrets written under: ${root}`,
      '',
    ].join('\n'));
    expect(r.stderr).toBe('');
    const again = nkeys(['-o', root, '7']);
    expect(again.stdout).toMatch(/Secrets already exist for csc; leaving them unchanged\.\n/);
    expect(again.stdout).toMatch(/Leaf secrets already exist for CPC-7; leaving them unchanged\.\n/);
  });

  test('without ids only csc is written; duplicate ids are processed once', () => {
    const root = path.join(tempDir(), 'out');
    expect(nkeys(['-o', root]).status).toBe(0);
    expect(fs.readdirSync(root).sort()).toEqual(['.dsx-event-bus.lock', 'csc']);
    const r = nkeys(['-o', root, '4', '4']);
    expect(r.status).toBe(0);
    expect(r.stdout.match(/=== CPC-4: CSC leaf secret ===/g)).toHaveLength(1);
  });

  test('an existing cluster directory without nkeys/ gets a base set and mode 700, like the script; the root keeps its mode', () => {
    const root = path.join(tempDir(), 'out');
    fs.mkdirSync(path.join(root, 'cpc-5'), { recursive: true, mode: 0o755 });
    fs.chmodSync(root, 0o755);
    fs.chmodSync(path.join(root, 'cpc-5'), 0o755);
    expect(nkeys(['-o', root, '5']).status).toBe(0);
    const snap = snapshot(root);
    // The root may be the user's folder: never chmod-ed (issue 11).
    expect([snap[''].mode, snap['cpc-5'].mode, snap['cpc-5/nkeys'].mode]).toEqual(['755', '700', '700']);
  });

  test('the default output is deploy/secrets below the current directory', () => {
    const cwd = tempDir();
    const r = nkeys([], { cwd });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Output directory: deploy\/secrets$/m);
    expect(fs.existsSync(path.join(cwd, 'deploy', 'secrets', 'csc', 'nkeys', 'nats-xkey', 'seed'))).toBe(true);
    expect(snapshot(path.join(cwd, 'deploy'))[''].mode).toBe('700');
  });
});

describe('start-up', () => {
  test('the nkeys command loads no cdk8s, constructs or CRD bindings', () => {
    const code = `require(${JSON.stringify(path.join(MAIN, '..', 'nkeys.js'))});`
      + 'process.stdout.write(JSON.stringify(Object.keys(require.cache)))';
    const loaded: string[] = JSON.parse(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }));
    expect(loaded.filter((m) => /node_modules\/(cdk8s|constructs|cdk8s-plus-\d+|yaml|ajv)\/|\/imports\//.test(m))).toEqual([]);
    expect(loaded.some((m) => m.endsWith(path.join('keys', 'engine', 'plan.js')))).toBe(true);
  });
});

describe('idempotence', () => {
  test('a rerun changes no byte, mode or mtime; adding id 3 adds exactly cpc-3 and its CSC pubkeys', () => {
    const root = path.join(tempDir(), 'secrets');
    expect(nkeys(['-o', root, ...ACCOUNT, '1', '2']).status).toBe(0);
    const first = snapshot(root);
    const rerun = nkeys(['-o', root, ...ACCOUNT, '1', '2']);
    expect(rerun.status).toBe(0);
    expect(snapshot(root)).toEqual(first);

    expect(nkeys(['-o', root, ...ACCOUNT, '1', '2', '3']).status).toBe(0);
    const after = snapshot(root);
    const added = Object.keys(after).filter((p) => !(p in first));
    expect(Object.keys(first).filter((p) => !(p in after))).toEqual([]);
    expect(added.filter((p) => !p.startsWith('cpc-3')).sort()).toEqual([
      'csc/nkeys/nats-leaf-cpc-3',
      'csc/nkeys/nats-leaf-cpc-3/pubkey',
      'csc/nkeys/nats-leaf-launchlayer-cpc-3',
      'csc/nkeys/nats-leaf-launchlayer-cpc-3/pubkey',
    ]);
    expect(added.filter((p) => p.startsWith('cpc-3')).length).toBe(1 + 1 + 9 + 20 + 4); // cpc-3, nkeys, secrets, files, 2 leaf dirs + seeds
    // Everything that existed is untouched, except the two directories that gained entries.
    for (const [p, e] of Object.entries(first)) {
      if (p === '' || p === 'csc/nkeys') expect({ ...after[p], mtimeMs: 0 }).toEqual({ ...e, mtimeMs: 0 });
      else expect(after[p]).toEqual(e);
    }
    expectConsistentWithNkeysJs(root, ['1', '2', '3'], ['launchlayer']);
  });
});

describe('durability', () => {
  // By default a batch's files are flushed by one syncfs; DSX_EVENT_BUS_FSYNC=each
  // (and platforms without syncfs) fsync every file and directory instead.
  // Both must write the same tree; strace proves which syscalls each uses.
  test('syncfs per batch and fsync per file write the same tree', () => {
    const a = path.join(tempDir(), 'secrets');
    const b = path.join(tempDir(), 'secrets');
    expect(nkeys(['-o', a, ...ACCOUNT, '1']).status).toBe(0);
    expect(nkeys(['-o', b, ...ACCOUNT, '1'], { env: { ...process.env, [FSYNC_ENV]: 'each' } }).status).toBe(0);
    const shape = (root: string) => Object.fromEntries(
      Object.entries(snapshot(root)).map(([p, e]) => [p, { ...e, mtimeMs: 0, sha256: undefined }]),
    );
    expect(shape(b)).toEqual(shape(a));
    expectConsistentWithNkeysJs(b, ['1'], ['launchlayer']);
  });

  const strace = spawnSync('strace', ['-V']).status === 0;
  if (!strace) console.warn('SKIPPED: strace is not installed; the syscall check of the durability barrier did not run');
  (strace ? test : test.skip)(`the default run calls syncfs once per batch and fsyncs no key file (strace)${strace ? '' : ' (skipped: strace is not installed)'}`, () => {
    const count = (env: NodeJS.ProcessEnv) => {
      const root = path.join(tempDir(), 'secrets');
      const r = spawnSync('strace', ['-f', '-c', '-e', 'trace=fsync,syncfs', process.execPath, MAIN, 'nkeys', '-o', root, '1'], { encoding: 'utf8', env: { ...process.env, ...env } });
      // strace -c rows: % time, seconds, usecs/call, calls, [errors], syscall.
      const calls = (name: string) => Number(r.stderr.split('\n').map((l) => l.trim().split(/\s+/)).find((t) => t[t.length - 1] === name)?.[3] ?? 0);
      return { fsync: calls('fsync'), syncfs: calls('syncfs') };
    };
    const deferred = count({});
    expect(deferred.syncfs).toBeGreaterThan(0);
    expect(deferred.fsync).toBeLessThan(10); // the journal's temp file only
    const each = count({ [FSYNC_ENV]: 'each' });
    expect(each.syncfs).toBe(0);
    expect(each.fsync).toBeGreaterThan(2 * 20);
  });
});

describe('argument errors (as the upstream script; nothing is created)', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['-o has no value', ['-o'], /^ERROR: -o requires a value$/m],
    ['--output has no value', ['1', '--output'], /^ERROR: --output requires a value$/m],
    ['--extra-account has no value', ['--extra-account'], /^ERROR: --extra-account requires a value$/m],
    ['an option is unknown', ['--force', '1'], /^ERROR: Unknown option: --force\nUsage: dsx-event-bus nkeys/m],
    ['a CPC id has upper case', ['Cpc1'], /^ERROR: Invalid CPC ID: CPC id "Cpc1" is invalid\. Allowed: lower-case letters and digits only \(\^\[a-z0-9\]\+\$\)/m],
    ['a CPC id has a dash (allowed by the old script, not the chart)', ['1', 'a-b'], /Invalid CPC ID: CPC id "a-b" is invalid/],
    ['a CPC id has a dot', ['1.2'], /Invalid CPC ID: CPC id "1\.2" is invalid/],
    ['an extra account is not a NATS name', ['--extra-account', 'Launch-Layer', '1'], /^ERROR: --extra-account: extra account "Launch-Layer" is not a valid NATS account name/m],
    ['an extra account is reserved', ['--extra-account', 'sys'], /extra account "sys" conflicts with a built-in NATS account name/],
    ['an extra account starts with cpc', ['--extra-account', 'CpcOps'], /extra account "CpcOps" starts with "cpc"/],
    ['two extra accounts share a token', ['--extra-account', 'Kiwi', '--extra-account', 'KIWI'], /extra account "KIWI" normalizes to secret token kiwi, which is already used by extra account "Kiwi"/],
    ['an invalid id comes before -h', ['Bad', '-h'], /Invalid CPC ID: CPC id "Bad"/],
  ];
  test.each(cases)('fails when %s', async (_name, args, message) => {
    const cwd = tempDir();
    const out = path.join(cwd, 'out');
    await expectFailsUnchangedInProcess(out, ['-o', out, ...args], message);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test('an argument error from the compiled CLI: exit 1, the ERROR line, nothing created', () => {
    const cwd = tempDir();
    const out = path.join(cwd, 'out');
    expectFailsUnchanged(out, ['-o', out, ...cases[4][1]], cases[4][2]);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test.each([['""', ''], ['/', '/'], ['//', '//']])('fails when the output root is %s (refusing unsafe output root)', (_n, root) => {
    const cwd = tempDir();
    const r = nkeys(['-o', root, '1'], { cwd });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: refusing unsafe output root: /m);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test('-h prints the usage on stdout, exits 0 and ignores what follows (left to right, like the script)', () => {
    const cwd = tempDir();
    for (const args of [['-h'], ['--help'], ['1', '-h', '--bogus', 'BAD']]) {
      const r = nkeys(args, { cwd });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: dsx-event-bus nkeys \[OPTIONS\] \[cpc-ids\.\.\.\]/);
      expect(r.stdout).toMatch(/-o, --output DIR +Output root directory \(default: deploy\/secrets\)/);
    }
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});

// Damage applied to a generated tree (ids 1, extra account LaunchLayer), and
// the message each must produce, for a generating run and for --check.
const user = () => nkeysPair('user');
const DAMAGE: Array<[string, (root: string) => void, RegExp]> = [
  ['a seed has a bad checksum', (root) => {
    const rel = 'csc/nkeys/nats-authx-user/seed';
    const s = read(root, rel);
    // A character in the middle: the last one carries 2 padding bits, so changing
    // it only there (A..D) left 1 seed in 8 valid and this case flaky.
    write(root, rel, s.slice(0, 20) + (s[20] === 'A' ? 'B' : 'A') + s.slice(21));
  }, /csc\/nkeys\/nats-authx-user\/seed: not a valid NKey seed: the CRC16 checksum does not match/],
  ['a seed has the wrong prefix (a user seed in nats-xkey)', (root) => {
    const p = user();
    write(root, 'csc/nkeys/nats-xkey/seed', p.seed);
    write(root, 'csc/nkeys/nats-xkey/pubkey', p.pub);
  }, /csc\/nkeys\/nats-xkey\/seed: not a valid NKey seed: it is the seed of a user key, expected a curve key/],
  ['a public key has the wrong prefix (a user key in nats-auth-signing)', (root) => write(root, 'cpc-1/nkeys/nats-auth-signing/pubkey', user().pub),
    /cpc-1\/nkeys\/nats-auth-signing\/pubkey: holds U[A-Z2-7]{55}, which is a user key, not an account key/],
  ['a seed does not derive its pubkey', (root) => write(root, 'csc/nkeys/nats-surveyor/pubkey', user().pub),
    /csc\/nkeys\/nats-surveyor\/pubkey: does not match .*csc\/nkeys\/nats-surveyor\/seed: the file holds U[A-Z2-7]{55}, the seed derives U/],
  ['a copy differs from its source (issuer-seed)', (root) => write(root, 'csc/nkeys/auth-callout-keys/issuer-seed', nkeysPair('account').seed),
    /csc\/nkeys\/auth-callout-keys\/issuer-seed: differs from .*csc\/nkeys\/nats-auth-signing\/seed; it must be an exact copy of it/],
  ['a copy differs from its source (nack-user.nk)', (root) => write(root, 'cpc-1/nkeys/nats-nack-user/nack-user.nk', user().seed),
    /cpc-1\/nkeys\/nats-nack-user\/nack-user\.nk: differs from .*cpc-1\/nkeys\/nats-nack-user\/seed/],
  ['a file is mode 644', (root) => fs.chmodSync(path.join(root, 'cpc-1/nkeys/nats-xkey/seed'), 0o644),
    /^ERROR: generated secret files must be mode 600:\n.*\/cpc-1\/nkeys\/nats-xkey\/seed\n/m],
  ['a directory is mode 755', (root) => fs.chmodSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-1'), 0o755),
    /^ERROR: generated secret directories must be mode 700:\n.*\/csc\/nkeys\/nats-leaf-cpc-1\n/m],
  ['the nkeys directory is mode 755', (root) => fs.chmodSync(path.join(root, 'csc/nkeys'), 0o755),
    /^ERROR: generated secret directories must be mode 700:\n.*\/csc\/nkeys\n/m],
  ['a file is empty', (root) => write(root, 'csc/nkeys/nats-mtls-leaf/pubkey', ''),
    /csc\/nkeys\/nats-mtls-leaf\/pubkey: is not a valid NKey public key: the value is empty/],
  ['a base file is missing', (root) => fs.unlinkSync(path.join(root, 'cpc-1/nkeys/nats-surveyor/pubkey')),
    /cpc-1\/nkeys: the base set of cpc-1 is incomplete; missing: .*cpc-1\/nkeys\/nats-surveyor\/pubkey\. .*Keys that exist are never regenerated/],
  ['a public-key file holds a seed (never printed)', (root) => write(root, 'csc/nkeys/nats-authx-user/pubkey', read(root, 'csc/nkeys/nats-authx-user/seed')),
    /csc\/nkeys\/nats-authx-user\/pubkey: holds a seed where a public key was expected/],
  ['the leaf pair does not match (mismatched)', (root) => write(root, 'csc/nkeys/nats-leaf-cpc-1/pubkey', user().pub),
    /^ERROR: mismatched leaf secret output for CPC-1: .*cpc-1\/nkeys\/nats-leaf-csc\/seed derives U[A-Z2-7]{55}, but .*csc\/nkeys\/nats-leaf-cpc-1\/pubkey holds U/m],
  ['the extra-account leaf pair does not match', (root) => write(root, 'cpc-1/nkeys/nats-leaf-launchlayer-csc/seed', user().seed),
    /^ERROR: mismatched leaf secret output for CPC-1 \(extra account launchlayer\)/m],
  ['the CPC leaf seed is gone (inconsistent)', (root) => fs.unlinkSync(path.join(root, 'cpc-1/nkeys/nats-leaf-csc/seed')),
    /^ERROR: inconsistent leaf secret output for CPC-1: .*csc\/nkeys\/nats-leaf-cpc-1\/pubkey exists, .*cpc-1\/nkeys\/nats-leaf-csc exists without seed/m],
  ['the CSC leaf secret is gone (inconsistent)', (root) => fs.rmSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-1'), { recursive: true }),
    /^ERROR: inconsistent leaf secret output for CPC-1: .*csc\/nkeys\/nats-leaf-cpc-1\/pubkey is missing, .*cpc-1\/nkeys\/nats-leaf-csc\/seed exists/m],
  ['only an empty leaf directory is left (inconsistent)', (root) => {
    fs.rmSync(path.join(root, 'csc/nkeys/nats-leaf-launchlayer-cpc-1'), { recursive: true });
    fs.unlinkSync(path.join(root, 'cpc-1/nkeys/nats-leaf-launchlayer-csc/seed'));
  }, /^ERROR: inconsistent leaf secret output for CPC-1 \(extra account launchlayer\): .* is missing, .*cpc-1\/nkeys\/nats-leaf-launchlayer-csc exists without seed/m],
  ['the CPC leaf seed is empty (inconsistent)', (root) => write(root, 'cpc-1/nkeys/nats-leaf-csc/seed', ''),
    /^ERROR: inconsistent leaf secret output for CPC-1: .*, .*cpc-1\/nkeys\/nats-leaf-csc\/seed is empty/m],
];

describe('tree defects: a run fails and changes nothing', () => {
  // In this process (the --check table below runs each defect through the compiled CLI).
  test.each(DAMAGE)('fails when %s', async (_name, damage, message) => {
    const root = damageable();
    damage(root);
    await expectFailsUnchangedInProcess(root, ['-o', root, ...ACCOUNT, '1'], message);
  });

  test('fails when the output root is a file', () => {
    const file = path.join(tempDir(), 'file');
    fs.writeFileSync(file, 'x');
    expectFailsUnchanged(file, ['-o', file], /cannot create the output directory|not a directory/);
  });

  test('fails when several defects are present, listing each', () => {
    const root = damageable();
    DAMAGE[3][1](root);
    DAMAGE[6][1](root);
    DAMAGE[12][1](root);
    const before = snapshot(root);
    const r = nkeys(['-o', root, ...ACCOUNT, '1']);
    expect(r.status).toBe(1);
    for (const i of [3, 6, 12]) expect(r.stderr).toMatch(DAMAGE[i][2]);
    expect(snapshot(root)).toEqual(before);
  });

  // CI runs as root, where chmod 000 does not stop reads; an unprivileged uid does.
  const asRoot = process.getuid?.() === 0;
  (asRoot || process.env.CI ? test : test.skip)(`fails when the root is unreadable${asRoot || process.env.CI ? '' : ' (skipped: needs root to run the CLI as uid 65534)'}`, () => {
    const root = damageable();
    fs.chmodSync(path.dirname(root), 0o755); // uid 65534 may reach the root, not read it
    const before = snapshot(root);
    const nobody = { uid: 65534, gid: 65534, cwd: '/' };
    for (const args of [['-o', root, ...ACCOUNT, '1'], ['--check', '-o', root, '1']]) {
      const r = nkeys(args, nobody);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^ERROR: ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot (read|lock|create)[^\\n]*\\(permission denied\\)`, 'm'));
      expectNoSeeds(r);
    }
    expect(snapshot(root)).toEqual(before);
  });
});

describe('I/O errors while writing', () => {
  const asRoot = process.getuid?.() === 0;
  (asRoot || process.env.CI ? test : test.skip)(`fails cleanly when a write is refused${asRoot || process.env.CI ? '' : ' (skipped: needs root to run the CLI as uid 65534)'}`, () => {
    // A root owned by uid 65534 whose csc/ (no nkeys yet) belongs to root: the plan passes, the first mkdir fails.
    const root = path.join(tempDir(), 'secrets');
    fs.chmodSync(path.dirname(root), 0o755);
    fs.mkdirSync(path.join(root, 'csc'), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(root, 'csc'), 0o755);
    fs.chownSync(root, 65534, 65534);
    const r = nkeys(['-o', root], { uid: 65534, gid: 65534, cwd: '/' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: .*secrets: writing the key store failed \((EPERM|EACCES): [^)]*\/csc[^)]*\)\. Fix: fix the cause and rerun/m);
    expect(fs.readdirSync(path.join(root, 'csc'))).toEqual([]);
    expect(fs.readdirSync(path.join(root, '.dsx-event-bus.lock'))).toEqual([]);
  });
});

describe('--check', () => {
  test('passes on a good tree and writes nothing at all (not even a lock)', () => {
    const root = damageable();
    fs.rmSync(path.join(root, '.dsx-event-bus.lock'), { recursive: true });
    const before = snapshot(root);
    const r = nkeys(['--check', '-o', root, ...ACCOUNT, '1']);
    expect(r.stdout).toMatch(/^OK: 44 key files under .* verified/m);
    expect(r.status).toBe(0);
    expect(snapshot(root)).toEqual(before);
  });

  test.each(DAMAGE)('fails when %s', (_name, damage, message) => {
    const root = damageable();
    damage(root);
    expectFailsUnchanged(root, ['--check', '-o', root, ...ACCOUNT, '1'], message);
  });

  test('fails when ids are missing, listing every defect; without ids it checks every cluster it finds', () => {
    const root = damageable();
    DAMAGE[3][1](root); // csc
    DAMAGE[6][1](root); // cpc-1, found without being named
    const before = snapshot(root);
    const r = nkeys(['--check', '-o', root, '2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(DAMAGE[3][2]);
    expect(r.stderr).toMatch(DAMAGE[6][2]);
    expect(r.stderr).toMatch(/cpc-2\/nkeys: missing: cpc-2 has no key secrets/);
    expect(r.stderr).toMatch(/missing leaf secret output for CPC-2/);
    expect(r.stderr).toMatch(/^ERROR: 4 defects found under /m);
    expect(snapshot(root)).toEqual(before);
  });

  test('fails when the root is missing or others may write in it, and on stray leaf files', () => {
    const missing = path.join(tempDir(), 'nope');
    expectFailsUnchanged(missing, ['--check', '-o', missing], /the output directory does not exist/);
    const root = damageable();
    fs.chmodSync(root, 0o775);
    write(root, 'csc/nkeys/nats-leaf-cpc-1/seed', read(root, 'cpc-1/nkeys/nats-leaf-csc/seed'));
    fs.chmodSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-1/seed'), 0o600);
    const r = nkeys(['--check', '-o', root, '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the output root has mode 775: others may write in it\. Fix: chmod go-w /);
    expect(r.stderr).toMatch(/csc\/nkeys\/nats-leaf-cpc-1\/seed: stray seed in the leaf secret of CPC-1: the CSC side keeps only the pubkey/);
    expectNoSeeds(r);
  });
});

describe('concurrency and crashes', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

  /**
   * The tree is complete and consistent: --check passes (every file), the
   * store agrees, and nkeys.js (slow, pure JS) agrees on a sample of CPCs.
   * `check` is the result of `nkeys --check` on the tree (run by the caller,
   * so the crash tables can run it concurrently).
   */
  function expectConsistent(root: string, cpcIds: string[], check: CliResult = nkeys(['--check', '-o', root, ...ACCOUNT, ...cpcIds])): void {
    expect({ status: check.status, stderr: check.stderr }).toEqual({ status: 0, stderr: '' });
    expect(check.stdout).toContain(`OK: ${(cpcIds.length + 1) * 20 + cpcIds.length * 4} key files`);
    expectConsistentWithNkeysJs(root, [cpcIds[0], cpcIds[cpcIds.length - 1]], ['launchlayer']);
    const store = DirectoryKeyStore.open(root);
    expect(() => store.ensure({ cpcIds, extraAccounts: ['LaunchLayer'] })).not.toThrow();
    expect(fs.readdirSync(path.join(root, '.dsx-event-bus.lock'))).toEqual([]);
    expect(listFiles(root).filter((p) => /\/\.[^/]+$/.test(p) || p.includes('.nkeys.tmp-'))).toEqual([]);
  }

  /** `nkeys <args>` as a background process, awaited. */
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => startNKeys(args, env).done;

  /**
   * Runs `scenario` for every item, at most `limit` at a time, and keeps each
   * outcome (or its error) for the test that checks it. The crash scenarios
   * are independent trees whose runs mostly wait for the file system, so
   * they overlap well even on two cores.
   */
  function concurrently<T, R>(items: readonly T[], limit: number, scenario: (item: T) => Promise<R>): Map<T, Promise<R>> {
    const results = new Map<T, Promise<R>>();
    const settled: Array<Promise<unknown>> = [];
    items.forEach((item, i) => {
      // Item i starts when item i - limit has ended.
      const p = (i < limit ? Promise.resolve() : settled[i - limit]).then(() => scenario(item));
      // A failure is kept for its own test (this handler also keeps it from being an unhandled rejection).
      settled.push(p.catch(() => undefined));
      results.set(item, p);
    });
    return results;
  }

  test('8 processes on one fresh root at once end with one consistent tree', async () => {
    const root = path.join(tempDir(), 'secrets');
    const runs = await Promise.all(Array.from({ length: 8 }, () => startNKeys(['-o', root, ...ACCOUNT, ...ids(10)]).done));
    for (const r of runs) expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(runs.filter((r) => r.stdout.includes('Generating secrets for csc...'))).toHaveLength(1);
    expect(runs.filter((r) => r.stdout.includes('Secrets already exist for csc'))).toHaveLength(7);
    expectConsistent(root, ids(10));
  });

  test('8 processes adding different CPCs at once all land', async () => {
    const root = path.join(tempDir(), 'secrets');
    expect(nkeys(['-o', root, ...ACCOUNT, '1']).status).toBe(0);
    const runs = await Promise.all(ids(8).map((id) => startNKeys(['-o', root, ...ACCOUNT, '1', String(Number(id) + 1)]).done));
    for (const r of runs) expect(r.status).toBe(0);
    expectConsistent(root, ids(9));
  });

  // Fault injection stops a run right after each step of the apply order
  // (`<batch>` or `<batch>:<n>` = after n operations of that batch). A kill
  // -9 leaves exactly the files a run made, whether or not they reached the
  // disk, so a point right after a batch of fsyncs alone (stage-sync,
  // cpc-sync, csc-sync, journal-done-sync) leaves the same tree as the point
  // before it and proves nothing more; the durability of those batches is
  // the strace and fsync tests' subject. 8 CPCs: every numbered point falls
  // inside its batch (about 210 staged files > 100, 8 renames > 4); a point
  // past the end would fail the SIGKILL expectation below.
  const FRESH_CPCS = 8;
  const FRESH_POINTS = ['journal', 'stage-dirs:1', 'stage-dirs', 'stage-files:100', 'stage-files', 'cpc:1', 'cpc:4', 'cpc', 'csc', 'journal-done'];
  /** What each scenario saw, for its test: the killed run, --check before the rerun, the rerun, and the reruns after. */
  interface CrashOutcome {
    readonly killed: CliResult;
    readonly checkBefore?: { status: number | null; unchanged: boolean };
    readonly rerun: CliResult;
    readonly check: CliResult;
    readonly settled: { status: number | null; unchanged: boolean };
  }
  async function crashScenario(root: string, args: string[], point: string, checkBefore: boolean): Promise<CrashOutcome> {
    const killed = await run(args, { [CRASH_ENV]: point });
    let before: CrashOutcome['checkBefore'];
    if (checkBefore) {
      // --check sees the unfinished run, and changes nothing either.
      const tree = snapshot(root);
      const c = await run(['--check', ...args]);
      before = { status: c.status, unchanged: JSON.stringify(snapshot(root)) === JSON.stringify(tree) };
    }
    const rerun = await run(args);
    const check = await run(['--check', ...args]);
    const settledTree = snapshot(root);
    const again = await run(args);
    const unchanged = JSON.stringify(snapshot(root)) === JSON.stringify(settledTree);
    return { killed, checkBefore: before, rerun, check, settled: { status: again.status, unchanged } };
  }

  let fresh: Map<string, Promise<CrashOutcome>>;
  const freshRoot = new Map<string, string>();
  beforeAll(() => {
    fresh = concurrently(FRESH_POINTS, 4, (point) => {
      const root = path.join(tempDir(), 'secrets');
      freshRoot.set(point, root);
      const checkBefore = FRESH_POINTS.indexOf(point) < FRESH_POINTS.indexOf('csc');
      return crashScenario(root, ['-o', root, ...ACCOUNT, ...ids(FRESH_CPCS)], point, checkBefore);
    });
  });
  test.each(FRESH_POINTS)('kill -9 after %s of a fresh run, then a rerun completes the tree', async (point) => {
    const o = await fresh.get(point)!;
    expect(o.killed.signal).toBe('SIGKILL');
    if (FRESH_POINTS.indexOf(point) < FRESH_POINTS.indexOf('csc')) expect(o.checkBefore).toEqual({ status: 1, unchanged: true });
    expect({ status: o.rerun.status, stderr: o.rerun.stderr }).toEqual({ status: 0, stderr: '' });
    if (point.startsWith('cpc')) expect(o.rerun.stdout).toMatch(/Completing the leaf secret an interrupted run started for CPC-\d+/);
    expectConsistent(freshRoot.get(point)!, ids(FRESH_CPCS), o.check);
    expect(o.settled).toEqual({ status: 0, unchanged: true });
  }, 120_000);

  // 2 CPCs, then a run adding 4 (about 90 staged files > 50, 4 renames > 3, 8 CSC leaf files > 5).
  const ADD_POINTS = ['journal', 'stage-files:50', 'cpc:3', 'cpc', 'csc:5', 'csc'];
  let added: Map<string, Promise<CrashOutcome & { existing: ReturnType<typeof snapshot> }>>;
  const addRoot = new Map<string, string>();
  beforeAll(() => {
    added = concurrently(ADD_POINTS, 4, async (point) => {
      const root = path.join(tempDir(), 'secrets');
      addRoot.set(point, root);
      const first = await run(['-o', root, ...ACCOUNT, ...ids(2)]);
      if (first.status !== 0) throw new Error(`the first run failed: ${first.stderr}`);
      const existing = snapshot(root);
      return { existing, ...await crashScenario(root, ['-o', root, ...ACCOUNT, ...ids(6)], point, false) };
    });
  });
  test.each(ADD_POINTS)('kill -9 after %s of a run adding CPCs, then a rerun completes the tree', async (point) => {
    const o = await added.get(point)!;
    expect(o.killed.signal).toBe('SIGKILL');
    expect({ status: o.rerun.status, stderr: o.rerun.stderr }).toEqual({ status: 0, stderr: '' });
    if (point.startsWith('cpc')) expect(o.rerun.stdout).toMatch(/Completing the leaf secret an interrupted run started for CPC-\d+/);
    const root = addRoot.get(point)!;
    expectConsistent(root, ids(6), o.check);
    const after = snapshot(root);
    for (const [p, e] of Object.entries(o.existing)) if (e.type === 'file') expect(after[p]).toEqual(e);
  }, 120_000);

  test('a half-written leaf pair (journal, CPC seed, CSC directory with only a temp file) is completed', () => {
    const root = path.join(tempDir(), 'secrets');
    expect(nkeys(['-o', root, '1']).status).toBe(0);
    expect(nkeys(['-o', root, '1', '2'], { env: { ...process.env, [CRASH_ENV]: 'cpc' } }).signal).toBe('SIGKILL');
    fs.mkdirSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-2'), { mode: 0o700 });
    write(root, 'csc/nkeys/nats-leaf-cpc-2/.pubkey.Zq81xY', 'U');
    const check = nkeys(['--check', '-o', root, '1', '2']);
    expect(check.stderr).toMatch(/^ERROR: leaf secret output for CPC-2 was left half-written by an interrupted run\. Fix: rerun dsx-event-bus nkeys/m);
    expect(check.stderr).toMatch(/^WARNING: .*csc\/nkeys\/nats-leaf-cpc-2\/\.pubkey\.Zq81xY: temporary file left by an interrupted run/m);
    const rerun = nkeys(['-o', root, '1', '2']);
    expect(rerun.stdout).toMatch(/Completing the leaf secret an interrupted run started for CPC-2\.\.\./);
    expectConsistentWithNkeysJs(root, ['1', '2'], []);
    expect(fs.readdirSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-2'))).toEqual(['pubkey']);
    // Without the journal the same state is the upstream "inconsistent" error.
    fs.unlinkSync(path.join(root, 'csc/nkeys/nats-leaf-cpc-2/pubkey'));
    expectFailsUnchanged(root, ['-o', root, '1', '2'], /inconsistent leaf secret output for CPC-2: .*nats-leaf-cpc-2 exists without pubkey/);
  });

  test('a tampered journal is ignored: its ids never become paths', () => {
    const root = path.join(tempDir(), 'secrets');
    expect(nkeys(['-o', root, '1']).status).toBe(0);
    expect(nkeys(['-o', root, '1', '2'], { env: { ...process.env, [CRASH_ENV]: 'cpc' } }).signal).toBe('SIGKILL');
    const journal = JSON.parse(read(root, '.dsx-event-bus.lock/journal.json'));
    journal.pairs[0].cpcId = '../../escape';
    write(root, '.dsx-event-bus.lock/journal.json', JSON.stringify(journal));
    const check = nkeys(['--check', '-o', root, '1', '2']);
    expect(check.stderr).toMatch(/^WARNING: .*journal\.json: unreadable journal ignored/m);
    expectFailsUnchanged(root, ['-o', root, '1', '2'], /inconsistent leaf secret output for CPC-2: .*nats-leaf-cpc-2\/pubkey is missing, .*cpc-2\/nkeys\/nats-leaf-csc\/seed exists/);
  });

  test('kill -9 at moments spread over a 100-CPC run, then a rerun completes the tree', async () => {
    // An outside SIGKILL (not the fault-injection hook) at four moments of the
    // run, each picked by what the run has visibly done on disk so far, not
    // by time: the journal is written; cpc-50's folder is made (staging);
    // the last CPC's staged files are being written; the first CPC went
    // live. The file system is watched with a bounded poll; the run is
    // killed as soon as the moment is seen.
    const staged = (root: string, cluster: string, rel: string) => {
      const dir = path.join(root, cluster);
      const tmp = fs.existsSync(dir) ? fs.readdirSync(dir).find((n) => n.startsWith('.nkeys.tmp-')) : undefined;
      return tmp !== undefined && fs.existsSync(path.join(dir, tmp, rel));
    };
    const MOMENTS: Array<[string, (root: string) => boolean]> = [
      ['the journal is written', (root) => fs.existsSync(path.join(root, '.dsx-event-bus.lock', 'journal.json'))],
      ['cpc-50 is being staged', (root) => fs.existsSync(path.join(root, 'cpc-50'))],
      ['cpc-100 has staged files', (root) => staged(root, 'cpc-100', 'nats-xkey/seed')],
      ['cpc-1 went live', (root) => fs.existsSync(path.join(root, 'cpc-1', 'nkeys'))],
    ];
    // The four runs at once, each on its own tree (they mostly wait for the file system).
    const outcomes = await Promise.all(MOMENTS.map(async ([moment, reached]) => {
      const root = path.join(tempDir(), 'secrets');
      const args = ['-o', root, ...ACCOUNT, ...ids(100)];
      const started = startNKeys(args);
      let ended = false;
      void started.done.then(() => { ended = true; });
      await waitFor(`${moment} (or the run's end)`, () => ended || reached(root), { intervalMs: 1, timeoutMs: 60_000 });
      started.child.kill('SIGKILL');
      const killed = await started.done;
      const rerun = await run(args);
      const check = await run(['--check', ...args]);
      return { moment, root, killed, rerun, check };
    }));
    let killedMidRun = 0;
    for (const { moment, root, killed, rerun, check } of outcomes) {
      if (killed.signal === 'SIGKILL') killedMidRun++;
      else expect({ moment, status: killed.status, stderr: killed.stderr }).toEqual({ moment, status: 0, stderr: '' });
      expect({ moment, status: rerun.status, stderr: rerun.stderr }).toEqual({ moment, status: 0, stderr: '' });
      expectConsistent(root, ids(100), check);
      fs.rmSync(path.dirname(root), { recursive: true, force: true });
    }
    expect(killedMidRun).toBeGreaterThanOrEqual(3);
  }, 240_000);

  test('a lock left by a dead process is broken; a live holder is waited for', async () => {
    const root = path.join(tempDir(), 'secrets');
    fs.mkdirSync(path.join(root, '.dsx-event-bus.lock'), { recursive: true, mode: 0o700 });
    const dead = startNKeys(['--help']);
    const deadPid = (await dead.done, dead.child.pid!);
    write(root, '.dsx-event-bus.lock/owner', JSON.stringify({ pid: deadPid, host: os.hostname(), started: 'earlier', token: 'x' }));
    const r = nkeys(['-o', root, '1']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });

    write(root, '.dsx-event-bus.lock/owner', JSON.stringify({ pid: process.pid, host: os.hostname(), started: 'now', token: 'y' }));
    const waiting = startNKeys(['-o', root, '1', '2']);
    // It says it waits (once it has found the live holder); only then is the holder gone.
    await waiting.waitForOutput(new RegExp(`Waiting for another run that holds the lock on .* \\(pid ${process.pid} on host`));
    expect(fs.existsSync(path.join(root, 'cpc-2'))).toBe(false);
    fs.unlinkSync(path.join(root, '.dsx-event-bus.lock/owner'));
    const done = await waiting.done;
    expect({ status: done.status, stderr: done.stderr }).toEqual({ status: 0, stderr: '' });
    expectConsistentWithNkeysJs(root, ['1', '2'], []);
  });
});

describe('compatibility with the upstream script', () => {
  /**
   * A tree as the older script wrote it: both leaf sides with seed and
   * pubkey, values with trailing newlines here and there, a temp file left
   * by a killed run, a 755 root.
   */
  function upstreamTree(root: string, cpcIds: string[]): void {
    fs.mkdirSync(root, { mode: 0o755 });
    fs.chmodSync(root, 0o755);
    const put = (rel: string, text: string) => {
      const file = path.join(root, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, text, { mode: 0o600 });
    };
    const USERS = ['nats-authx-user', 'nats-nack-user', 'nats-mtls-leaf', 'nats-mtls-authx-leaf', 'nats-mtls-sys-leaf', 'nats-surveyor'];
    // Every pair made by nkeys.js at once (one plain Node process), taken in order below.
    const kinds: Array<'user' | 'account' | 'curve'> = [];
    for (let i = 0; i <= cpcIds.length; i++) kinds.push('account', 'curve', ...USERS.map(() => 'user' as const));
    for (let i = 0; i < cpcIds.length; i++) kinds.push('user');
    const made = nkeysPairs(kinds);
    const next = () => made.shift()!;
    for (const cluster of ['csc', ...cpcIds.map((id) => `cpc-${id}`)]) {
      const pairs: Record<string, { seed: string; pub: string }> = {
        'nats-auth-signing': next(),
        'nats-xkey': next(),
      };
      for (const s of USERS) pairs[s] = next();
      for (const [secret, p] of Object.entries(pairs)) {
        put(`${cluster}/nkeys/${secret}/seed`, p.seed);
        put(`${cluster}/nkeys/${secret}/pubkey`, secret === 'nats-xkey' ? `${p.pub}\n` : p.pub);
      }
      put(`${cluster}/nkeys/nats-nack-user/nack-user.nk`, `${pairs['nats-nack-user'].seed}\n`);
      put(`${cluster}/nkeys/auth-callout-keys/nkey-seed`, pairs['nats-authx-user'].seed);
      put(`${cluster}/nkeys/auth-callout-keys/issuer-seed`, `${pairs['nats-auth-signing'].seed} \n`);
      put(`${cluster}/nkeys/auth-callout-keys/xkey-seed`, pairs['nats-xkey'].seed);
    }
    for (const id of cpcIds) {
      const leaf = next();
      put(`csc/nkeys/nats-leaf-cpc-${id}/seed`, leaf.seed);
      put(`csc/nkeys/nats-leaf-cpc-${id}/pubkey`, leaf.pub);
      put(`cpc-${id}/nkeys/nats-leaf-csc/seed`, leaf.seed);
      put(`cpc-${id}/nkeys/nats-leaf-csc/pubkey`, `${leaf.pub}\n`);
    }
    put('csc/nkeys/nats-surveyor/.pubkey.Ab3dE9', '');
  }

  test('an upstream-shaped tree is read as is, then normalised by a run exactly as upstream generate-nkeys.sh does', () => {
    const root = path.join(tempDir(), 'secrets');
    upstreamTree(root, ['1', '2']);
    const store = DirectoryKeyStore.open(root);
    const seedFiles = fleetKeyFiles(['1', '2'], []).filter((f) => f.key !== 'pubkey');
    const derived = nkeysPublicOfAll(seedFiles.map((f) => read(root, `${f.cluster}/nkeys/${f.secretName}/${f.key}`)));
    for (const f of fleetKeyFiles(['1', '2'], [])) {
      if (f.key === 'pubkey') expect(store.readPublicKey(f.cluster, f.secretName, f.key).value).toMatch(/^[UAX][A-Z2-7]{55}$/);
    }
    expect(seedFiles.map((f) => store.readSeed(f.cluster, f.secretName, f.key).publicKey.value)).toEqual(derived);
    const before = snapshot(root);
    const r = nkeys(['-o', root, '1', '2']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(/Removing stray seed .*csc\/nkeys\/nats-leaf-cpc-1\/seed \(the CSC side of a leaf pair keeps only the pubkey\)/);
    expect(r.stdout).toMatch(/Removing stray pubkey .*cpc-2\/nkeys\/nats-leaf-csc\/pubkey \(the CPC side of a leaf pair keeps only the seed\)/);
    expectNoSeeds(r);
    const after = snapshot(root);
    const removed = Object.keys(before).filter((p) => !(p in after)).sort();
    expect(removed).toEqual([
      'cpc-1/nkeys/nats-leaf-csc/pubkey',
      'cpc-2/nkeys/nats-leaf-csc/pubkey',
      'csc/nkeys/nats-leaf-cpc-1/seed',
      'csc/nkeys/nats-leaf-cpc-2/seed',
      'csc/nkeys/nats-surveyor/.pubkey.Ab3dE9',
    ]);
    expect(Object.keys(after).filter((p) => !(p in before))).toEqual(['.dsx-event-bus.lock']);
    expect(after[''].mode).toBe('755'); // their root keeps its mode
    // Every remaining file is byte-identical (trailing whitespace kept: existing keys are never rewritten).
    for (const [p, e] of Object.entries(after)) if (e.type === 'file') expect(e).toEqual(before[p]);
    expect(read(root, 'csc/nkeys/nats-xkey/pubkey')).toMatch(/\n$/);
    expectConsistentWithNkeysJs(root, ['1', '2'], []);
    expect(nkeys(['--check', '-o', root, '1', '2']).status).toBe(0);
  });
});

describe('awkward paths', () => {
  test('an output root with spaces and unicode works for a run, --check, a rerun and the store', () => {
    const root = path.join(tempDir(), 'my keys', 'ключи ✓ 🔑');
    const r = nkeys(['-o', root, ...ACCOUNT, '1']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Secrets written under: ${root}\n`);
    const snap = snapshot(root);
    expect(nkeys(['--check', '-o', root, ...ACCOUNT, '1']).status).toBe(0);
    expect(nkeys(['-o', root, ...ACCOUNT, '1']).status).toBe(0);
    expect(snapshot(root)).toEqual(snap);
    expectConsistentWithNkeysJs(root, ['1'], ['launchlayer']);
    expect(() => DirectoryKeyStore.open(root).ensure({ cpcIds: ['1', '2'] })).toThrow(
      `run \`dsx-event-bus nkeys -o '${root}' 1 2\``);
  });
});

/**
 * Seed-redaction proof: a property test that feeds every input path of the
 * CLI (key-store files read by `nkeys`, `nkeys --check`, `export` and
 * `synth`; fleet-file fields; command-line arguments) with an NKey seed in
 * generated forms (any case, quoted, embedded in junk, with a BOM or
 * whitespace around or inside it, `seed=…`, trailing characters, followed by
 * its public key) and asserts that nothing printed on stdout or stderr holds
 * the seed's body (the 56 characters after `S` + kind letter), compared
 * case-insensitively after removing all whitespace.
 *
 * Most cases run the CLI in-process (`main` of src/cli/run.ts with captured
 * output), a few as real processes of the built CLI. Generated values hold a
 * recipe, never the seed: the seed is put in when a case runs, so a printed
 * counterexample holds none, and a failure names the path and the recipe.
 * REDACTION_SEED=<n> reproduces a run; REDACTION_SCALE=<x> multiplies the
 * number of cases. A plain `npm test` runs half of them (scale 0.5: 526
 * CLI cases, 175 for the CA keys, about 10 s of CPU less); CI (.ci/run) sets
 * REDACTION_SCALE=1, as every run did before, and its summary line counts
 * what ran.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import fc from 'fast-check';
import * as YAML from 'yaml';
import { tempDir, writeProofReport } from './scenarios';
import { CertificateAuthority, ClusterCertificates, NKeyKind, NKeySeed } from '../../src';
import { EvaluationCa, generateClusterIntermediate, generateEvaluationCa } from '../../src/cli/evaluation';
import { main } from '../../src/cli/run';
import { cscLeafSecretName } from '../../src/keys/layout';
import { REDACTED_SEED, redactSecrets } from '../../src/redact';
import { dsxEventBus, ensureBuilt } from '../util/cli';

const SEED = Number(process.env.REDACTION_SEED ?? 20261202);
const SCALE = Number(process.env.REDACTION_SCALE ?? 0.5);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

// Fresh seeds of every kind, made at test time (never committed).
const KINDS = [NKeyKind.USER, NKeyKind.ACCOUNT, NKeyKind.CURVE, NKeyKind.OPERATOR, NKeyKind.SERVER, NKeyKind.CLUSTER];
const SEEDS = KINDS.map((k) => NKeySeed.generate(k));

/** How to disguise a seed; holds no key material itself. */
interface Recipe {
  readonly seed: number;
  readonly letterCase: 'upper' | 'lower' | 'mixed';
  readonly splits: ReadonlyArray<{ readonly at: number; readonly sep: string }>;
  readonly wrap: string;
  readonly before: string;
  readonly after: string;
  readonly withPublicKey: boolean;
}

const junk = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.stringMatching(/^[A-Za-z2-7]{0,6}$/), // letters that run straight into the seed
  fc.constantFrom('', ' ', '\n', '\uFEFF', '"', 'seed=', 'SEED: ', 'x', '==', '\r\n', '\t'),
);
const recipe: fc.Arbitrary<Recipe> = fc.record({
  seed: fc.nat(SEEDS.length - 1),
  letterCase: fc.constantFrom('upper', 'upper', 'lower', 'mixed'),
  splits: fc.array(fc.record({ at: fc.integer({ min: 1, max: 57 }), sep: fc.constantFrom(' ', '\n', '\t', '\uFEFF', '\u200B', '\r\n', '  ') }), { maxLength: 2 }),
  wrap: fc.constantFrom('', '"', '\'', '\uFEFF', ' ', 'seed='),
  before: junk,
  after: junk,
  withPublicKey: fc.boolean(),
});

function seedOf(r: Recipe): string {
  return SEEDS[r.seed].reveal();
}

/** The disguised seed text of a recipe. */
function apply(r: Recipe): string {
  let s = seedOf(r);
  if (r.letterCase === 'lower') s = s.toLowerCase();
  if (r.letterCase === 'mixed') s = [...s].map((c, i) => (i % 3 === 1 ? c.toLowerCase() : c)).join('');
  for (const { at, sep } of [...r.splits].sort((a, b) => b.at - a.at)) s = s.slice(0, at) + sep + s.slice(at);
  const close = r.wrap === '"' || r.wrap === '\'' ? r.wrap : '';
  s = `${r.wrap}${s}${close}`;
  if (r.withPublicKey) s = `${s}\n${SEEDS[r.seed].publicKey.value}`;
  return `${r.before}${s}${r.after}`;
}

const squash = (text: string) => text.replace(/\s/g, '').toLowerCase();
/** True when `printed` holds the body of `seed` (case-insensitive, whitespace removed). */
function leaks(printed: string, seed: string): boolean {
  return squash(printed).includes(squash(seed.slice(2)));
}

const counts = {
  cases: 0,
  inProcess: 0,
  childProcess: 0,
  leaks: 0,
  redactedInOutput: 0,
  paths: {} as Record<string, number>,
  directRedactorCases: 0,
};
afterAll(() => writeProofReport('redaction', counts));

async function runCli(args: string[]): Promise<string> {
  let printed = '';
  await main(args, { out: (t) => { printed += t; }, err: (t) => { printed += t; } });
  return printed;
}

/** Records one case; throws (naming the path and the recipe, never the seed) on a leak. */
function check(pathName: string, r: Recipe, printed: string, alsoSecret: readonly string[] = []): void {
  counts.cases++;
  counts.paths[pathName] = (counts.paths[pathName] ?? 0) + 1;
  if (printed.includes(REDACTED_SEED)) counts.redactedInOutput++;
  const leaked = [seedOf(r), ...alsoSecret].filter((s) => leaks(printed, s)).length;
  if (leaked) {
    counts.leaks++;
    throw new Error(`${pathName}: the output (${printed.length} characters) holds the body of ${leaked} seed(s); recipe ${JSON.stringify({ ...r, seed: KINDS[r.seed] })}`);
  }
}

/** Every seed value in a key store (never printed; compared only). */
function storeSeeds(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && !e.name.startsWith('.')) walk(p);
      else if (e.isFile() && e.name === 'seed') out.push(fs.readFileSync(p, 'utf8').trim());
    }
  };
  walk(root);
  return out;
}

describe('the redactor itself', () => {
  test('removes every generated form from generated text', () => {
    fc.assert(fc.property(recipe, fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (r, a, b) => {
      counts.directRedactorCases++;
      const printed = redactSecrets(`${a}${apply(r)}${b}`);
      if (leaks(printed, seedOf(r))) throw new Error(`leak for recipe ${JSON.stringify({ ...r, seed: KINDS[r.seed] })}`);
    }), { seed: SEED, numRuns: runs(2000) });
  });
});

describe('every CLI input path (in-process)', () => {
  let dir: string;
  let store: string;
  let secrets: string[];
  beforeAll(async () => {
    dir = tempDir('dsx-redaction-');
    store = path.join(dir, 'ks');
    const printed = await runCli(['nkeys', '-o', store, '--extra-account', 'Ops', '1']);
    expect(printed).toMatch(/Secret generation complete/);
    secrets = storeSeeds(store);
    expect(secrets.length).toBeGreaterThan(10);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Puts `content` into a key-store file for one run, then restores it. */
  async function withFile<T>(rel: string, content: string, body: () => Promise<T>): Promise<T> {
    const file = path.join(store, rel);
    const original = fs.readFileSync(file);
    fs.writeFileSync(file, content);
    try {
      return await body();
    } finally {
      fs.writeFileSync(file, original);
    }
  }

  const KEY_FILES = [
    'csc/nkeys/nats-nack-user/pubkey',
    `csc/nkeys/${cscLeafSecretName('1')}/pubkey`,
    `csc/nkeys/${cscLeafSecretName('1', 'ops')}/pubkey`,
    'cpc-1/nkeys/nats-auth-signing/pubkey',
    'csc/nkeys/nats-nack-user/seed',
  ];
  const KEY_COMMANDS: Record<string, (store: string, out: string) => string[]> = {
    'nkeys --check': (s) => ['nkeys', '--check', '-o', s, '--extra-account', 'Ops', '1'],
    'nkeys': (s) => ['nkeys', '-o', s, '--extra-account', 'Ops', '1'],
    'export': (s, out) => ['export', '-s', s, '--extra-account', 'Ops', '-o', out, '1'],
  };

  test.each(Object.keys(KEY_COMMANDS))('key-store files read by %s: no seed printed', async (name) => {
    await fc.assert(fc.asyncProperty(recipe, fc.constantFrom(...KEY_FILES), async (r, rel) => {
      const printed = await withFile(rel, apply(r), () => runCli(KEY_COMMANDS[name](store, path.join(dir, 'export'))));
      counts.inProcess++;
      check(`key-store file (${name})`, r, printed, secrets);
    }), { seed: SEED + 1, numRuns: runs(120) });
  }, 300_000);

  test('a key-store file name holding a seed (a stray entry --check lists): not printed', async () => {
    await fc.assert(fc.asyncProperty(recipe, async (r) => {
      const name = apply({ ...r, before: '', after: '', withPublicKey: false, splits: [], wrap: '' });
      const stray = path.join(store, 'csc', 'nkeys', 'nats-nack-user', name);
      fs.writeFileSync(stray, 'x', { mode: 0o600 });
      try {
        const printed = await runCli(['nkeys', '--check', '-o', store, '--extra-account', 'Ops', '1']);
        counts.inProcess++;
        check('key-store file name (nkeys --check)', r, printed, secrets);
      } finally {
        fs.rmSync(stray, { force: true });
      }
    }), { seed: SEED + 2, numRuns: runs(40) });
  }, 300_000);

  const BASE = {
    delivery: { type: 'existing' },
    keys: { deterministicTestKeys: true },
    certificates: ClusterCertificates.selfSigned(),
    clusters: [
      { type: 'csc', gateway: { hostnames: ['csc.example.com'] } },
      { type: 'cpc', id: '1', gateway: { hostnames: ['cpc-1.example.com'] } },
    ],
  };
  /** Fleet-file fields, each set to the disguised seed. */
  const FIELDS: Record<string, (doc: any, v: string) => void> = {
    'nkeyPermissions[].publicKey': (d, v) => { d.nkeyPermissions = [{ name: 'app', publicKey: v, account: 'CSC' }]; },
    'clusters[].nkeyPermissions[].publicKey': (d, v) => { d.clusters[1].nkeyPermissions = [{ name: 'app', publicKey: v, account: 'CPC' }]; },
    'clusters[].id': (d, v) => { d.clusters[1].id = v; },
    'labels value': (d, v) => { d.labels = { team: v }; },
    'labels key': (d, v) => { d.labels = { [v]: 'x' }; },
    'namespace': (d, v) => { d.namespace = v; },
    'extraAccounts[]': (d, v) => { d.extraAccounts = [v]; },
    'gateway.hostnames[]': (d, v) => { d.clusters[0].gateway.hostnames = [v]; },
    'cscEndpoint': (d, v) => { d.cscEndpoint = v; },
    'secretOverrides[].name': (d, v) => { d.secretOverrides = [{ secret: 'nats-xkey', name: v }]; },
    'delivery.storeName': (d, v) => { d.delivery = { type: 'externalSecrets', storeName: v }; },
    'certificates.issuer.name': (d, v) => { d.certificates = { issuer: { kind: 'ClusterIssuer', name: v } }; },
    'unknown field name': (d, v) => { d[v] = 1; },
    'keys.directory': (d, v) => { d.keys = { directory: v }; },
  };

  test('fleet-file fields read by synth: no seed printed', async () => {
    const file = path.join(dir, 'fleet.yaml');
    await fc.assert(fc.asyncProperty(recipe, fc.constantFrom(...Object.keys(FIELDS)), fc.boolean(), async (r, field, asJson) => {
      const doc = JSON.parse(JSON.stringify(BASE));
      FIELDS[field](doc, apply(r));
      fs.writeFileSync(file, asJson ? JSON.stringify(doc) : YAML.stringify(doc));
      const printed = await runCli(['synth', '-c', file, '-o', path.join(dir, 'dist')]);
      counts.inProcess++;
      check(`fleet-file field ${field}`, r, printed);
    }), { seed: SEED + 3, numRuns: runs(300) });
  }, 600_000);

  test('a key-store file read by synth (keys.directory): no seed printed', async () => {
    const file = path.join(dir, 'fleet-ks.yaml');
    fs.writeFileSync(file, YAML.stringify({ ...BASE, keys: { directory: store }, extraAccounts: ['Ops'] }));
    await fc.assert(fc.asyncProperty(recipe, fc.constantFrom(...KEY_FILES), async (r, rel) => {
      const printed = await withFile(rel, apply(r), () => runCli(['synth', '-c', file, '-o', path.join(dir, 'dist-ks')]));
      counts.inProcess++;
      check('key-store file (synth)', r, printed, secrets);
    }), { seed: SEED + 4, numRuns: runs(40) });
  }, 600_000);

  /** Command lines with the disguised seed in one argument. */
  const ARGS: Record<string, (v: string, d: string) => string[]> = {
    'nkeys cpc-id': (v, d) => ['nkeys', '-o', path.join(d, 'unused'), v],
    'nkeys --extra-account': (v, d) => ['nkeys', '-o', path.join(d, 'unused'), '--extra-account', v],
    'nkeys --check cpc-id': (v, d) => ['nkeys', '--check', '-o', path.join(d, 'ks'), v],
    'nkeys unknown option': (v) => ['nkeys', `--${v}`],
    'export --prefix': (v, d) => ['export', '-s', path.join(d, 'ks'), '-p', v, '-o', path.join(d, 'unused')],
    'export --format': (v, d) => ['export', '-s', path.join(d, 'ks'), '-f', v],
    'export cpc-id': (v, d) => ['export', '-s', path.join(d, 'ks'), '-o', path.join(d, 'unused'), v],
    'export --extra-account': (v, d) => ['export', '-s', path.join(d, 'ks'), '--extra-account', v, '-o', path.join(d, 'unused')],
    'export -s (missing store)': (v, d) => ['export', '-s', path.join(d, 'missing', v), '-o', path.join(d, 'unused')],
    'synth -c (missing file)': (v, d) => ['synth', '-c', path.join(d, 'missing', v)],
    'synth unknown option': (v) => ['synth', `--${v}=1`],
    'synth positional': (v) => ['synth', '-c', 'x', v],
    'certs cluster': (v, d) => ['certs', '-o', path.join(d, 'unused'), v],
    'unknown command': (v) => [v, '--help'],
  };

  test('command-line arguments: no seed printed', async () => {
    await fc.assert(fc.asyncProperty(recipe, fc.constantFrom(...Object.keys(ARGS)), async (r, name) => {
      const printed = await runCli(ARGS[name](apply(r), dir));
      counts.inProcess++;
      check(`argument (${name})`, r, printed, secrets);
    }), { seed: SEED + 5, numRuns: runs(300) });
  }, 600_000);
});

describe('as real processes of the built CLI', () => {
  beforeAll(() => ensureBuilt(), 600_000);

  test('key-store files, fleet fields and arguments: no seed printed on stdout or stderr', () => {
    const dir = tempDir('dsx-redaction-cp-');
    try {
      const store = path.join(dir, 'ks');
      expect(dsxEventBus(['nkeys', '-o', store, '1']).status).toBe(0);
      const secrets = storeSeeds(store);
      fc.assert(fc.property(recipe, fc.constantFrom('pubkey file', 'fleet field', 'argument'), (r0, where) => {
        // Arguments of a process cannot hold NUL.
        const r = { ...r0, before: r0.before.replace(/\0/g, ''), after: r0.after.replace(/\0/g, '') };
        const value = apply(r);
        let result;
        if (where === 'pubkey file') {
          const file = path.join(store, 'csc/nkeys/nats-nack-user/pubkey');
          const original = fs.readFileSync(file);
          fs.writeFileSync(file, value);
          try {
            result = dsxEventBus(['nkeys', '--check', '-o', store, '1']);
          } finally {
            fs.writeFileSync(file, original);
          }
        } else if (where === 'fleet field') {
          const file = path.join(dir, 'fleet.yaml');
          fs.writeFileSync(file, YAML.stringify({ delivery: { type: 'existing' }, keys: { deterministicTestKeys: true }, nkeyPermissions: [{ name: 'a', publicKey: value, account: 'CSC' }], clusters: [{ type: 'csc' }] }));
          result = dsxEventBus(['synth', '-c', file, '-o', path.join(dir, 'dist')]);
        } else {
          result = dsxEventBus(['nkeys', '-o', store, '--', value]);
        }
        expect(result.status).toBe(1);
        counts.childProcess++;
        check(`child process (${where})`, r, `${result.stdout}${result.stderr}`, secrets);
      }), { seed: SEED + 6, numRuns: runs(12) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

test(`the counts add up: ≥ ${Math.min(1000, runs(1000))} CLI cases (1,000 at REDACTION_SCALE=1, as in CI), no leak, and seeds did reach the output (where they were redacted)`, () => {
  // Runs last in this file (jest runs tests in order).
  expect(counts.leaks).toBe(0);
  expect(counts.cases).toBeGreaterThanOrEqual(Math.min(1000, runs(1000)));
  expect(counts.redactedInOutput).toBeGreaterThan(0);
});

// ---------------------------------------------------------------------------
// CA private keys (issue 17): the seed treatment for the fleet root's and the
// clusters' intermediate keys. Generated at test time, never committed.
// ---------------------------------------------------------------------------

/** How to disguise a CA private key in an input; holds no key material itself. */
interface CaKeyRecipe {
  /** Which test CA's key: 0 root (ECDSA), 1 another root (RSA), 2 an intermediate. */
  readonly key: number;
  readonly form: 'pem' | 'body only' | 'one line' | 'split';
  readonly before: string;
  readonly after: string;
}

const caKeyRecipe: fc.Arbitrary<CaKeyRecipe> = fc.record({
  key: fc.nat(2),
  form: fc.constantFrom('pem', 'pem', 'body only', 'one line', 'split'),
  before: junk,
  after: junk,
});

describe('CA private keys', () => {
  const caCounts = { cases: 0, objectCases: 0, cliCases: 0, leaks: 0, paths: {} as Record<string, number> };
  afterAll(() => writeProofReport('redaction-ca-keys', caCounts));

  let dir: string;
  let keys: string[];
  let roots: EvaluationCa[];
  let intermediate: EvaluationCa;
  beforeAll(async () => {
    dir = tempDir('dsx-redaction-ca-');
    roots = await Promise.all([generateEvaluationCa('ecdsa-p256'), generateEvaluationCa('rsa-2048')]);
    intermediate = await generateClusterIntermediate({ cluster: 'csc', dnsNames: ['csc.example.com'], ipAddresses: [], root: roots[0] });
    keys = [roots[0].keyPem, roots[1].keyPem, intermediate.keyPem];
    // The CA folder synth reads (ca: { directory }), and a fleet file over it.
    fs.mkdirSync(path.join(dir, 'ca'), { recursive: true, mode: 0o700 });
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /**
   * Windows of a key's DER in base64 that only its private part holds: the
   * PKCS#8 prefix is the same for every key of a type, and the public part
   * (an EC point, an RSA modulus) is also in the certificate.
   */
  const windows = (keyPem: string) => {
    const key = crypto.createPrivateKey(keyPem);
    const der = key.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    // EC P-256: the private scalar d (bytes 36-68); RSA 2048: inside d, p, q and the coefficient.
    return (key.asymmetricKeyType === 'ec' ? [der.slice(48, 88)] : [der.slice(800, 840), der.slice(-48, -8)]).map(squash);
  };
  const caLeaks = (printed: string, keyPem: string) => windows(keyPem).some((w) => squash(printed).includes(w));

  function disguise(r: CaKeyRecipe): string {
    const pem = keys[r.key];
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('\n');
    const text = r.form === 'pem' ? pem
      : r.form === 'body only' ? body
        : r.form === 'one line' ? body.replace(/\n/g, '')
          : body.replace(/\n/g, '').replace(/(.{17})/g, '$1 ');
    return `${r.before}${text}${r.after}`;
  }

  function checkCa(pathName: string, r: CaKeyRecipe, printed: string): void {
    caCounts.cases++;
    caCounts.paths[pathName] = (caCounts.paths[pathName] ?? 0) + 1;
    const leaked = keys.filter((k) => caLeaks(printed, k)).length;
    if (leaked) {
      caCounts.leaks++;
      throw new Error(`${pathName}: the output (${printed.length} characters) holds ${leaked} CA private key(s); recipe ${JSON.stringify({ ...r, before: r.before.length, after: r.after.length })}`);
    }
  }

  test('util.inspect, JSON.stringify and String of a CertificateAuthority (alone, in props, in arrays) never show its key', () => {
    fc.assert(fc.property(fc.nat(2), fc.constantFrom('inspect', 'inspect hidden', 'json', 'string', 'values'), fc.nat(3), (k, how, nesting) => {
      const authority = k === 2
        ? CertificateAuthority.intermediateFromPem(intermediate.certPem, intermediate.keyPem, roots[0].certPem)
        : CertificateAuthority.fromPem(roots[k].certPem, roots[k].keyPem);
      let value: unknown = authority;
      for (let i = 0; i < nesting; i++) value = i % 2 ? [value] : { certificates: { ca: value } };
      const printed = how === 'inspect' ? util.inspect(value, { depth: 10 })
        : how === 'inspect hidden' ? util.inspect(value, { depth: 10, showHidden: true, getters: true })
          : how === 'json' ? JSON.stringify(value)
            : how === 'string' ? `${String(value)} ${Object.keys(authority).join()}`
              : JSON.stringify(Object.values(authority));
      caCounts.objectCases++;
      checkCa(`CertificateAuthority (${how})`, { key: k, form: 'pem', before: '', after: '' }, printed);
    }), { seed: SEED + 7, numRuns: runs(200) });
  });

  /** Inputs a CA key can reach the CLI through, each set to the disguised key. */
  const CA_INPUTS: Record<string, (v: string) => { files: Record<string, string>; fleet: Record<string, unknown> }> = {
    'ca.key not the root\'s key': (v) => ({ files: { 'ca/ca.crt': roots[0].certPem, 'ca/ca.key': v }, fleet: { certificates: { ca: { directory: '../ca' } } } }),
    'ca.crt holding a key': (v) => ({ files: { 'ca/ca.crt': `${roots[0].certPem}${v}`, 'ca/ca.key': roots[0].keyPem }, fleet: { certificates: { ca: { directory: '../ca' } } } }),
    'certFile holding a key': (v) => ({ files: { 'pki/root.pem': v }, fleet: { delivery: { type: 'existing' }, certificates: { ca: { certFile: '../pki/root.pem' } } } }),
    'keyFile of another CA': (v) => ({ files: { 'pki/root.crt': roots[0].certPem, 'pki/root.key': v }, fleet: { certificates: { ca: { certFile: '../pki/root.crt', keyFile: '../pki/root.key' } } } }),
    'cscTrust pemFile holding a key': (v) => ({ files: { 'pki/trust.pem': `${roots[0].certPem}${v}` }, fleet: { certificates: { issuer: { name: 'x' } }, cscTrust: { pemFile: '../pki/trust.pem' } } }),
    'intermediate file holding another key': (v) => ({
      files: { 'ca/ca.crt': roots[0].certPem, 'ca/ca.key': roots[0].keyPem, 'ca/clusters/csc.pem': `${intermediate.certPem}${v}` },
      fleet: { certificates: { ca: { directory: '../ca' } } },
    }),
  };

  test('CA files and fleet fields read by synth: no CA key printed', async () => {
    await fc.assert(fc.asyncProperty(caKeyRecipe, fc.constantFrom(...Object.keys(CA_INPUTS)), async (r, input) => {
      const root = path.join(dir, 'case');
      fs.rmSync(root, { recursive: true, force: true });
      const { files, fleet } = CA_INPUTS[input](disguise(r));
      for (const [rel, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true, mode: 0o700 });
        fs.writeFileSync(path.join(root, rel), text, { mode: 0o600 });
      }
      fs.mkdirSync(path.join(root, 'conf'), { recursive: true });
      const file = path.join(root, 'conf', 'fleet.yaml');
      fs.writeFileSync(file, YAML.stringify({
        delivery: { type: 'inline' },
        keys: { deterministicTestKeys: true },
        ...fleet,
        clusters: [{ type: 'csc', gateway: { hostnames: ['csc.example.com'] } }, { type: 'cpc', id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }],
      }));
      const printed = await runCli(['synth', '-c', file, '-o', path.join(root, 'dist')]);
      caCounts.cliCases++;
      checkCa(`CA input (${input})`, r, printed);
    }), { seed: SEED + 8, numRuns: runs(150) });
  }, 600_000);

  test('the CA-key counts add up: every case checked, no leak', () => {
    expect(caCounts.leaks).toBe(0);
    expect(caCounts.cases).toBe(caCounts.objectCases + caCounts.cliCases);
    expect(caCounts.cases).toBeGreaterThanOrEqual(Math.min(350, runs(350)));
  });
});

/**
 * The npm package is an allowlist: `npm pack` lists only what package.json's
 * `files` names (the compiled library and its types, the CLI, the fleet
 * file's schema, .jsii, API.md), the files npm always adds, and our bundled
 * runtime dependencies, even after a test run has left its artefacts in the
 * tree (.cache/test-tools holds 80 MB of helm and nats-server). The packed size
 * stays within a stated budget, the packed package.json runs nothing on
 * install (scripts/pack-manifest.js drops the clone's `prepare`), and the public declarations name no Node-only type a fresh
 * `cdk8s init` app's `@types/node` (^14) lacks. test/consumer/ installs the
 * tarball into such an app and compiles it.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureBuilt, REPO } from './util/cli';
import { packageRules, pathsOutsideAllowlist } from './util/package-files';

const REQUIRED = ['lib/index.js', 'lib/index.d.ts', 'lib/cli/main.js', 'lib/files/staging-worker.js', 'schemas/fleet.schema.json', '.jsii', 'package.json', 'README.md', 'LICENSE'];
/** Packed (gzip) and unpacked size budgets. Measured 2026-12-07: 1.32 MB packed, 7.1 MB unpacked (was 2.8 / 16.8 MB from a clean tree). */
const PACKED_BUDGET = 1_500_000;
const UNPACKED_BUDGET = 8_000_000;

/** What a test run, the demo and a user leave in the tree: each is created only if missing and removed afterwards. */
const ARTEFACTS = [
  '.cache/test-tools/pack-test-helm',
  '.cache/pack-test/junk.bin',
  'test-reports/pack-test-junit.xml',
  'coverage/pack-test.json',
  'dist/csc/manifests/pack-test.yaml',
  '.demo-secrets/pack-test.nk',
  'deploy/secrets/pack-test.nk',
  'pkg/pack-test.tgz',
  'examples/production/dist/pack-test.yaml',
  'lib/pack-test.js.map',
  'lib/pack-test.ts',
];

interface Packed {
  readonly files: string[];
  readonly size: number;
  readonly unpackedSize: number;
  /** package.json as the tarball holds it. */
  readonly manifest: any;
}

/** A real `npm pack` (with its prepack/postpack scripts) into a temporary folder. */
function npmPack(): Packed {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-pack-'));
  try {
    const run = spawnSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: REPO, encoding: 'utf8', timeout: 180_000 });
    if (run.status !== 0) throw new Error(`npm pack failed (${run.status}):\n${run.stderr}`);
    const [result] = JSON.parse(run.stdout.slice(run.stdout.indexOf('[')));
    const manifest = JSON.parse(execFileSync('tar', ['-xzOf', path.join(out, result.filename), 'package/package.json'], { encoding: 'utf8' }));
    return { files: result.files.map((f: { path: string }) => f.path), size: result.size, unpackedSize: result.unpackedSize, manifest };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Creates each missing file (and its missing folders); returns an undo that removes exactly what it created. */
function leaveArtefacts(files: string[]): () => void {
  const created: string[] = [];
  for (const rel of files) {
    const file = path.join(REPO, rel);
    if (fs.existsSync(file)) continue;
    // The highest folder that does not exist yet is ours to remove.
    let first = path.dirname(file);
    while (!fs.existsSync(path.dirname(first))) first = path.dirname(first);
    const ownFolder = fs.existsSync(first) ? undefined : first;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'left behind by a test run\n', { flag: 'wx' });
    created.push(ownFolder ?? file);
  }
  return () => {
    for (const p of created.reverse()) fs.rmSync(p, { recursive: true, force: true });
  };
}

describe('npm package', () => {
  test('the allowlist check fails on any path outside it, and passes what the package needs', () => {
    const rules = packageRules(REPO);
    const outside = [
      '.cache/test-tools/helm',
      '.cache/test-tools/nats-server',
      'test-reports/junit.xml',
      'dist/csc/manifests/Secret.nats-leaf-cpc-1.yaml',
      '.demo-secrets/accounts/SYS.nk',
      'src/index.ts',
      'lib/index.js.map',
      'lib/index.ts',
      'scripts/build.js',
      'schemas/other.json',
      'node_modules/typescript/lib/tsc.js', // not a bundled dependency
      'node_modules/cdk8s/node_modules/yaml/dist/index.js', // cdk8s's bundle, not ours
    ];
    const inside = [
      'package.json', 'README.md', 'LICENSE', 'API.md', '.jsii', 'schemas/fleet.schema.json',
      'lib/index.js', 'lib/index.d.ts', 'lib/cli/main.js', 'lib/imports/eg-envoyproxies-gateway.envoyproxy.io.d.ts',
      'node_modules/yaml/dist/index.js', 'node_modules/@peculiar/x509/package.json', 'node_modules/tsyringe/node_modules/tslib/tslib.js',
    ];
    expect(pathsOutsideAllowlist([...inside, ...outside], rules)).toEqual(outside);
    expect(pathsOutsideAllowlist(inside, rules)).toEqual([]);
  });

  let packed: Packed;
  const manifestBefore = fs.readFileSync(path.join(REPO, 'package.json'), 'utf8');

  beforeAll(() => {
    ensureBuilt();
    const undo = leaveArtefacts(ARTEFACTS);
    try {
      packed = npmPack();
    } finally {
      undo();
    }
  }, 180_000);

  test('npm pack, after a test run has left its artefacts, holds only the allowlist and stays within the size budget', () => {
    expect(pathsOutsideAllowlist(packed.files, packageRules(REPO))).toEqual([]);
    expect(packed.files).toEqual(expect.arrayContaining(REQUIRED));
    expect(packed.files.filter((f) => f.includes('pack-test'))).toEqual([]);
    // No source maps without their sources: none at all.
    const own = packed.files.filter((f) => !f.startsWith('node_modules/'));
    expect(own.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(own.filter((f) => f.endsWith('.js') && fs.readFileSync(path.join(REPO, f), 'utf8').includes('//# sourceMappingURL='))).toEqual([]);
    console.log(`npm pack: ${packed.files.length} files, ${(packed.size / 1e6).toFixed(2)} MB packed (budget ${PACKED_BUDGET / 1e6} MB), `
      + `${(packed.unpackedSize / 1e6).toFixed(2)} MB unpacked (budget ${UNPACKED_BUDGET / 1e6} MB)`);
    expect(packed.size).toBeLessThanOrEqual(PACKED_BUDGET);
    expect(packed.unpackedSize).toBeLessThanOrEqual(UNPACKED_BUDGET);
  });

  test('the packed package.json runs nothing on install; the clone keeps prepare, byte-identical after the pack', () => {
    for (const lifecycle of ['preinstall', 'install', 'postinstall', 'prepare']) expect([lifecycle, packed.manifest.scripts[lifecycle]]).toEqual([lifecycle, undefined]);
    expect(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).toBe(manifestBefore);
    const pkg = JSON.parse(manifestBefore);
    expect(pkg.scripts).toMatchObject({ prepare: 'node scripts/build.js', prepack: 'node scripts/pack-manifest.js prepack', postpack: 'node scripts/pack-manifest.js postpack' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const build = require(path.join(REPO, 'scripts', 'build.js'));
    expect(build.staleReason()).toBeUndefined();
  });

  test('the public declarations name no X509Certificate (absent from the @types/node ^14 of a cdk8s init app)', () => {
    ensureBuilt();
    // Every .d.ts reachable from lib/index.d.ts through relative imports and exports.
    const seen = new Set<string>();
    const queue = [path.join(REPO, 'lib', 'index.d.ts')];
    while (queue.length) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = path.resolve(path.dirname(file), m[1]);
        queue.push(fs.existsSync(`${target}.d.ts`) ? `${target}.d.ts` : path.join(target, 'index.d.ts'));
      }
    }
    expect(seen.size).toBeGreaterThan(20);
    const offenders = [...seen].filter((f) => /X509Certificate/.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(REPO, f));
    expect(offenders).toEqual([]);
  });
});

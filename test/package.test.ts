/**
 * The npm package is complete: `npm pack` lists the compiled library, its
 * types, the CLI, the fleet file's schema and the jsii assembly, and nothing
 * of the repository's sources, tests or local key material. `prepare`
 * (scripts/build.js) is what builds lib/ before `npm pack` on a fresh clone.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ensureBuilt, REPO } from './util/cli';

const REQUIRED = ['lib/index.js', 'lib/index.d.ts', 'lib/cli/main.js', 'schemas/fleet.schema.json', '.jsii', 'package.json', 'README.md', 'LICENSE'];

describe('npm package', () => {
  test('prepare runs scripts/build.js, which has nothing to do when lib/ is up to date', () => {
    ensureBuilt();
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepare).toBe('node scripts/build.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const build = require(path.join(REPO, 'scripts', 'build.js'));
    expect(build.staleReason()).toBeUndefined();
  });

  test('npm pack holds lib/, the CLI, the schema and .jsii, and no sources, tests or keys', () => {
    ensureBuilt();
    const run = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    expect(run.status).toBe(0);
    const files: string[] = JSON.parse(run.stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files).toEqual(expect.arrayContaining(REQUIRED));
    const own = files.filter((f) => !f.startsWith('node_modules/')); // bundled runtime dependencies
    expect(own.filter((f) => /^(src|test|examples|bench|scripts|imports|\.demo-secrets|deploy|dist)\//.test(f))).toEqual([]);
    expect(own.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });
});

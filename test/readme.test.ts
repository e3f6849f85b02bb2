/**
 * The README's example is a test. The code block after `<!-- readme-example -->`
 * is copied exactly as printed into a project of its own, whose
 * `cdk8s-dsx-event-bus` is this repository's built package (lib/, through
 * node_modules as an installed package would be), type-checked with tsc
 * (strict) and run with node after the `npx dsx-event-bus nkeys …` command
 * its comment names. Then the snapshot recipe: the example's function
 * imported with a DeterministicKeyStore synthesizes the same objects.
 *
 * test/consumer/ covers the user's side (the installed tarball, a real
 * `cdk8s init` app, its tsc/jest/cdk8s synth); this file stays because it
 * checks what the example's output holds, and runs offline in `npm test`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as YAML from 'yaml';
import { dsxEventBus, ensureBuilt, REPO } from './util/cli';
import { validateManifests } from './util/schema';
import { findSeeds } from './util/seeds';

const MARKER = '<!-- readme-example -->';

/** The example exactly as README.md prints it: the fenced `ts` block right after the marker. */
function readmeExample(): string {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no ${MARKER} line before its example`);
  const block = /^\s*```ts\n([\s\S]*?)\n```/.exec(readme.slice(at + MARKER.length));
  if (!block) throw new Error(`README.md: the line after ${MARKER} must open a \`\`\`ts block`);
  return block[1] + '\n';
}

/** A consumer project: main.ts, a strict tsconfig, and node_modules entries that resolve like an installed package. */
function consumerProject(code: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-readme-'));
  fs.writeFileSync(path.join(dir, 'main.ts'), code);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'nodenext', strict: true, types: ['node'], skipLibCheck: true, outDir: '.', rootDir: '.' },
    files: ['main.ts'],
  }));
  const links: Record<string, string> = {
    'cdk8s-dsx-event-bus': REPO, // package.json: main lib/index.js, types lib/index.d.ts
    'cdk8s': path.join(REPO, 'node_modules', 'cdk8s'),
    'constructs': path.join(REPO, 'node_modules', 'constructs'),
    '@types/node': path.join(REPO, 'node_modules', '@types', 'node'),
  };
  for (const [name, target] of Object.entries(links)) {
    const link = path.join(dir, 'node_modules', name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(target, link, 'dir');
  }
  return dir;
}

interface Synthesized {
  readonly objects: Record<string, any[]>; // per cluster folder
  readonly values: Record<string, any>;
  readonly text: string;
}

function readOutput(out: string): Synthesized {
  const objects: Record<string, any[]> = {};
  const values: Record<string, any> = {};
  let text = '';
  for (const cluster of fs.readdirSync(out).filter((f) => !f.startsWith('.')).sort()) {
    const valuesText = fs.readFileSync(path.join(out, cluster, 'values.event-bus.yaml'), 'utf8');
    values[cluster] = YAML.parse(valuesText);
    text += valuesText;
    objects[cluster] = [];
    for (const f of fs.readdirSync(path.join(out, cluster, 'manifests')).sort()) {
      const body = fs.readFileSync(path.join(out, cluster, 'manifests', f), 'utf8');
      text += body;
      objects[cluster].push(...YAML.parseAllDocuments(body).map((d) => d.toJS()));
    }
  }
  return { objects, values, text };
}

/** Runs node with args in the project; a failure shows what the process printed (tsc prints its errors on stdout). */
function node(args: string[], cwd: string): void {
  try {
    execFileSync(process.execPath, args, { cwd, stdio: 'pipe', encoding: 'utf8' });
  } catch (e: any) {
    throw new Error(`node ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

const names = (objects: any[], kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name).sort();
const kindsAndNames = (objects: any[]) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();

describe('README.md example', () => {
  let dir: string;
  let out: Synthesized;

  beforeAll(() => {
    ensureBuilt();
    const code = readmeExample();
    dir = consumerProject(code);
    node([path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir);
    // The keys, with the command the example's comment names.
    const command = /`npx dsx-event-bus (nkeys [^`]+)`/.exec(code);
    if (!command) throw new Error('the README example no longer names the `npx dsx-event-bus nkeys …` command that writes its keys');
    const keys = dsxEventBus(command[1].split(/\s+/), { cwd: dir });
    expect(keys.stderr).toBe('');
    expect(keys.status).toBe(0);
    node(['main.js'], dir);
    out = readOutput(path.join(dir, 'dist'));
  }, 120_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('compiles with tsc (strict) against the built package and writes one folder per cluster', () => {
    expect(Object.keys(out.values)).toEqual(['cpc-1', 'cpc-2', 'csc']);
    expect(validateManifests(Object.values(out.objects).flat())).toBeGreaterThan(0);
    expect(findSeeds(out.text)).toEqual([]);
  });

  test('Secrets come as ExternalSecrets from the ClusterSecretStore, including the LaunchLayer leaf pairs', () => {
    const { csc, 'cpc-1': cpc1 } = out.objects;
    expect(names(csc, 'Secret')).toEqual([]);
    expect(names(csc, 'ExternalSecret')).toEqual(expect.arrayContaining([
      'nats-leaf-cpc-1', 'nats-leaf-cpc-2', 'nats-leaf-launchlayer-cpc-1', 'nats-leaf-launchlayer-cpc-2', 'auth-callout-keys',
    ]));
    expect(names(cpc1, 'ExternalSecret')).toEqual(expect.arrayContaining(['nats-leaf-csc', 'nats-leaf-launchlayer-csc']));
    for (const es of csc.filter((o) => o.kind === 'ExternalSecret')) {
      expect(es.spec.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'vault-backend' });
    }
  });

  test('each cluster gets the Gateway and certificates from the vault-pki ClusterIssuer', () => {
    for (const [cluster, objects] of Object.entries(out.objects)) {
      expect(names(objects, 'Gateway')).toEqual(['event-bus-gateway']);
      const certificates = objects.filter((o) => o.kind === 'Certificate');
      expect(certificates.length).toBeGreaterThan(0);
      for (const c of certificates) expect(c.spec.issuerRef).toMatchObject({ kind: 'ClusterIssuer', name: 'vault-pki' });
      expect(`${cluster}: ${certificates.flatMap((c) => c.spec.dnsNames ?? []).join(' ')}`).toContain(`${cluster}.event-bus.example.com`);
    }
  });

  test('the values files join the CPCs to the CSC', () => {
    const csc = out.values.csc.global.eventBus;
    expect(csc).toMatchObject({ clusterType: 'csc', cpcIds: ['1', '2'] });
    expect(Object.keys(csc.extraAccounts)).toEqual(['LaunchLayer']);
    for (const id of ['1', '2']) {
      expect(out.values[`cpc-${id}`].global.eventBus).toMatchObject({
        clusterType: 'cpc', clusterId: id, cscEndpoint: 'tls://csc.event-bus.example.com:7422',
      });
    }
  });

  test('the snapshot recipe: its function with a DeterministicKeyStore synthesizes the same objects', () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const lib = require(path.join(dir, 'node_modules', 'cdk8s-dsx-event-bus'));
    const example = require(path.join(dir, 'main.js'));
    /* eslint-enable @typescript-eslint/no-require-imports */
    const fleet = example.eventBus(Testing.app(), new lib.testing.DeterministicKeyStore());
    const synthesized: Record<string, string[]> = {};
    for (const chart of fleet.charts) synthesized[chart.cluster.directory] = kindsAndNames(Testing.synth(chart));
    expect(synthesized).toEqual(Object.fromEntries(Object.entries(out.objects).map(([c, o]) => [c, kindsAndNames(o)])));
  });
});

/**
 * The consumer test: the package as a user installs it, in a project that the
 * real `cdk8s init typescript-app` of the pinned cdk8s-cli writes (its
 * package.json, tsconfig.json, jest.config.js, cdk8s.yaml, main.ts, and its
 * own post-init steps: npm install, compile, jest -u, cdk8s synth).
 *
 * Run by `npm run test:consumer` (`.ci/run` calls it after `npm test`, so the
 * tarball is packed from a tree the whole suite has run in). Not part of
 * `npm test`: it installs from the npm registry (cached in ~/.npm) and takes
 * minutes.
 *
 * One step is replaced: the template's `npm run import` (`cdk8s import`, which
 * downloads the Kubernetes schema from GitHub) is answered by a stand-in
 * `npm` first on PATH during `cdk8s init` only. It writes the pinned k8s
 * binding that the app's own cdk8s-plus-33 ships (lib/imports/k8s.js and
 * .d.ts) to imports/, where `cdk8s import` would have written k8s.ts; every
 * other npm command goes to the real npm.
 *
 * Then, in each variant: `npm install` of the tarball `npm pack` made; main.ts
 * becomes the README example exactly as printed, main.test.ts the snapshot
 * recipe of docs/testing-and-proofs.md exactly as printed, plus.test.ts a
 * cdk8s-plus workload reading our Secret; the keys come from the command the
 * example's comment names; then the template's own `npm run build` (tsc
 * --build over the app and every declaration it reaches, including ours;
 * jest; `cdk8s synth` through the real cdk8s CLI), and `jest --ci` once more
 * to show the snapshots are stable.
 *
 * Variants:
 * - `pins`: the template's package.json as `cdk8s init` writes and installs it
 *   (`@types/node` ^14, `typescript` 5.9.x, cdk8s-plus-33).
 * - `newest`: the newest `@types/node` published, TypeScript still the
 *   newest of the template's 5.9.x (under TypeScript 6.0.3 the template's own
 *   placeholder test fails to compile: TypeScript 6 no longer loads @types
 *   packages unless tsconfig lists them, so `describe` is unknown), and
 *   cdk8s-plus-27 in place of cdk8s-plus-33.
 *
 * The steps run in beforeAll (the two variants in parallel after the shared
 * setup: their tsc, jest and ts-node runs are single-threaded); one test per
 * step reports its outcome, so CI's summary counts each. Each step's time is
 * printed at the end and written to test-reports/consumer-times.json.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { REPO } from '../util/cli';
import { findSeeds } from '../util/seeds';

const CDK8S = path.join(REPO, 'node_modules', '.bin', 'cdk8s');
const STEP_TIMEOUT = 600_000;
const times: Array<{ variant: string; step: string; ms: number }> = [];
const versions: Record<string, Record<string, string>> = {};
// Created when this file loads (only `npm run test:consumer` loads it).
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-consumer-'));
const PINS = path.join(WORK, 'pins');
const NEWEST = path.join(WORK, 'newest');
let tarball: string;
let wallMs = 0;

/** The environment of a user's shell: none of CI's, npm's or jest's own variables. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|JEST_|CI$|NODE_OPTIONS$|TS_NODE_|DSX_|INIT_CWD$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', ...extra };
}

/** Runs a command to its end (asynchronously, so the two variants' builds use both cores); rejects with its last output lines. */
function run(command: string, args: string[], cwd: string, env = userEnv()): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (d) => { stdout += d; output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout });
      const tail = output.split('\n').slice(-80).join('\n');
      reject(new Error(`\`${command} ${args.join(' ')}\` in ${cwd} failed (exit ${code}, signal ${signal}):\n${tail}`));
    });
  });
}

interface Step {
  readonly name: string;
  readonly fn: () => Promise<void> | void;
}

/** Each step's outcome by "variant: step"; the tests report them. */
const outcomes = new Map<string, { error?: unknown; notRun?: string }>();

/** Runs the steps of a variant in order, timing each; after a failed step, the rest are recorded as not run. */
async function pipeline(variant: string, steps: Step[]): Promise<boolean> {
  let failed: string | undefined;
  for (const step of steps) {
    const key = `${variant}: ${step.name}`;
    if (failed) {
      outcomes.set(key, { notRun: failed });
      continue;
    }
    const started = Date.now();
    try {
      await step.fn();
      outcomes.set(key, {});
    } catch (error) {
      failed = step.name;
      outcomes.set(key, { error });
    } finally {
      times.push({ variant, step: step.name, ms: Date.now() - started });
    }
  }
  return failed === undefined;
}

/** One test per step, reporting what the pipeline recorded. */
function stepTests(variant: string, steps: Step[]): void {
  for (const step of steps) {
    test(step.name, () => {
      const outcome = outcomes.get(`${variant}: ${step.name}`);
      if (!outcome) throw new Error('not run: an earlier stage failed');
      if (outcome.notRun) throw new Error(`not run: the step "${outcome.notRun}" failed`);
      if (outcome.error) throw outcome.error;
    });
  }
}

/** The fenced `ts` block right after `marker` in `file` of this repository, exactly as printed. */
function codeBlockAfter(file: string, marker: string): string {
  const text = fs.readFileSync(path.join(REPO, file), 'utf8');
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${file} has no "${marker}"`);
  const block = /```ts\n([\s\S]*?)\n```/.exec(text.slice(at + marker.length));
  if (!block) throw new Error(`${file}: no \`\`\`ts block after "${marker}"`);
  return `${block[1]}\n`;
}

const README_EXAMPLE = () => codeBlockAfter('README.md', '<!-- readme-example -->');
const SNAPSHOT_RECIPE = () => codeBlockAfter('docs/testing-and-proofs.md', '## Snapshot tests in your repository');

/** A workload of cdk8s-plus-NN in one of our CPC charts, reading one of our Secrets by name. */
function plusTest(plus: string): string {
  return `import { Testing } from 'cdk8s';
import * as kplus from '${plus}';
import { testing } from 'cdk8s-dsx-event-bus';
import { eventBus } from './main';

test('a ${plus} Deployment in a CPC chart reads our Secret by name', () => {
  const fleet = eventBus(Testing.app(), new testing.DeterministicKeyStore());
  const cpc = fleet.cpcs[0];
  const secretName = cpc.secrets.secretName('nats-nack-user');
  const key = cpc.secrets.secretKey('nats-nack-user', 'pubkey');
  const nack = kplus.Secret.fromSecretName(cpc, 'NackSecret', secretName);
  new kplus.Deployment(cpc, 'Consumer', {
    metadata: { namespace: cpc.releaseNamespace },
    containers: [{ image: 'registry.example.org/consumer:1.0', envVariables: { NACK_PUBKEY: kplus.EnvValue.fromSecretValue({ secret: nack, key }) } }],
  });
  const deployment = Testing.synth(cpc).find((o) => o.kind === 'Deployment');
  expect(deployment.spec.template.spec.containers[0].env).toEqual([{ name: 'NACK_PUBKEY', valueFrom: { secretKeyRef: { name: secretName, key } } }]);
});
`;
}

/** The versions installed of what the app's package.json depends on (and cdk8s-cli's own pins). */
function installedVersions(app: string): Record<string, string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]);
  const out: Record<string, string> = {};
  for (const p of ['cdk8s-cli', 'cdk8s', 'constructs', 'cdk8s-plus-33', 'cdk8s-plus-27', 'typescript', '@types/node', 'jest', 'ts-jest', 'ts-node', 'cdk8s-dsx-event-bus']) {
    const file = path.join(app, 'node_modules', p, 'package.json');
    if (declared.has(p) && fs.existsSync(file)) out[p] = JSON.parse(fs.readFileSync(file, 'utf8')).version;
  }
  return out;
}

/** Every YAML document under dist/, per cluster folder. */
function readDist(app: string): { clusters: Record<string, any[]>; text: string } {
  const clusters: Record<string, any[]> = {};
  let text = '';
  const dist = path.join(app, 'dist');
  for (const file of fs.readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const body = fs.readFileSync(path.join(dist, file), 'utf8');
    text += body;
    const cluster = file.split(path.sep)[0];
    (clusters[cluster] ??= []).push(...YAML.parseAllDocuments(body).map((d) => d.toJS()).filter((o) => o?.kind));
  }
  return { clusters, text };
}

/** The README example, the snapshot recipe and a cdk8s-plus workload in `app`, then the keys the example names. */
async function writeUserCode(app: string, plus: string): Promise<void> {
  const example = README_EXAMPLE();
  fs.writeFileSync(path.join(app, 'main.ts'), example);
  fs.writeFileSync(path.join(app, 'main.test.ts'), SNAPSHOT_RECIPE());
  fs.writeFileSync(path.join(app, 'plus.test.ts'), plusTest(plus));
  // The template's snapshot belonged to its placeholder test, which main.test.ts replaces.
  fs.rmSync(path.join(app, '__snapshots__'), { recursive: true, force: true });
  const command = /`npx (dsx-event-bus nkeys [^`]+)`/.exec(example);
  if (!command) throw new Error('the README example no longer names the `npx dsx-event-bus nkeys …` command that writes its keys');
  await run('npx', ['--no-install', ...command[1].split(/\s+/)], app);
}

/**
 * The template's own `npm run build` (= `npm run compile && npm run test &&
 * npm run synth`, checked at init; run here script by script to time each) as
 * a developer runs it, so jest writes the new snapshots; then jest as CI runs it.
 */
function buildSteps(app: string): Step[] {
  return [
    { name: 'npm run compile (tsc --build: the app and every declaration it reaches, ours included)', fn: async () => { await run('npm', ['run', 'compile'], app); } },
    { name: 'npm run test (jest: the snapshot recipe writes its snapshots; the cdk8s-plus workload)', fn: async () => { await run('npm', ['run', 'test'], app); } },
    { name: 'npm run synth (cdk8s synth through the real cdk8s CLI)', fn: async () => { await run('npm', ['run', 'synth'], app); } },
    {
      name: 'dist/ holds the Kubernetes objects of the CSC and both CPCs, and no seed',
      fn: () => {
        const { clusters, text } = readDist(app);
        expect(Object.keys(clusters).sort()).toEqual(expect.arrayContaining(['cpc-1', 'cpc-2', 'csc']));
        for (const c of ['csc', 'cpc-1', 'cpc-2']) {
          const kinds = new Set(clusters[c].map((o) => o.kind));
          expect([c, kinds.has('Gateway'), kinds.has('Certificate'), kinds.has('ExternalSecret')]).toEqual([c, true, true, true]);
        }
        expect(findSeeds(text)).toEqual([]);
      },
    },
    {
      name: 'jest --ci: the snapshots written by the recipe match on a second run',
      fn: async () => {
        const snap = fs.readFileSync(path.join(app, '__snapshots__', 'main.test.ts.snap'), 'utf8');
        expect(snap).toContain('ExternalSecret');
        expect(findSeeds(snap)).toEqual([]);
        await run('npx', ['--no-install', 'jest', '--ci'], app);
      },
    },
  ];
}

afterAll(() => {
  const lines = times.map((t) => `  ${t.variant.padEnd(7)} ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${t.step}`);
  const total = times.reduce((a, t) => a + t.ms, 0);
  console.log(`consumer test: ${(wallMs / 1000).toFixed(1)} s wall, steps (${(total / 1000).toFixed(1)} s in all, the two variants in parallel):\n${lines.join('\n')}\ninstalled: ${JSON.stringify(versions, null, 1)}`);
  fs.mkdirSync(path.join(REPO, 'test-reports'), { recursive: true });
  fs.writeFileSync(path.join(REPO, 'test-reports', 'consumer-times.json'), `${JSON.stringify({ times, totalMs: total, wallMs, versions }, null, 2)}\n`);
  fs.rmSync(WORK, { recursive: true, force: true });
});

const SHIM = `#!/usr/bin/env bash
# Stand-in for npm during \`cdk8s init\` only: it stands for \`npm run import\`
# (cdk8s import k8s, which downloads the Kubernetes schema from GitHub) and
# writes the pinned k8s binding the app's cdk8s-plus-33 ships; every other
# command goes to the real npm.
if [ "$1" = run ] && [ "$2" = import ]; then
  mkdir -p imports && cp node_modules/cdk8s-plus-33/lib/imports/k8s.js node_modules/cdk8s-plus-33/lib/imports/k8s.d.ts imports/
  exit 0
fi
exec "$REAL_NPM" "$@"
`;

/** From the tarball to the app both variants start from. */
const SETUP: Step[] = [
  {
    name: 'npm pack (after the suite has run in this tree)',
    fn: async () => {
      const r = await run('npm', ['pack', '--json', '--pack-destination', WORK], REPO);
      tarball = path.join(WORK, JSON.parse(r.stdout)[0].filename);
      expect(fs.statSync(tarball).size).toBeGreaterThan(0);
    },
  },
  {
    name: 'cdk8s init typescript-app (the real CLI; its cdk8s import answered with the pinned k8s binding)',
    fn: async () => {
      fs.mkdirSync(PINS);
      const shim = path.join(WORK, 'shim');
      fs.mkdirSync(shim);
      fs.writeFileSync(path.join(shim, 'npm'), SHIM, { mode: 0o755 });
      const realNpm = (await run('bash', ['-c', 'command -v npm'], WORK)).stdout.trim();
      await run(CDK8S, ['init', 'typescript-app', '--no-check-upgrade'], PINS, userEnv({ PATH: `${shim}${path.delimiter}${process.env.PATH}`, REAL_NPM: realNpm }));
      for (const f of ['package.json', 'tsconfig.json', 'jest.config.js', 'cdk8s.yaml', 'main.ts', 'imports/k8s.d.ts', 'dist/pins.k8s.yaml']) {
        expect([f, fs.existsSync(path.join(PINS, f))]).toEqual([f, true]);
      }
      const pkg = JSON.parse(fs.readFileSync(path.join(PINS, 'package.json'), 'utf8'));
      expect(pkg.scripts.build).toBe('npm run compile && npm run test && npm run synth');
      expect(pkg.devDependencies).toMatchObject({ '@types/node': '^14', 'typescript': '5.9.x' });
      expect(pkg.dependencies['cdk8s-plus-33']).toBeDefined();
    },
  },
  {
    name: 'npm install <the tarball>',
    fn: async () => {
      await run('npm', ['install', '--no-audit', '--no-fund', tarball], PINS);
      const installed = JSON.parse(fs.readFileSync(path.join(PINS, 'node_modules', 'cdk8s-dsx-event-bus', 'package.json'), 'utf8'));
      for (const lifecycle of ['preinstall', 'install', 'postinstall', 'prepare']) expect([lifecycle, installed.scripts?.[lifecycle]]).toEqual([lifecycle, undefined]);
      // The second variant starts from this app, before any of our code is in it.
      // (Its own output folders stay behind; node_modules is copied whole.)
      const own = [path.join(PINS, 'dist'), path.join(PINS, '__snapshots__')];
      fs.cpSync(PINS, NEWEST, { recursive: true, verbatimSymlinks: true, filter: (src) => !own.includes(src) });
    },
  },
];

const PINS_STEPS: Step[] = [
  {
    name: 'the README example, the snapshot recipe, a cdk8s-plus-33 workload, and the keys',
    fn: async () => {
      await writeUserCode(PINS, 'cdk8s-plus-33');
      versions.pins = installedVersions(PINS);
      expect(versions.pins['@types/node']).toMatch(/^14\./);
      expect(versions.pins.typescript).toMatch(/^5\.9\./);
    },
  },
  ...buildSteps(PINS),
];

const NEWEST_STEPS: Step[] = [
  {
    name: 'npm install @types/node@latest cdk8s-plus-27@^2; npm uninstall cdk8s-plus-33',
    fn: async () => {
      await run('npm', ['install', '--no-audit', '--no-fund', '@types/node@latest', 'cdk8s-plus-27@^2'], NEWEST);
      // (cdk8s-cli itself depends on cdk8s-plus-33: it stays in node_modules, not in the app's dependencies.)
      await run('npm', ['uninstall', '--no-audit', '--no-fund', 'cdk8s-plus-33'], NEWEST);
      const pkg = JSON.parse(fs.readFileSync(path.join(NEWEST, 'package.json'), 'utf8'));
      expect(pkg.dependencies['cdk8s-plus-33']).toBeUndefined();
      expect(pkg.dependencies['cdk8s-plus-27']).toBeDefined();
      expect(pkg.devDependencies['@types/node']).not.toBe('^14');
    },
  },
  {
    name: 'the README example, the snapshot recipe, a cdk8s-plus-27 workload, and the keys',
    fn: async () => {
      await writeUserCode(NEWEST, 'cdk8s-plus-27');
      versions.newest = installedVersions(NEWEST);
      expect(Number(versions.newest['@types/node'].split('.')[0])).toBeGreaterThan(14);
      expect(versions.newest.typescript).toMatch(/^5\.9\./);
    },
  },
  ...buildSteps(NEWEST),
];

beforeAll(async () => {
  const started = Date.now();
  try {
    if (!(await pipeline('setup', SETUP))) return;
    // The two variants in parallel: their builds are single-threaded tsc, jest and ts-node runs.
    await Promise.all([pipeline('pins', PINS_STEPS), pipeline('newest', NEWEST_STEPS)]);
  } finally {
    wallMs = Date.now() - started;
  }
}, 3 * STEP_TIMEOUT);

describe('setup: the tarball and a cdk8s init typescript-app', () => stepTests('setup', SETUP));
describe('the template\'s pins (@types/node ^14, TypeScript 5.9.x) and cdk8s-plus-33', () => stepTests('pins', PINS_STEPS));
describe('the newest @types/node, TypeScript 5.9.x, and cdk8s-plus-27', () => stepTests('newest', NEWEST_STEPS));

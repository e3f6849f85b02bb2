import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8'));
const steps: string[] = tasks.tasks.import.steps.map((s: { exec: string }) => s.exec);
const importSteps = steps.filter((e) => e.startsWith('cdk8s import'));
// `node scripts/prune-crd.mjs imports/FILE PRUNED/FILE path...`: the binding of FILE is generated from its pruned copy.
const pruneSteps = steps.filter((e) => e.startsWith('node scripts/prune-crd.mjs')).map((e) => {
  const [, , input, output] = e.split(' ');
  return { exec: e, input: input.replace(/^imports\//, ''), output };
});
/** The pinned file under imports/ a `cdk8s import` step generates from (through its pruned copy, if any). */
function pinnedSource(step: string): string {
  const source = /:=(\S+)/.exec(step)![1];
  const pruned = pruneSteps.find((p) => p.output === source);
  return pruned ? pruned.input : source.replace(/^imports\//, '');
}

const CDK8S_CLI = path.join(ROOT, 'node_modules', 'cdk8s-cli', 'lib');
/** Runs `cdk8s import` steps (JSON on stdin) as the CLI's import command does: importDispatch of the parsed spec, not saved to cdk8s.yaml. */
const IMPORT_IN_ONE_PROCESS = `
const { importDispatch } = require(${JSON.stringify(path.join(CDK8S_CLI, 'import', 'dispatch.js'))});
const { parseImports } = require(${JSON.stringify(path.join(CDK8S_CLI, 'util.js'))});
const jobs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
(async () => {
  for (const job of jobs) {
    await importDispatch([parseImports(job.spec)], {}, { outdir: job.outdir, targetLanguage: job.language, classNamePrefix: undefined, save: false });
  }
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('generated CRD bindings', () => {
  test('every pinned CRD file has exactly one import step, and nothing else is imported', () => {
    const files = fs.readdirSync(path.join(ROOT, 'imports'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).sort();
    const imported = importSteps.map(pinnedSource).sort();
    expect(imported).toEqual(files);
  });

  test('the EnvoyProxy binding is generated from a pruned copy, and pruned copies are not committed', () => {
    expect(pruneSteps.map((p) => p.input)).toContain('envoy-gateway/gateway.envoyproxy.io_envoyproxies.yaml');
    for (const p of pruneSteps) {
      expect(p.output).toMatch(/^\.cache\//);
      // Each pruned copy is written before the import step that reads it.
      expect(steps.indexOf(p.exec)).toBeLessThan(steps.findIndex((e) => e.startsWith('cdk8s import') && e.endsWith(`:=${p.output}`)));
    }
  });

  test('src/imports/ regenerates byte-identically from imports/', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-imports-'));
    try {
      const pruned = path.join(out, '.pruned');
      for (const p of pruneSteps) {
        const args = p.exec.replace(/^node /, '').replace(p.output, path.join(pruned, p.input)).split(' ');
        execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'pipe' });
      }
      const argsOf = (step: string) => {
        const source = /:=(\S+)/.exec(step)![1];
        const own = pruneSteps.find((p) => p.output === source);
        return step.replace(/^cdk8s /, '').replace('-o src/imports', `-o ${out}`)
          .replace(`:=${source}`, `:=${own ? path.join(pruned, own.input) : source}`).split(' ');
      };
      // The first step as the task runs it, through the cdk8s CLI; the others
      // through the same import code of the pinned cdk8s-cli (what the CLI's
      // import command calls with the parsed arguments), all in one Node
      // process: a CLI start per step was most of this test's 20 CPU seconds.
      const [first, ...rest] = importSteps;
      execFileSync(path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), argsOf(first), { cwd: ROOT, stdio: 'pipe' });
      const jobs = rest.map((step) => {
        const args = argsOf(step);
        // `import --no-save --no-check-upgrade -l LANGUAGE -o DIR NAME:=FILE`, nothing else.
        expect([args.length, ...args.slice(0, 4), args[5]]).toEqual([8, 'import', '--no-save', '--no-check-upgrade', '-l', '-o']);
        return { language: args[4], outdir: args[6], spec: args[7] };
      });
      execFileSync(process.execPath, ['-e', IMPORT_IN_ONE_PROCESS], { cwd: ROOT, stdio: 'pipe', input: JSON.stringify(jobs) });
      fs.rmSync(pruned, { recursive: true });
      const committed = fs.readdirSync(path.join(ROOT, 'src', 'imports')).sort();
      expect(fs.readdirSync(out).sort()).toEqual(committed);
      for (const f of committed) {
        expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join(ROOT, 'src', 'imports', f)))).toBe(true);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

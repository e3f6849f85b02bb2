import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const tasks = JSON.parse(fs.readFileSync(path.join(ROOT, '.projen', 'tasks.json'), 'utf8'));
const steps: string[] = tasks.tasks.import.steps.map((s: { exec: string }) => s.exec);
const importSteps = steps.filter((e) => e.startsWith('cdk8s import'));
/** Steps that prune a pinned CRD to the fields the library sets before its import (scripts/prune-crd.mjs). */
const pruneSteps = steps.filter((e) => e.startsWith('node scripts/prune-crd.mjs'));

describe('generated CRD bindings', () => {
  test('every pinned CRD file has exactly one import step, and nothing else is imported', () => {
    const files = fs.readdirSync(path.join(ROOT, 'imports'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.yaml')).sort();
    // A pruned CRD is imported from the pruned copy of the pinned file.
    const pruned = new Map(pruneSteps.map((s) => { const [, , from, to] = s.split(' '); return [to, from]; }));
    const imported = importSteps.map((s) => /:=(\S+)/.exec(s)![1]).map((f) => (pruned.get(f) ?? f).replace(/^imports\//, '')).sort();
    expect(imported).toEqual(files);
  });

  test('src/imports/ regenerates byte-identically from imports/', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-imports-'));
    try {
      for (const step of pruneSteps) execFileSync('node', step.split(' ').slice(1), { cwd: ROOT, stdio: 'pipe' });
      for (const step of importSteps) {
        const args = step.replace(/^cdk8s /, '').replace('-o src/imports', `-o ${out}`).split(' ');
        execFileSync(path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), args, { cwd: ROOT, stdio: 'pipe' });
      }
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

/**
 * `dsx-event-bus init`, and the first steps that follow it, run exactly as
 * init prints them (the built CLI, in a fresh git repository); the
 * `.gitignore` warning of the commands that create a key store.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { dsxEventBus, REPO } from '../util/cli';

let work: string;
beforeEach(() => {
  work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-init-')));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

const git = (args: string[], cwd: string) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
};

/** The commands init printed after "Next", as argument lists (without `npx dsx-event-bus`). */
function nextSteps(stdout: string): string[][] {
  return stdout.split('\n').filter((l) => l.startsWith('  npx dsx-event-bus ')).map((l) => l.trim().split(/\s+/).slice(2));
}

const GITIGNORE_WARNING = /^warning: the key store deploy\/secrets holds seeds and is inside the git work tree (.+), which does not ignore it; add this line to \1\/\.gitignore before you commit:\n {2}\/deploy\/secrets\/\n$/;

describe('dsx-event-bus init', () => {
  test('writes fleet.yaml with $schema and keys in deploy/secrets; the steps it prints run as printed; the new key store gets one .gitignore warning', () => {
    git(['init', '-q', '.'], work);
    const init = dsxEventBus(['init'], { cwd: work });
    expect({ status: init.status, stderr: init.stderr }).toEqual({ status: 0, stderr: '' });
    const doc = YAML.parse(fs.readFileSync(path.join(work, 'fleet.yaml'), 'utf8'));
    expect(doc.keys).toEqual({ directory: 'deploy/secrets' });
    // $schema names this package's schema, relative to the file.
    expect(path.resolve(work, doc.$schema)).toBe(path.join(REPO, 'schemas', 'fleet.schema.json'));
    // No seed in the output unless the user chooses inline Secrets.
    expect(doc.delivery).toEqual({ type: 'existing' });
    const steps = nextSteps(init.stdout);
    expect(steps).toEqual([['nkeys', '1', '2'], ['certs'], ['synth', '-c', 'fleet.yaml'], ['export', '1', '2']]);
    // The file's own comment shows the same commands.
    for (const s of steps) expect(fs.readFileSync(path.join(work, 'fleet.yaml'), 'utf8')).toContain(`npx dsx-event-bus ${s.join(' ')} `);

    const results = steps.map((args) => ({ args, ...dsxEventBus(args, { cwd: work }) }));
    for (const r of results) expect({ args: r.args, status: r.status }).toEqual({ args: r.args, status: 0 });
    // nkeys created the key store: one warning with the line to add; the later commands found it existing.
    expect(results[0].stderr).toMatch(GITIGNORE_WARNING);
    expect(results[1].stderr).toBe('');
    expect(results[2].stderr).toBe('');
    expect(results[2].stdout).toContain('Synthesized 3 clusters');
    expect(fs.readdirSync(path.join(work, 'dist')).filter((n) => !n.startsWith('.')).sort()).toEqual(['cpc-1', 'cpc-2', 'csc']);
    // export's folder holds seeds too.
    expect(results[3].stderr).toMatch(/^warning: the export deploy\/secrets-export holds seeds .*\n {2}\/deploy\/secrets-export\/\n$/);
    // The key material is ignored once the line is added: git sees no seed to commit.
    fs.writeFileSync(path.join(work, '.gitignore'), '/deploy/secrets/\n/deploy/secrets-export/\n/dist/\n');
    const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: work, encoding: 'utf8' });
    expect(status.stdout.split('\n').filter(Boolean).sort()).toEqual(['?? .gitignore', '?? fleet.yaml']);
  });

  test('init DIR prints the steps for the folder it wrote to (keys.directory is relative to the fleet file)', () => {
    const init = dsxEventBus(['init', 'infra/event-bus'], { cwd: work });
    expect(init.status).toBe(0);
    expect(init.stdout).toContain('keys.directory deploy/secrets is relative to the fleet file: infra/event-bus/deploy/secrets');
    const steps = nextSteps(init.stdout);
    expect(steps).toEqual([
      ['nkeys', '-o', 'infra/event-bus/deploy/secrets', '1', '2'], ['certs', '-o', 'infra/event-bus/deploy/secrets'],
      ['synth', '-c', 'infra/event-bus/fleet.yaml'], ['export', '-s', 'infra/event-bus/deploy/secrets', '1', '2'],
    ]);
    for (const args of steps) expect({ args, status: dsxEventBus(args, { cwd: work }).status }).toEqual({ args, status: 0 });
    // Outside a git work tree: no warning to give.
    expect(fs.existsSync(path.join(work, 'infra/event-bus/deploy/secrets/csc/nkeys'))).toBe(true);
  });

  test('an existing fleet.yaml is never replaced', () => {
    fs.writeFileSync(path.join(work, 'fleet.yaml'), 'mine\n');
    const r = dsxEventBus(['init'], { cwd: work });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('ERROR: fleet.yaml: already exists. Fix: edit it, or pass another DIR (dsx-event-bus init DIR); nothing was written.\n');
    expect(fs.readFileSync(path.join(work, 'fleet.yaml'), 'utf8')).toBe('mine\n');
  });

  test('synth says where it created a new key store (relative to the fleet file), with the .gitignore line inside a work tree', () => {
    git(['init', '-q', '.'], work);
    fs.mkdirSync(path.join(work, 'infra'));
    expect(dsxEventBus(['init', 'infra'], { cwd: work }).status).toBe(0);
    const file = path.join(work, 'infra', 'fleet.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('  directory: deploy/secrets\n', '  directory: deploy/secrets\n  generateMissing: true\n'));
    const r = dsxEventBus(['synth', '-c', 'infra/fleet.yaml', '-o', 'dist'], { cwd: work });
    expect(r.status).toBe(0);
    const store = path.join(work, 'infra', 'deploy', 'secrets');
    expect(r.stdout.split('\n')).toContain(`created the key store ${store} (keys.directory "deploy/secrets" is relative to the fleet file infra/fleet.yaml)`);
    const lines = r.stderr.split('\n');
    expect(lines).toContain('  /infra/deploy/secrets/');
    expect(lines.filter((l) => l.startsWith('warning:'))).toHaveLength(1);
    // A rerun finds the store: nothing to say.
    const again = dsxEventBus(['synth', '-c', 'infra/fleet.yaml', '-o', 'dist'], { cwd: work });
    expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 0, stderr: '' });
    expect(again.stdout).not.toContain('created the key store');
  });

  test('without git on the PATH, a .git folder upwards marks a work tree and the warning is given', () => {
    fs.mkdirSync(path.join(work, '.git'));
    const r = dsxEventBus(['nkeys', '1'], { cwd: work, env: { ...process.env, PATH: '/nonexistent' } });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(GITIGNORE_WARNING);
  });

  test('an ignored key store gets no warning', () => {
    git(['init', '-q', '.'], work);
    fs.writeFileSync(path.join(work, '.gitignore'), 'secrets/\n');
    const r = dsxEventBus(['nkeys', '1'], { cwd: work });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

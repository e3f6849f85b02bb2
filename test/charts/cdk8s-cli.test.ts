/**
 * EventBusApp under the real cdk8s CLI (node_modules/.bin/cdk8s, the pinned
 * cdk8s-cli): a temp app that uses the built library (lib/), run with
 * `cdk8s synth` and `cdk8s synth --stdout`, as a user's `cdk8s init` app is.
 * The cdk8s CLI owns its outdir (it removes it before it starts the app),
 * so there the layout is written plainly, without our lock or record; the
 * guarded output (all or nothing, your files stay) is `node main.js` without
 * CDK8S_OUTDIR, `fleet.synth(dir)` and `dsx-event-bus synth -o`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { REPO } from '../util/cli';
import { withoutTestKeysWarning } from '../util/test-keys';

const CDK8S = path.join(REPO, 'node_modules', '.bin', 'cdk8s');
const LIB = path.join(REPO, 'lib');

// One CSC and two CPCs, inline Secrets (so the 600/700 modes are exercised) from the deterministic test store.
const MAIN = `
const lib = require(${JSON.stringify(LIB)});
const app = new lib.EventBusApp();
new lib.EventBusFleet(app, 'event-bus', {
  keys: new lib.testing.DeterministicKeyStore(),
  delivery: lib.SecretsDelivery.inline({ allowTestKeys: true }),
  certificates: lib.ClusterCertificates.issuer(lib.CertificateIssuer.fromIssuerName('event-bus-certificate-issuer')),
  // The issuer is not the library's: the CPCs' trust of the CSC is stated.
  cscTrust: lib.LeafTrust.publicRoots(),
  csc: { gateway: { hostnames: ['csc.example.com'] } },
  cpcs: [{ id: '1', gateway: { hostnames: ['cpc-1.example.com'] } }, { id: '2', gateway: { hostnames: ['cpc-2.example.com'] } }],
});
app.synth();
`;

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-cdk8s-cli-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

/** A fresh app folder: main.js and the cdk8s.yaml `cdk8s init` would write for it. */
function newApp(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'main.js'), MAIN);
  fs.writeFileSync(path.join(dir, 'cdk8s.yaml'), 'language: typescript\napp: node main.js\n');
  return dir;
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const base = { ...process.env };
  delete base.CDK8S_OUTDIR;
  // --no-check-upgrade: the CLI would otherwise ask the npm registry for a newer version.
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...base, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every entry under `dir` (folders end in `/`) with its mode, and each file's content. */
function tree(dir: string): Array<[string, string, string]> {
  return (fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).sort().map((rel) => {
    const st = fs.lstatSync(path.join(dir, rel));
    const mode = (st.mode % 0o1000).toString(8);
    return st.isDirectory() ? [`${rel}/`, mode, ''] : [rel, mode, fs.readFileSync(path.join(dir, rel), 'utf8')];
  });
}

describe('EventBusApp under the cdk8s CLI', () => {
  let guarded: Array<[string, string, string]>;
  beforeAll(() => {
    // The same app run without the cdk8s CLI: the guarded output, whose files are the reference.
    const app = newApp('guarded');
    const r = run(process.execPath, ['main.js'], app);
    // The app uses DeterministicKeyStore: the one warning says so.
    expect(withoutTestKeysWarning(r.stderr)).toBe('');
    expect(r.status).toBe(0);
    guarded = tree(path.join(app, 'dist'));
  });

  test('cdk8s synth writes the per-cluster layout into its outdir, with the guarded output\'s files and modes and nothing of ours besides', () => {
    const app = newApp('synth');
    const r = run(CDK8S, ['--no-check-upgrade', 'synth'], app);
    // The cdk8s CLI passes the app's stderr on: the test-keys warning reaches the user, and nothing else.
    expect(withoutTestKeysWarning(r.stderr)).toBe('');
    expect(r.status).toBe(0);
    const dist = tree(path.join(app, 'dist'));
    // The guarded output also holds its record (and the lock folder while it runs); the cdk8s CLI's folder holds nothing of ours.
    expect(guarded.map(([f]) => f)).toContain('.dsx-event-bus-output.json');
    expect(dist).toEqual(guarded.filter(([f]) => !f.startsWith('.dsx-event-bus')));
    expect(dist.map(([f]) => f)).toEqual(expect.arrayContaining([
      'csc/values.event-bus.yaml', 'cpc-2/values.event-bus.yaml', 'cpc-1/manifests/Secret.dsx.nats-leaf-csc.k8s.yaml',
    ]));
    expect(dist.find(([f]) => f === 'cpc-1/manifests/Secret.dsx.nats-leaf-csc.k8s.yaml')?.[1]).toBe('600');
    expect(dist.find(([f]) => f === 'cpc-1/manifests/')?.[1]).toBe('700');
    // The CLI lists what it found: every file of the layout.
    expect(r.stdout).toContain('dist/cpc-2/values.event-bus.yaml');

    // The cdk8s CLI empties its outdir before it starts the app (its behaviour, documented in docs/charts-and-fleet.md):
    // a file of the user's there does not survive, and a second run writes the same tree.
    fs.writeFileSync(path.join(app, 'dist', 'csc', 'manifests', 'NetworkPolicy.mine.yaml'), 'kind: NetworkPolicy\n');
    const again = run(CDK8S, ['--no-check-upgrade', 'synth'], app);
    expect(again.status).toBe(0);
    expect(tree(path.join(app, 'dist'))).toEqual(dist);
  });

  test('cdk8s synth --stdout prints one YAML stream of Kubernetes objects only, and says on stderr where the values files are', () => {
    const app = newApp('stdout');
    const r = run(CDK8S, ['--no-check-upgrade', 'synth', '--stdout'], app);
    expect(r.status).toBe(0);
    const docs = YAML.parseAllDocuments(r.stdout);
    for (const d of docs) expect(d.errors).toEqual([]);
    const objects = docs.map((d) => d.toJS()).filter((o) => o !== null);
    const manifests = guarded.filter(([f]) => /\/manifests\/.+\.k8s\.yaml$/.test(f)).map(([, , c]) => YAML.parse(c));
    expect(objects).toHaveLength(manifests.length);
    // The same objects (the stream is in cluster order, csc first; the file list is sorted by path).
    const byText = (a: unknown, b: unknown) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
    expect([...objects].sort(byText)).toEqual([...manifests].sort(byText));
    for (const o of objects) {
      expect(Object.keys(o)).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'metadata']));
    }
    // No values file in the stream (they are not objects), and one line on stderr saying so.
    expect(r.stdout).not.toContain('global:');
    const lines = withoutTestKeysWarning(r.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Kubernetes objects only; the Helm values files \(values\.event-bus\.yaml per cluster\) .* left out: write them with "cdk8s synth"/);
  });

  test('a CDK8S_OUTDIR that is not empty (the app not started by the cdk8s CLI) is refused and left as it was', () => {
    const app = newApp('not-empty');
    const out = path.join(app, 'out');
    fs.mkdirSync(path.join(out, 'csc'), { recursive: true });
    fs.writeFileSync(path.join(out, 'csc', 'mine.yaml'), 'mine\n');
    const before = tree(out);
    const r = run(process.execPath, ['main.js'], app, { CDK8S_OUTDIR: out });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${out}: CDK8S_OUTDIR names this folder, but it is not empty (csc)`);
    expect(r.stderr).toContain('Fix: run it with "cdk8s synth", or unset CDK8S_OUTDIR');
    expect(tree(out)).toEqual(before);
  });
});

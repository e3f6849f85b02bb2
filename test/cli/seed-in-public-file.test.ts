/**
 * Issue 17: no seed in a world-readable file. A seed typed into a free-text
 * field lands in a manifest or values file that is not a Secret (mode 644):
 * synth refuses it, naming the file and the field, never printing the seed,
 * and writes nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NKeyKind, NKeySeed } from '../../src';
import { containsChecksummedSeed } from '../../src/redact';
import { dsxEventBus, ensureBuilt } from '../util/cli';
import { clustersYaml } from '../util/fleet-yaml';
import { cleanupTempDirs, tempDir } from '../util/keytree';

let dir: string;
beforeAll(() => ensureBuilt(), 600_000);
beforeEach(() => {
  dir = tempDir('dsx-public-seed-');
  expect(dsxEventBus(['nkeys', '-o', path.join(dir, 'ks'), '1']).status).toBe(0);
});
afterAll(() => cleanupTempDirs());

// Generated per run; never printed (assertions compare booleans and the body's absence).
const seed = NKeySeed.generate(NKeyKind.USER).reveal();

function synthWith(extra: string[]): ReturnType<typeof dsxEventBus> {
  const file = path.join(dir, 'fleet.yaml');
  fs.writeFileSync(file, [
    'namespace: dsx',
    `keys: { directory: ${JSON.stringify(path.join(dir, 'ks'))} }`,
    'delivery: { type: inline }',
    'certificates: { selfSigned: true }',
    'cscTrust: { configMapName: csc-gateway-ca }',
    ...extra,
    clustersYaml().trimEnd(),
  ].join('\n') + '\n');
  return dsxEventBus(['synth', '-c', file, '-o', path.join(dir, 'out')]);
}

test.each([
  ['a label value', [`labels: { team: ${seed} }`], /csc\/manifests\/[^:]+: field metadata\.labels\.team holds an NKey seed, and this file is not a Secret/],
  ['a label value in lower case', [`labels: { team: ${seed.toLowerCase()} }`], /field metadata\.labels\.team holds an NKey seed/],
  ['authCallout.jwks.audience', [`authCallout: { jwks: { url: "https://idp.example.com/certs", issuer: "https://idp.example.com", audience: "${seed}" } }`],
    /values\.event-bus\.yaml: field auth-callout\.serviceConfig\.jwks\.audience holds an NKey seed|values\.event-bus\.yaml: field [\w.-]*audience holds an NKey seed/],
])('fails when a seed is typed into %s: the file and field are named, the seed is not, nothing is written', (_name, extra, about) => {
  const r = synthWith(extra);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(about);
  expect(r.stderr).toMatch(/Fix: remove the seed from the value you gave for that field/);
  expect((r.stdout + r.stderr).toLowerCase()).not.toContain(seed.slice(2).toLowerCase());
  expect(fs.existsSync(path.join(dir, 'out', 'csc'))).toBe(false);
});

test('the same fleet without the seed synthesizes (control), and its Secrets hold seeds while no other file does', () => {
  expect(synthWith(['labels: { team: platform }']).status).toBe(0);
  const files = fs.readdirSync(path.join(dir, 'out'), { recursive: true }).map(String).filter((f) => fs.statSync(path.join(dir, 'out', f)).isFile());
  const holding = files.filter((f) => containsChecksummedSeed(fs.readFileSync(path.join(dir, 'out', f), 'utf8')));
  expect(holding.length).toBeGreaterThan(0);
  expect(holding.filter((f) => !/\/manifests\/Secret\./.test(f))).toEqual([]);
});

/**
 * Seed-leak guard: no seed-shaped string (`S` + key-kind letter + 56 base32
 * characters), plain or base64-encoded, in any file synthesized for an
 * example or a scenario whose delivery keeps key material out of manifests:
 * every manifest and every Helm values file. A positive control shows the
 * scanner finds every seed of an inline synthesis, where they belong.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { readSynthOutput, REPO, scenarioMatrix, SynthOutput, synthFleet, tempDir, writeProofReport } from './scenarios';
import { buildFleet as buildProduction } from '../../examples/production/main';
import { buildFleet as buildQuickstart } from '../../examples/quickstart/main';
import { EventBusFleet } from '../../src';
import { main } from '../../src/cli/run';
import { DeterministicKeyStore } from '../../src/testing';
import { describeSeeds, findSeeds } from '../util/seeds';

const keys = new DeterministicKeyStore();
const EXAMPLE = path.join(REPO, 'examples', 'fleet.yaml');
const counts = { files: 0, bytes: 0, scenarios: 0, seedsFound: 0, controlSeeds: 0 };

afterAll(() => writeProofReport('seed-leak', counts));

/** Scans every file of a synthesis; fails naming the files (never the seeds). */
function expectNoSeeds(out: SynthOutput): void {
  expect(out.files.some((f) => f.relativePath.endsWith('values.event-bus.yaml'))).toBe(true);
  const leaks: string[] = [];
  for (const f of out.files) {
    const seeds = findSeeds(f.text);
    if (seeds.length) leaks.push(`${f.relativePath}: ${describeSeeds(seeds)}`);
    counts.files++;
    counts.bytes += Buffer.byteLength(f.text);
    counts.seedsFound += seeds.length;
  }
  counts.scenarios++;
  expect(leaks).toEqual([]);
}

/** Runs `dsx-event-bus synth` in-process on a fleet file with a fresh key store; returns what it wrote. */
async function cliSynth(fleetFile: string, dir: string): Promise<SynthOutput> {
  let stderr = '';
  const code = await main(['synth', '-c', fleetFile, '--secrets', path.join(dir, 'secrets'), '--generate-missing', '-o', path.join(dir, 'dist')],
    { out: () => undefined, err: (t) => { stderr += t; } });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  return readSynthOutput(path.join(dir, 'dist'));
}

/** Every seed value in a key-store tree (its `seed`, `*-seed` and `.nk` files). */
function storeSeeds(root: string): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && !e.name.startsWith('.')) walk(p);
      else if (e.isFile() && /(^seed|-seed|\.nk)$/.test(e.name)) out.add(fs.readFileSync(p, 'utf8').trim());
    }
  };
  walk(root);
  return out;
}

describe('examples', () => {
  test('examples/quickstart (existing Secrets): no seed in any manifest or values file', () => {
    expectNoSeeds(synthFleet((app) => buildQuickstart(app, keys)));
  });

  test('examples/production (ExternalSecrets): no seed in any manifest or values file', () => {
    expectNoSeeds(synthFleet((app) => buildProduction(app, keys)));
  });

  test.each(['externalSecrets', 'vaultStaticSecrets', 'existing'])('examples/fleet.yaml with delivery %s, over a real key store: no seed in any file', async (delivery) => {
    const dir = tempDir('dsx-proof-leak-');
    try {
      const doc = YAML.parseDocument(fs.readFileSync(EXAMPLE, 'utf8'));
      doc.set('delivery', delivery === 'externalSecrets' ? { type: delivery, storeName: 'vault-backend' } : { type: delivery });
      const file = path.join(dir, 'fleet.yaml');
      fs.writeFileSync(file, doc.toString());
      const out = await cliSynth(file, dir);
      // The key store is full of seeds; none of them crossed into the output.
      expect(storeSeeds(path.join(dir, 'secrets')).size).toBeGreaterThan(20);
      expectNoSeeds(out);
      // Nor did the fleet CA's private key (made beside the keys): plain or base64, only its certificate is used.
      const caKey = fs.readFileSync(path.join(dir, 'secrets', 'ca', 'ca.key'), 'utf8');
      const keyLine = caKey.split('\n')[1];
      expect(out.files.filter((f) => /PRIVATE KEY/.test(f.text) || f.text.includes(keyLine) || f.text.includes(Buffer.from(caKey).toString('base64').slice(0, 40)))
        .map((f) => f.relativePath)).toEqual([]);
      expect(out.files.some((f) => f.text.includes(fs.readFileSync(path.join(dir, 'secrets', 'ca', 'ca.crt'), 'utf8').split('\n')[1]))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every non-inline scenario of the matrix', () => {
  const scenarios = scenarioMatrix().filter((s) => s.legal && s.delivery !== 'inline');
  test('there are 96 of them (4 deliveries × 24 legal combinations)', () => expect(scenarios).toHaveLength(96));
  test.each(scenarios.map((s) => [s.name, s]))('%s: no seed in any manifest or values file', (_name, s) => {
    expectNoSeeds(synthFleet((app) => new EventBusFleet(app, 'fleet', s.props(keys))));
  });
});

describe('positive control', () => {
  test('examples/fleet.yaml as shipped (inline Secrets): the scanner finds exactly the seeds of the key store, only base64-decoded', async () => {
    const dir = tempDir('dsx-proof-leak-');
    try {
      const out = await cliSynth(EXAMPLE, dir);
      const expected = storeSeeds(path.join(dir, 'secrets'));
      // Per cluster 8 distinct seeds (the auth-callout copies repeat 3 of them), plus 2 leaf seeds per CPC.
      expect(expected.size).toBe(3 * 8 + 2 * 2);
      const found = new Set(out.files.flatMap((f) => findSeeds(f.text)));
      expect(found.size).toBe(expected.size);
      expect([...found].every((s) => expected.has(s))).toBe(true);
      // Secret data is base64: no seed is visible in the plain text, the decoding finds them all.
      expect(out.files.filter((f) => /S[UAXONCP][A-Z2-7]{56}/.test(f.text)).map((f) => f.relativePath)).toEqual([]);
      // They are all in Secrets, none in the values files.
      expect(out.files.filter((f) => findSeeds(f.text).length).every((f) => f.object?.kind === 'Secret')).toBe(true);
      // Inline (the user's explicit choice) puts the fleet CA key into one Secret per cluster, and nowhere else:
      // the CPCs' trust ConfigMap holds only the certificate.
      const caKeyB64 = Buffer.from(fs.readFileSync(path.join(dir, 'secrets', 'ca', 'ca.key'))).toString('base64');
      expect(out.files.filter((f) => f.text.includes(caKeyB64.slice(0, 40))).map((f) => f.relativePath).sort())
        .toEqual(['cpc-1', 'cpc-2', 'csc'].map((c) => `${c}/manifests/Secret.dsx.event-bus-certificate-issuer-ca.k8s.yaml`));
      expect(out.files.filter((f) => /PRIVATE KEY/.test(f.text))).toEqual([]);
      counts.controlSeeds = found.size;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the scanner finds a seed in a Secret of an inline scenario built over the deterministic store', () => {
    const inline = scenarioMatrix().find((s) => s.legal && s.delivery === 'inline' && s.extraAccount)!;
    const out = synthFleet((app) => new EventBusFleet(app, 'fleet', inline.props(keys)));
    const secret = out.files.find((f) => f.relativePath === 'cpc-1/manifests/Secret.dsx.nats-leaf-launchlayer-csc.k8s.yaml')!;
    const found = findSeeds(secret.text);
    // Compared, never printed: a failure message must not show a seed either.
    expect(found.length === 1 && found[0] === keys.readSeed('cpc-1', 'nats-leaf-launchlayer-csc').reveal()).toBe(true);
  });
});

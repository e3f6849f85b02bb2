/**
 * Every object we synthesize, validated against the real schemas (the pinned
 * CRDs in imports/ and the Kubernetes OpenAPI schemas of the core kinds, with
 * unknown fields and unknown kinds failing): the three examples and the whole
 * scenario matrix, each read back from the files `EventBusFleet.synth` wrote.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'cdk8s';
import { readSynthOutput, REPO, scenarioMatrix, SynthOutput, synthFleet, tempDir, writeProofReport } from './scenarios';
import { buildFleet as buildProduction } from '../../examples/production/main';
import { buildFleet as buildQuickstart } from '../../examples/quickstart/main';
import { EventBusFleet } from '../../src';
import { main } from '../../src/cli/run';
import { EventBusError } from '../../src/errors';
import { DeterministicKeyStore } from '../../src/testing';
import { manifestErrors, validateManifests } from '../util/schema';

const keys = new DeterministicKeyStore();
let objects = 0;
let scenarios = 0;

/** Validates every manifest of a synthesis; each cluster's values must name its role. */
function validate(out: SynthOutput): number {
  expect(out.objects.length).toBeGreaterThan(0);
  for (const [cluster, values] of Object.entries(out.values)) {
    expect([cluster, values.global.eventBus.clusterType]).toEqual([cluster, cluster === 'csc' ? 'csc' : 'cpc']);
  }
  const n = validateManifests(out.objects);
  objects += n;
  scenarios += 1;
  return n;
}

afterAll(() => {
  writeProofReport('schema', { objects, scenarios });
});

describe('examples', () => {
  test('examples/quickstart: every object is schema-valid', () => {
    expect(validate(synthFleet((app) => buildQuickstart(app, keys)))).toBeGreaterThan(10);
  });

  test('examples/production: every object is schema-valid', () => {
    expect(validate(synthFleet((app) => buildProduction(app, keys)))).toBeGreaterThan(10);
  });

  test('examples/fleet.yaml through `dsx-event-bus synth` with a fresh key store: every object is schema-valid', async () => {
    const dir = tempDir('dsx-proof-schema-');
    try {
      let stderr = '';
      const code = await main(['synth', '-c', path.join(REPO, 'examples', 'fleet.yaml'), '--secrets', path.join(dir, 'secrets'), '--generate-missing', '-o', path.join(dir, 'dist')],
        { out: () => undefined, err: (t) => { stderr += t; } });
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const out = readSynthOutput(path.join(dir, 'dist'));
      expect(Object.keys(out.values).sort()).toEqual(['cpc-1', 'cpc-2', 'csc']);
      expect(validate(out)).toBeGreaterThan(10);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scenario matrix: delivery × mTLS × TLS/TCP gateway × route API × route rendering × extra account', () => {
  const matrix = scenarioMatrix();

  test('covers every combination once', () => {
    expect(matrix).toHaveLength(5 * 2 * 2 * 2 * 2 * 2);
    expect(new Set(matrix.map((s) => s.name)).size).toBe(matrix.length);
  });

  test.each(matrix.filter((s) => s.legal).map((s) => [s.name, s]))('%s: every object is schema-valid', (_name, s) => {
    const out = synthFleet((app) => new EventBusFleet(app, 'fleet', s.props(keys)));
    validate(out);
    const kinds = new Set(out.objects.map((o) => o.kind));
    // The options are visible in the output, so each scenario validates what it claims to.
    expect(kinds.has('Secret')).toBe(s.delivery === 'inline');
    expect(kinds.has('ExternalSecret')).toBe(s.delivery === 'externalSecrets');
    expect(kinds.has('VaultStaticSecret')).toBe(s.delivery === 'vaultStaticSecrets');
    expect(kinds.has('SealedSecret')).toBe(s.delivery === 'sealedSecrets');
    expect(kinds.has('TCPRoute') || kinds.has('TLSRoute')).toBe(s.routeRendering === 'manifests');
    const routeVersions = new Set(out.objects.filter((o) => o.kind.endsWith('Route')).map((o) => o.apiVersion));
    if (s.routeRendering === 'manifests') expect([...routeVersions]).toEqual([`gateway.networking.k8s.io/${s.routeApiVersion}`]);
    expect(out.objects.some((o) => o.metadata?.name === 'nats-mtls-server-tls')).toBe(s.mtls);
    expect(out.objects.some((o) => /^nats-leaf-launchlayer-/.test(o.metadata?.name ?? ''))).toBe(s.extraAccount && s.delivery !== 'existing');
    expect(Object.values(out.values).every((v) => v.global.eventBus.mtls.enabled === s.mtls)).toBe(true);
  });

  test.each(matrix.filter((s) => !s.legal).map((s) => [s.name, s]))('%s: fails when v1 routes are to be rendered by the chart', (_name, s) => {
    expect(() => new EventBusFleet(new App(), 'fleet', s.props(keys))).toThrow(EventBusError);
    expect(() => new EventBusFleet(new App(), 'fleet', s.props(keys))).toThrow(/routeApiVersion v1 cannot be expressed in the upstream chart's Helm values/);
  });
});

describe('the validator itself', () => {
  test('fails on an unknown kind, an unknown field and a wrong type, so a pass above means something', () => {
    expect(manifestErrors({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([expect.stringMatching(/no schema for example\.com\/v1 Widget/)]);
    const out = synthFleet((app) => buildProduction(app, keys));
    const gateway = out.objects.find((o) => o.kind === 'Gateway')!;
    expect(manifestErrors({ ...gateway, spec: { ...(gateway.spec as object), colour: 'blue' } })).toEqual([expect.stringMatching(/must NOT have additional properties: colour/)]);
    const cert = out.objects.find((o) => o.kind === 'Certificate')!;
    expect(manifestErrors({ ...cert, spec: { ...(cert.spec as object), dnsNames: 'one.example.com' } })).toEqual([expect.stringMatching(/\/spec\/dnsNames must be array/)]);
  });
});

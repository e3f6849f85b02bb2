/**
 * scripts/prune-crd.mjs: a pruned CRD keeps the named subtrees' schemas
 * unchanged and nothing else of spec; bad paths fail with the names allowed
 * and leave no output.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'prune-crd.mjs');
const ENVOY = path.join(ROOT, 'imports', 'envoy-gateway', 'gateway.envoyproxy.io_envoyproxies.yaml');

let dir: string;
beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-prune-')); });
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function prune(...args: string[]) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const specOf = (crd: any) => crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;

describe('prune-crd', () => {
  test('keeps the named subtrees of the EnvoyProxy CRD intact, required siblings whole, and nothing else', () => {
    const out = path.join(dir, 'ep.yaml');
    const run = prune(ENVOY, out, 'provider.kubernetes.envoyDeployment.container.resources', 'spec.provider.kubernetes.envoyService.annotations');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const full = parse(fs.readFileSync(ENVOY, 'utf8'));
    const pruned = parse(fs.readFileSync(out, 'utf8'));
    const fullK = specOf(full).properties.provider.properties.kubernetes;
    const k = specOf(pruned).properties.provider.properties.kubernetes;

    expect(Object.keys(specOf(pruned).properties)).toEqual(['provider']);
    // provider requires `type`: kept whole although not named.
    expect(Object.keys(specOf(pruned).properties.provider.properties)).toEqual(['kubernetes', 'type']);
    expect(specOf(pruned).properties.provider.properties.type).toEqual(specOf(full).properties.provider.properties.type);
    expect(Object.keys(k.properties)).toEqual(['envoyDeployment', 'envoyService']);
    expect(Object.keys(k.properties.envoyDeployment.properties)).toEqual(['container']);
    expect(k.properties.envoyDeployment.properties.container.properties.resources)
      .toEqual(fullK.properties.envoyDeployment.properties.container.properties.resources);
    expect(k.properties.envoyService.properties).toEqual({ annotations: fullK.properties.envoyService.properties.annotations });
    // Ancestors lose their CEL rules (they name removed fields) and keep their other keywords.
    expect(fullK['x-kubernetes-validations']).toBeDefined();
    expect(k['x-kubernetes-validations']).toBeUndefined();
    expect(k.description).toBe(fullK.description);
    // Root: apiVersion, kind, metadata and spec; status dropped; the rest of the CRD unchanged.
    expect(Object.keys(pruned.spec.versions[0].schema.openAPIV3Schema.properties)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(pruned.metadata).toEqual(full.metadata);
    expect({ ...pruned.spec, versions: undefined }).toEqual({ ...full.spec, versions: undefined });
    expect(fs.statSync(out).size).toBeLessThan(fs.statSync(ENVOY).size / 100);
  });

  test('steps through arrays, and prunes every version', () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'things.example.com' },
      spec: {
        group: 'example.com',
        names: { kind: 'Thing', plural: 'things' },
        scope: 'Namespaced',
        versions: ['v1', 'v2'].map((name) => ({
          name,
          served: true,
          storage: name === 'v2',
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  properties: {
                    listeners: {
                      'type': 'array',
                      'maxItems': 64,
                      'x-kubernetes-validations': [{ rule: 'self.all(l, has(l.port))' }],
                      'items': {
                        type: 'object',
                        required: ['name'],
                        properties: { name: { type: 'string' }, port: { type: 'integer' }, tls: { type: 'object', properties: { mode: { type: 'string', enum: ['A', 'B'] } } } },
                      },
                    },
                    other: { type: 'string' },
                  },
                },
                status: { type: 'object' },
              },
            },
          },
        })),
      },
    };
    const input = path.join(dir, 'thing.yaml');
    fs.writeFileSync(input, JSON.stringify(crd));
    const out = path.join(dir, 'out.yaml');
    expect(prune(input, out, 'listeners.tls').status).toBe(0);
    const pruned = parse(fs.readFileSync(out, 'utf8'));
    for (const v of pruned.spec.versions) {
      const listeners = v.schema.openAPIV3Schema.properties.spec.properties.listeners;
      expect(listeners.maxItems).toBe(64);
      expect(listeners['x-kubernetes-validations']).toBeUndefined();
      expect(Object.keys(listeners.items.properties)).toEqual(['name', 'tls']);
      const fullListeners = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.listeners;
      expect(listeners.items.properties.tls).toEqual(fullListeners.items.properties.tls);
      expect(Object.keys(v.schema.openAPIV3Schema.properties)).toEqual(['spec']);
    }
  });

  test('fails when a path does not exist, naming the properties allowed, and leaves an existing output unchanged', () => {
    const out = path.join(dir, 'ep.yaml');
    fs.writeFileSync(out, 'previous\n');
    const run = prune(ENVOY, out, 'provider.type', 'provider.kubernetes.envoyDeploy.replicas');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/property path "spec\.provider\.kubernetes\.envoyDeploy\.replicas" does not exist: spec\.provider\.kubernetes has no property "envoyDeploy"; allowed: envoyDaemonSet, envoyDeployment,/);
    expect(fs.readFileSync(out, 'utf8')).toBe('previous\n');
    expect(fs.readdirSync(dir)).toEqual(['ep.yaml']);
  });

  test('fails when the input is not a CRD, or an argument is missing', () => {
    const input = path.join(dir, 'cm.yaml');
    fs.writeFileSync(input, 'apiVersion: v1\nkind: ConfigMap\n');
    const notCrd = prune(input, path.join(dir, 'out.yaml'), 'x');
    expect(notCrd.status).toBe(1);
    expect(notCrd.stderr).toMatch(/not a CustomResourceDefinition \(kind "ConfigMap"\)/);
    const usage = prune(ENVOY, path.join(dir, 'out.yaml'));
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/usage: node scripts\/prune-crd\.mjs <in\.yaml> <out\.yaml> <dotted\.path>\.\.\./);
    const same = prune(ENVOY, ENVOY, 'provider');
    expect(same.status).toBe(2);
    expect(fs.readdirSync(dir)).toEqual(['cm.yaml']);
  });
});

/**
 * `helm template` of the real upstream chart (DSX_UPSTREAM_CHART) with values
 * files, and the Secret references of what it renders. Use inside
 * `toolTest(..., [helmMissing(), chartMissing()], ...)` from ./tools.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { HELM_BIN, UPSTREAM_CHART } from './tools';

/** Renders the chart in namespace `dsx` with the given values documents (YAML text, later ones win). */
export function helmTemplate(valuesYaml: string[], namespace = 'dsx'): any[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'helm-values-'));
  try {
    const args = ['template', 'nats-event-bus', UPSTREAM_CHART!, '-n', namespace];
    valuesYaml.forEach((text, i) => {
      const file = path.join(dir, `values-${i}.yaml`);
      fs.writeFileSync(file, text);
      args.push('-f', file);
    });
    const out = execFileSync(HELM_BIN, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    return YAML.parseAllDocuments(out).map((d) => d.toJSON()).filter((o) => o && typeof o === 'object');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What `helmTemplate` fails with (helm's stderr), or undefined when it renders. */
export function helmTemplateError(valuesYaml: string[]): string | undefined {
  try {
    helmTemplate(valuesYaml);
    return undefined;
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
}

/** One reference to a Secret by a rendered object. */
export interface SecretReference {
  /** `Kind/name` of the object that holds it. */
  readonly object: string;
  /** Secret name. */
  readonly name: string;
  /** The key, where the reference names one (secretKeyRef, volume items). */
  readonly key?: string;
  /** `secretKeyRef`, `volume`, `projected` or `envFrom`. */
  readonly via: string;
}

/** Every Secret reference in the rendered objects: env secretKeyRef, envFrom, secret and projected volumes. */
export function secretReferences(objects: any[]): SecretReference[] {
  const out: SecretReference[] = [];
  for (const o of objects) {
    const object = `${o.kind}/${o.metadata?.name}`;
    const walk = (node: any): void => {
      if (Array.isArray(node)) { node.forEach(walk); return; }
      if (!node || typeof node !== 'object') return;
      if (node.secretKeyRef?.name) out.push({ object, name: node.secretKeyRef.name, key: node.secretKeyRef.key, via: 'secretKeyRef' });
      if (node.secretRef?.name) out.push({ object, name: node.secretRef.name, via: 'envFrom' });
      if (typeof node.secret?.secretName === 'string') {
        const items: any[] = node.secret.items ?? [];
        if (items.length) for (const i of items) out.push({ object, name: node.secret.secretName, key: i.key, via: 'volume' });
        else out.push({ object, name: node.secret.secretName, via: 'volume' });
      }
      if (Array.isArray(node.sources)) {
        for (const s of node.sources) if (s?.secret?.name) out.push({ object, name: s.secret.name, via: 'projected' });
      }
      for (const v of Object.values(node)) walk(v);
    };
    walk(o);
  }
  return out;
}

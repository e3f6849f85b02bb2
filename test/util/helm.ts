/**
 * `helm template` of the real upstream chart (DSX_UPSTREAM_CHART, see
 * ./tools.ts) with a cluster's `values.event-bus.yaml`, parsed into objects.
 * Rendering only: no cluster, no repository, no network.
 *
 * Also the values a deployer supplies beyond the library's (docs/charts-and-fleet.md,
 * "What the deployer supplies"): the chart renders without them but cannot run.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import type { Manifest } from './schema';
import { HELM_BIN, UPSTREAM_CHART } from './tools';

/** The release name the upstream docs install the chart under. */
export const RELEASE = 'nats-event-bus';

/** One object `helm template` rendered, with the template it came from. */
export interface RenderedObject extends Manifest {
  /** The `# Source:` comment helm writes above each document, e.g. `nats-event-bus/charts/nack/templates/…`. */
  readonly source?: string;
}

/** Options of {@link helmTemplate}. */
export interface HelmTemplateOptions {
  /** Release namespace (`-n`). */
  readonly namespace: string;
  /** Values files, in `-f` order (later ones win). */
  readonly valuesFiles: string[];
  /** Chart folder; defaults to DSX_UPSTREAM_CHART. */
  readonly chart?: string;
  /** Release name; defaults to {@link RELEASE}. */
  readonly release?: string;
}

/** The rendered output: every non-empty document, in helm's order. */
export interface HelmRender {
  readonly objects: RenderedObject[];
  /** The command line, for messages. */
  readonly command: string;
}

/**
 * Runs `helm template <release> <chart> -n <ns> -f …` and parses every
 * document. Throws with helm's exit code and stderr when helm fails, and
 * names the document when the output is not valid YAML.
 */
export async function helmTemplate(options: HelmTemplateOptions): Promise<HelmRender> {
  const chart = options.chart ?? UPSTREAM_CHART;
  if (!chart) throw new Error('helmTemplate: no chart (DSX_UPSTREAM_CHART is unset)');
  const args = ['template', options.release ?? RELEASE, chart, '-n', options.namespace, ...options.valuesFiles.flatMap((f) => ['-f', f])];
  const command = `helm ${args.join(' ')}`;
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(HELM_BIN, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env: { ...process.env, HELM_CACHE_HOME: helmHome('cache'), HELM_CONFIG_HOME: helmHome('config'), HELM_DATA_HOME: helmHome('data') } },
      (error, out, err) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
          reject(new Error(`${command} failed (${error.killed ? 'killed after 60 s' : `exit ${code}`}):\n${String(err).trim() || '(no stderr)'}`));
        } else {
          resolve(out);
        }
      });
  });
  return { objects: parseRendered(stdout, command), command };
}

/** Parses helm's multi-document output; empty documents (templates that rendered nothing) are dropped. */
export function parseRendered(text: string, what: string): RenderedObject[] {
  const out: RenderedObject[] = [];
  YAML.parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length) throw new Error(`${what}: document ${i + 1} is not valid YAML: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string') {
      throw new Error(`${what}: document ${i + 1} is not a Kubernetes object`);
    }
    const source = /# Source: (\S+)/.exec(doc.commentBefore ?? '')?.[1];
    out.push(source ? { ...value, source } : value);
  });
  return out;
}

/** Helm's own folders, private to the test run (helm template needs none, but must not touch the user's). */
function helmHome(kind: string): string {
  return path.join(__dirname, '..', '..', '.cache', 'helm-home', kind);
}

/**
 * What the deployer sets on top of the library's values: the auth-callout
 * image (the upstream project publishes none) and its JWKS settings (the
 * deployer's identity provider). Placeholders: the chart renders them as given.
 */
export const DEPLOYER_VALUES = {
  'auth-callout': {
    image: { repository: 'registry.example.com/dsx-exchange/auth-callout', tag: '0.1.1' },
    serviceConfig: {
      jwks: {
        url: 'https://idp.example.com/.well-known/jwks.json',
        issuer: 'https://idp.example.com/',
        audience: 'dsx-event-bus',
      },
    },
  },
} as const;

/** Writes {@link DEPLOYER_VALUES} as `deployer-values.yaml` into `dir`; returns its path. */
export function writeDeployerValues(dir: string): string {
  const file = path.join(dir, 'deployer-values.yaml');
  fs.writeFileSync(file, '# What the deployer supplies (README: "What the deployer supplies").\n' + YAML.stringify(DEPLOYER_VALUES));
  return file;
}

/**
 * Resolves ExternalSecret and VaultStaticSecret objects against an export
 * directory the way the operators do, for the subset of their APIs that
 * EventBusSecrets emits; anything else in a spec fails the test, so the
 * resolver cannot silently skip a feature it does not model.
 *
 * - external-secrets: `data[].remoteRef.{key,property}` → the property of the
 *   remote JSON object at `key` (decodingStrategy None: the string's bytes);
 *   no template data, so the fetched data is the Secret's data.
 * - Vault Secrets Operator (kv-v2): the JSON object at `path`; `excludes`
 *   regexes drop fields, then `includes` keep only matching ones, then
 *   `templates` add keys, and `_raw` (the whole response) is added unless
 *   `excludeRaw`.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface ResolvedSecret {
  readonly name: string;
  readonly data: Record<string, Buffer>;
}

function readRemote(dir: string, remotePath: string): Record<string, string> {
  const file = path.join(dir, `${remotePath}.json`);
  if (!fs.existsSync(file)) throw new Error(`remote secret ${remotePath} is not in the export (${file})`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function onlyKeys(obj: object, allowed: string[], what: string): void {
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length) throw new Error(`${what}: the resolver does not model ${extra.join(', ')}`);
}

export function resolveExternalSecret(es: any, dir: string): ResolvedSecret {
  onlyKeys(es.spec, ['data', 'secretStoreRef', 'target', 'refreshInterval'], 'ExternalSecret.spec');
  onlyKeys(es.spec.target, ['name', 'creationPolicy', 'immutable', 'template'], 'ExternalSecret.spec.target');
  if (es.spec.target.template) onlyKeys(es.spec.target.template, ['type', 'metadata'], 'ExternalSecret.spec.target.template');
  const data: Record<string, Buffer> = {};
  for (const d of es.spec.data) {
    onlyKeys(d.remoteRef, ['key', 'property'], 'ExternalSecret.spec.data[].remoteRef');
    const value = readRemote(dir, d.remoteRef.key)[d.remoteRef.property];
    if (value === undefined) throw new Error(`${d.remoteRef.key} has no property ${d.remoteRef.property}`);
    data[d.secretKey] = Buffer.from(value, 'utf8');
  }
  return { name: es.spec.target.name ?? es.metadata.name, data };
}

const GET_TEMPLATE = /^\{\{- get \.Secrets ("(?:[^"\\]|\\.)*") -\}\}$/;

export function resolveVaultStaticSecret(vs: any, dir: string): ResolvedSecret {
  if (vs.spec.type !== 'kv-v2') throw new Error(`unsupported type ${vs.spec.type}`);
  onlyKeys(vs.spec, ['type', 'mount', 'path', 'namespace', 'vaultAuthRef', 'refreshAfter', 'destination'], 'VaultStaticSecret.spec');
  const t = vs.spec.destination.transformation ?? {};
  onlyKeys(t, ['excludeRaw', 'excludes', 'includes', 'templates'], 'transformation');
  const remote = readRemote(dir, vs.spec.path);
  let fields = Object.entries(remote);
  for (const re of t.excludes ?? []) fields = fields.filter(([k]) => !new RegExp(re).test(k));
  if ((t.includes ?? []).length) fields = fields.filter(([k]) => t.includes.some((re: string) => new RegExp(re).test(k)));
  const data: Record<string, Buffer> = Object.fromEntries(fields.map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
  for (const [key, tpl] of Object.entries(t.templates ?? {}) as Array<[string, { text: string }]>) {
    const m = GET_TEMPLATE.exec(tpl.text);
    if (!m) throw new Error(`template ${tpl.text} is not modelled`);
    const source = JSON.parse(m[1]);
    if (remote[source] === undefined) throw new Error(`template reads missing field ${source}`);
    data[key] = Buffer.from(remote[source], 'utf8');
  }
  if (!t.excludeRaw) data._raw = Buffer.from(JSON.stringify({ data: remote }), 'utf8');
  return { name: vs.spec.destination.name, data };
}

/** Resolves every ExternalSecret/VaultStaticSecret; inline Secrets are decoded as they are. */
export function resolveAll(objects: any[], dir: string): Record<string, Record<string, Buffer>> {
  const out: Record<string, Record<string, Buffer>> = {};
  for (const o of objects) {
    let r: ResolvedSecret;
    if (o.kind === 'ExternalSecret') r = resolveExternalSecret(o, dir);
    else if (o.kind === 'VaultStaticSecret') r = resolveVaultStaticSecret(o, dir);
    else if (o.kind === 'Secret') r = { name: o.metadata.name, data: Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')])) };
    else throw new Error(`unexpected ${o.kind}`);
    if (out[r.name]) throw new Error(`two objects make Secret ${r.name}`);
    out[r.name] = r.data;
  }
  return out;
}

/**
 * Validates synthesized manifests against the real schemas: the pinned CRD
 * files in imports/ (openAPIV3Schema of each served version) and, for core
 * kinds, the Kubernetes OpenAPI schemas shipped by `kubernetes-models`.
 *
 * Like `kubectl apply` (strict field validation, the default since 1.27), an
 * unknown field is an error: every object schema that lists `properties` and
 * does not preserve unknown fields gets `additionalProperties: false`.
 * CEL rules (`x-kubernetes-validations`) are not evaluated; the constructs
 * enforce the rules that matter to us with their own errors.
 */
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as YAML from 'yaml';

const IMPORTS = path.join(__dirname, '..', '..', 'imports');

/** One Kubernetes object as synthesized. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

let ajv: Ajv | undefined;
const crdSchemas = new Map<string, object>(); // "group/version Kind" -> schema
const crdServed = new Map<string, boolean>();
const compiled = new Map<string, ValidateFunction>();
let validatedCount = 0;

function getAjv(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    // Kubernetes-specific formats: int32/int64 are checked by type/bounds in the schema.
    for (const f of ['int32', 'int64', 'byte', 'int-or-string']) ajv.addFormat(f, true);
    loadCrds();
  }
  return ajv;
}

function tighten(schema: any): any {
  if (Array.isArray(schema)) return schema.map(tighten);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) out[k] = tighten(v);
  if (out['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (out.type === 'object' && out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties = false;
  }
  return out;
}

function loadCrds(): void {
  for (const dir of fs.readdirSync(IMPORTS)) {
    const full = path.join(IMPORTS, dir);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const file of fs.readdirSync(full).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(full, file), 'utf8'))) {
        const crd = doc.toJSON();
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        for (const v of crd.spec.versions) {
          const schema = tighten(v.schema.openAPIV3Schema);
          // apiVersion/kind/metadata are checked separately; the CRDs declare metadata loosely.
          crdSchemas.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, schema);
          crdServed.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, v.served !== false);
        }
      }
    }
  }
}

/** Core kinds come from kubernetes-models (Kubernetes' own OpenAPI schemas). */
const CORE: Record<string, () => { validate(): void }> = {};
function coreModel(m: Manifest): { validate(): void } | undefined {
  /* eslint-disable @typescript-eslint/no-require-imports */
  switch (`${m.apiVersion} ${m.kind}`) {
    case 'v1 Secret': return new (require('kubernetes-models/v1/Secret').Secret)(m);
    case 'v1 ConfigMap': return new (require('kubernetes-models/v1/ConfigMap').ConfigMap)(m);
    case 'v1 Namespace': return new (require('kubernetes-models/v1/Namespace').Namespace)(m);
    case 'v1 ServiceAccount': return new (require('kubernetes-models/v1/ServiceAccount').ServiceAccount)(m);
    case 'apps/v1 DaemonSet': return new (require('kubernetes-models/apps/v1/DaemonSet').DaemonSet)(m);
    default: return CORE[`${m.apiVersion} ${m.kind}`]?.();
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function metadataErrors(m: Manifest): string[] {
  const errors: string[] = [];
  const md = m.metadata ?? {};
  if (!md.name || md.name.length > 253 || !DNS1123_SUBDOMAIN.test(md.name)) errors.push(`metadata.name ${JSON.stringify(md.name)} is not a DNS-1123 subdomain`);
  if (md.namespace !== undefined && (md.namespace.length > 63 || !DNS1123_LABEL.test(md.namespace))) errors.push(`metadata.namespace ${JSON.stringify(md.namespace)} is not a DNS-1123 label`);
  for (const [k, v] of Object.entries(md.labels ?? {})) {
    if (!QUALIFIED_NAME.test(k)) errors.push(`label key ${JSON.stringify(k)} is invalid`);
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) errors.push(`label ${k} value ${JSON.stringify(v)} is invalid`);
  }
  for (const [k, v] of Object.entries(md.annotations ?? {})) {
    if (!QUALIFIED_NAME.test(k)) errors.push(`annotation key ${JSON.stringify(k)} is invalid`);
    if (typeof v !== 'string') errors.push(`annotation ${k} value is not a string`);
  }
  return errors;
}

/** Returns the schema errors of one object (empty when valid). Unknown kinds are an error. */
export function manifestErrors(m: Manifest): string[] {
  const errors = metadataErrors(m);
  const core = coreModel(m);
  if (core) {
    try {
      core.validate();
    } catch (e) {
      errors.push(String((e as Error).message));
    }
    return errors;
  }
  const key = `${m.apiVersion} ${m.kind}`;
  const a = getAjv();
  const schema = crdSchemas.get(key);
  if (!schema) return [...errors, `no schema for ${key}: add its CRD to imports/ or its core model to test/util/schema.ts`];
  if (!crdServed.get(key)) errors.push(`${key} is not served by the pinned CRD`);
  let validate = compiled.get(key);
  if (!validate) {
    validate = a.compile(schema);
    compiled.set(key, validate);
  }
  if (!validate(m)) {
    for (const err of validate.errors ?? []) {
      errors.push(`${err.instancePath || '/'} ${err.message}${err.params && 'additionalProperty' in err.params ? `: ${(err.params as any).additionalProperty}` : ''}`);
    }
  }
  return errors;
}

/** Throws one error listing every invalid object, or returns the number validated. */
export function validateManifests(objects: Manifest[]): number {
  const problems: string[] = [];
  for (const m of objects) {
    const errs = manifestErrors(m);
    if (errs.length) problems.push(`${m.apiVersion} ${m.kind} ${m.metadata?.namespace ?? ''}/${m.metadata?.name}:\n  - ${errs.join('\n  - ')}`);
  }
  if (problems.length) throw new Error(`schema validation failed:\n${problems.join('\n')}`);
  validatedCount += objects.length;
  return objects.length;
}

/** How many objects this process validated (reported by the proof suites). */
export function validatedObjects(): number {
  return validatedCount;
}

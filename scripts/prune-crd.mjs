#!/usr/bin/env node
/**
 * Prune a CustomResourceDefinition to the fields a library sets, so that
 * `cdk8s import` generates a binding of only those (the full Envoy Gateway
 * EnvoyProxy binding is 5 MB of JavaScript and .d.ts for a handful of fields).
 *
 *   node scripts/prune-crd.mjs <in.yaml> <out.yaml> <dotted.path>...
 *
 * Each path is relative to `spec` of the custom resource, dotted by property
 * name, e.g. `provider.kubernetes.envoyDeployment.replicas`. Arrays are
 * stepped through: a segment after an array-typed field names a property of
 * its items (`listeners.hostname`). The last segment keeps that property's
 * whole schema unchanged (descriptions, enums, patterns, CEL rules, nested
 * properties); `spec` alone keeps all of spec.
 *
 * What the output holds, for every version of the CRD:
 * - `apiVersion`, `kind` and `metadata` of the root schema, unchanged; `spec`
 *   pruned; every other root property (e.g. `status`) dropped.
 * - On each object between `spec` and a kept property ("an ancestor"): only
 *   the properties on a kept path, plus every property the ancestor lists in
 *   `required` (kept whole, so the binding can still build a valid object);
 *   `x-kubernetes-validations`, `oneOf`, `anyOf`, `allOf` and `not` of an
 *   ancestor are dropped, because they may name the properties removed. All
 *   other keywords of an ancestor (type, description, nullable, ...) stay.
 * - Everything outside `spec.versions[*].schema` (names, group, scope,
 *   printer columns, subresources) unchanged.
 *
 * The pruned CRD is meant for code generation only. It accepts fields the
 * full CRD rejects in combination (the dropped CEL rules), so validate output
 * against the full CRD (this project's schema tests do).
 *
 * A path that does not exist fails with the list of properties available at
 * the step that failed; the output is written to a temporary file and renamed,
 * so a failed run leaves no output and an existing <out.yaml> unchanged.
 * Exit codes: 0 written, 1 bad input (unreadable file, not a CRD, unknown
 * path), 2 usage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

const USAGE = 'usage: node scripts/prune-crd.mjs <in.yaml> <out.yaml> <dotted.path>...  (paths relative to spec, e.g. provider.kubernetes.envoyDeployment.replicas)';
const ANCESTOR_DROPPED = ['x-kubernetes-validations', 'oneOf', 'anyOf', 'allOf', 'not'];
const ROOT_KEPT = ['apiVersion', 'kind', 'metadata'];

class InputError extends Error {}

/** Split and check the dotted paths; a path is segments of a property name each. */
export function parsePaths(paths) {
  if (paths.length === 0) throw new InputError('no property path given; allowed: one or more dotted paths relative to spec, e.g. provider.kubernetes.envoyDeployment.replicas');
  return paths.map((p) => {
    const segments = p.split('.');
    if (segments.some((s) => s === '')) {
      throw new InputError(`property path "${p}" has an empty segment; allowed: property names joined by single dots, relative to spec (e.g. provider.type), fix: remove the extra dot`);
    }
    return segments[0] === 'spec' ? segments.slice(1) : segments;
  });
}

/** The schema whose `properties` a segment names: the node itself, or its items when it is an array. */
function objectOf(schema) {
  return schema.type === 'array' && schema.items ? schema.items : schema;
}

/**
 * Prune one schema node to the given paths (each an array of segments). An
 * empty path among them keeps the node whole. `where` is the dotted location,
 * for errors.
 */
function pruneNode(schema, paths, where) {
  if (paths.some((p) => p.length === 0)) return schema;
  const obj = objectOf(schema);
  const props = obj.properties ?? {};
  const byHead = new Map();
  for (const p of paths) {
    if (!Object.prototype.hasOwnProperty.call(props, p[0])) {
      const available = Object.keys(props);
      throw new InputError(`property path "${[where, ...p].join('.')}" does not exist: ${where} has no property "${p[0]}"; allowed: ${available.length ? available.join(', ') : '(none: it has no properties)'}; fix: use one of those names`);
    }
    if (!byHead.has(p[0])) byHead.set(p[0], []);
    byHead.get(p[0]).push(p.slice(1));
  }
  // Required properties stay whole: a binding without them cannot build a valid object.
  for (const r of obj.required ?? []) {
    if (Object.prototype.hasOwnProperty.call(props, r)) byHead.set(r, [[]]);
  }
  const keptProps = {};
  for (const name of Object.keys(props)) { // the CRD's order, not the arguments'
    if (byHead.has(name)) keptProps[name] = pruneNode(props[name], byHead.get(name), `${where}.${name}`);
  }
  const prunedObj = {};
  for (const [k, v] of Object.entries(obj)) {
    if (ANCESTOR_DROPPED.includes(k)) continue;
    prunedObj[k] = k === 'properties' ? keptProps : v;
  }
  if (obj === schema) return prunedObj;
  const prunedArray = {};
  for (const [k, v] of Object.entries(schema)) {
    if (ANCESTOR_DROPPED.includes(k)) continue;
    prunedArray[k] = k === 'items' ? prunedObj : v;
  }
  return prunedArray;
}

/** The pruned copy of one parsed CRD object (the input is not modified). */
export function pruneCrd(crd, paths) {
  if (!crd || crd.kind !== 'CustomResourceDefinition' || !Array.isArray(crd.spec?.versions)) {
    throw new InputError(`the input is not a CustomResourceDefinition (kind ${JSON.stringify(crd?.kind)}); allowed: a CRD file of apiextensions.k8s.io/v1 with spec.versions; fix: pass a CRD file`);
  }
  const segmentPaths = parsePaths(paths);
  const out = structuredClone(crd);
  for (const version of out.spec.versions) {
    const root = version.schema?.openAPIV3Schema;
    const spec = root?.properties?.spec;
    if (!spec) {
      throw new InputError(`version ${JSON.stringify(version.name)} of ${crd.metadata?.name} has no schema.openAPIV3Schema.properties.spec; allowed: a CRD whose versions carry a spec schema; fix: pass such a CRD`);
    }
    const properties = {};
    for (const name of Object.keys(root.properties)) {
      if (ROOT_KEPT.includes(name)) properties[name] = root.properties[name];
      if (name === 'spec') properties.spec = pruneNode(spec, segmentPaths, 'spec');
    }
    const prunedRoot = {};
    for (const [k, v] of Object.entries(root)) {
      if (ANCESTOR_DROPPED.includes(k)) continue;
      prunedRoot[k] = k === 'properties' ? properties : k === 'required' ? v.filter((r) => r in properties) : v;
    }
    version.schema.openAPIV3Schema = prunedRoot;
  }
  return out;
}

/** Read <input>, prune, and write <output> atomically (temporary file + rename). */
export function pruneCrdFile(input, output, paths) {
  let text;
  try {
    text = fs.readFileSync(input, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the CRD file "${input}" (${e.code ?? e.message}); fix: pass the path of a CRD YAML file`);
  }
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  const errors = docs.flatMap((d) => d.errors);
  if (errors.length) throw new InputError(`"${input}" is not valid YAML: ${errors[0].message}`);
  if (docs.length !== 1) throw new InputError(`"${input}" holds ${docs.length} YAML documents; allowed: exactly one CRD per file; fix: split the file`);
  const pruned = pruneCrd(docs[0].toJS(), paths);
  const header = [
    `# Generated by scripts/prune-crd.mjs from ${path.basename(input)}; do not edit.`,
    `# Kept (relative to spec): ${paths.join(' ')}`,
    '# For code generation only: validate objects against the full CRD.',
  ].join('\n');
  const body = stringify(pruned, { lineWidth: 0 });
  fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
  const tmp = path.join(path.dirname(path.resolve(output)), `.${path.basename(output)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, `${header}\n${body}`, { flag: 'wx' });
    fs.renameSync(tmp, output);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  return pruned;
}

function main(argv) {
  if (argv.length === 1 && (argv[0] === '-h' || argv[0] === '--help')) {
    console.log(USAGE);
    return 0;
  }
  if (argv.length < 3) {
    console.error(`prune-crd: expected an input file, an output file and at least one property path, got ${argv.length} argument(s)\n${USAGE}`);
    return 2;
  }
  const [input, output, ...paths] = argv;
  if (path.resolve(input) === path.resolve(output)) {
    console.error(`prune-crd: the output "${output}" is the input file; fix: write the pruned CRD to another path (the pinned file stays unchanged)`);
    return 2;
  }
  try {
    pruneCrdFile(input, output, paths);
  } catch (e) {
    if (e instanceof InputError) {
      console.error(`prune-crd: ${e.message}`);
      return 1;
    }
    throw e;
  }
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  process.exitCode = main(process.argv.slice(2));
}

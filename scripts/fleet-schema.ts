/**
 * Generates schemas/fleet.schema.json from the fleet file's model
 * (`FleetModel` in src/cli/fleet-doc.ts: the construct props with one
 * `clusters` list), so each field and its description are written once, on
 * the props.
 *
 * The props hold a few types that are not JSON (Duration, SecretsDelivery,
 * LeafTrust, ...). The file's form of each is given ONCE, by type, in the
 * conditional type `FileForm` of src/cli/fleet-doc.ts; this script reads that
 * table from the source (TypeScript compiler API) and swaps each such type's
 * definition in the generated schema for the schema of its file form (or
 * drops the members of a type mapped to `never`). So the schema and the
 * TypeScript type of a read file (`FleetDoc = FileForm<FleetModel>`) follow
 * the same table.
 *
 *   npx projen schema             writes the schema
 *   test/cli/fleet-schema.test.ts fails when the committed one differs
 */
import * as fs from 'fs';
import * as path from 'path';
// A build script: the generator is a devDependency (scripts/ is not in eslint's devdirs).
// eslint-disable-next-line import/no-extraneous-dependencies
import { Config, createGenerator } from 'ts-json-schema-generator';
// eslint-disable-next-line import/no-extraneous-dependencies
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..');
export const FLEET_SCHEMA_FILE = path.join(ROOT, 'schemas', 'fleet.schema.json');
export const FLEET_MODEL_FILE = path.join(ROOT, 'src', 'cli', 'fleet-doc.ts');

type Schema = { [key: string]: unknown };

/** One row of FileForm's table: a props type and its file form (undefined: `never`, absent from the file). */
export interface FileFormSwap {
  readonly propsType: string;
  readonly fileType: string | undefined;
}

/**
 * The rows of `FileForm<T>` in src/cli/fleet-doc.ts: each
 * `T extends X ? Y` with X a named type (not a primitive), read from the
 * source. `FileForm<Y>` around Y is the file form of a props-form spec.
 */
export function fileFormSwaps(file: string = FLEET_MODEL_FILE): FileFormSwap[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const alias = source.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'FileForm');
  if (!alias) throw new Error(`${file}: no type FileForm`);
  const rows: FileFormSwap[] = [];
  let node: ts.TypeNode = alias.type;
  while (ts.isConditionalTypeNode(node)) {
    if (ts.isTypeReferenceNode(node.extendsType) && !node.extendsType.typeArguments) {
      let to = node.trueType;
      if (ts.isTypeReferenceNode(to) && to.typeName.getText() === 'FileForm' && to.typeArguments?.length === 1) to = to.typeArguments[0];
      const fileType = to.kind === ts.SyntaxKind.NeverKeyword ? undefined : to.getText();
      if (fileType !== undefined && !ts.isTypeReferenceNode(to)) throw new Error(`${file}: FileForm maps ${node.extendsType.getText()} to ${fileType}: use a named type`);
      rows.push({ propsType: node.extendsType.typeName.getText(), fileType });
    }
    node = node.falseType;
  }
  return rows;
}

const generatorConfig = (type: string): Config => ({
  path: FLEET_MODEL_FILE,
  tsconfig: path.join(ROOT, 'tsconfig.dev.json'),
  type,
  skipTypeCheck: true,
  // `type` picks the delivery's branch: if/then, so an unknown type is one enum error.
  discriminatorType: 'json-schema',
  sortProps: true,
  // Methods of the props' classes are no file members (those classes are swapped anyway).
  functions: 'hide',
});

/** The fleet file's JSON Schema, as text (what schemas/fleet.schema.json must hold). */
export function generateFleetSchema(): string {
  const swaps = fileFormSwaps();
  const generator = createGenerator(generatorConfig('FleetModel'));
  const generated = generator.createSchema('FleetModel') as Schema;
  const definitions = generated.definitions as Record<string, Schema>;
  // The file forms, generated like the model (a form may itself hold swapped types, e.g. a Duration).
  for (const { fileType } of swaps) {
    if (fileType === undefined || definitions[fileType]) continue;
    const form = generator.createSchema(fileType) as Schema;
    Object.assign(definitions, form.definitions as Record<string, Schema>);
  }
  const refTo = (name: string) => `#/definitions/${encodeURIComponent(name)}`;
  const dropped = new Set<string>();
  for (const { propsType, fileType } of swaps) {
    if (!definitions[propsType]) continue;
    if (fileType === undefined) {
      dropped.add(refTo(propsType));
    } else {
      // Every $ref to the props type now reads the file form.
      definitions[propsType] = { $ref: refTo(fileType) };
    }
  }
  const withoutDropped = dropMembers(generated, dropped) as Schema;
  for (const ref of dropped) delete (withoutDropped.definitions as Record<string, Schema>)[decodeURIComponent(ref.slice('#/definitions/'.length))];
  const inlined = inlineAliases(withoutDropped);
  const { FleetModel: root, ...rest } = inlined.definitions as Record<string, Schema>;
  const schema: Schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/cdk8s-dsx-event-bus/cdk8s-dsx-event-bus/schemas/fleet.schema.json',
    title: 'DSX Event Bus fleet description',
    ...root,
    definitions: unreferencedRemoved(rest, root),
  };
  return JSON.stringify(withDefaultsInDescriptions(schema), null, 2) + '\n';
}

/** Removes the properties whose schema is a $ref in `refs` (members of a type the file cannot hold). */
function dropMembers(node: unknown, refs: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => dropMembers(n, refs));
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (k === 'properties' && v && typeof v === 'object') {
      const props = Object.entries(v as Schema).filter(([, p]) => !refs.has((p as Schema).$ref as string));
      out.properties = Object.fromEntries(props.map(([name, p]) => [name, dropMembers(p, refs)]));
    } else {
      out[k] = dropMembers(v, refs);
    }
  }
  if (Array.isArray(out.required) && out.properties) out.required = (out.required as string[]).filter((r) => r in (out.properties as Schema));
  return out;
}

/**
 * A definition that is only `{ $ref }` (a swapped props type) is replaced by
 * its target where referenced, keeping the referring property's description.
 */
function inlineAliases(schema: Schema): Schema {
  const defs = schema.definitions as Record<string, Schema>;
  const target = (ref: string): string => {
    const name = decodeURIComponent(ref.slice('#/definitions/'.length));
    const def = defs[name];
    return def && Object.keys(def).length === 1 && typeof def.$ref === 'string' ? target(def.$ref) : ref;
  };
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (!node || typeof node !== 'object') return node;
    const out = Object.fromEntries(Object.entries(node as Schema).map(([k, v]) => [k, walk(v)])) as Schema;
    if (typeof out.$ref === 'string') out.$ref = target(out.$ref);
    return out;
  };
  return walk(schema) as Schema;
}

/** Keeps the definitions reachable from the root. */
function unreferencedRemoved(defs: Record<string, Schema>, root: Schema): Record<string, Schema> {
  const keep = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node as Schema)) {
      if (k === '$ref' && typeof v === 'string') {
        const name = decodeURIComponent(v.slice('#/definitions/'.length));
        if (!keep.has(name)) {
          keep.add(name);
          visit(defs[name]);
        }
      } else {
        visit(v);
      }
    }
  };
  visit(root);
  return Object.fromEntries(Object.entries(defs).filter(([name]) => keep.has(name)).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * jsii's `@default` is prose ("- the chart's namespace"), not a value the
 * file could hold: it goes into the description, never into `default`; and
 * `{@link X}` becomes `X`.
 */
function withDefaultsInDescriptions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withDefaultsInDescriptions);
  if (!node || typeof node !== 'object') return node;
  const { default: dflt, ...rest } = node as Schema;
  const out: Schema = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, withDefaultsInDescriptions(v)]));
  // TSDoc links read as the plain name in an editor's hover text.
  if (typeof out.description === 'string') out.description = out.description.replace(/\s*\{@link\s+([^}\s]+)\s*\}\s*/g, ' $1 ').replace(/ {2,}/g, ' ').trim();
  if (dflt !== undefined && typeof out.description === 'string') {
    const text = typeof dflt === 'string' ? dflt.replace(/^- /, '').replace(/\s*\n\s*/g, ' ') : JSON.stringify(dflt);
    out.description = `${out.description} Default: ${text}.`.replace(/\.\.$/, '.');
  }
  return out;
}

if (require.main === module) {
  fs.writeFileSync(FLEET_SCHEMA_FILE, generateFleetSchema());
  console.log(`wrote ${path.relative(process.cwd(), FLEET_SCHEMA_FILE)}`);
}

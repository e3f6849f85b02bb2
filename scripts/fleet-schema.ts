/**
 * Generates schemas/fleet.schema.json from the fleet file's TypeScript type
 * (`FleetDoc` in src/cli/fleet-doc.ts, derived from the construct props), so
 * each field and its description are written once, on the props.
 *
 *   npx projen schema          writes the schema
 *   test/cli/fleet-schema.test.ts fails when the committed one differs
 */
import * as fs from 'fs';
import * as path from 'path';
// A build script: the generator is a devDependency (scripts/ is not in eslint's devdirs).
// eslint-disable-next-line import/no-extraneous-dependencies
import { createGenerator } from 'ts-json-schema-generator';

const ROOT = path.join(__dirname, '..');
export const FLEET_SCHEMA_FILE = path.join(ROOT, 'schemas', 'fleet.schema.json');

type Schema = { [key: string]: unknown };

/** The fleet file's JSON Schema, as text (what schemas/fleet.schema.json must hold). */
export function generateFleetSchema(): string {
  const generated = createGenerator({
    path: path.join(ROOT, 'src', 'cli', 'fleet-doc.ts'),
    tsconfig: path.join(ROOT, 'tsconfig.dev.json'),
    type: 'FleetDoc',
    skipTypeCheck: true,
    // `type` picks the delivery's branch: if/then, so an unknown type is one enum error.
    discriminatorType: 'json-schema',
    sortProps: true,
  }).createSchema('FleetDoc') as Schema;
  const definitions = generated.definitions as Record<string, Schema>;
  const { FleetDoc: root, ...rest } = definitions;
  const schema: Schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://github.com/cdk8s-dsx-event-bus/cdk8s-dsx-event-bus/schemas/fleet.schema.json',
    title: 'DSX Event Bus fleet description',
    ...root,
    definitions: rest,
  };
  return JSON.stringify(withDefaultsInDescriptions(schema), null, 2) + '\n';
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

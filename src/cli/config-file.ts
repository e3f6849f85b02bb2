import * as fs from 'fs';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import * as YAML from 'yaml';
import { EventBusError, formatProblem, problem } from '../errors';

/**
 * Reads a YAML or JSON file (JSON is YAML) and validates it against a JSON
 * Schema with ajv. Every error names the file, the line and column, and the
 * path inside the document (`/cpcs/1/id`), so an operator can fix a fleet
 * file without reading TypeScript.
 */
export function loadValidatedYaml<T>(file: string, schema: object): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw problem({ where: file, problem: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fix: 'check the path given with -c/--config' });
  }
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw problem({ where: at(e.pos[0]), problem: `not valid YAML/JSON: ${e.message.split('\n')[0]}`, fix: 'correct the syntax at that position' });
  }
  const data = doc.toJS({ maxAliasCount: 100 });
  const validate = validatorOf(schema);
  if (!validate(data)) {
    const errors = (validate.errors ?? []).filter(isUseful);
    const lines = errors.map((err) => {
      const pathArr = err.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
      const target = err.keyword === 'additionalProperties' ? [...pathArr, (err.params as { additionalProperty: string }).additionalProperty] : pathArr;
      const node = (target.length ? doc.getIn(target, true) : doc.contents) as YAML.Node | undefined;
      const pair = err.keyword === 'additionalProperties' ? findKeyNode(doc, pathArr, target[target.length - 1] as string) : undefined;
      return `${at((pair ?? node)?.range?.[0])}: ${describe(err)}`;
    });
    // The fix on the first line, one line per problem below it.
    throw new EventBusError(formatProblem({
      where: file,
      problem: `${lines.length} problem${lines.length === 1 ? '' : 's'} in the fleet description`,
      fix: 'correct the values listed below (the JSON Schema is schemas/fleet.schema.json)',
    }) + `\n  ${lines.join('\n  ')}`);
  }
  return data as T;
}

const validators = new WeakMap<object, ValidateFunction>();

/** Compiles a schema once per process (compiling takes longer than validating a fleet file). */
function validatorOf(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    // strict: a typo in the schema itself is an error; `required` inside if/then names properties defined above.
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  return validate;
}

/** The key node of `key` inside the map at `path` (for "unknown field" errors). */
function findKeyNode(doc: YAML.Document, path: Array<string | number>, key: string): YAML.Node | undefined {
  const map = (path.length ? doc.getIn(path, true) : doc.contents) as unknown;
  if (YAML.isMap(map)) {
    const pair = map.items.find((p) => YAML.isScalar(p.key) && p.key.value === key);
    return pair?.key as YAML.Node | undefined;
  }
  return undefined;
}

// `if/then` and `anyOf` wrappers repeat the real error; keep the leaves.
function isUseful(err: ErrorObject): boolean {
  return err.keyword !== 'if' && err.keyword !== 'anyOf' && err.keyword !== 'oneOf';
}

function describe(err: ErrorObject): string {
  const where = err.instancePath || '(top level)';
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties':
      return `${where}: unknown field ${JSON.stringify(p.additionalProperty)}`;
    case 'required':
      return `${where}: missing required field ${JSON.stringify(p.missingProperty)}`;
    case 'enum':
      return `${where}: must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `${where}: does not match ${p.pattern}`;
    default:
      return `${where}: ${err.message}`;
  }
}

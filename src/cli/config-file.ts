import * as fs from 'fs';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import * as YAML from 'yaml';
import { EventBusError, formatProblem, problem, quote } from '../errors';
import { describeType } from '../files/safe-fs';

/**
 * Reads a YAML or JSON file (JSON is YAML) and validates it against a JSON
 * Schema with ajv. Every error names the file, the line and column, and the
 * path inside the document (`/cpcs/1/id`), so an operator can fix a fleet
 * file without reading TypeScript.
 */
export function loadValidatedYaml<T>(file: string, schema: object): T {
  const text = readCapped(file);
  checkShape(text, file);
  const lineCounter = new YAML.LineCounter();
  // uniqueKeys off: the yaml package compares each key with every earlier key
  // of its map (quadratic: 24 s for 512 KB of keys); duplicateKey() below is linear.
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw problem({ where: at(e.pos[0]), problem: `not valid YAML/JSON: ${e.message.split('\n')[0]}`, fix: 'correct the syntax at that position' });
  }
  const dup = duplicateKey(doc);
  if (dup) {
    throw problem({ where: at(dup.range?.[0]), problem: `the key ${quote(String(dup.value))} appears twice in the same mapping`, fix: 'keep one of them (YAML keeps neither reliably)' });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // yaml throws a ReferenceError for an alias bomb ("Excessive alias count ...").
    if (!/alias/i.test((e as Error).message)) throw e;
    throw problem({
      where: file,
      problem: `the YAML aliases (*name) expand to too many nodes (${(e as Error).message.split('\n')[0]})`,
      allowed: `aliases that expand to at most ${MAX_ALIAS_COUNT} times the size of what they point to`,
      fix: 'write the values out instead of nesting aliases of aliases',
    });
  }
  const validate = validatorOf(schema);
  if (!validate(data)) {
    const errors = (validate.errors ?? []).filter(isUseful);
    const lines = errors.map((err) => {
      const pathArr = err.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
      const target = err.keyword === 'additionalProperties' ? [...pathArr, (err.params as { additionalProperty: string }).additionalProperty] : pathArr;
      const node = (target.length ? doc.getIn(target, true) : doc.contents) as YAML.Node | undefined;
      const pair = err.keyword === 'additionalProperties' ? findKeyNode(doc, pathArr, target[target.length - 1] as string) : undefined;
      return `${at((pair ?? node)?.range?.[0])}: ${unquoted(err, node, text) ?? describe(err)}`;
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

/**
 * Nesting and size limits checked on the token stream before any document is
 * built: the yaml package's document of a 4 MiB file of nested `[[…]]` took
 * 2.3 GB and 16 s, and 200k keys 1.46 GB and 36 s, before anything could
 * refuse them.  A fleet file of a thousand CPCs, each with hostnames and two labels, has depth 4 and about 16k nodes.
 */
export const MAX_FLEET_DEPTH = 64;
export const MAX_FLEET_NODES = 100_000;

/**
 * Counts nodes (scalars, flow collections and block sequence items) and
 * nesting depth (flow brackets, and block levels by indentation and compact
 * `- ` / `? ` indicators) with the yaml Lexer, which streams tokens without
 * building anything; refuses past the limits. Linear in the text.
 */
function checkShape(text: string, file: string): void {
  let nodes = 0;
  let flow = 0;
  // Columns of the open block levels.
  const block: number[] = [];
  let col = 0;
  let lineStart = true;
  let lineContent = false;
  const open = (at: number) => {
    while (block.length && block[block.length - 1] >= at) block.pop();
    block.push(at);
  };
  const refuse = (what: string, allowed: string): never => {
    throw problem({ where: file, problem: what, allowed, fix: 'check that -c/--config names the fleet description; write deeply nested or very long lists out in a flatter form' });
  };
  for (const token of new YAML.Lexer().lex(text)) {
    const c = token.charCodeAt(0);
    if (token === '\n' || token === '\r\n') {
      col = 0;
      lineStart = true;
      lineContent = false;
      continue;
    }
    if (lineStart && c === 32 /* indentation */) {
      col = token.length;
      lineStart = false;
      continue;
    }
    lineStart = false;
    if (token === '[' || token === '{') {
      nodes++;
      flow++;
    } else if (token === ']' || token === '}') {
      flow = Math.max(0, flow - 1);
    } else if (c === 0x1f || c === 34 || c === 39) {
      nodes++; // a scalar (plain, block or quoted)
      if (flow === 0 && !lineContent) open(col);
      lineContent = true;
    } else if (flow === 0 && (token === '-' || token === '?')) {
      nodes++;
      open(col);
      lineContent = true;
    }
    if (c !== 0x1f) col += token.length;
    if (nodes > MAX_FLEET_NODES) refuse(`the fleet file has more than ${MAX_FLEET_NODES} YAML nodes`, `at most ${MAX_FLEET_NODES} nodes (a fleet file of a thousand CPCs, each with hostnames and two labels, has about 16,000)`);
    if (flow + block.length > MAX_FLEET_DEPTH) refuse(`the fleet file nests deeper than ${MAX_FLEET_DEPTH} levels`, `at most ${MAX_FLEET_DEPTH} levels of nesting (a fleet file needs about 8)`);
  }
}

/** Fleet files are a few KB; anything past this is a mistake (or an attack on the parser). */
export const MAX_FLEET_FILE_BYTES = 4 * 1024 * 1024;
const MAX_ALIAS_COUNT = 100;

/** Reads at most {@link MAX_FLEET_FILE_BYTES} + 1 bytes, so a huge file or an endless pipe is refused without reading it all. */
function readCapped(file: string): string {
  // The read discipline of src/files/safe-fs.ts: the named path may be the
  // user's symlink, but it must lead to a regular file, opened non-blocking
  // (a FIFO or device is refused at once instead of hanging the run).
  let fd: number;
  try {
    const st = fs.statSync(file);
    if (st.isDirectory()) throw problem({ where: file, problem: 'is a directory, not a fleet file', fix: 'pass the YAML or JSON file with -c/--config' });
    if (!st.isFile()) throw problem({ where: file, problem: `is ${describeType(st)}, not a regular file`, fix: 'pass the YAML or JSON file with -c/--config (save piped output to a file first)' });
    fd = fs.openSync(file, fs.constants.O_RDONLY + (fs.constants.O_NONBLOCK ?? 0)); // disjoint flag bits
  } catch (e) {
    if (e instanceof EventBusError) throw e;
    throw problem({ where: file, problem: `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, fix: 'check the path given with -c/--config' });
  }
  try {
    const now = fs.fstatSync(fd);
    if (!now.isFile()) {
      throw problem({ where: file, problem: `is ${describeType(now)}, not a regular file`, fix: 'pass the YAML or JSON file with -c/--config' });
    }
    const buffer = Buffer.alloc(MAX_FLEET_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_FLEET_FILE_BYTES) {
        throw problem({
          where: file,
          problem: `the fleet file is larger than ${MAX_FLEET_FILE_BYTES / 1024 / 1024} MiB`,
          allowed: `at most ${MAX_FLEET_FILE_BYTES} bytes (a fleet of a thousand CPCs takes well under 1 MiB)`,
          fix: 'check that -c/--config names the fleet description, not another file',
        });
      }
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/** The first key that repeats within one mapping, in one pass over the document (a Set per mapping). */
function duplicateKey(doc: YAML.Document): YAML.Scalar | undefined {
  let found: YAML.Scalar | undefined;
  YAML.visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const k = YAML.isScalar(pair.key) ? pair.key : undefined;
        if (!k) continue;
        const id = String(k.value);
        if (seen.has(id)) {
          found = k;
          return YAML.visit.BREAK;
        }
        seen.add(id);
      }
      return undefined;
    },
  });
  return found;
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

/**
 * A number, boolean or null where the schema wants a string: YAML changed the
 * text (`010` -> 10, `0x1A` -> 26, `1e3` -> 1000, 20 digits lose precision), so
 * say what was read and to quote it.
 */
function unquoted(err: ErrorObject, node: YAML.Node | undefined, text: string): string | undefined {
  const wanted = (err.params as { type?: string | string[] }).type;
  if (err.keyword !== 'type' || !(wanted === 'string' || (Array.isArray(wanted) && wanted.includes('string')))) return undefined;
  if (!YAML.isScalar(node) || typeof node.value === 'string' || !node.range) return undefined;
  const source = text.slice(node.range[0], node.range[1]);
  const kind = node.value === null ? 'null' : typeof node.value;
  return `${err.instancePath}: ${source} is a YAML ${kind}${kind === 'number' ? ` (read as ${String(node.value)})` : ''}, not a string. Fix: put it in quotes: ${JSON.stringify(source)}`;
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

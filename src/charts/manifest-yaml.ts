/**
 * YAML of one manifest, byte-identical to cdk8s's `Yaml.stringify(obj)` (the
 * `yaml` library with `lineWidth: 0` and the YAML 1.1 schema) but written
 * directly for what manifests hold: maps, lists, integers, booleans and
 * one-line strings. Anything else (null, fractions, multi-line strings, a
 * list in a list) is left to `Yaml.stringify` for the whole document, so the
 * output never differs; test/charts/manifest-yaml.test.ts compares the two.
 * Building the library's document model was most of synth's time for a
 * large fleet.
 */
import { Yaml } from 'cdk8s';

/** Thrown inside the fast path: this document goes to the library. */
class NotSimple extends Error {}

/** Starts with a letter, and only characters that never need quoting. */
const PLAIN = /^[A-Za-z/][A-Za-z0-9+/._=:-]*(?: [A-Za-z0-9+/._=:-]+)*$/;
/**
 * Letter-led strings the YAML 1.1 schema resolves to something else: booleans,
 * null, and floats such as `e5` (yaml/dist/schema/yaml-1.1); in any case.
 */
const WORDS = /^(?:y|n|yes|no|true|false|on|off|null|e[-+]?[0-9]+)$/i;
const scalars = new Map<string, string>();

function scalar(s: string): string {
  if (PLAIN.test(s) && !WORDS.test(s) && !/:(?: |$)/.test(s)) return s;
  let text = scalars.get(s);
  if (text === undefined) {
    // Digits, signs, quotes, …: the library decides (once per distinct string).
    text = Yaml.stringify(s).slice(0, -1);
    if (text.includes('\n')) throw new NotSimple();
    if (scalars.size > 100_000) scalars.clear();
    scalars.set(s, text);
  }
  return text;
}

function value(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string': return scalar(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(v) || Object.is(v, -0)) throw new NotSimple();
      return String(v);
    case 'object':
      if (v === null) throw new NotSimple();
      if (Array.isArray(v)) return v.length ? undefined : '[]';
      return Object.keys(v).length ? undefined : '{}';
    default: throw new NotSimple();
  }
}

function map(obj: Record<string, unknown>, indent: string, out: string[]): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = `${indent}${scalar(k)}:`;
    const text = value(v);
    if (text !== undefined) {out.push(`${key} ${text}`);} else {
      out.push(key);
      if (Array.isArray(v)) list(v, indent + '  ', out);
      else map(v as Record<string, unknown>, indent + '  ', out);
    }
  }
}

function list(items: unknown[], indent: string, out: string[]): void {
  for (const item of items) {
    const text = value(item);
    if (text !== undefined) {
      out.push(`${indent}- ${text}`);
    } else if (Array.isArray(item)) {
      throw new NotSimple();
    } else {
      const first = out.length;
      map(item as Record<string, unknown>, indent + '  ', out);
      out[first] = `${indent}- ${out[first].slice(indent.length + 2)}`;
    }
  }
}

/** `Yaml.stringify(obj)` of one manifest (a map), faster. */
export function manifestYaml(obj: Record<string, unknown>): string {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || Object.keys(obj).length === 0) return Yaml.stringify(obj);
  try {
    const out: string[] = [];
    map(obj, '', out);
    return out.join('\n') + '\n';
  } catch (e) {
    if (e instanceof NotSimple) return Yaml.stringify(obj);
    throw e;
  }
}

/**
 * Digests of what a cluster's files are rendered from, so that synth can
 * leave a cluster whose inputs did not change unrendered (see
 * EventBusAppProps.renderOnlyChanged). Internal to the package.
 *
 * A digest may cover key material (a CA's private key in the props, a seed
 * file's hash): only its sha256 is ever kept, and such material is 256
 * random bits or more, which a digest does not reveal.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Construct } from 'constructs';

/** Thrown by {@link canonical} for a value whose content it cannot see (a function, a construct, a cycle). */
class NotCanonical extends Error {}

/**
 * A canonical text of plain data and of the library's value classes (each by
 * its class name and its own fields, sorted), or undefined when the value
 * holds something whose effect on the output a text cannot capture: a
 * function (a closure's state is invisible), a construct, a cycle, an object
 * of a kind not listed here.
 */
export function canonical(value: unknown): string | undefined {
  const parts: string[] = [];
  const stack = new Set<object>();
  const walk = (v: unknown): void => {
    if (v === undefined) return void parts.push('u');
    if (v === null) return void parts.push('n');
    switch (typeof v) {
      case 'string': return void parts.push(`s${JSON.stringify(v)}`);
      case 'number': return void parts.push(`d${Object.is(v, -0) ? '-0' : String(v)}`);
      case 'boolean': return void parts.push(v ? 't' : 'f');
      case 'bigint': return void parts.push(`b${v}`);
      case 'object': break;
      default: throw new NotCanonical(typeof v);
    }
    const o = v as object;
    // An imported reference (ServerCertificate.fromSecretName, ...) is a construct whose whole state is its names.
    const reference = (o as { _referenceData?: () => Record<string, string | undefined> })._referenceData;
    if (typeof reference === 'function' && Construct.isConstruct(o)) {
      parts.push(`R${o.constructor.name}`);
      return walk(reference.call(o));
    }
    if (stack.has(o) || Construct.isConstruct(o)) throw new NotCanonical('cycle or construct');
    stack.add(o);
    if (Buffer.isBuffer(o)) {
      parts.push(`B${o.toString('hex')}`);
    } else if (Array.isArray(o)) {
      parts.push('[');
      for (const x of o) walk(x);
      parts.push(']');
    } else {
      const proto = Object.getPrototypeOf(o);
      // Plain data, or an instance of a class of ours: its fields are its whole state.
      if (proto !== Object.prototype && proto !== null && !OWN_CLASSES.has(proto)) throw new NotCanonical('foreign object');
      parts.push(`{${proto === Object.prototype || proto === null ? '' : proto.constructor.name}`);
      for (const k of Object.keys(o).sort()) {
        parts.push(`k${JSON.stringify(k)}`);
        walk((o as Record<string, unknown>)[k]);
      }
      parts.push('}');
    }
    stack.delete(o);
  };
  try {
    walk(value);
  } catch (e) {
    if (e instanceof NotCanonical) return undefined;
    throw e;
  }
  return parts.join(' ');
}

/**
 * The prototypes of the library's value classes whose own fields are their
 * whole state (no closures, no lazily read files): registered by the module
 * that defines them.
 */
const OWN_CLASSES = new Set<object>();

/** Registers value classes for {@link canonical}: only classes whose instances hold plain data. */
export function canonicalClasses(...classes: Array<{ prototype: object }>): void {
  for (const c of classes) OWN_CLASSES.add(c.prototype);
}

let library: string | undefined;

/**
 * A digest of this library's own code (every `.js`/`.ts` file of the folder
 * it is loaded from, i.e. `lib/` or `src/`): the package's version alone
 * would not tell two builds of one version apart.
 */
export function libraryDigest(): string {
  if (library) return library;
  const root = path.join(__dirname, '..');
  const h = crypto.createHash('sha256');
  const walk = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else if (e.isFile() && /\.(js|ts|json)$/.test(e.name) && !e.name.endsWith('.d.ts')) h.update(`${r}\0`).update(fs.readFileSync(path.join(dir, e.name))).update('\0');
    }
  };
  walk(root, '');
  return (library = h.digest('hex'));
}

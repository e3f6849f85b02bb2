/**
 * What the npm package may hold: the `files` allowlist of package.json, the
 * files npm always adds (package.json, README, LICENSE), and the runtime
 * dependencies we bundle (package-lock.json's `inBundle` packages below one of
 * ours). Used by test/package.test.ts on `npm pack`'s listing.
 */
import * as fs from 'fs';
import * as path from 'path';

/** npm adds these whatever `files` says. */
const ALWAYS = [/^package\.json$/, /^README(\.[^/]*)?$/i, /^LICEN[CS]E(\.[^/]*)?$/i];

/** A `files` glob as a regular expression: `**` any folders (or none), `*` within one path segment. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  // A plain name in `files` (no wildcard) may be a folder: npm includes everything below it.
  return new RegExp(`^${re}${/[*?]/.test(glob) ? '' : '(?:/.*)?'}$`);
}

export interface PackageRules {
  /** package.json `files`. */
  readonly files: string[];
  /** node_modules/… package folders that npm bundles (package-lock.json `inBundle`, below a bundled package). */
  readonly bundled: string[];
}

/** The rules of the repository at `root`: its package.json and package-lock.json. */
export function packageRules(root: string): PackageRules {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const inBundle = new Set(Object.entries(lock.packages as Record<string, { inBundle?: boolean }>).filter(([, v]) => v.inBundle).map(([k]) => k));
  // A package is ours to bundle when it and every package folder above it are in the bundle
  // (node_modules/cdk8s/node_modules/yaml is cdk8s's bundle, not ours).
  const ancestors = (p: string) => {
    const parts = p.split('/node_modules/');
    return parts.map((_, i) => parts.slice(0, i + 1).join('/node_modules/'));
  };
  const bundled = [...inBundle].filter((p) => ancestors(p).every((a) => inBundle.has(a)));
  return { files: pkg.files ?? [], bundled };
}

/** Packed paths that no rule allows (an empty list means the listing is clean). */
export function pathsOutsideAllowlist(paths: string[], rules: PackageRules): string[] {
  const globs = rules.files.map(globToRegExp);
  const bundled = new Set(rules.bundled);
  const inBundle = (p: string) => {
    // The deepest node_modules package folder holding the file.
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(p);
    return m !== null && bundled.has(m[1]);
  };
  return paths.filter((p) => !(ALWAYS.some((r) => r.test(p)) || (!p.startsWith('node_modules/') && globs.some((r) => r.test(p))) || inBundle(p)));
}

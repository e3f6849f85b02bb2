/**
 * The Secret catalogue (src/keys/catalogue.ts) decides each per-cluster
 * Secret once: its name, its key-store files, its copies and the keys of its
 * Kubernetes Secret. The key-store layout and the Kubernetes Secrets are
 * views of it, and no other module of src/ writes one of its names or copy
 * files as a literal.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import {
  AUTH_CALLOUT_KEYS, LEAF_SIDE_FILE, MTLS_SERVER_TLS, SECRET_CATALOGUE, TLS_KEYS,
} from '../../src/keys/catalogue';
import { BASE_SECRETS, describeKeyFile } from '../../src/keys/layout';
import { RotatableClusterKey } from '../../src/keys/rotation';
import { CLUSTER_SECRETS, leafSecretDef } from '../../src/secrets/inventory';

const SRC = path.join(__dirname, '..', '..', 'src');
const CATALOGUE_FILE = path.join(SRC, 'keys', 'catalogue.ts');
const ROTATION_FILE = path.join(SRC, 'keys', 'rotation.ts');

const NAMES = SECRET_CATALOGUE.map((e) => e.name);
/** Files that exist only as copies: their names are decisions of the catalogue too. */
const COPY_FILES = SECRET_CATALOGUE.flatMap((e) => e.files.filter((f) => f.copyOf).map((f) => f.key));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return d.name === 'imports' ? [] : sourceFiles(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

interface Literal { file: string; line: number; text: string; inRotatableEnum: boolean }

/** Every string literal of `file` (comments are not literals), and whether it initializes a RotatableClusterKey member. */
function literals(file: string): Literal[] {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: Literal[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      const parent = node.parent;
      const inRotatableEnum = ts.isEnumMember(parent) && ts.isEnumDeclaration(parent.parent)
        && parent.parent.name.text === 'RotatableClusterKey';
      const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      out.push({ file: path.relative(SRC, file), line, text: node.text, inRotatableEnum });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Property assignments named `copyOf` in `file`. */
function copyOfAssignments(file: string): number {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  let n = 0;
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAssignment(node) && node.name.getText(sf) === 'copyOf') n++;
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return n;
}

describe('the Secret catalogue', () => {
  test('names each Secret once, in one entry', () => {
    expect(new Set(NAMES).size).toBe(NAMES.length);
    expect(NAMES).toEqual([
      'nats-auth-signing', 'nats-xkey', 'nats-authx-user', 'nats-nack-user', 'nats-mtls-leaf',
      'nats-mtls-authx-leaf', 'nats-mtls-sys-leaf', 'nats-surveyor', 'auth-callout-keys', 'nats-mtls-server-tls',
    ]);
  });

  test('each entry is whole: copies point at a pair of the catalogue, Secret keys are store files, table positions are 1..n', () => {
    for (const e of SECRET_CATALOGUE) {
      if (e.origin === 'tls') {
        expect(e.files).toEqual([]);
        continue;
      }
      const files = e.files.map((f) => f.key);
      expect(new Set(files).size).toBe(files.length);
      for (const k of e.secretKeys) expect(files).toContain(k);
      for (const f of e.files.filter((x) => x.copyOf)) {
        expect(f.form).toBe('seed');
        const source = SECRET_CATALOGUE.find((s) => s.name === f.copyOf)!;
        expect(source.files.map((x) => x.key)).toEqual(expect.arrayContaining(['seed', 'pubkey']));
        expect(source.kind).toBeDefined();
      }
      // A Secret with a pair of its own names its kind; one of copies only takes its sources'.
      expect(e.kind === undefined).toBe(!files.includes('seed'));
    }
    expect(SECRET_CATALOGUE.map((e) => e.tableOrder).sort((a, b) => a - b)).toEqual(SECRET_CATALOGUE.map((_, i) => i + 1));
  });

  test('the key-store view is the store entries in catalogue order', () => {
    expect(BASE_SECRETS.map((s) => s.secretName)).toEqual(SECRET_CATALOGUE.filter((e) => e.origin === 'store').map((e) => e.name));
    for (const s of BASE_SECRETS) expect(s.files).toBe(SECRET_CATALOGUE.find((e) => e.name === s.secretName)!.files);
    // Copies resolve through the catalogue's copyOf.
    expect(describeKeyFile('csc', AUTH_CALLOUT_KEYS, 'issuer-seed').origin).toBe('csc/nats-auth-signing');
  });

  test('the Kubernetes view is every entry in Required Secrets order, with the keys the chart reads', () => {
    expect(CLUSTER_SECRETS.map((s) => `${s.name}: ${s.keys.join(', ')}${s.mtlsOnly ? ' (mTLS)' : ''}`)).toEqual([
      'nats-auth-signing: pubkey',
      'nats-xkey: pubkey',
      'nats-authx-user: pubkey',
      'auth-callout-keys: nkey-seed, issuer-seed, xkey-seed',
      'nats-nack-user: nack-user.nk, pubkey',
      'nats-surveyor: seed, pubkey',
      'nats-mtls-leaf: seed, pubkey (mTLS)',
      'nats-mtls-authx-leaf: seed, pubkey (mTLS)',
      'nats-mtls-sys-leaf: seed, pubkey (mTLS)',
      'nats-mtls-server-tls: ca.crt, tls.crt, tls.key (mTLS)',
    ]);
    expect(CLUSTER_SECRETS.find((s) => s.name === MTLS_SERVER_TLS)!.keys).toBe(TLS_KEYS);
    // Leaf Secrets: the one file each side holds is the catalogue's too, and the layout agrees.
    expect(leafSecretDef('csc', '1').keys).toEqual([LEAF_SIDE_FILE.csc]);
    expect(leafSecretDef('cpc', '1').keys).toEqual([LEAF_SIDE_FILE.cpc]);
    expect(describeKeyFile('csc', 'nats-leaf-cpc-1', LEAF_SIDE_FILE.csc).form).toBe('pubkey');
    expect(describeKeyFile('cpc-1', 'nats-leaf-csc', LEAF_SIDE_FILE.cpc).form).toBe('seed');
  });

  test('no other module of src/ writes a catalogue name or copy file as a literal, nor a copyOf', () => {
    const decided = new Set([...NAMES, ...COPY_FILES]);
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const elsewhere = files
      .filter((f) => f !== CATALOGUE_FILE)
      .flatMap(literals)
      .filter((l) => decided.has(l.text) && !(l.inRotatableEnum && l.file === path.relative(SRC, ROTATION_FILE)))
      .map((l) => `${l.file}:${l.line} ${l.text}`);
    expect(elsewhere).toEqual([]);
    // In the catalogue itself, each is written exactly once.
    const own = literals(CATALOGUE_FILE).filter((l) => decided.has(l.text)).map((l) => l.text).sort();
    expect(own).toEqual([...decided].sort());
    expect(files.filter((f) => f !== CATALOGUE_FILE && copyOfAssignments(f) > 0).map((f) => path.relative(SRC, f))).toEqual([]);
  });

  test('the rotatable keys (an enum, whose values jsii wants as literals) are catalogue Secrets with a pair', () => {
    for (const key of Object.values(RotatableClusterKey)) {
      if (key === RotatableClusterKey.AUTH_CALLOUT_ISSUER) continue;
      const entry = SECRET_CATALOGUE.find((e) => e.name === key);
      expect(entry?.files.map((f) => f.key)).toEqual(expect.arrayContaining(['seed', 'pubkey']));
    }
  });
});

/**
 * Counts, for every field of the fleet file, the places in the TypeScript
 * sources where it is declared (a property signature of an interface, a type
 * literal or a class), by reading the declarations with the TypeScript
 * compiler API from the fleet file's type (`FleetDoc` of src/cli/fleet-doc.ts)
 * down:
 *
 * - an interface gives its members and those of the interfaces it extends;
 *   a type alias its body; an intersection or union the members of all parts
 *   (one declaration reached twice counts once);
 * - `Partial`, `Required`, `Readonly` and `FileForm` of X give X's members;
 *   `Pick<X, K>` the members K of X;
 * - `Omit<X, K>` gives X's members but K; a member of K that the same object
 *   declares again elsewhere (a file field re-declared beside the props it
 *   omits) counts both declarations: that is the duplication this counts;
 * - a member whose type FileForm's table swaps (read from its source, the
 *   table the schema generator uses) continues in the file form's type; one
 *   swapped to `never` is no field.
 *
 * The field paths are the schema's (`clusters[].gateway.hostnames`, `[]` for
 * an array's items, `*` for a map's values).
 */
import * as path from 'path';
import * as ts from 'typescript';
import { fileFormSwaps } from '../../scripts/fleet-schema';

const ROOT = path.join(__dirname, '..', '..');

interface Scope { readonly bindings: Map<ts.Declaration, Typed> }
interface Typed { readonly node: ts.TypeNode; readonly scope: Scope; readonly fileForm: boolean }
interface Member { readonly decls: Set<ts.Node>; readonly omitted: Set<ts.Node>; readonly types: Typed[] }
type Members = Map<string, Member>;

const UTILITIES = new Set(['Partial', 'Required', 'Readonly', 'NonNullable']);

/** The name of a type reference (FileForm's table makes references that have no source text). */
const refName = (n: ts.TypeReferenceNode): string => (n.pos >= 0 ? n.typeName.getText() : (n.typeName as ts.Identifier).text);

/** path -> the declarations of that field (file:line). */
export function fleetFieldDeclarations(modelFile = path.join(ROOT, 'src', 'cli', 'fleet-doc.ts'), rootType = 'FleetDoc'): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.dev.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const program = ts.createProgram([modelFile], { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(modelFile)!;
  let swaps: Map<string, string | undefined>;
  try {
    swaps = new Map(fileFormSwaps(modelFile).map((s) => [s.propsType, s.fileType]));
  } catch {
    swaps = new Map(); // a model without FileForm: no swaps
  }
  const fileTypes = new Map<string, ts.TypeNode>();
  const declOf = (name: ts.EntityName): ts.Declaration | undefined => {
    let sym = checker.getSymbolAtLocation(name);
    // eslint-disable-next-line no-bitwise
    if (sym && (sym.flags & ts.SymbolFlags.Alias) !== 0) sym = checker.getAliasedSymbol(sym);
    return sym?.declarations?.[0];
  };
  /** A type declared in the model file (FileForm's table names its types there). */
  type Named = ts.TypeAliasDeclaration | ts.InterfaceDeclaration;
  const modelType = (text: string): Named | undefined => source.statements
    .find((s): s is Named => (ts.isTypeAliasDeclaration(s) || ts.isInterfaceDeclaration(s)) && s.name.text === text);
  const named = (text: string): ts.TypeNode => {
    if (!fileTypes.has(text)) {
      if (!modelType(text)) throw new Error(`${text} is not declared in ${modelFile}`);
      fileTypes.set(text, ts.factory.createTypeReferenceNode(text));
    }
    return fileTypes.get(text)!;
  };
  const resolveNamed = (node: ts.TypeReferenceNode): ts.Declaration | undefined =>
    (node.pos >= 0 ? declOf(node.typeName) : modelType((node.typeName as ts.Identifier).text));

  /** The members of an object type given by a type node. */
  const membersOf = (t: Typed, seen: Set<ts.Node> = new Set()): Members => {
    const out: Members = new Map();
    const add = (name: string, decl: ts.Node, type: Typed | undefined, omitted = false) => {
      const m = out.get(name) ?? { decls: new Set(), omitted: new Set(), types: [] };
      (omitted ? m.omitted : m.decls).add(decl);
      if (type && !omitted) m.types.push(type);
      out.set(name, m);
    };
    const merge = (from: Members, omit: Set<string> = new Set(), pick?: Set<string>) => {
      for (const [name, m] of from) {
        if (pick && !pick.has(name)) continue;
        for (const d of m.decls) add(name, d, undefined, omit.has(name));
        for (const d of m.omitted) add(name, d, undefined, true);
        if (!omit.has(name)) out.get(name)!.types.push(...m.types);
      }
    };
    // The keys of Omit/Pick: string literals, aliases of them, keyof X (the checker resolves them).
    const keysOf = (node: ts.TypeNode | undefined): Set<string> => {
      if (!node) return new Set();
      const type = checker.getTypeFromTypeNode(node);
      return new Set((type.isUnion() ? type.types : [type]).filter((k) => k.isStringLiteral()).map((k) => (k as ts.StringLiteralType).value));
    };
    const { node, scope, fileForm } = t;
    const sub = (n: ts.TypeNode, ff = fileForm, sc = scope): Typed => ({ node: n, scope: sc, fileForm: ff });
    if (ts.isParenthesizedTypeNode(node)) return membersOf(sub(node.type), seen);
    if (ts.isIntersectionTypeNode(node) || ts.isUnionTypeNode(node)) {
      node.types.forEach((n) => merge(membersOf(sub(n), seen)));
      return out;
    }
    if (ts.isTypeLiteralNode(node)) {
      membersFromElements(node.members, scope, fileForm, add);
      return out;
    }
    let decl: ts.Declaration | undefined;
    let name: string;
    if (ts.isExpressionWithTypeArguments(node)) {
      // An interface's `extends` clause.
      decl = declOf(node.expression as ts.Identifier);
      name = node.expression.getText();
    } else if (ts.isTypeReferenceNode(node)) {
      decl = resolveNamed(node);
      name = refName(node);
    } else {
      return out;
    }
    if (!decl) return out;
    const args = node.typeArguments ?? [];
    if (ts.isTypeParameterDeclaration(decl)) {
      const bound = scope.bindings.get(decl);
      return bound ? membersOf(bound, seen) : out;
    }
    if (ts.isTypeAliasDeclaration(decl) && decl.name.text === 'FileForm') return membersOf(sub(args[0], true), seen);
    const inLib = program.isSourceFileDefaultLibrary(decl.getSourceFile()) || /[\\/]typescript[\\/]lib[\\/]lib\.[^\\/]*\.d\.ts$/.test(decl.getSourceFile().fileName);
    if (inLib && UTILITIES.has(name)) return membersOf(sub(args[0]), seen);
    if (inLib && name === 'Omit') {
      merge(membersOf(sub(args[0]), seen), keysOf(args[1]));
      return out;
    }
    if (inLib && name === 'Pick') {
      merge(membersOf(sub(args[0]), seen), new Set(), keysOf(args[1]));
      return out;
    }
    if (seen.has(decl)) return out;
    const inner = new Set(seen).add(decl);
    const bindings = new Map(scope.bindings);
    const params = (decl as ts.InterfaceDeclaration | ts.TypeAliasDeclaration).typeParameters ?? [];
    params.forEach((p, i) => { if (args[i]) bindings.set(p, sub(args[i])); });
    const declScope: Scope = { bindings };
    if (ts.isTypeAliasDeclaration(decl)) return membersOf({ node: decl.type, scope: declScope, fileForm }, inner);
    if (ts.isInterfaceDeclaration(decl) || ts.isClassDeclaration(decl)) {
      for (const clause of decl.heritageClauses ?? []) {
        for (const h of clause.types) merge(membersOf({ node: h, scope: declScope, fileForm }, inner));
      }
      membersFromElements(decl.members as ts.NodeArray<ts.TypeElement | ts.ClassElement>, declScope, fileForm, add);
    }
    return out;
  };

  type Add = (n: string, d: ts.Node, t: Typed | undefined) => void;
  const HIDDEN = new Set([ts.SyntaxKind.PrivateKeyword, ts.SyntaxKind.ProtectedKeyword, ts.SyntaxKind.StaticKeyword]);
  function membersFromElements(elements: ts.NodeArray<ts.TypeElement | ts.ClassElement>, scope: Scope, fileForm: boolean, add: Add) {
    for (const el of elements) {
      if (!(ts.isPropertySignature(el) || ts.isPropertyDeclaration(el)) || !el.type) continue;
      if (ts.isPropertyDeclaration(el) && el.modifiers?.some((m) => HIDDEN.has(m.kind))) continue;
      const type = swapped({ node: el.type, scope, fileForm });
      if (type === null) continue; // FileForm maps it to never: no field of the file
      add(el.name.getText(), el, type);
    }
  }

  /** A member type through FileForm's table; null for `never`. */
  function swapped(t: Typed): Typed | null {
    if (!t.fileForm) return t;
    const parts = ts.isUnionTypeNode(t.node) ? t.node.types.filter((n) => n.kind !== ts.SyntaxKind.UndefinedKeyword) : [t.node];
    if (parts.length === 1 && ts.isTypeReferenceNode(parts[0]) && !parts[0].typeArguments) {
      const name = refName(parts[0]);
      if (swaps.has(name)) {
        const to = swaps.get(name);
        return to === undefined ? null : { node: named(to), scope: t.scope, fileForm: true };
      }
    }
    return t;
  }

  /** The element type of an array type node, if it is one; the value type of a map. */
  const elementOf = (t: Typed): { kind: '[]' | '*'; type: Typed } | undefined => {
    let n = t.node;
    if (ts.isUnionTypeNode(n)) {
      const parts = n.types.filter((p) => p.kind !== ts.SyntaxKind.UndefinedKeyword);
      if (parts.length !== 1) return undefined;
      n = parts[0];
    }
    if (ts.isParenthesizedTypeNode(n)) n = n.type;
    if (ts.isArrayTypeNode(n)) return { kind: '[]', type: swapped({ ...t, node: n.elementType }) ?? undefined! };
    if (ts.isTypeReferenceNode(n) && refName(n) === 'Array' && n.typeArguments?.length === 1) return { kind: '[]', type: swapped({ ...t, node: n.typeArguments[0] })! };
    if (ts.isTypeLiteralNode(n) && n.members.length === 1 && ts.isIndexSignatureDeclaration(n.members[0])) return { kind: '*', type: swapped({ ...t, node: n.members[0].type })! };
    return undefined;
  };

  const result = new Map<string, string[]>();
  const where = (d: ts.Node) => {
    const sf = d.getSourceFile();
    return `${path.relative(ROOT, sf.fileName)}:${sf.getLineAndCharacterOfPosition(d.getStart()).line + 1}`;
  };
  const walk = (types: Typed[], prefix: string, depth: number) => {
    if (depth > 12) return;
    const members: Members = new Map();
    for (const t of types) {
      const el = elementOf(t);
      if (el) {
        walk([el.type], `${prefix}${el.kind === '[]' ? '[]' : '.*'}`, depth + 1);
        continue;
      }
      for (const [name, m] of membersOf(t)) {
        const into = members.get(name) ?? { decls: new Set(), omitted: new Set(), types: [] };
        m.decls.forEach((d) => into.decls.add(d));
        m.omitted.forEach((d) => into.omitted.add(d));
        into.types.push(...m.types);
        members.set(name, into);
      }
    }
    for (const [name, m] of members) {
      if (m.decls.size === 0) continue; // omitted and not declared again: no field
      const field = prefix ? `${prefix}.${name}` : name;
      result.set(field, [...new Set([...m.decls, ...m.omitted])].map(where).sort());
      walk(m.types, field, depth + 1);
    }
  };
  walk([{ node: named(rootType), scope: { bindings: new Map() }, fileForm: false }], '', 0);
  return result;
}

/** Every field path of a JSON Schema (`a.b`, `a[].b`, `a.*.b`), following $ref, allOf/anyOf/oneOf and if/then. */
export function schemaFieldPaths(schema: Record<string, any>): string[] {
  const defs = schema.definitions ?? {};
  const out = new Set<string>();
  const visit = (node: any, prefix: string, refs: Set<string>) => {
    if (!node || typeof node !== 'object') return;
    if (typeof node.$ref === 'string') {
      const name = decodeURIComponent(node.$ref.replace('#/definitions/', ''));
      if (!refs.has(name)) visit(defs[name], prefix, new Set(refs).add(name));
    }
    for (const k of ['allOf', 'anyOf', 'oneOf']) (node[k] ?? []).forEach((n: any) => visit(n, prefix, refs));
    if (node.then) visit(node.then, prefix, refs);
    for (const [name, p] of Object.entries(node.properties ?? {})) {
      const field = prefix ? `${prefix}.${name}` : name;
      out.add(field);
      visit(p, field, refs);
    }
    if (node.items) visit(node.items, `${prefix}[]`, refs);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') visit(node.additionalProperties, `${prefix}.*`, refs);
  };
  visit(schema, '', new Set());
  return [...out].sort();
}

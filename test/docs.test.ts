/**
 * The README and the pages under docs/ link each other by relative paths and
 * heading anchors: every such link names a file of the repository and, with
 * `#anchor`, a heading of that file (GitHub's anchor rules), so moving a
 * section never leaves a dead link behind.
 *
 * And every property a page's code shows exists on the type it shows it on:
 * each TypeScript block is compiled with tsc against the built package (as
 * test/readme.test.ts does the README's example), each fleet-file YAML block
 * is validated against schemas/fleet.schema.json.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv from 'ajv';
import * as YAML from 'yaml';
import { ensureBuilt, REPO } from './util/cli';

const PAGES = ['README.md', ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The text outside fenced code blocks. */
function prose(markdown: string): string {
  return markdown.split(/^```.*$/m).filter((_, i) => i % 2 === 0).join('\n');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

describe('README.md and docs/', () => {
  test.each(PAGES)('%s: every relative link names an existing file and heading', (page) => {
    const text = fs.readFileSync(path.join(REPO, page), 'utf8');
    const dead: string[] = [];
    let links = 0;
    for (const [, target] of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
      links++;
      const [file, anchor] = target.split('#');
      const resolved = file === '' ? path.join(REPO, page) : path.resolve(path.dirname(path.join(REPO, page)), file);
      if (!fs.existsSync(resolved)) dead.push(`${target}: no file ${path.relative(REPO, resolved)}`);
      else if (anchor !== undefined && !anchors(fs.readFileSync(resolved, 'utf8')).has(anchor)) dead.push(`${target}: no heading with anchor #${anchor}`);
    }
    expect(dead).toEqual([]);
    expect(links).toBeGreaterThan(0);
  });

  test('the README links every page under docs/', () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    expect(PAGES.filter((p) => p.startsWith('docs/') && !readme.includes(`](${p}`))).toEqual([]);
  });
});

/** The fenced blocks of a language in a page, with the line each starts on and the block after it. */
function blocks(page: string, lang: string): Array<{ line: number; code: string; next?: string }> {
  const text = fs.readFileSync(path.join(REPO, page), 'utf8');
  const all = [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)];
  return all.flatMap((m, i) => (m[1] === lang
    ? [{ line: text.slice(0, m.index).split('\n').length, code: m[2], next: all[i + 1]?.[2] }]
    : []));
}

/**
 * tsc errors that mean a name the page shows does not exist where it shows
 * it: an unknown property on an object literal or a type, an export the
 * package does not have. Other errors are a fragment's (`// …` for elided
 * props, variables of an earlier block) and say nothing about names.
 */
const NAME_ERRORS = new Set(['TS2353', 'TS2339', 'TS2551', 'TS2561', 'TS2305', 'TS2724', 'TS2614']);

describe('code blocks of docs/', () => {
  const tsBlocks = PAGES.filter((p) => p.startsWith('docs/')).flatMap((page) => blocks(page, 'ts').map((b) => ({ page, ...b })))
    // A block the page shows failing to compile (its next block is tsc's output) is proven by test/types/.
    .filter((b) => !/error TS\d+/.test(b.next ?? ''));

  test('every TypeScript block compiles its names against the built package', () => {
    ensureBuilt();
    const jsii = JSON.parse(fs.readFileSync(path.join(REPO, '.jsii'), 'utf8'));
    const exported = new Set(Object.keys(jsii.types).filter((fqn) => fqn.split('.').length === 2).map((fqn) => fqn.split('.')[1]));
    const CDK8S = ['App', 'Chart', 'Duration', 'Testing', 'Lazy', 'ApiObject'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsx-docs-'));
    try {
      for (const [name, target] of Object.entries({
        'cdk8s-dsx-event-bus': REPO,
        'cdk8s': path.join(REPO, 'node_modules', 'cdk8s'),
        'constructs': path.join(REPO, 'node_modules', 'constructs'),
        '@types/node': path.join(REPO, 'node_modules', '@types', 'node'),
        '@types/jest': path.join(REPO, 'node_modules', '@types', 'jest'),
      })) {
        fs.mkdirSync(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true });
        fs.symlinkSync(target, path.join(dir, 'node_modules', name), 'dir');
      }
      const files = tsBlocks.map((b) => `${b.page.replace(/\W/g, '_')}_${b.line}.ts`);
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'nodenext', strict: true, noEmit: true, types: ['node', 'jest'], skipLibCheck: true },
        files,
      }));
      // What a page's fragment takes from its context: the package's and cdk8s's names it uses, and its variables.
      const source = (code: string, free: string[]) => {
        const used = new Set(code.match(/\b[A-Z]\w*\b/g) ?? []);
        const has = (from: string) => new RegExp(`from '${from}'`).test(code);
        const lines = [
          has('cdk8s-dsx-event-bus') ? '' : `import { ${[...exported].filter((n) => used.has(n)).join(', ')} } from 'cdk8s-dsx-event-bus';`,
          has('cdk8s') ? '' : `import { ${CDK8S.filter((n) => used.has(n)).join(', ')} } from 'cdk8s';`,
          ...free.map((n) => `declare const ${n}: any;`),
          'export {};',
        ];
        return `${lines.join(' ')}\n${code}`;
      };
      const tsc = (): string => {
        try {
          execFileSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
          return '';
        } catch (e: any) {
          return `${e.stdout ?? ''}${e.stderr ?? ''}`;
        }
      };
      tsBlocks.forEach((b, i) => fs.writeFileSync(path.join(dir, files[i]), source(b.code, [])));
      const first = tsc();
      // Variables of the page's earlier blocks (`chart`, `gateway`): any, so what they receive is still checked.
      tsBlocks.forEach((b, i) => {
        const free = [...first.matchAll(new RegExp(`^${files[i].replace('.', '\\.')}\\(\\d+,\\d+\\): error TS(?:2304|2552): Cannot find name '(\\w+)'`, 'gm'))].map((m) => m[1]);
        fs.writeFileSync(path.join(dir, files[i]), source(b.code, [...new Set(free)]));
      });
      const errors = tsc().split('\n').filter((l) => NAME_ERRORS.has(/error (TS\d+)/.exec(l)?.[1] ?? '')).map((l) => {
        const i = files.findIndex((f) => l.startsWith(`${f}(`));
        return i < 0 ? l : `${tsBlocks[i].page}, the block at line ${tsBlocks[i].line}: ${l.slice(files[i].length)}`;
      });
      expect(errors).toEqual([]);
      expect(tsBlocks.length).toBeGreaterThan(5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const fleetBlocks = PAGES.flatMap((page) => blocks(page, 'yaml').map((b) => ({ page, ...b })))
    .filter((b) => {
      // Manifests (several documents) and Helm values are not fleet files; a fleet file has clusters.
      const docs = YAML.parseAllDocuments(b.code);
      const doc = docs.length === 1 ? docs[0].toJS() : undefined;
      return doc !== null && typeof doc === 'object' && 'clusters' in doc;
    });

  test.each(fleetBlocks.map((b) => [`${b.page}:${b.line}`, b] as const))('fleet-file block %s: every key is one the schema has', (_where, b) => {
    const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true })
      .compile(JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'fleet.schema.json'), 'utf8')));
    validate(YAML.parse(b.code));
    // A fragment may leave out required fields; everything it shows must be allowed.
    expect((validate.errors ?? []).filter((e) => e.keyword !== 'required').map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)).toEqual([]);
  });

  test('the pages show fleet files', () => {
    expect(fleetBlocks.length).toBeGreaterThan(1);
  });
});

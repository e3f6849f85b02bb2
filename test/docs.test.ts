/**
 * The README and the pages under docs/ link each other by relative paths and
 * heading anchors: every such link names a file of the repository and, with
 * `#anchor`, a heading of that file (GitHub's anchor rules), so moving a
 * section never leaves a dead link behind.
 */
import * as fs from 'fs';
import * as path from 'path';
import { REPO } from './util/cli';

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

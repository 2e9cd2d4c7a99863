import { describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { headingAnchors } from './support/markdown-anchors';

const REPO_ROOT = path.resolve(__dirname, '..');

/** README.md and every Markdown file under docs/, as paths from the repository's root. */
function documents(): string[] {
  const walk = (folder: string): string[] =>
    readdirSync(path.join(REPO_ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
      const relative = path.join(folder, entry.name);
      if (entry.isDirectory()) return walk(relative);
      return entry.name.endsWith('.md') ? [relative] : [];
    });
  return ['README.md', ...walk('docs')];
}

const DOCUMENTS = documents();

/** Markdown link targets that are not web addresses: files of this repository, with or without an anchor. */
function relativeLinks(markdown: string): { file: string; anchor: string | null }[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target))
    .map((target) => {
      const [file, anchor] = target.split('#');
      return { file, anchor: anchor ?? null };
    });
}

describe('the documentation stands alone', () => {
  test('README.md and docs/ hold the documents the README links to', () => {
    expect(DOCUMENTS).toEqual(expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/configuration.md']));
  });

  test.each(DOCUMENTS)('every relative link in %s names a file in the repository, and a heading of it when it has an anchor', (document) => {
    const broken = relativeLinks(readFileSync(path.join(REPO_ROOT, document), 'utf8')).filter(({ file, anchor }) => {
      const target = file === '' ? path.join(REPO_ROOT, document) : path.resolve(REPO_ROOT, path.dirname(document), file);
      if (!existsSync(target)) return true;
      return anchor !== null && target.endsWith('.md') && !headingAnchors(readFileSync(target, 'utf8')).has(anchor);
    });
    expect(broken).toEqual([]);
  });

  test('nothing points outside the repository', () => {
    for (const document of DOCUMENTS) {
      const text = readFileSync(path.join(REPO_ROOT, document), 'utf8');
      expect({ document, outside: text.match(/\.\.\/shared\/|\.\.\/\.library/g) ?? [] }).toEqual({ document, outside: [] });
    }
  });
});

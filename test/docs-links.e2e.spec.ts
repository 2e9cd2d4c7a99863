import { describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const REPO_ROOT = path.resolve(__dirname, '..');
const DOCUMENTS = ['README.md', ...readdirSync(path.join(REPO_ROOT, 'docs')).map((name) => path.join('docs', name))];

/** Markdown link targets that are not web addresses or anchors: files of this repository. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1].split('#')[0])
    .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('the documentation stands alone', () => {
  test.each(DOCUMENTS)('every relative link in %s names a file in the repository', (document) => {
    const links = relativeLinks(readFileSync(path.join(REPO_ROOT, document), 'utf8'));
    const missing = links.filter((link) => !existsSync(path.resolve(REPO_ROOT, path.dirname(document), link)));
    expect(missing).toEqual([]);
  });

  test('nothing points outside the repository', () => {
    for (const document of DOCUMENTS) {
      const text = readFileSync(path.join(REPO_ROOT, document), 'utf8');
      expect({ document, outside: text.match(/\.\.\/shared\/|\.\.\/\.library/g) ?? [] }).toEqual({ document, outside: [] });
    }
  });
});

/**
 * docs/runbooks.md as the page the api serves at /ops/runbooks (apps/api/src/ops/assets/runbooks.html), so the
 * alerts' runbook links and the ops page's links open where the service runs, with the anchors GitHub gives the
 * same headings. Links to other documents become their path in the repository: the api serves this page alone.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import MarkdownIt from 'markdown-it';

const ROOT = path.join(__dirname, '..', '..');
export const RUNBOOKS_SOURCE = path.join(ROOT, 'docs', 'runbooks.md');
export const RUNBOOKS_PAGE = path.join(ROOT, 'apps', 'api', 'src', 'ops', 'assets', 'runbooks.html');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens (test/support/markdown-anchors.ts). */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function markdown(): MarkdownIt {
  const md = new MarkdownIt({ html: false, linkify: false });
  md.core.ruler.push('heading_ids', (state) => {
    const used = new Set<string>();
    state.tokens.forEach((token, index) => {
      if (token.type !== 'heading_open') return;
      const base = slug(state.tokens[index + 1].content);
      let id = base;
      for (let repeat = 1; used.has(id); repeat++) id = `${base}-${repeat}`;
      used.add(id);
      token.attrSet('id', id);
    });
  });
  return md;
}

const STYLE = `body{font:16px/1.55 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
h2{margin-top:2.5rem;border-bottom:1px solid #d8dde6}h3{margin-top:2rem}h3:target{background:#fff4c2}
code{background:#f1f3f7;padding:0 .25em;border-radius:3px}a{color:#2456c9}`;

export function renderRunbooksPage(source = readFileSync(RUNBOOKS_SOURCE, 'utf8')): string {
  const local = source.replace(
    /\[([^\]]+)\]\((?!#|[a-z][a-z0-9+.-]*:)([^)#\s]+)(#[^)\s]*)?\)/gi,
    (_all, text: string, file: string) => `${text} (\`docs/${file}\`)`,
  );
  return (
    '<!doctype html>\n<!-- Generated from docs/runbooks.md by scripts/observability/runbooks-page.ts (npm run observability); do not edit. -->\n' +
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>Timeline service · runbooks</title><style>${STYLE}</style></head>\n<body>\n<p><a href="/ops">← ops page</a></p>\n` +
    `${markdown().render(local)}</body></html>\n`
  );
}

// Reads an HTML page as blocks of its main text: headings, paragraphs and list items, without navigation, scripts,
// styles or forms. htmlparser2 (streaming, forgiving of broken markup, entities decoded) gives each text's offset,
// so every block knows its source line.
import { Parser } from 'htmlparser2';
import type { Block } from './blocks.js';

// Whole subtrees that are not the page's text.
const SKIP = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'head',
  'nav',
  'footer',
  'aside',
  'form',
  'svg',
  'iframe',
  'button',
  'select',
  'textarea',
  'object',
  'canvas',
  'dialog',
  'menu',
]);
const SKIP_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'search', 'menu', 'menubar', 'dialog']);
// Elements whose start or end ends the block being collected.
const BREAK = new Set([
  'p',
  'div',
  'li',
  'dt',
  'dd',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'pre',
  'section',
  'article',
  'main',
  'header',
  'table',
  'tr',
  'ul',
  'ol',
  'dl',
  'figure',
  'figcaption',
  'caption',
  'address',
  'br',
  'hr',
  'details',
  'summary',
]);
const ITEM = new Set(['li', 'dt', 'dd']);
const CELL = new Set(['td', 'th']);

interface Open {
  name: string;
  skip: boolean;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineAt(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** The page's blocks; when it has a `<main>` (else an `<article>`), only the blocks inside it. */
export function htmlBlocks(html: string): Block[] {
  const starts = lineStarts(html);
  const stack: Open[] = [];
  const found: Array<Block & { main: boolean; article: boolean }> = [];
  let text = '';
  let line = 0;
  let cellOpen = false;
  const inside = (name: string) => stack.some((o) => o.name === name);
  const skipping = () => stack.length > 0 && stack[stack.length - 1]!.skip;

  const flush = () => {
    const clean = text.replace(/\s+/g, ' ').replace(/^[\s|]+|[\s|]+$/g, '');
    if (clean) {
      const heading = [...stack].reverse().find((o) => /^h[1-6]$/.test(o.name));
      const item = stack.some((o) => ITEM.has(o.name));
      found.push({
        kind: heading ? 'heading' : item ? 'item' : 'paragraph',
        text: clean,
        line,
        ...(heading ? { level: Number(heading.name[1]) } : {}),
        main: inside('main'),
        article: inside('article'),
      });
    }
    text = '';
    line = 0;
    cellOpen = false;
  };

  const parser = new Parser(
    {
      onopentag(name, attribs) {
        const role = (attribs.role ?? '').toLowerCase();
        const hidden = 'hidden' in attribs || attribs['aria-hidden'] === 'true' || SKIP_ROLES.has(role);
        // A page's own <header> is its banner; one inside <main> or <article> holds the title, which is text.
        const banner = name === 'header' && !inside('main') && !inside('article');
        const skip = skipping() || SKIP.has(name) || hidden || banner;
        if (!skipping() && (BREAK.has(name) || skip)) flush();
        if (!skip && CELL.has(name) && cellOpen) text += ' | ';
        if (!skip && CELL.has(name)) cellOpen = true;
        stack.push({ name, skip });
      },
      ontext(data) {
        if (skipping()) return;
        if (!line && data.trim()) line = lineAt(starts, parser.startIndex + (data.length - data.trimStart().length));
        text += data;
      },
      onclosetag(name) {
        // Flush before popping, so a heading or list item still knows what it is.
        const open = stack.at(-1);
        if (open && !open.skip && BREAK.has(name)) flush();
        else if (open && !open.skip && (name === 'img' || name === 'input')) text += ' ';
        stack.pop();
      },
    },
    { decodeEntities: true, lowerCaseTags: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  flush();

  const scope = found.some((b) => b.main) ? 'main' : found.some((b) => b.article) ? 'article' : undefined;
  return found.filter((b) => !scope || b[scope]).map(({ main: _m, article: _a, ...block }) => block);
}

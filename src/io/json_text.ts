// JSON text handled as text: a row's kept members cut from its bytes, and escapes written the way JSON.stringify
// writes them. Stage 6 writes ~85% of what it reads; parsing each kept row only to stringify it again was most of
// its write time (0.2 of 0.35 s at 10k rows), so the text it already holds goes out as it is when that is the same.

/**
 * The JSON text of `obj` with only the `keep` members, in that order, as JSON.stringify writes it once its escapes
 * go through `stringifyEscapes`. `text` is the JSON `obj` was parsed from: it is returned as it is when it holds
 * exactly those members, or cut when one more string member follows them (stage 5's `text_preview`), provided it is
 * written as JSON.stringify would write it (see `stringifiedShape`); anything else is serialised again.
 */
export function onlyMembers(text: string, obj: Record<string, unknown>, keep: readonly string[]): string {
  const keys = Object.keys(obj);
  if (startsWith(keys, keep) && stringifiedShape(text, obj)) {
    if (keys.length === keep.length) return text;
    if (keys.length === keep.length + 1) {
      const cut = lastStringMemberStart(text, keys[keep.length]!, obj[keys[keep.length]!]);
      if (cut > 0) return `${text.slice(0, cut)}}`;
    }
  }
  const picked: Record<string, unknown> = {};
  for (const key of keep) if (Object.hasOwn(obj, key)) picked[key] = obj[key];
  return JSON.stringify(picked);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
/** The characters that end a number or literal: , } ] : { [ " (anything else, a space included, is part of it). */
const ENDS_TOKEN = new Uint8Array(128);
for (const c of ',}]:{["') ENDS_TOKEN[c.charCodeAt(0)] = 1;
const endsToken = (c: number): boolean => c < 128 && ENDS_TOKEN[c] === 1;

/**
 * Whether `text` (the JSON `obj` was parsed from) is, but for how its strings escape characters, what
 * JSON.stringify(obj) writes: no whitespace between tokens, every number spelt as String(n) (so no 1.0, 1e2, -0 or
 * 1e400, which parses to Infinity that JSON.stringify writes as null), and no key written twice at any depth (the
 * text would keep both, the parsed value only the last). Strings are skipped with indexOf, so a row costs a few
 * dozen steps, not one per character.
 */
export function stringifiedShape(text: string, obj: unknown): boolean {
  let keys = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let close = text.indexOf('"', i + 1);
      for (;;) {
        if (close < 0) return false;
        let slashes = 0;
        while (text.charCodeAt(close - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
        close = text.indexOf('"', close + 1);
      }
      i = close + 1;
      if (text.charCodeAt(i) === COLON) keys++;
      continue;
    }
    if (endsToken(c)) {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < n && !endsToken(text.charCodeAt(end))) end++;
    const token = text.slice(i, end);
    if (token !== 'true' && token !== 'false' && token !== 'null' && String(Number(token)) !== token) return false;
    i = end;
  }
  return keys === keyCount(obj);
}

/** Keys of every object in a parsed JSON value (JSON.parse makes plain objects: every enumerable key is its own). */
function keyCount(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += keyCount(item);
    return count;
  }
  for (const key in value) {
    count++;
    count += keyCount((value as Record<string, unknown>)[key]);
  }
  return count;
}

function startsWith(keys: string[], prefix: readonly string[]): boolean {
  if (keys.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (keys[i] !== prefix[i]) return false;
  return true;
}

/**
 * Where `,"key":"…"}` starts when it ends `text` and its string is `value`; -1 otherwise. A string holds no raw
 * quote, so the last `,"key":"` in the text is the top-level member's unless that key was written with escapes; then
 * the match is a nested one, the text after it is not one JSON string, and the check below refuses it.
 */
function lastStringMemberStart(text: string, key: string, value: unknown): number {
  if (typeof value !== 'string' || !text.endsWith('"}')) return -1;
  const opening = `,${JSON.stringify(key)}:"`;
  const at = text.lastIndexOf(opening);
  if (at < 0) return -1;
  const literal = text.slice(at + opening.length - 1, -1);
  try {
    return JSON.parse(literal) === value ? at : -1;
  } catch {
    return -1;
  }
}

// One escape at a time, left to right, so `\\u0041` stays an escaped backslash followed by "u0041".
const ESCAPE = /\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\([^u])/g;
const SHORT: Record<string, string> = {
  b: '\\b',
  f: '\\f',
  n: '\\n',
  r: '\\r',
  t: '\\t',
  '"': '\\"',
  '\\': '\\\\',
  '/': '/',
};

/**
 * The escapes in compact JSON text rewritten as JSON.stringify writes them: characters from U+0020 up (but `"`, `\`
 * and lone surrogates) as themselves, the short forms for \b \f \n \r \t, \u00xx for other control characters. Text
 * that JSON.stringify wrote, with its non-ASCII characters escaped afterwards (as the stage-6 reader keeps rows),
 * comes back byte for byte.
 */
export function stringifyEscapes(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(ESCAPE, (match, high?: string, low?: string, unit?: string, other?: string) => {
    if (high !== undefined) return String.fromCharCode(Number.parseInt(high, 16), Number.parseInt(low!, 16));
    if (other !== undefined) return SHORT[other] ?? match;
    return unitText(Number.parseInt(unit!, 16));
  });
}

function unitText(code: number): string {
  const c = String.fromCharCode(code);
  if (code === 0x22 || code === 0x5c || code < 0x20) return JSON.stringify(c).slice(1, -1);
  // A lone surrogate: JSON.stringify escapes it, in lower case.
  if (code >= 0xd800 && code <= 0xdfff) return `\\u${code.toString(16)}`;
  return c;
}

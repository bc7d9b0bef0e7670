// JSON text handled as text: a row's kept members cut from its bytes, and escapes written the way JSON.stringify
// writes them. Stage 6 writes ~85% of what it reads; parsing each kept row only to stringify it again was most of
// its write time (0.2 of 0.35 s at 10k rows), so the text it already holds goes out as it is when that is the same.

/**
 * The JSON text of `obj` with only the `keep` members, in that order. `text` is `obj`'s compact JSON (as read): it is
 * returned as it is when it holds exactly those members, or cut when one more string member follows them (stage 5's
 * `text_preview`); anything else is serialised again.
 */
export function onlyMembers(text: string, obj: Record<string, unknown>, keep: readonly string[]): string {
  const keys = Object.keys(obj);
  if (startsWith(keys, keep)) {
    if (keys.length === keep.length) return text;
    if (keys.length === keep.length + 1) {
      const cut = lastStringMemberStart(text, keys[keep.length]!, obj[keys[keep.length]!]);
      if (cut > 0) return `${text.slice(0, cut)}}`;
    }
  }
  const picked: Record<string, unknown> = {};
  for (const key of keep) if (key in obj) picked[key] = obj[key];
  return JSON.stringify(picked);
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

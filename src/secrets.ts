// Keeps API keys out of everything the pipeline prints or writes, including SDK messages that echo request details
// and model answers that quote a key.

const SECRET_VARIABLES = ['GOOGLE_API_KEY', 'GEMINI_API_KEY', 'OPENAI_API_KEY', 'HF_TOKEN', 'LOGFIRE_TOKEN'];
// Any other credential a user or a proxy setup puts in the environment, by the usual naming.
const SECRET_NAME = /(?:_API_KEY|_TOKEN|_SECRET)$/;

/** A run of this many characters shared with a key is the key: a server that drops its first 3 still leaks 30. */
export const FRAGMENT_CHARS = 12;
/*
 * Candidates are found by hashing a WINDOW of 4 characters at every STRIDE-th (9th) position only: a run of 12
 * shared characters starting at s holds the windows starting at s … s+8, one of which is aligned. So less than half
 * the text is read (O(n), no substring made), and only a window whose hash is one of the keys' is compared, then
 * extended both ways. (Windows of 6 at every 6th position read every character: 1.2-2.4× slower, measured.)
 */
const WINDOW = 4;
const STRIDE = FRAGMENT_CHARS - WINDOW + 1;

interface SecretIndex {
  /** Values too short to be found by fragments: replaced where they occur whole. */
  short: string[];
  long: string[];
  /** Hash of each WINDOW-character window of a long value → [value, offset] pairs. */
  windows: Map<number, Array<[number, number]>>;
  /** The hashes' low 16 bits, as a byte each: nearly every window of a text is turned away here, before the Map. */
  filter: Uint8Array;
}

function windowHash(text: string, at: number): number {
  let h = 0;
  for (let k = 0; k < WINDOW; k++) h = (Math.imul(h, 0x01000193) ^ text.charCodeAt(at + k)) | 0;
  return h;
}

function secretValues(): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(process.env)) {
    // Other variables need a longer value: `FEATURE_TOKEN=true` must not blank every "true" in a message.
    const known = SECRET_VARIABLES.includes(name);
    if (!value || value.length < (known ? 4 : 8) || !(known || SECRET_NAME.test(name))) continue;
    values.add(value);
    // An SDK may echo the key as it appeared in a URL (`?key=…`) or inside a JSON string.
    values.add(encodeURIComponent(value));
    values.add(JSON.stringify(value).slice(1, -1));
  }
  // Longest first, so a key that contains another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

function buildIndex(values: string[]): SecretIndex {
  const index: SecretIndex = { short: [], long: [], windows: new Map(), filter: new Uint8Array(1 << 16) };
  for (const value of values) {
    if (value.length < FRAGMENT_CHARS) {
      index.short.push(value);
      continue;
    }
    const id = index.long.push(value) - 1;
    for (let at = 0; at + WINDOW <= value.length; at++) {
      const h = windowHash(value, at);
      index.filter[h & 0xffff] = 1;
      const list = index.windows.get(h);
      if (list) list.push([id, at]);
      else index.windows.set(h, [[id, at]]);
    }
  }
  return index;
}

// Reading the whole environment costs ~50 µs and every artifact row is redacted: it is read again only when one of
// the named keys changes (in a stage, never after the start).
let cached: { signature: string; index: SecretIndex } | undefined;

function secretIndex(): SecretIndex {
  const signature = SECRET_VARIABLES.map((name) => process.env[name] ?? '').join('\0');
  if (cached?.signature !== signature) cached = { signature, index: buildIndex(secretValues()) };
  return cached.index;
}

/** The [start, end) spans of `text` that share FRAGMENT_CHARS or more characters in a row with a long value. */
function fragmentSpans(text: string, index: SecretIndex): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const { filter, windows } = index;
  for (let p = 0; p + WINDOW <= text.length; p += STRIDE) {
    const h = windowHash(text, p);
    if (filter[h & 0xffff] === 0) continue;
    const hits = windows.get(h);
    if (!hits) continue;
    for (const [id, at] of hits) {
      const value = index.long[id]!;
      let after = 0;
      while (
        at + after < value.length &&
        p + after < text.length &&
        text.charCodeAt(p + after) === value.charCodeAt(at + after)
      )
        after++;
      if (after < WINDOW) continue; // a hash collision
      let before = 0;
      while (before < at && before < p && text.charCodeAt(p - before - 1) === value.charCodeAt(at - before - 1))
        before++;
      if (before + after >= FRAGMENT_CHARS) spans.push([p - before, p + after]);
    }
  }
  return spans;
}

/** `text` with the spans replaced by one [redacted] each, overlapping ones merged. */
function withoutSpans(text: string, spans: Array<[number, number]>): string {
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let from = 0;
  for (const [start, end] of spans) {
    if (end <= from) continue;
    if (start >= from) out += `${text.slice(from, start)}[redacted]`;
    from = end;
  }
  return out + text.slice(from);
}

/**
 * Replaces any configured key, whole or any 12 characters of it in a row, with [redacted]. For data (model answers,
 * artifact rows, checkpoint lines): text that merely looks like a credential is left as the model wrote it.
 */
export function redactSecrets(text: string): string {
  const index = secretIndex();
  let out = text;
  if (index.long.length) {
    const spans = fragmentSpans(out, index);
    if (spans.length) out = withoutSpans(out, spans);
  }
  for (const value of index.short) if (out.includes(value)) out = out.split(value).join('[redacted]');
  return out;
}

/** For messages and logs: redactSecrets, and anything shaped like a bearer token or key parameter as well. */
export function redact(text: string): string {
  return redactSecrets(text)
    .replace(/(Bearer\s+)[\w.\-~+/]+=*/gi, '$1[redacted]')
    .replace(/([?&](?:key|api_key)=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/("?(?:x-goog-api-key|authorization|api[_-]?key)"?\s*[:=]\s*"?)[^"\s,}]+/gi, '$1[redacted]');
}

// Fabricates what the imitation server says: JSON answers built from the sent JSON Schema, and text embeddings.

/** One generate request as the imitation server understood it (Gemini generateContent or OpenAI chat). */
export interface GenerateCall {
  provider: 'gemini' | 'openai';
  model: string;
  system: string;
  prompt: string;
  schemaName?: string;
  schema?: any;
  temperature?: number;
}

export type Rng = () => number;

/** mulberry32: tiny, fast and good enough to make fake answers and fault draws reproducible. */
export function makeRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit FNV-1a; the sign bit of a second round gives feature-hashing signs. */
export function hashString(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Providers bill roughly one token per four characters of English text. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const intIn = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));

const FALLBACK_WORDS =
  'our team ships orders quickly and answers every customer question with care about returns and delivery'.split(' ');

function wordsOf(text: string): string[] {
  return text.match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) ?? [];
}

/** A run of consecutive words from `words`, so fabricated text quotes the prompt. */
function quote(rng: Rng, words: readonly string[], min: number, max: number): string {
  const source = words.length > 0 ? words : FALLBACK_WORDS;
  const n = Math.min(source.length, intIn(rng, min, max));
  const start = intIn(rng, 0, source.length - n);
  return source.slice(start, start + n).join(' ');
}

const sentence = (s: string): string => (s.length === 0 ? s : `${s[0].toUpperCase() + s.slice(1)}.`);

/**
 * About `chars` characters of text: `lead` (cut at a word if it is already longer), then sentences quoting `words`,
 * stopping at the first word that reaches the length. Free text is drawn to the lengths real answers have, so token
 * counts (and the --dry-run estimates checked against them) are realistic.
 */
function prose(rng: Rng, words: readonly string[], chars: number, lead = ''): string {
  const source = words.length > 0 ? words : FALLBACK_WORDS;
  let text = '';
  for (const word of lead.trim().split(/\s+/).filter(Boolean)) {
    text += (text ? ' ' : '') + word;
    if (text.length >= chars) return /[.!?]$/.test(text) ? text : `${text.replace(/[,;:]$/, '')}.`;
  }
  while (text.length < chars) {
    const n = intIn(rng, 6, 14);
    const start = intIn(rng, 0, source.length - 1);
    const taken: string[] = [];
    for (let i = 0; i < n; i++) {
      taken.push(source[(start + i) % source.length]);
      if (text.length + taken.join(' ').length + 2 >= chars) break;
    }
    text += (text ? ' ' : '') + sentence(taken.join(' '));
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Generic JSON Schema faker

interface FakeContext {
  rng: Rng;
  words: string[];
  root: any;
  depth: number;
}

function resolveRef(root: any, ref: string): any {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return {};
  let node = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = node?.[key];
  }
  return node ?? {};
}

/** Follows `$ref` chains (local `#/...` pointers only). */
function deref(schema: any, root: any): any {
  let s = schema;
  for (let i = 0; i < 32 && s && typeof s === 'object' && typeof s.$ref === 'string'; i++) s = resolveRef(root, s.$ref);
  return s;
}

/** Gemini's OpenAPI-style `responseSchema` writes `STRING` and `nullable`, so both spellings are understood. */
function typesOf(schema: any): string[] {
  const t = schema.type;
  const list: string[] = Array.isArray(t) ? t : typeof t === 'string' ? [t] : [];
  const lower = list.map((x) => x.toLowerCase());
  if (schema.nullable === true && !lower.includes('null')) lower.push('null');
  if (lower.length > 0) return lower;
  if (schema.properties) return ['object'];
  if (schema.items || schema.prefixItems) return ['array'];
  return ['string'];
}

const NULL_SHARE = 0.1;

function fake(schema: any, ctx: FakeContext): unknown {
  const s = deref(schema, ctx.root);
  if (s === true || s === undefined || s === null) return sentence(quote(ctx.rng, ctx.words, 2, 5));
  if (s === false) return null;
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return pick(ctx.rng, s.enum);
  const branches = s.anyOf ?? s.oneOf;
  if (Array.isArray(branches) && branches.length > 0) {
    const nonNull = branches.filter((b: any) => !typesOf(deref(b, ctx.root)).every((t) => t === 'null'));
    if (nonNull.length < branches.length && (nonNull.length === 0 || ctx.rng() < NULL_SHARE)) return null;
    const { anyOf: _a, oneOf: _o, ...siblings } = s;
    return fake({ ...siblings, ...deref(pick(ctx.rng, nonNull), ctx.root) }, ctx);
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const merged: any = { properties: {}, required: [] };
    for (const part of s.allOf.map((p: any) => deref(p, ctx.root))) {
      Object.assign(merged, part, { properties: { ...merged.properties, ...part.properties } });
    }
    return fake(merged, ctx);
  }
  const types = typesOf(s);
  const nonNull = types.filter((t) => t !== 'null');
  if (nonNull.length === 0) return null;
  if (nonNull.length < types.length && ctx.rng() < NULL_SHARE) return null;
  const inner = { ...ctx, depth: ctx.depth + 1 };
  switch (pick(ctx.rng, nonNull)) {
    case 'object':
      return fakeObject(s, inner);
    case 'array':
      return fakeArray(s, inner);
    case 'integer':
      return fakeNumber(s, ctx.rng, true);
    case 'number':
      return fakeNumber(s, ctx.rng, false);
    case 'boolean':
      // Mostly true, so fabricated judge verdicts give pass rates that are neither 0% nor 100%.
      return ctx.rng() < 0.85;
    default:
      return fakeString(s, ctx);
  }
}

function fakeObject(s: any, ctx: FakeContext): Record<string, unknown> {
  const props: Record<string, any> = s.properties ?? {};
  const order: string[] = Array.isArray(s.propertyOrdering) ? s.propertyOrdering : Object.keys(props);
  const required = new Set<string>(Array.isArray(s.required) ? s.required : []);
  const out: Record<string, unknown> = {};
  for (const key of order) {
    if (!(key in props)) continue;
    // Past a sane depth only required properties are filled, so recursive schemas terminate.
    if (ctx.depth > 6 && !required.has(key)) continue;
    out[key] = fake(props[key], ctx);
  }
  return out;
}

function fakeArray(s: any, ctx: FakeContext): unknown[] {
  // Draft-07 writes tuples as an `items` array (rest in `additionalItems`); 2020-12 as `prefixItems` (rest in `items`).
  const prefix: any[] = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
  const min = s.minItems ?? 0;
  const max = s.maxItems ?? Math.max(min, 3);
  const wanted = ctx.depth > 6 ? min : intIn(ctx.rng, Math.min(Math.max(min, 1), max), Math.min(Math.max(min, 3), max));
  const out: unknown[] = prefix.slice(0, wanted).map((p) => fake(p, ctx));
  const rest = Array.isArray(s.items) ? s.additionalItems : s.items;
  const items = rest === false ? undefined : rest;
  if (items === undefined) return out;
  const itemSchema = deref(items, ctx.root);
  // Enum items are drawn without replacement while possible: categories lists look odd with repeats.
  const pool: unknown[] | undefined = Array.isArray(itemSchema?.enum) ? [...itemSchema.enum] : undefined;
  while (out.length < wanted) {
    if (pool && pool.length > 0) out.push(pool.splice(Math.floor(ctx.rng() * pool.length), 1)[0]);
    else out.push(fake(items, ctx));
  }
  return out;
}

function fakeNumber(s: any, rng: Rng, integer: boolean): number {
  let lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 1e-6) : undefined);
  let hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 1e-6) : undefined);
  // zod's z.int() sends ±MAX_SAFE_INTEGER bounds: keep fabricated numbers small and readable inside them.
  if (lo === undefined || lo < -1e6) lo = hi !== undefined && hi < 0 ? hi - 10 : integer ? 1 : 0;
  if (hi === undefined || hi - lo > 10) hi = lo + (integer ? 9 : 1);
  if (integer) return intIn(rng, Math.ceil(lo), Math.floor(hi));
  return Math.round((lo + rng() * (hi - lo)) * 100) / 100;
}

function fakeString(s: any, ctx: FakeContext): string {
  const { rng } = ctx;
  const day = new Date(Date.UTC(2024, 0, 1) + intIn(rng, 0, 700) * 86_400_000 + intIn(rng, 0, 86_399) * 1000);
  switch (s.format) {
    case 'date-time':
      return day.toISOString();
    case 'date':
      return day.toISOString().slice(0, 10);
    case 'time':
      return day.toISOString().slice(11, 19);
    case 'email':
      return `user${intIn(rng, 1, 999)}@example.com`;
    case 'uri':
    case 'url':
      return `https://example.com/${intIn(rng, 1, 999)}`;
    case 'uuid': {
      const hex = () => Math.floor(rng() * 16).toString(16);
      const part = (n: number) => Array.from({ length: n }, hex).join('');
      return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`;
    }
  }
  let text = sentence(quote(rng, ctx.words, 3, 8));
  while (s.minLength !== undefined && text.length < s.minLength) text += ` ${sentence(quote(rng, ctx.words, 3, 8))}`;
  if (s.maxLength !== undefined && text.length > s.maxLength) text = text.slice(0, s.maxLength);
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// Answers the pipeline's named schemas get

/** The sub-schema of an array property's items, or undefined. */
function itemsOf(root: any, property: string): any {
  const objectSchema = deref(root, root);
  const arraySchema = deref(objectSchema?.properties?.[property], root);
  return arraySchema ? { array: arraySchema, items: deref(arraySchema.items, root) } : undefined;
}

function conversationMessages(call: GenerateCall, rng: Rng, root: any): unknown[] {
  const turns = Math.max(1, Math.min(40, Number(/Number of turns:\s*(\d+)/.exec(call.prompt)?.[1] ?? 2)));
  const lines = call.prompt
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const labelled = (label: RegExp) => lines.filter((l) => label.test(l)).map((l) => l.replace(label, '').trim());
  const questions = labelled(/^(?:Q|Question)\s*\d*\s*[:.)-]\s*/i);
  const answers = labelled(/^(?:A|Answer)\s*\d*\s*[:.)-]\s*/i);
  const quoteFrom = (pool: string[]) =>
    quote(rng, wordsOf(pick(rng, pool.length > 0 ? pool : lines.length > 0 ? lines : [''])), 4, 7);
  const itemSchema = itemsOf(root, 'messages')?.items;
  const messages: unknown[] = [];
  const pool = (xs: string[]) => wordsOf((xs.length > 0 ? xs : lines).join(' '));
  for (let i = 0; i < turns; i++) {
    const asks = [
      `Hi, quick question about "${quoteFrom(questions)}"?`,
      `Can you tell me more about ${quoteFrom(questions)}?`,
      `I read that ${quoteFrom(questions)} - is that right?`,
      `What happens with "${quoteFrom(questions)}"?`,
    ];
    const replies = [
      `Sure. ${sentence(quoteFrom(answers))} Let me know if anything is unclear.`,
      `Good question: ${quoteFrom(answers)}. Anything else I can help with?`,
      `Yes - ${quoteFrom(answers)}. Happy to explain further.`,
    ];
    // As real models write them: a user message of one or two sentences, an assistant reply of one paragraph.
    const ask = prose(rng, pool(questions), intIn(rng, 140, 300), pick(rng, asks));
    const reply = prose(rng, pool(answers), intIn(rng, 450, 850), pick(rng, replies));
    for (const [role, content] of [
      ['user', ask],
      ['assistant', reply],
    ] as const) {
      const base = itemSchema?.properties
        ? fakeObject(itemSchema, { rng, words: wordsOf(call.prompt), root, depth: 2 })
        : {};
      messages.push({ ...base, role, content });
    }
  }
  return messages;
}

/** The text after the `Source text:` marker: the rest of that line, else the lines up to the next blank one. */
function sourceText(prompt: string): string {
  const at = prompt.search(/Source text:/i);
  if (at < 0) return prompt;
  const after = prompt.slice(at).replace(/^Source text:[ \t]*/i, '');
  const firstLine = after.split('\n')[0].trim();
  if (firstLine.length > 0) return firstLine;
  return after
    .replace(/^\s*\n/, '')
    .split(/\n\s*\n/)[0]
    .trim();
}

/** The prompt's "preferably from: a, b, c" topic list, which a real model mostly picks categories from. */
function topicsOf(prompt: string): string[] {
  const list = /preferably from:\s*([^\n]+)/i.exec(prompt)?.[1] ?? '';
  return list
    .replace(/\.\s*$/, '')
    .split(/,\s*/)
    .filter((t) => t.length > 0);
}

function pickDistinct<T>(rng: Rng, xs: readonly T[], n: number): T[] {
  const pool = [...xs];
  return Array.from({ length: Math.min(n, pool.length) }, () => pool.splice(Math.floor(rng() * pool.length), 1)[0]);
}

function qaPairs(call: GenerateCall, rng: Rng, root: any): unknown[] {
  const source = sourceText(call.prompt);
  const topics = topicsOf(call.prompt);
  const sentences = source.split(/(?<=[.!?])\s+/).filter((s) => wordsOf(s).length > 0);
  const found = itemsOf(root, 'qa_pairs');
  const min = found?.array?.minItems ?? 0;
  const count = Math.max(min, Math.min(3, found?.array?.maxItems ?? 3));
  const pairs: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const base =
      sentences.length > 0 ? sentences[(i + intIn(rng, 0, sentences.length - 1)) % sentences.length] : source;
    const topic = quote(rng, wordsOf(base), 3, 6);
    const item: Record<string, unknown> = found?.items?.properties
      ? fakeObject(found.items, { rng, words: wordsOf(source), root, depth: 2 })
      : {};
    // Answers of a few sentences that start from the source sentence, as a real model's do.
    let answer = prose(rng, wordsOf(source), intIn(rng, 220, 420), base.trim().replace(/[.!?]*$/, '.'));
    // A few answers mention a far-future year, so the pipeline's future-date filter has something to drop.
    if (rng() < 0.05) answer += ' This arrangement is guaranteed until 2099.';
    const opening = pick(rng, [
      `What does the source say about ${topic}?`,
      `Can you explain ${topic}?`,
      `How does ${topic} work?`,
      `What should I know about ${topic}?`,
    ]);
    // As a person types it: often a reason to ask, then the question, about one sentence in all.
    const room = intIn(rng, 75, 145) - opening.length - 1;
    const reason = pick(rng, [
      "We're evaluating this for our store.",
      "I'm setting this up for a client.",
      'Quick one from our support team.',
      '',
    ]);
    const question = room > 20 ? `${prose(rng, wordsOf(base), room, reason)} ${opening}` : opening;
    if (topics.length > 0 && Array.isArray(item.categories))
      item.categories = pickDistinct(rng, topics, intIn(rng, 1, 2));
    pairs.push({ ...item, question, answer });
  }
  return pairs;
}

/**
 * A per-turn judge's verdicts: one per assistant turn the prompt announces, each mostly supported; an unsupported one
 * quotes a few words of the conversation as its claim. (A wrong count, which a real model now and then gives, is
 * scripted with `respond` where a test needs it: a random one would make call counts unpredictable.)
 */
function turnVerdicts(call: GenerateCall, rng: Rng): unknown[] {
  const announced = Number(
    /assistant turns to judge:\s*(\d+)/i.exec(call.prompt)?.[1] ?? call.prompt.match(/^ASSISTANT\b/gm)?.length ?? 1,
  );
  const conversation = call.prompt.slice(Math.max(0, call.prompt.search(/^CONVERSATION\b/m)));
  return Array.from({ length: announced }, (_, i) => {
    const supported = rng() < 0.93;
    return {
      turn: i + 1,
      supported,
      unsupported_claim: supported ? '' : sentence(quote(rng, wordsOf(conversation), 5, 10)),
    };
  });
}

/**
 * A yes/no rubric's answer as a real judge writes it: `feedback` of one or two sentences naming the failed criteria,
 * and (judgments) one issue per failed criterion, or often a minor one when all passed.
 */
function verdict(value: Record<string, unknown>, call: GenerateCall, rng: Rng): Record<string, unknown> {
  const words = wordsOf(call.prompt);
  const failed = Object.entries(value)
    .filter(([, v]) => v === false)
    .map(([k]) => k.replaceAll('_', ' '));
  const turns = Array.isArray(value.assistant_turns) ? (value.assistant_turns as Array<{ supported: boolean }>) : [];
  if (turns.some((t) => !t.supported)) failed.unshift('factually accurate');
  const lead = failed.length
    ? `Fails ${failed.join(' and ')}: the text does not fully hold up against the source.`
    : pick(rng, [
        'Passes every check: the content matches the source and reads naturally.',
        'All criteria are met and the facts match the source.',
      ]);
  const out: Record<string, unknown> = { ...value };
  if (typeof value.feedback === 'string')
    out.feedback = prose(
      rng,
      words,
      call.schemaName === 'judgment' ? intIn(rng, 140, 260) : intIn(rng, 110, 230),
      lead,
    );
  if (Array.isArray(value.issues)) {
    const minor = failed.length === 0 && rng() < 0.75 ? ['minor: could be more specific'] : [];
    out.issues = [...failed, ...minor].map((what) =>
      prose(rng, words, intIn(rng, 60, 120), `${what[0]!.toUpperCase()}${what.slice(1)} -`),
    );
  }
  return out;
}

/** The facts a domain-proposal prompt carries, between its `FACTS:` and `END OF FACTS` lines. */
function proposalFacts(prompt: string): string {
  return /^FACTS:\n([\s\S]*?)\n?END OF FACTS/m.exec(prompt)?.[1] ?? prompt;
}

const snake = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');

/** The company the facts are about: their title without "Company Facts", else their most frequent capitalised name. */
function companyName(facts: string): string {
  const title = /^#\s+(.+)$/m
    .exec(facts)?.[1]
    ?.replace(/\s*[—–:-]?\s*(?:company\s+)?facts\s*$/i, '')
    .trim();
  if (title) return title;
  const counts = new Map<string, number>();
  for (const m of facts.matchAll(/\b\p{Lu}[\p{L}&'’-]+(?:\s+\p{Lu}[\p{L}&'’-]+)+/gu))
    counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'The company';
}

/** A count within the array's minItems…maxItems, nearest to `wanted`. */
function countFor(root: any, property: string, wanted: number): number {
  const array = itemsOf(root, property)?.array;
  return Math.max(array?.minItems ?? 1, Math.min(array?.maxItems ?? wanted, wanted));
}

/**
 * A domain proposal as a careful model writes it, from the facts alone (any company's, never a built-in one): the
 * title's name, the first fact as description, the section headings (then frequent words) as topics, and personas and
 * system prompts in general roles, each quoting the facts.
 */
function domainProposal(call: GenerateCall, rng: Rng, root: any): Record<string, unknown> {
  const facts = proposalFacts(call.prompt);
  const name = companyName(facts);
  const lines = facts
    .split('\n')
    .map((l) =>
      l
        .replace(/^\s*(?:[*+-]|\d+[.)])\s+/, '')
        .replace(/\*\*/g, '')
        .trim(),
    )
    .filter((l) => l.length > 0 && !l.startsWith('#') && wordsOf(l).length >= 6);
  const description = (lines[0] ?? `${name} and what it offers.`).slice(0, 240);
  const topics: string[] = [];
  const add = (t: string) => t && t.length <= 40 && !topics.includes(t) && topics.push(t);
  for (const m of facts.matchAll(/^#{2,6}\s+(.+)$/gm)) add(snake(m[1]!));
  const frequent = new Map<string, number>();
  for (const w of wordsOf(lines.join(' ').toLowerCase()))
    if (w.length >= 6 && !STOP_WORDS.has(w) && !name.toLowerCase().includes(w))
      frequent.set(w, (frequent.get(w) ?? 0) + 1);
  for (const [w] of [...frequent].sort((a, b) => b[1] - a[1])) add(snake(w));
  const topicCount = countFor(root, 'topics', Math.min(10, topics.length));
  while (topics.length < topicCount) topics.push(`topic_${topics.length + 1}`);
  const chosen = topics.slice(0, topicCount);
  const words = (t: string) => t.replaceAll('_', ' ');
  const factAbout = () => quote(rng, wordsOf(pick(rng, lines.length ? lines : [description])), 3, 6);
  const roles = [
    'customer',
    'prospective_customer',
    'business_buyer',
    'specialist',
    'partner',
    'new_employee',
    'reseller',
    'reviewer',
  ];
  const formality = ['casual', 'neutral', 'formal', 'technical'];
  const personas = roles.slice(0, countFor(root, 'personas', 6)).map((role, i) => ({
    name: role,
    description: `A ${words(role)} asking ${name} about ${words(chosen[i % chosen.length]!)}`,
    typical_questions: [
      `What about ${factAbout()}?`,
      `How does ${factAbout()} work?`,
      `Is it true that ${factAbout()}?`,
    ],
    formality: formality[i % formality.length],
  }));
  const styles: Array<[string, string, string, string]> = [
    ['helpful', 'detailed', 'general', 'You give accurate, friendly and complete answers'],
    ['concise', 'concise', 'quick_reference', 'You give short, clear answers with only the key facts'],
    ['support', 'balanced', 'support', 'You help people solve problems step by step'],
    ['detailed', 'detailed', 'learning', 'You explain things fully, with context and examples'],
    ['sales', 'balanced', 'sales', 'You help potential customers see whether what is offered fits their needs'],
    ['formal', 'balanced', 'general', 'You answer in a formal, precise register'],
  ];
  const system_prompts = styles
    .slice(0, countFor(root, 'system_prompts', 4))
    .map(([style, verbosity, use_case, how]) => ({
      name: style,
      description: `${style} answers`,
      template: `You are ${name}'s assistant. ${how} about ${chosen.slice(0, 3).map(words).join(', ')} and everything else ${name} has written down.`,
      verbosity,
      use_case,
    }));
  return { name, description, personas, system_prompts, topics: chosen };
}

/**
 * The default answer for a generate call: a JSON value fabricated from the call's schema (with the named special
 * cases), `{answer}` in schema-less JSON mode, or plain text. Deterministic in (seed, call).
 */
export function defaultAnswer(call: GenerateCall, jsonMode: boolean, seed: number): unknown {
  const rng = makeRng(
    hashString(`${call.model}\u0000${call.system}\u0000${call.prompt}\u0000${call.schemaName ?? ''}`, seed),
  );
  const words = wordsOf(call.prompt);
  if (call.schema === undefined || call.schema === null) {
    const text = sentence(quote(rng, words, 6, 14));
    return jsonMode ? { answer: text } : text;
  }
  const root = call.schema;
  const value = fake(root, { rng, words, root, depth: 0 });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  if (call.schemaName === 'conversation') return { ...value, messages: conversationMessages(call, rng, root) };
  if (call.schemaName === 'judgment' && 'assistant_turns' in value)
    return verdict({ ...value, assistant_turns: turnVerdicts(call, rng) }, call, rng);
  if (call.schemaName === 'qa_validation' || call.schemaName === 'judgment')
    return verdict(value as Record<string, unknown>, call, rng);
  if (call.schemaName === 'qa_batch') return { ...value, qa_pairs: qaPairs(call, rng, root) };
  if (call.schemaName === 'domain_proposal') return domainProposal(call, rng, root);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Embeddings

// Function words carry little meaning; down-weighting them keeps unrelated sentences apart.
const STOP_WORDS = new Set(
  (
    'a an and any are as at be but by can could do does for from has have how i if in is it its me my of on or our so ' +
    'that the their them they this to was we what when where which who why will with would you your'
  ).split(' '),
);

/** Crude stemming, so "returns", "returned" and "return" count as one word, as they would for a real model. */
function stem(word: string): string {
  if (word.length <= 4) return word;
  return word.replace(/(?:ing|ed|es|s)$/, '');
}

// Real embedding models put any two texts of one language at some positive similarity. This share of each vector
// is one common direction: unrelated texts land near cosine 0.2, and one changed content word in ~16 stays ≥ 0.95.
const SHARED = 0.2;

/**
 * A deterministic unit vector for `text`: stemmed word unigrams (and, lightly, word bigrams) hashed with random signs
 * into `dim` buckets, plus the common direction. Case, punctuation, plural and stop-word changes barely move it.
 */
export function embedText(text: string, dim: number): number[] {
  const vec = new Float64Array(dim);
  const words = wordsOf(text.toLowerCase()).map(stem);
  const add = (feature: string, weight: number) => {
    const h = hashString(feature);
    const sign = hashString(feature, 0x9e3779b9) & 1 ? 1 : -1;
    vec[h % dim] += sign * weight;
  };
  for (let i = 0; i < words.length; i++) {
    add(words[i], STOP_WORDS.has(words[i]) ? 0.2 : 1);
    if (i > 0) add(`${words[i - 1]} ${words[i]}`, 0.15);
  }
  const norm = Math.hypot(...vec);
  const own = norm === 0 ? vec : vec.map((v) => (v / norm) * Math.sqrt(1 - SHARED));
  own[dim - 1] += Math.sqrt(SHARED);
  const total = Math.hypot(...own);
  return Array.from(own, (v) => v / total);
}

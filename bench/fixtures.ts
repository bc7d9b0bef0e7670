// Seeded stage-6 fixtures: clustered "embeddings" with planted near-duplicates, and realistic embedded JSONL rows around them.
import { closeSync, openSync, writeSync } from 'node:fs';
import { splitmix32State } from '../src/random.js';

/*
 * Geometry (why it looks like this): real text-embedding-3 vectors of one company's conversations are anisotropic
 * (a shared mean direction, so unrelated rows still sit around cos 0.3), clustered (topic → source fact → conversation)
 * and have a decaying spectrum. Each row is
 *     v = a·mean + H·D·(z_topic + z_family + z_own),   z_* ~ N(0, s_*² Λ),   Λ_j ∝ 1/(j + 5)
 * where H·D is a randomised Walsh–Hadamard transform, so the principal directions are NOT coordinate axes and no
 * method gets energy concentration for free. Planted duplicates are built with an exact cosine to their base row:
 * half clearly above the threshold, half within ±0.002 of it.
 */

export interface FixtureOptions {
  count: number;
  dim?: number;
  seed?: number;
  /** Share of rows that are planted near-copies of another row. */
  dupFraction?: number;
  threshold?: number;
  /** Half-width of the "at the threshold" band. */
  atBand?: number;
  passRate?: number;
}

export interface PlantedDuplicate {
  index: number;
  base: number;
  cosine: number;
  kind: 'clear' | 'at-threshold';
}

export interface FixtureRow {
  vector: Float64Array;
  passing: boolean;
  plant?: PlantedDuplicate;
  conversation: Conversation;
  judgment: Judgment;
  textPreview: string;
}

interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
// Shapes follow src/schemas.ts (EmbeddedConversation), so a fixture file also runs through 6_deduplicate.ts.
interface Conversation {
  messages: Message[];
  metadata: Record<string, string | number | string[] | number[]>;
  source_qa_pairs: Array<Record<string, string | string[]>>;
}
interface Judgment {
  factually_accurate: boolean;
  natural_conversation: boolean;
  on_topic: boolean;
  adds_value: boolean;
  overall_pass: boolean;
  feedback: string;
  issues: string[];
}

const TOPICS = 48;
const MEAN_FAMILY_SIZE = 10;
// Energy split (sums to 1 + MEAN_WEIGHT²): unrelated ≈ 0.30, same topic ≈ 0.50, same source fact ≈ 0.80.
const MEAN_WEIGHT = Math.sqrt(0.43);
const TOPIC_SCALE = Math.sqrt(0.29);
const FAMILY_SCALE = Math.sqrt(0.42);
const OWN_SCALE = Math.sqrt(0.29);

/** sfc32: small, fast, well-mixed; every stream is seeded through splitmix32 so rows are independent functions of (seed, index). */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number, stream = 0) {
    [this.a, this.b, this.c, this.d] = splitmix32State(seed ^ Math.imul(stream + 1, 0x9e3779b9));
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    const u = 1 - this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
}

/** Generates rows one at a time, each a pure function of (seed, index), so 100k rows never need to sit in memory. */
export class FixtureGenerator {
  readonly count: number;
  readonly dim: number;
  readonly seed: number;
  readonly threshold: number;
  private readonly dupFraction: number;
  private readonly atBand: number;
  private readonly passRate: number;
  private readonly pow2: number;
  private readonly sqrtLambda: Float64Array;
  private readonly signs: Float64Array;
  private readonly perm: Uint32Array;
  private readonly mean: Float64Array;
  private readonly topicCache = new Map<number, Float64Array>();
  private readonly familyCache = new Map<number, Float64Array>();
  private readonly families: number;
  private readonly scratch: Float64Array;

  constructor(opts: FixtureOptions) {
    this.count = opts.count;
    this.dim = opts.dim ?? 1024;
    this.seed = opts.seed ?? 1;
    this.dupFraction = opts.dupFraction ?? 0.2;
    this.threshold = opts.threshold ?? 0.95;
    this.atBand = opts.atBand ?? 0.002;
    this.passRate = opts.passRate ?? 0.85;
    this.families = Math.max(1, Math.round(this.count / MEAN_FAMILY_SIZE));
    let p = 1;
    while (p < this.dim) p *= 2;
    this.pow2 = p;
    this.scratch = new Float64Array(p);

    const rng = new Rng(this.seed, 0x5eed);
    this.sqrtLambda = new Float64Array(p);
    let total = 0;
    for (let j = 0; j < p; j++) total += 1 / (j + 5);
    for (let j = 0; j < p; j++) this.sqrtLambda[j] = Math.sqrt(1 / (j + 5) / total);
    this.signs = new Float64Array(p);
    for (let j = 0; j < p; j++) this.signs[j] = rng.next() < 0.5 ? -1 : 1;
    this.perm = new Uint32Array(this.dim);
    const all = Array.from({ length: p }, (_, j) => j);
    for (let j = p - 1; j > 0; j--) {
      const k = rng.int(j + 1);
      [all[j], all[k]] = [all[k], all[j]];
    }
    for (let j = 0; j < this.dim; j++) this.perm[j] = all[j];
    this.mean = new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) this.mean[j] = rng.normal();
    scaleToUnit(this.mean);
  }

  /** Whether row `index` is a planted duplicate, decided without generating the row. */
  private plantOf(index: number): PlantedDuplicate | undefined {
    const rng = new Rng(this.seed, 0x10000000 + index);
    if (index === 0 || rng.next() >= this.dupFraction) return undefined;
    let base = rng.int(this.count);
    // Bases are original rows so a duplicate can be rebuilt from its base alone; probing keeps it deterministic.
    for (let tries = 0; base === index || this.isPlanted(base); tries++) {
      base = (base + 1 + tries) % this.count;
    }
    const clear = rng.next() < 0.5;
    const cosine = clear
      ? 0.96 + rng.next() * 0.035
      : this.threshold - this.atBand + rng.next() * 2 * this.atBand;
    return { index, base, cosine, kind: clear ? 'clear' : 'at-threshold' };
  }

  private isPlanted(index: number): boolean {
    if (index === 0) return false;
    return new Rng(this.seed, 0x10000000 + index).next() < this.dupFraction;
  }

  private topicOf(family: number): number {
    return new Rng(this.seed, 0x20000000 + family).int(TOPICS);
  }

  private spectral(rng: Rng, scale: number): Float64Array {
    const z = this.scratch;
    for (let j = 0; j < this.pow2; j++) z[j] = rng.normal() * this.sqrtLambda[j] * this.signs[j] * scale;
    fwht(z);
    const out = new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) out[j] = z[this.perm[j]];
    return out;
  }

  private cached(cache: Map<number, Float64Array>, key: number, stream: number, scale: number): Float64Array {
    let v = cache.get(key);
    if (!v) {
      v = this.spectral(new Rng(this.seed, stream + key), scale);
      if (cache.size > 50_000) cache.clear();
      cache.set(key, v);
    }
    return v;
  }

  private originalVector(index: number): { vector: Float64Array; family: number; topic: number } {
    const rng = new Rng(this.seed, 0x40000000 + index);
    const family = rng.int(this.families);
    const topic = this.topicOf(family);
    const t = this.cached(this.topicCache, topic, 0x50000000, TOPIC_SCALE);
    const f = this.cached(this.familyCache, family, 0x60000000, FAMILY_SCALE);
    const own = this.spectral(rng, OWN_SCALE);
    const v = new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) v[j] = MEAN_WEIGHT * this.mean[j] + t[j] + f[j] + own[j];
    scaleToUnit(v);
    return { vector: v, family, topic };
  }

  row(index: number): FixtureRow {
    const plant = this.plantOf(index);
    const rng = new Rng(this.seed, 0x70000000 + index);
    const passing = rng.next() < this.passRate;
    let vector: Float64Array;
    let family: number;
    let topic: number;
    let conversation: Conversation;
    if (plant) {
      const base = this.originalVector(plant.base);
      family = base.family;
      topic = base.topic;
      // v = c·b + √(1−c²)·w with w ⟂ b, so cos(v, b) = c up to rounding.
      const w = this.spectral(rng, 1);
      const b = base.vector;
      let d = 0;
      for (let j = 0; j < this.dim; j++) d += w[j] * b[j];
      for (let j = 0; j < this.dim; j++) w[j] -= d * b[j];
      scaleToUnit(w);
      const s = Math.sqrt(1 - plant.cosine * plant.cosine);
      vector = new Float64Array(this.dim);
      for (let j = 0; j < this.dim; j++) vector[j] = plant.cosine * b[j] + s * w[j];
      const baseConv = buildConversation(new Rng(this.seed, 0x30000000 + plant.base), plant.base, family, topic);
      conversation = perturbConversation(baseConv, rng, index, plant.kind === 'clear' ? 0.02 : 0.08);
    } else {
      ({ vector, family, topic } = this.originalVector(index));
      conversation = buildConversation(new Rng(this.seed, 0x30000000 + index), index, family, topic);
    }
    const judgment = buildJudgment(rng, passing);
    const textPreview = conversation.messages
      .filter((m) => m.role !== 'system')
      .map((m) => m.content)
      .join(' ')
      .slice(0, 200);
    return { vector, passing, plant, conversation, judgment, textPreview };
  }
}

function scaleToUnit(v: Float64Array): void {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j] * v[j];
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < v.length; j++) v[j] *= inv;
}

/** In-place orthonormal fast Walsh–Hadamard transform. */
function fwht(a: Float64Array): void {
  const n = a.length;
  for (let h = 1; h < n; h *= 2) {
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const x = a[j];
        const y = a[j + h];
        a[j] = x + y;
        a[j + h] = x - y;
      }
    }
  }
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < n; i++) a[i] *= s;
}

/** In-memory fixture for tests and the in-process parts of the bench. */
export function generateFixture(opts: FixtureOptions): {
  vectors: Float32Array;
  dim: number;
  count: number;
  passing: Uint8Array;
  plants: PlantedDuplicate[];
  texts: string[];
} {
  const gen = new FixtureGenerator(opts);
  const vectors = new Float32Array(gen.count * gen.dim);
  const passing = new Uint8Array(gen.count);
  const plants: PlantedDuplicate[] = [];
  const texts: string[] = [];
  for (let i = 0; i < gen.count; i++) {
    const row = gen.row(i);
    vectors.set(row.vector, i * gen.dim);
    passing[i] = row.passing ? 1 : 0;
    if (row.plant) plants.push(row.plant);
    texts.push(conversationText(row.conversation));
  }
  return { vectors, dim: gen.dim, count: gen.count, passing, plants, texts };
}

export function conversationText(c: { messages: Message[] }): string {
  return c.messages
    .filter((m) => m.role !== 'system')
    .map((m) => m.content)
    .join('\n');
}

/**
 * Writes `count` rows of `{"conversation","judgment","embedding","text_preview"}` JSONL. Floats get 9 decimals
 * (≈ 13 bytes each), which puts 100k × 1024 dims at about 1.4 GB, like the Python pipeline's files.
 */
export function writeEmbeddedJsonl(path: string, opts: FixtureOptions): { bytes: number; plants: PlantedDuplicate[] } {
  const gen = new FixtureGenerator(opts);
  const fd = openSync(path, 'w');
  const buf = Buffer.allocUnsafe(32 << 20);
  let pos = 0;
  let bytes = 0;
  const plants: PlantedDuplicate[] = [];
  const flush = (): void => {
    let off = 0;
    while (off < pos) off += writeSync(fd, buf, off, pos - off);
    bytes += pos;
    pos = 0;
  };
  try {
    for (let i = 0; i < gen.count; i++) {
      const row = gen.row(i);
      if (row.plant) plants.push(row.plant);
      if (pos > buf.length - (1 << 20)) flush();
      pos += buf.write(
        `{"conversation":${JSON.stringify(row.conversation)},"judgment":${JSON.stringify(row.judgment)},"embedding":[`,
        pos,
        'utf8',
      );
      pos = writeFloats(buf, pos, row.vector);
      pos += buf.write(`],"text_preview":${JSON.stringify(row.textPreview)}}\n`, pos, 'utf8');
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { bytes, plants };
}

/** Writes comma-separated numbers with up to 9 decimals as ASCII; ~20× faster than toFixed for 10⁸ floats. */
function writeFloats(buf: Buffer, pos: number, v: Float64Array): number {
  for (let j = 0; j < v.length; j++) {
    if (j > 0) buf[pos++] = 44; // ','
    let q = Math.round(v[j] * 1e9);
    if (q === 0) {
      buf[pos++] = 48;
      continue;
    }
    if (q < 0) {
      buf[pos++] = 45; // '-'
      q = -q;
    }
    const intPart = Math.floor(q / 1e9);
    let frac = q - intPart * 1e9;
    buf[pos++] = 48 + intPart;
    if (frac === 0) continue;
    buf[pos++] = 46; // '.'
    let digits = 9;
    while (frac % 10 === 0) {
      frac /= 10;
      digits--;
    }
    for (let d = digits - 1; d >= 0; d--) {
      buf[pos + d] = 48 + (frac % 10);
      frac = Math.floor(frac / 10);
    }
    pos += digits;
  }
  return pos;
}

// ---- text: conversations built from per-topic vocabularies so families share facts and copies share wording ----

const GENERAL = (
  'the a to and of for in on with your our this that it is are can will be we you they at from by as ' +
  'customers order shipping returns account team support platform merchants store checkout payment'
).split(' ');
const TOPIC_WORDS = Array.from({ length: TOPICS }, (_, t) =>
  Array.from({ length: 24 }, (_, k) => `${['cross', 'tax', 'duty', 'parcel', 'label', 'carrier', 'refund', 'api'][k % 8]}${t}x${k}`),
);
const PERSONAS = ['small business owner', 'logistics manager', 'developer', 'finance lead', 'first-time seller', 'analyst'];
const STYLES = ['formal', 'casual', 'technical'];
const EMOTIONS = ['professional', 'happy', 'frustrated', 'impatient', 'confused'];
const MODALITIES = ['standard', 'typed_on_phone', 'voice_dictated'];
const DIFFICULTIES = ['basic', 'intermediate', 'advanced'];
const SYSTEMS = [
  'You are a helpful assistant for SWAP Commerce. Answer using only company facts.',
  'You are SWAP support. Be accurate, brief and friendly.',
  'You help merchants understand SWAP Commerce products and policies.',
];

function sentence(rng: Rng, topic: number, factWords: string[], length: number): string {
  const words: string[] = [];
  for (let i = 0; i < length; i++) {
    const r = rng.next();
    words.push(r < 0.35 ? rng.pick(factWords) : r < 0.55 ? rng.pick(TOPIC_WORDS[topic]) : rng.pick(GENERAL));
  }
  // Model-written text is rarely pure ASCII; some sentences get typographic punctuation.
  const r = rng.next();
  const s = words.join(' ') + (r < 0.05 ? ' — that’s it' : r < 0.08 ? ' “as noted”' : '');
  return s[0].toUpperCase() + s.slice(1) + '.';
}

function buildConversation(rng: Rng, index: number, family: number, topic: number): Conversation {
  const factRng = new Rng(0xfac7, family);
  const factWords = Array.from({ length: 10 }, () => factRng.pick(TOPIC_WORDS[topic]) + factRng.pick(['', 's', 'ed']));
  const difficulty = factRng.pick(DIFFICULTIES);
  const qa = {
    question: sentence(factRng, topic, factWords, 10).replace(/\.$/, '?'),
    answer: sentence(factRng, topic, factWords, 16),
    source_text: `${sentence(factRng, topic, factWords, 24)} ${sentence(factRng, topic, factWords, 20)}`,
    context_before: '',
    context_after: '',
    difficulty,
    categories: [`topic-${topic}`],
  };
  const turns = 2 + rng.int(3);
  const system = rng.pick(SYSTEMS);
  const messages: Message[] = [{ role: 'system', content: system }];
  for (let t = 0; t < turns; t++) {
    messages.push({ role: 'user', content: sentence(rng, topic, factWords, 8 + rng.int(12)) });
    const parts = 1 + rng.int(3);
    const answer = Array.from({ length: parts }, () => sentence(rng, topic, factWords, 10 + rng.int(14))).join(' ');
    messages.push({ role: 'assistant', content: answer });
  }
  void index;
  return {
    messages,
    metadata: {
      num_turns: turns,
      style: rng.pick(STYLES),
      user_persona: rng.pick(PERSONAS),
      user_emotion: rng.pick(EMOTIONS),
      input_modality: rng.pick(MODALITIES),
      text_variation: 'standard',
      source_qa_ids: [family],
      difficulty,
      categories: [`topic-${topic}`],
      system_prompt: system,
    },
    source_qa_pairs: [qa],
  };
}

function perturbConversation(base: Conversation, rng: Rng, index: number, rate: number): Conversation {
  const messages = base.messages.map((m) =>
    m.role === 'system'
      ? m
      : {
          role: m.role,
          content: m.content
            .split(' ')
            .map((w) => (rng.next() < rate ? rng.pick(GENERAL) : w))
            .join(' '),
        },
  );
  void index;
  return { messages, metadata: { ...base.metadata }, source_qa_pairs: base.source_qa_pairs };
}

function buildJudgment(rng: Rng, pass: boolean): Judgment {
  const flags = {
    factually_accurate: true,
    natural_conversation: true,
    on_topic: true,
    adds_value: true,
  };
  const issues: string[] = [];
  if (!pass) {
    const keys = Object.keys(flags) as (keyof typeof flags)[];
    const failed = rng.pick(keys);
    flags[failed] = false;
    issues.push(`${failed.replace(/_/g, ' ')}: see the second assistant turn`);
  }
  return {
    ...flags,
    overall_pass: pass,
    feedback: pass
      ? 'All assistant turns are grounded in the provided facts and the dialogue reads naturally.'
      : 'At least one check failed; see the issues.',
    issues,
  };
}

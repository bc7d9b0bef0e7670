// Seeded stage-6 fixtures: clustered or isotropic "embeddings" with planted near-duplicates, and realistic embedded JSONL rows around them.
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  buildConversation,
  buildJudgment,
  perturbConversation,
  TOPICS,
  type Conversation,
  type Judgment,
  type Message,
} from './fixture_text.js';
import { embedText } from '../tests/support/fake_answers.js';
import { Rng } from './rng.js';

export { Rng } from './rng.js';

/*
 * Geometry (why it looks like this): real text-embedding-3 vectors of one company's conversations are anisotropic
 * (a shared mean direction, so unrelated rows still sit around cos 0.3), clustered (topic → source fact → conversation)
 * and have a decaying spectrum. Each row is
 *     v = a·mean + H·D·(z_topic + z_family + z_own),   z_* ~ N(0, s_*² Λ),   Λ_j ∝ 1/(j + 5)
 * where H·D is a randomised Walsh–Hadamard transform, so the principal directions are NOT coordinate axes and no
 * method gets energy concentration for free. Planted duplicates are built with an exact cosine to their base row:
 * half clearly above the threshold, half within ±0.002 of it.
 *
 * The text geometry is what the end-to-end run against the tests' imitation produces: each row's own conversation
 * text embedded by the imitation's model (tests/support/fake_answers.ts embedText), so a planted copy is only as
 * close to its base as its perturbed words make it. Its energy is spread over the hashed buckets, not a few
 * principal directions, and rows of one topic share words: more pairs reach the full dot than on either other.
 *
 * The isotropic geometry is the worst case for stage 6's principal-prefix bounds: unit vectors drawn from a standard
 * normal (no shared direction, a flat spectrum, unrelated rows at cos ~ ±0.03), with planted copies half at
 * cos 0.985–0.995 and half at 0.93–0.97 (around the 0.95 threshold, but wider than the clustered band).
 */

export type Geometry = 'clustered' | 'isotropic' | 'text' | 'cone';

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
  /**
   * 'clustered' (default): embedding-like; 'isotropic': standard-normal directions; 'text': each row's conversation
   * embedded as the tests' imitation embeds text (hashed words and bigrams plus one shared direction).
   */
  geometry?: Geometry;
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

const MEAN_FAMILY_SIZE = 10;
/** The cone geometry's cosine between unrelated rows: just below the 0.95 threshold, so no bound has room. */
const CONE_COSINE = 0.9;
// Energy split (sums to 1 + MEAN_WEIGHT²): unrelated ≈ 0.30, same topic ≈ 0.50, same source fact ≈ 0.80.
const MEAN_WEIGHT = Math.sqrt(0.43);
const TOPIC_SCALE = Math.sqrt(0.29);
const FAMILY_SCALE = Math.sqrt(0.42);
const OWN_SCALE = Math.sqrt(0.29);

/** Generates rows one at a time, each a pure function of (seed, index), so 100k rows never need to sit in memory. */
export class FixtureGenerator {
  readonly count: number;
  readonly dim: number;
  readonly seed: number;
  readonly threshold: number;
  private readonly dupFraction: number;
  private readonly atBand: number;
  private readonly passRate: number;
  private readonly isotropic: boolean;
  private readonly cone: boolean;
  private readonly textDerived: boolean;
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
    this.cone = opts.geometry === 'cone';
    this.isotropic = opts.geometry === 'isotropic' || this.cone;
    this.textDerived = opts.geometry === 'text';
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
    const cosine = this.isotropic
      ? clear
        ? 0.985 + rng.next() * 0.01
        : 0.93 + rng.next() * 0.04
      : clear
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
    const v = new Float64Array(this.dim);
    if (this.cone) {
      // Every row at cos ≈ CONE_COSINE from every other: one shared direction plus an isotropic residual.
      const r = Math.sqrt((1 - CONE_COSINE) / this.dim);
      const m = Math.sqrt(CONE_COSINE);
      for (let j = 0; j < this.dim; j++) v[j] = m * this.mean[j] + r * rng.normal();
    } else if (this.isotropic) {
      for (let j = 0; j < this.dim; j++) v[j] = rng.normal();
    } else {
      const t = this.cached(this.topicCache, topic, 0x50000000, TOPIC_SCALE);
      const f = this.cached(this.familyCache, family, 0x60000000, FAMILY_SCALE);
      const own = this.spectral(rng, OWN_SCALE);
      for (let j = 0; j < this.dim; j++) v[j] = MEAN_WEIGHT * this.mean[j] + t[j] + f[j] + own[j];
    }
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
    // A plant's base conversation, which the text geometry embeds too.
    let baseConv: Conversation | undefined;
    if (plant) {
      const base = this.originalVector(plant.base);
      family = base.family;
      topic = base.topic;
      // v = c·b + √(1−c²)·w with w ⟂ b, so cos(v, b) = c up to rounding.
      const w = this.isotropic ? Float64Array.from({ length: this.dim }, () => rng.normal()) : this.spectral(rng, 1);
      const b = base.vector;
      let d = 0;
      for (let j = 0; j < this.dim; j++) d += w[j] * b[j];
      for (let j = 0; j < this.dim; j++) w[j] -= d * b[j];
      scaleToUnit(w);
      const s = Math.sqrt(1 - plant.cosine * plant.cosine);
      vector = new Float64Array(this.dim);
      for (let j = 0; j < this.dim; j++) vector[j] = plant.cosine * b[j] + s * w[j];
      baseConv = buildConversation(new Rng(this.seed, 0x30000000 + plant.base), plant.base, family, topic);
      conversation = perturbConversation(baseConv, rng, index, plant.kind === 'clear' ? 0.02 : 0.08);
    } else {
      ({ vector, family, topic } = this.originalVector(index));
      conversation = buildConversation(new Rng(this.seed, 0x30000000 + index), index, family, topic);
    }
    if (this.textDerived) {
      const own = Float64Array.from(embedText(conversationText(conversation), this.dim));
      if (plant && baseConv) {
        // The base's own text vector, for the cosine the plant really has.
        const baseText = embedText(conversationText(baseConv), this.dim);
        let c = 0;
        for (let j = 0; j < this.dim; j++) c += own[j] * baseText[j]!;
        plant.cosine = c;
      }
      vector = own;
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

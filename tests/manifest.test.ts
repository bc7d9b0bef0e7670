// The manifest each LLM stage writes next to its artifact, checked against what the imitation server saw and billed.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync as readText } from 'node:fs';
import { chunkMarkdown } from '../src/chunking.js';
import { STAGES } from '../src/config.js';
import { DEFAULT_PRICES } from '../src/pricing.js';
import { startImitation, type GenerateCall, type Imitation, type RecordedRequest } from './support/imitation_server.js';
import { manifest, readRows, setEnv, stage } from './support/run_stages.js';

const CHUNKS = chunkMarkdown(readText('data/swap_facts.md', 'utf8')).slice(0, 5);
const sourceOf = (i: number) => `Source text:\n${CHUNKS[i]!.source_text}\n`;

// Every LLM stage gets one poisoned item (its answer is never JSON, so it fails after LLM_MAX_ATTEMPTS tries) and
// random cut-off answers (retried), so the manifest has failures and retries to account for.
let poisoned: (call: GenerateCall) => boolean = () => false;
const FUTURE_PAIRS = {
  qa_pairs: [
    {
      question: 'Will the returns portal still exist then?',
      answer: 'Swap guarantees the returns portal until 2099.',
      difficulty: 'basic',
      categories: ['returns'],
    },
    {
      question: 'What is planned for the dashboard?',
      answer: 'A new dashboard ships in 2031.',
      difficulty: 'basic',
      categories: ['features'],
    },
    {
      question: 'How many countries does Swap Returns cover?',
      answer: 'Swap says it offers localised return options in more than 40 countries.',
      difficulty: 'basic',
      categories: ['returns'],
    },
  ],
};

/** A retried request's prompt is the original plus why the last answer was rejected. */
const originalPrompt = (call: GenerateCall) => call.prompt.split('\n\nYOUR PREVIOUS ANSWER WAS REJECTED')[0];

let imitation: Imitation;
const dir = mkdtempSync(join(tmpdir(), 'manifest-'));

interface StageRecord {
  meta: any;
  requests: RecordedRequest[];
  started: number;
  ended: number;
  code: number;
}
const ran: Record<string, StageRecord> = {};

async function record(name: keyof typeof stage, artifact: string): Promise<void> {
  const before = imitation.requests.length;
  const started = Date.now();
  const code = await stage[name](dir, ['--max-failure-rate', '1']);
  const ended = Date.now();
  ran[name] = { meta: manifest(dir, artifact), requests: imitation.requests.slice(before), started, ended, code };
}

beforeAll(async () => {
  imitation = await startImitation({
    seed: 11,
    faults: { rateTruncated: 0.12 },
    respond: (call) => {
      if (poisoned(call)) return 'Sorry, I cannot answer in JSON today.';
      // The third chunk's answer has two pairs about the future, which stage 1 must drop and say why.
      if (call.schemaName === 'qa_batch' && call.prompt.includes(sourceOf(2))) return FUTURE_PAIRS;
      return undefined;
    },
  });
  setEnv({
    GOOGLE_API_KEY: 'test-google-key',
    GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl,
    LLM_PROVIDER: 'gemini',
    LLM_MAX_ATTEMPTS: '3',
  });

  poisoned = (call) => call.schemaName === 'qa_batch' && call.prompt.includes(sourceOf(1));
  await record('extract', 'qa_pairs.jsonl');
  const firstPair = readRows(join(dir, 'qa_pairs.jsonl'))[0];
  poisoned = (call) => call.schemaName === 'qa_validation' && call.prompt.includes(`Question: ${firstPair.question}\n`);
  await record('validate', 'qa_pairs_validated.jsonl');
  // A Q&A pair is in several conversations: poison the first conversation asked for (its retries repeat its prompt).
  let first: string | undefined;
  poisoned = (call) => call.schemaName === 'conversation' && (first ??= originalPrompt(call)) === originalPrompt(call);
  await record('generate', 'conversations_raw.jsonl');
  const firstUser = readRows(join(dir, 'conversations_raw.jsonl'))[0].messages[1].content;
  poisoned = (call) => call.schemaName === 'judgment' && call.prompt.includes(firstUser);
  await record('judge', 'conversations_judged.jsonl');
});

afterAll(async () => {
  await imitation.close();
});

const CASES = [
  {
    name: 'extract',
    stage: 'extract_qa',
    model: STAGES.extract.model,
    defaults: STAGES.extract,
    artifact: 'qa_pairs.jsonl',
    tasks: () => CHUNKS.length,
    unitsPerTask: 3,
  },
  {
    name: 'validate',
    stage: 'validate_qa',
    model: STAGES.validate.model,
    defaults: STAGES.validate,
    artifact: 'qa_pairs_validated.jsonl',
    tasks: () => readRows(join(dir, 'qa_pairs.jsonl')).length,
    unitsPerTask: 1,
  },
  {
    name: 'generate',
    stage: 'generate_conversations',
    model: STAGES.generate.model,
    defaults: STAGES.generate,
    artifact: 'conversations_raw.jsonl',
    tasks: () => ran.generate!.meta.settings.target,
    unitsPerTask: 1,
  },
  {
    name: 'judge',
    stage: 'judge',
    model: STAGES.judge.model,
    defaults: STAGES.judge,
    artifact: 'conversations_judged.jsonl',
    tasks: () => readRows(join(dir, 'conversations_raw.jsonl')).length,
    unitsPerTask: 1,
  },
] as const;

describe.each(CASES)('$stage manifest', (c) => {
  const r = () => ran[c.name]!;
  const modelCalls = () => r().requests.filter((q) => q.path === `/v1beta/models/${c.model}:generateContent`);

  it('exits 0 within --max-failure-rate and names the stage, its model and its settings', () => {
    expect(r().code).toBe(0);
    const { meta } = r();
    expect(meta.stage).toBe(c.stage);
    // The requested name (an alias by default) and every concrete version the service said answered it.
    const versions = Object.keys(meta.models_used?.[c.model] ?? {});
    expect(versions.length).toBeGreaterThan(0);
    expect(versions).not.toContain(c.model);
    expect(meta.models).toEqual([c.model, ...versions]);
    expect(meta.settings).toMatchObject({
      provider: 'gemini',
      model: c.model,
      mode: 'interactive',
      temperature: c.defaults.temperature,
      concurrency: c.defaults.concurrency,
    });
    expect(meta.outputs[0]).toBe(join(dir, c.artifact));
  });

  it('counts read = written + filtered (by reason) + failed, with the failure in the errors file', () => {
    const { meta } = r();
    const written = readRows(join(dir, c.artifact)).length;
    const filtered = Object.values(meta.counts.filtered as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(meta.counts.read).toBe(c.tasks() * c.unitsPerTask);
    expect(meta.counts.written).toBe(written);
    expect(meta.counts.written + filtered + meta.counts.failed).toBe(meta.counts.read);
    const errors = readFileSync(meta.errors_file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(meta.counts.failed).toBe(errors.length * c.unitsPerTask);
    // The poisoned answer is never JSON; a random cut-off may hit its last attempt too.
    for (const e of errors) {
      expect(e).toMatchObject({ stage: c.stage, attempts: 3 });
      expect(['not_json', 'truncated']).toContain(e.error_class);
    }
  });

  it('sends an explicit thinking config on every generate request: one of thinkingLevel and thinkingBudget, never both', () => {
    const calls = modelCalls();
    expect(calls.length).toBeGreaterThan(0);
    for (const q of calls) {
      const config = q.body.generationConfig?.thinkingConfig ?? {};
      expect(Object.keys(config).filter((k) => k === 'thinkingLevel' || k === 'thinkingBudget')).toHaveLength(1);
    }
  });

  it('records retries: every model request beyond the first of each item', () => {
    const { meta } = r();
    expect(meta.counts.retries).toBe(modelCalls().length - c.tasks());
    expect(meta.counts.retries).toBeGreaterThan(0);
  });

  it('records as tokens the usage the imitation reported for every request of the stage, failed and retried ones included', () => {
    const { meta } = r();
    const calls = modelCalls();
    expect(calls.every((q) => q.status === 200 && q.usage)).toBe(true);
    const input = calls.reduce((n, q) => n + q.usage!.input, 0);
    const output = calls.reduce((n, q) => n + q.usage!.output, 0);
    expect(meta.usage).toMatchObject({ calls: calls.length, inputTokens: input, outputTokens: output });
    // Billed by the concrete version the service said answered (an alias is not a price).
    const billed = Object.keys(meta.usage.by_model);
    expect(billed).toEqual(Object.keys(meta.models_used[c.model]));
    expect(meta.usage.by_model[billed[0]!]).toMatchObject({
      calls: calls.length,
      inputTokens: input,
      outputTokens: output,
    });
    expect(meta.usage.unpriced_models).toEqual([]);
  });

  it('prices the tokens with the price table', () => {
    const { meta } = r();
    const [version] = Object.keys(meta.usage.by_model);
    const price = DEFAULT_PRICES[version!]!;
    const cached = meta.usage.cachedInputTokens ?? 0;
    const expected =
      ((meta.usage.inputTokens - cached) * price.input +
        cached * (price.cached ?? price.input) +
        meta.usage.outputTokens * price.output) /
      1e6;
    expect(meta.usage.costUsd).toBeCloseTo(expected, 12);
    expect(meta.usage.costUsd).toBeGreaterThan(0);
  });

  it('records when it started and how long it took', () => {
    const { meta, started, ended } = r();
    const at = Date.parse(meta.started_at);
    expect(at).toBeGreaterThanOrEqual(started);
    expect(at).toBeLessThanOrEqual(ended);
    expect(meta.duration_s).toBeGreaterThanOrEqual(0);
    expect(meta.duration_s).toBeLessThanOrEqual((ended - at) / 1000 + 0.05);
  });
});

describe('stage-specific manifest content', () => {
  it('extract_qa: the settings of the slice, and the pairs dropped for naming a future year', () => {
    const { meta } = ran.extract!;
    expect(meta.settings).toMatchObject({ chunks: 5, limit: 5, as_of_year: 2026 });
    expect(meta.counts.filtered.future_year).toBeGreaterThanOrEqual(2);
    const questions = readRows(join(dir, 'qa_pairs.jsonl')).map((p) => p.question);
    expect(questions).not.toContain(FUTURE_PAIRS.qa_pairs[0]!.question);
    expect(questions).not.toContain(FUTURE_PAIRS.qa_pairs[1]!.question);
    expect(questions).toContain(FUTURE_PAIRS.qa_pairs[2]!.question);
  });

  it('validate_qa and judge: pass rates and how many passed', () => {
    expect(ran.validate!.meta.passed).toBe(readRows(join(dir, 'qa_pairs_validated_passed.jsonl')).length);
    expect(Object.keys(ran.validate!.meta.pass_rates)).toEqual(
      expect.arrayContaining(['uses_source_fact', 'realistic_question', 'sensible_answer', 'passed']),
    );
    expect(ran.judge!.meta.passing).toBe(
      readRows(join(dir, 'conversations_judged.jsonl')).filter((j) => j.judgment.overall_pass).length,
    );
  });

  it('generate_conversations: seed, requested and target', () => {
    expect(ran.generate!.meta.settings).toMatchObject({ seed: 42, requested: 8, target: 8 });
  });
});

// End to end: all seven stages through the real SDKs against the local imitation of both APIs.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trialRun, FLAGS } from '../trial_run.js';
import { parseFlags } from '../src/cli.js';
import type { z } from 'zod';
import { ARTIFACTS, artifactPaths, type ArtifactName } from '../src/pipeline.js';
import { SWAP_DOMAIN } from '../src/domain.js';
import { startImitation, type Imitation } from './support/imitation_server.js';

let imitation: Imitation;

function rows<T>(file: string, parse: (v: unknown) => T): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => parse(JSON.parse(line)));
}

function trial(args: string[]) {
  return trialRun(parseFlags([...args, '--quiet'], FLAGS, '')!);
}

/** The text of every generate request the imitation received whose output schema has this name. */
function promptsFor(schema: string): string[] {
  return imitation.requests
    .filter(
      (r) => r.path.includes(':generateContent') && r.body?.generationConfig?.responseJsonSchema?.title === schema,
    )
    .map((r) => `${r.body.systemInstruction?.parts?.[0]?.text ?? ''}\n${r.body.contents[0].parts[0].text}`);
}

beforeAll(async () => {
  imitation = await startImitation({ seed: 7 });
  process.env.GOOGLE_GEMINI_BASE_URL = imitation.geminiBaseUrl;
  process.env.OPENAI_BASE_URL = imitation.openaiBaseUrl;
  process.env.GOOGLE_API_KEY = 'test-google-key';
  process.env.OPENAI_API_KEY = 'sk-test-openai-key';
  process.env.LLM_BACKOFF_MS = '5';
});

afterAll(async () => {
  await imitation.close();
});

describe('the seven stages on SWAP facts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-'));
  const paths = artifactPaths('trial_', dir);
  let code: number;
  /** The rows of artifact `name`, each parsed with the schema the pipeline table gives that artifact. */
  const read = <N extends ArtifactName>(name: N) =>
    rows(paths[name], (v) => ARTIFACTS[name].schema.parse(v) as z.infer<(typeof ARTIFACTS)[N]['schema']>);

  beforeAll(async () => {
    code = await trial(['--chunks', '8', '--num-conversations', '60', '--output-dir', dir]);
  });

  it('finishes with exit code 0', () => {
    expect(code).toBe(0);
  });

  it('writes Q&A pairs grounded in the chunk text set by code, 3 per chunk minus future years', () => {
    const pairs = read('qaPairs');
    const meta = JSON.parse(readFileSync(paths.qaPairs.replace('.jsonl', '.meta.json'), 'utf8'));
    expect(meta.counts.read).toBe(24);
    expect(pairs.length + (meta.counts.filtered.future_year ?? 0) + meta.counts.failed).toBe(24);
    for (const p of pairs) expect(readFileSync('data/swap_facts.md', 'utf8')).toContain(p.source_text);
    for (const p of pairs) expect(`${p.question} ${p.answer}`).not.toMatch(/\b20(2[7-9]|[3-9]\d)\b/);
  });

  it('validates every pair and computes passed from the three booleans', () => {
    const pairs = read('qaPairs');
    const validated = read('qaValidated');
    const passed = read('qaPassed');
    expect(validated).toHaveLength(pairs.length);
    for (const v of validated)
      expect(v.validation.passed).toBe(
        v.validation.uses_source_fact && v.validation.realistic_question && v.validation.sensible_answer,
      );
    expect(passed).toEqual(validated.filter((v) => v.validation.passed).map((v) => v.qa_pair));
  });

  it('generates min(requested, 10 × passing pairs) conversations with correct roles and sampled metadata', () => {
    const passed = read('qaPassed');
    const conversations = read('conversationsRaw');
    expect(conversations).toHaveLength(Math.min(60, 10 * passed.length));
    for (const c of conversations) {
      const template = SWAP_DOMAIN.systemPrompts.find((s) => s.name === c.metadata.system_prompt)!;
      expect(c.messages[0]).toEqual({ role: 'system', content: template.template });
      const rest = c.messages.slice(1);
      expect(rest.map((m) => m.role)).toEqual(
        Array.from({ length: 2 * c.metadata.num_turns }, (_, i) => (i % 2 ? 'assistant' : 'user')),
      );
      expect(c.source_qa_pairs).toHaveLength(c.metadata.num_turns);
      expect(c.source_qa_pairs).toEqual(c.metadata.source_qa_ids.map((i) => passed[i]));
      if (c.metadata.text_variation === 'all_lowercase')
        for (const m of rest.filter((m) => m.role === 'user')) expect(m.content).toBe(m.content.toLowerCase());
    }
  });

  it('puts every sampled dimension into the conversation prompts', () => {
    const prompts = promptsFor('conversation');
    const conversations = read('conversationsRaw');
    expect(prompts.length).toBeGreaterThanOrEqual(conversations.length);
    for (const c of conversations) {
      const m = c.metadata;
      const persona = SWAP_DOMAIN.personas.find((p) => p.name === m.user_persona)!;
      const match = prompts.find(
        (p) =>
          p.includes(`Number of turns: ${m.num_turns} `) &&
          p.includes(`Conversation style: ${m.style} `) &&
          p.includes(`User persona: ${m.user_persona} — ${persona.description}`) &&
          p.includes(`User emotion: ${m.user_emotion} `) &&
          p.includes(`Input modality: ${m.input_modality} `) &&
          p.includes(`Text variation of user messages: ${m.text_variation} `) &&
          c.source_qa_pairs.every((qa) => p.includes(`Q: ${qa.question}`)),
      );
      expect(match, `no prompt carries the sample of ${JSON.stringify(m)}`).toBeDefined();
    }
  });

  it('judges every conversation, computes overall_pass, and keeps only passing ones in the final set', () => {
    const conversations = read('conversationsRaw');
    const judged = read('conversationsJudged');
    expect(judged).toHaveLength(conversations.length);
    for (const j of judged) {
      const { factually_accurate, natural_conversation, on_topic, adds_value } = j.judgment;
      expect(j.judgment.overall_pass).toBe(factually_accurate && natural_conversation && on_topic && adds_value);
    }
    const embedded = read('conversationsEmbedded');
    expect(embedded).toHaveLength(judged.length);
    for (const e of embedded) {
      expect(e.embedding).toHaveLength(1024);
      expect(Math.hypot(...e.embedding)).toBeCloseTo(1, 3);
      expect(e.text_preview.length).toBeLessThanOrEqual(200);
    }
    const deduplicated = read('conversationsDeduplicated');
    expect(deduplicated.length).toBeLessThanOrEqual(embedded.length);
    for (const d of deduplicated) expect(d).not.toHaveProperty('embedding');
    const final = read('conversationsFinal');
    const passingKept = deduplicated.filter((d) => d.judgment.overall_pass);
    expect(final).toEqual(passingKept.slice(0, 1000).map((d) => ({ messages: d.conversation.messages })));
  });

  it('writes a manifest for every stage whose counts balance', () => {
    for (const file of Object.values(paths)) {
      if (file.endsWith('_passed.jsonl')) continue;
      const meta = JSON.parse(readFileSync(file.replace(/\.jsonl$/, '.meta.json'), 'utf8'));
      const filtered = Object.values(meta.counts.filtered as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(meta.counts.written + filtered + meta.counts.failed, `${file}`).toBe(meta.counts.read);
    }
  });
});

describe('another company', () => {
  it('sends no prompt that mentions SWAP when run with a foreign facts and domain file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acme-'));
    const before = imitation.requests.length;
    const code = await trial([
      '--facts',
      'tests/fixtures/acme_facts.md',
      '--domain',
      'tests/fixtures/acme_domain.json',
      '--chunks',
      '5',
      '--num-conversations',
      '20',
      '--output-dir',
      dir,
    ]);
    expect(code).toBe(0);
    const sent = imitation.requests.slice(before).filter((r) => r.method === 'POST');
    expect(sent.length).toBeGreaterThan(20);
    for (const r of sent) expect(JSON.stringify(r.body)).not.toMatch(/swap/i);
    expect(sent.some((r) => JSON.stringify(r.body).includes('Acme Robotics'))).toBe(true);
  });
});

// Stage 4 judges every assistant turn against the source fact lines, seen verbatim; factually_accurate is computed.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTurnVerdicts, judgePrompt } from '../src/prompts/conversation_judge.js';
import { SWAP_DOMAIN } from '../src/domain.js';
import { JudgedConversation, type QAPair } from '../src/schemas.js';
import { startImitation, type GenerateCall, type Imitation } from './support/imitation_server.js';
import { setImitationEnv, stage } from './support/run_stages.js';

let imitation: Imitation;
// When set, the first answer to a judgment request gives one verdict too few.
let slip = false;

beforeAll(async () => {
  imitation = await startImitation({
    seed: 11,
    respond: (call: GenerateCall) => {
      if (!slip || call.schemaName !== 'judgment' || call.prompt.includes('YOUR PREVIOUS ANSWER WAS REJECTED'))
        return undefined;
      return {
        assistant_turns: [],
        natural_conversation: true,
        on_topic: true,
        adds_value: true,
        feedback: 'Fine.',
        issues: [],
      };
    },
  });
});
afterAll(() => imitation.close());

const judgeRequests = (from: number) =>
  imitation.requests
    .slice(from)
    .filter(
      (r) => r.path.includes(':generateContent') && r.body?.generationConfig?.responseJsonSchema?.title === 'judgment',
    )
    .map((r) => r.body.contents[0].parts[0].text as string);
const rows = <T>(file: string, schema: { parse(v: unknown): T }) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => schema.parse(JSON.parse(l)));

describe('grounded, per-turn judging through the imitation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'judge-grounded-'));
  let judged: JudgedConversation[];
  let prompts: string[];

  beforeAll(async () => {
    setImitationEnv(imitation);
    expect(await stage.extract(dir, ['--limit', '8'])).toBe(0);
    expect(await stage.validate(dir)).toBe(0);
    expect(await stage.generate(dir, ['--num-conversations', '40'])).toBe(0);
    const before = imitation.requests.length;
    expect(await stage.judge(dir)).toBe(0);
    prompts = judgeRequests(before);
    judged = rows(join(dir, 'conversations_judged.jsonl'), JudgedConversation);
  });

  it('sends every stage-4 request the source fact line of its pairs, verbatim, before the conversation', () => {
    expect(judged).toHaveLength(40);
    expect(prompts).toHaveLength(40);
    for (const { conversation } of judged) {
      const firstUser = conversation.messages.find((m) => m.role === 'user')!.content;
      const prompt = prompts.find((p) => p.includes(firstUser));
      expect(prompt, 'a request for each conversation').toBeDefined();
      const lines = conversation.source_qa_pairs.map((qa) => qa.source_text);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(prompt).toContain(line);
        expect(prompt!.indexOf(line)).toBeLessThan(prompt!.indexOf(firstUser));
      }
    }
  });

  it('keeps one verdict per assistant turn and computes factually_accurate as all of them supported', () => {
    let unsupported = 0;
    for (const { conversation, judgment } of judged) {
      const turns = conversation.messages.filter((m) => m.role === 'assistant').length;
      expect(judgment.turn_verdicts).toHaveLength(turns);
      expect(judgment.turn_verdicts!.map((t) => t.turn)).toEqual(Array.from({ length: turns }, (_, i) => i + 1));
      expect(judgment.factually_accurate).toBe(judgment.turn_verdicts!.every((t) => t.supported));
      for (const t of judgment.turn_verdicts!)
        if (!t.supported) {
          unsupported++;
          expect(t.unsupported_claim.length).toBeGreaterThan(0);
        }
    }
    // The imitation marks some turns unsupported: the computed verdict has both values to show.
    expect(unsupported).toBeGreaterThan(0);
    expect(judged.some((j) => j.judgment.factually_accurate)).toBe(true);
  });

  it('asks again, with the reason, when the verdicts do not match the assistant turns', async () => {
    slip = true;
    try {
      const before = imitation.requests.length;
      expect(await stage.judge(dir, ['--fresh'])).toBe(0);
      const sent = judgeRequests(before);
      expect(sent).toHaveLength(80);
      const retry = sent.find((p) => p.includes('YOUR PREVIOUS ANSWER WAS REJECTED'))!;
      expect(retry).toMatch(
        /assistant_turns must have one entry per assistant message: the conversation has \d+, the answer gave 0/,
      );
      for (const { judgment } of rows(join(dir, 'conversations_judged.jsonl'), JudgedConversation))
        expect(judgment.turn_verdicts!.length).toBeGreaterThan(0);
    } finally {
      slip = false;
    }
  });
});

describe('the judge prompt', () => {
  const qa = (fact: string, question: string): QAPair => ({
    question,
    answer: 'An answer.',
    source_text: fact,
    context_before: '## Returns',
    context_after: '* Next fact.',
    difficulty: 'basic',
    categories: [],
    fact_id: `id-${fact}`,
  });
  const conversation = {
    messages: [
      { role: 'system' as const, content: 'You are helpful.' },
      { role: 'user' as const, content: 'First question?' },
      { role: 'assistant' as const, content: 'First answer.' },
      { role: 'user' as const, content: 'Second question?' },
      { role: 'assistant' as const, content: 'Second answer.' },
    ],
    metadata: {
      num_turns: 2,
      style: 'formal' as const,
      user_persona: 'x',
      user_emotion: 'professional' as const,
      input_modality: 'standard' as const,
      text_variation: 'standard' as const,
      source_qa_ids: [0, 1],
      difficulty: 'basic',
      categories: [],
    },
    source_qa_pairs: [
      qa('* Returns work in 40 countries.', 'Where?'),
      qa('* Returns work in 40 countries.', 'How many?'),
    ],
  };

  it('shows a fact once with every pair written from it, numbers the assistant turns, and opens with the same rules', () => {
    const { prompt } = judgePrompt(SWAP_DOMAIN, conversation);
    expect(prompt.split('* Returns work in 40 countries.')).toHaveLength(2);
    expect(prompt).toContain('Q: Where?');
    expect(prompt).toContain('Q: How many?');
    expect(prompt).toContain('Context before:\n## Returns');
    expect(prompt).toContain('ASSISTANT (turn 1): First answer.');
    expect(prompt).toContain('ASSISTANT (turn 2): Second answer.');
    expect(prompt).toContain('assistant turns to judge: 2');
    // The varying content comes after the rules, so two conversations' prompts share a long common opening.
    const other = judgePrompt(SWAP_DOMAIN, {
      ...conversation,
      source_qa_pairs: [qa('* Something else.', 'What?')],
    }).prompt;
    let common = 0;
    while (prompt[common] === other[common]) common++;
    expect(common).toBeGreaterThan(prompt.indexOf('SOURCE FACTS:'));
  });

  it('rejects verdicts of the wrong count or order', () => {
    expect(checkTurnVerdicts([{ turn: 1 }, { turn: 2 }], 2)).toBeUndefined();
    expect(checkTurnVerdicts([{ turn: 1 }], 2)).toMatch(/has 2, the answer gave 1/);
    expect(checkTurnVerdicts([{ turn: 2 }, { turn: 1 }], 2)).toMatch(/entry 1 must be turn 1, got turn 2/);
  });
});

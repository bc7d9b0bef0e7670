// Artifact schemas: rows the Python original wrote load here, bad rows point at the field, and our rows round-trip.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { checkRoles, ConversationOutput } from '../src/prompts/conversation_generator.js';
import { JudgmentOutput } from '../src/prompts/conversation_judge.js';
import { QABatchOutput } from '../src/prompts/qa_extractor.js';
import { QAValidationOutput } from '../src/prompts/qa_validator.js';
import { formatZodIssue } from '../src/format.js';
import {
  Conversation,
  EmbeddedConversation,
  JudgedConversation,
  QAPair,
  TrainingExample,
  UniqueConversation,
  ValidatedQAPair,
} from '../src/schemas.js';

// Rows exactly as pydantic's model_dump_json() writes them: every field, snake_case, compact separators.
const PY_QA = {
  question: 'Does Swap ship to Canada?',
  answer: 'Yes — Swap Global calculates duties at checkout.',
  source_text: '* Swap Global is the cross-border checkout product.',
  context_before: '## Products',
  context_after: '* Tax & Compliance is a separate subscription.',
  difficulty: 'intermediate',
  categories: ['shipping', 'tax'],
};
const PY_VALIDATED = {
  qa_pair: PY_QA,
  validation: {
    uses_source_fact: true,
    realistic_question: true,
    sensible_answer: false,
    passed: false,
    feedback: 'Answer adds a claim.',
  },
};
const PY_CONVERSATION = {
  messages: [
    { role: 'system', content: 'You are a helpful AI assistant.' },
    { role: 'user', content: 'do you ship to canada' },
    { role: 'assistant', content: 'Yes, through Swap Global.' },
  ],
  metadata: {
    num_turns: 1,
    style: 'casual',
    user_persona: 'Operations or logistics manager',
    user_emotion: 'impatient',
    input_modality: 'typed_on_phone',
    text_variation: 'all_lowercase',
    source_qa_ids: [3],
    difficulty: 'intermediate',
    categories: ['shipping'],
  },
  source_qa_pairs: [PY_QA],
};
const PY_JUDGMENT = {
  factually_accurate: true,
  natural_conversation: true,
  on_topic: true,
  adds_value: false,
  overall_pass: false,
  feedback: 'Too short.',
  issues: ['generic answer'],
};
const PY_JUDGED = { conversation: PY_CONVERSATION, judgment: PY_JUDGMENT };
const PY_EMBEDDED = {
  ...PY_JUDGED,
  embedding: [0.0123, -0.5, 1e-7, 0],
  text_preview: 'SYSTEM: You are a helpful AI assistant.\n\nUSER: do you…',
};
const PY_FINAL = { messages: PY_CONVERSATION.messages };

// What Python's json.loads would see from a line we write.
const line = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
const firstIssue = (
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: unknown[] } } },
  value: unknown,
) => {
  const result = schema.safeParse(value);
  expect(result.success).toBe(false);
  return formatZodIssue(result.error!.issues[0] as Parameters<typeof formatZodIssue>[0]);
};

describe('rows written by the Python original', () => {
  it.each([
    ['QAPair', QAPair, PY_QA],
    ['ValidatedQAPair', ValidatedQAPair, PY_VALIDATED],
    ['Conversation', Conversation, PY_CONVERSATION],
    ['JudgedConversation', JudgedConversation, PY_JUDGED],
    ['EmbeddedConversation', EmbeddedConversation, PY_EMBEDDED],
    ['UniqueConversation', UniqueConversation, PY_JUDGED],
    ['TrainingExample', TrainingExample, PY_FINAL],
  ] as const)('%s parses and keeps every field', (_name, schema, row) => {
    const parsed = (schema as { parse(v: unknown): unknown }).parse(line(row));
    expect(parsed).toEqual(row);
  });

  it('fills the Python defaults for fields an older row left out', () => {
    const { context_before: _b, context_after: _a, categories: _c, ...bare } = PY_QA;
    expect(QAPair.parse(bare)).toEqual({ ...bare, context_before: '', context_after: '', categories: [] });
    const {
      user_emotion: _e,
      input_modality: _m,
      text_variation: _t,
      source_qa_ids: _s,
      categories: _k,
      ...meta
    } = PY_CONVERSATION.metadata;
    const parsed = Conversation.parse({ messages: PY_CONVERSATION.messages, metadata: meta });
    expect(parsed.metadata).toMatchObject({
      user_emotion: 'professional',
      input_modality: 'standard',
      text_variation: 'standard',
      source_qa_ids: [],
      categories: [],
    });
    expect(parsed.source_qa_pairs).toEqual([]);
  });
});

describe('rows that fail', () => {
  it('an empty or blank question, answer or message is refused, naming the field', () => {
    expect(firstIssue(QAPair, { ...PY_QA, question: '' })).toBe(
      'expected text, got an empty or blank string → at question',
    );
    expect(firstIssue(QAPair, { ...PY_QA, answer: ' \n ' })).toBe(
      'expected text, got an empty or blank string → at answer',
    );
    const messages = [...PY_CONVERSATION.messages.slice(0, -1), { role: 'assistant', content: '' }];
    expect(firstIssue(Conversation, { ...PY_CONVERSATION, messages })).toBe(
      `expected text, got an empty or blank string → at messages.${messages.length - 1}.content`,
    );
  });

  it('a missing field names its path', () => {
    const { answer: _drop, ...noAnswer } = PY_QA;
    expect(firstIssue(ValidatedQAPair, { ...PY_VALIDATED, qa_pair: noAnswer })).toBe(
      'expected string, received undefined → at qa_pair.answer',
    );
    const { feedback: _f, ...noFeedback } = PY_JUDGMENT;
    expect(firstIssue(JudgedConversation, { ...PY_JUDGED, judgment: noFeedback })).toBe(
      'expected string, received undefined → at judgment.feedback',
    );
  });

  it('a wrong type or enum value names its path', () => {
    expect(firstIssue(QAPair, { ...PY_QA, difficulty: 'expert' })).toMatch(/→ at difficulty$/);
    const badRole = { ...PY_CONVERSATION, messages: [PY_CONVERSATION.messages[0], { role: 'tool', content: 'x' }] };
    expect(firstIssue(Conversation, badRole)).toMatch(/→ at messages\.1\.role$/);
    expect(
      firstIssue(JudgedConversation, {
        ...PY_JUDGED,
        conversation: { ...PY_CONVERSATION, metadata: { ...PY_CONVERSATION.metadata, num_turns: 0 } },
      }),
    ).toMatch(/→ at conversation\.metadata\.num_turns$/);
    expect(firstIssue(EmbeddedConversation, { ...PY_EMBEDDED, embedding: [0.1, 'x'] })).toBe(
      'expected number, received string → at embedding.1',
    );
  });

  it('an embedded row needs a non-empty embedding and a preview', () => {
    expect(firstIssue(EmbeddedConversation, { ...PY_EMBEDDED, embedding: [] })).toMatch(/→ at embedding$/);
    const { text_preview: _p, ...noPreview } = PY_EMBEDDED;
    expect(firstIssue(EmbeddedConversation, noPreview)).toMatch(/→ at text_preview$/);
  });
});

describe('rows we write round-trip', () => {
  it('a judged row survives JSON and parses to the same value', () => {
    const ours = JudgedConversation.parse(PY_JUDGED);
    ours.conversation.metadata.system_prompt = 'helpful';
    const again = JudgedConversation.parse(line(ours));
    expect(again).toEqual(ours);
    expect(again.conversation.metadata.system_prompt).toBe('helpful');
  });

  it('an embedded row survives JSON, floats included', () => {
    const ours = EmbeddedConversation.parse({ ...PY_EMBEDDED, embedding: [0.1 + 0.2, -1 / 3, 5e-324] });
    expect(EmbeddedConversation.parse(line(ours))).toEqual(ours);
  });

  it('writes only the fields the Python models know (plus the optional system_prompt)', () => {
    const ours = JudgedConversation.parse(PY_JUDGED);
    expect(Object.keys(ours).sort()).toEqual(['conversation', 'judgment']);
    expect(Object.keys(ours.conversation).sort()).toEqual(['messages', 'metadata', 'source_qa_pairs']);
    expect(Object.keys(ours.conversation.metadata).sort()).toEqual(Object.keys(PY_CONVERSATION.metadata).sort());
    expect(Object.keys(ours.judgment).sort()).toEqual(Object.keys(PY_JUDGMENT).sort());
  });
});

describe('checkRoles (stage 3 asks again when this fails)', () => {
  const turn = (role: string) => ({ role, content: 'x' });
  const ua = (n: number) => Array.from({ length: n }, () => [turn('user'), turn('assistant')]).flat();

  it('accepts exactly num_turns user/assistant exchanges starting with the user', () => {
    expect(checkRoles(ua(1), 1)).toBeUndefined();
    expect(checkRoles(ua(3), 3)).toBeUndefined();
  });

  it('rejects the wrong number of turns', () => {
    expect(checkRoles(ua(2), 3)).toBe('expected 3 user and 3 assistant messages (6 in all), got 4');
    expect(checkRoles(ua(3), 2)).toMatch(/expected 2 user and 2 assistant messages/);
  });

  it('rejects a conversation ending with the user, or starting with the assistant', () => {
    expect(checkRoles([turn('user'), turn('assistant'), turn('user'), turn('user')], 2)).toMatch(
      /^message 4 must be from the assistant, got user/,
    );
    expect(checkRoles([turn('assistant'), turn('user')], 1)).toMatch(/^message 1 must be from the user, got assistant/);
  });

  it('rejects a system message anywhere in the model output (code adds the only one, first)', () => {
    expect(checkRoles([turn('system'), turn('user'), turn('assistant'), turn('user')], 2)).toMatch(
      /^message 1 must be from the user, got system/,
    );
    expect(checkRoles([turn('user'), turn('system')], 1)).toMatch(/^message 2 must be from the assistant, got system/);
  });
});

describe('what the model is asked to write', () => {
  // The JSON Schema of each answer is part of every request's resume key (requestKey): a schema derived from
  // schemas.ts must send what the hand-written one did, or every saved answer would be paid for again.
  it.each([
    ['QABatchOutput', QABatchOutput, 'ce721b4ccea6f291'],
    ['QAValidationOutput', QAValidationOutput, '9f6cc34ec23134f9'],
    ['ConversationOutput', ConversationOutput, '75166f425e6ce6c9'],
    ['JudgmentOutput', JudgmentOutput, 'b76aea9ec3f244ba'],
  ] as const)('%s keeps the JSON Schema resume keys were made with', (_name, schema, hash) => {
    expect(
      createHash('sha256')
        .update(JSON.stringify(z.toJSONSchema(schema)))
        .digest('hex')
        .slice(0, 16),
    ).toBe(hash);
  });
});

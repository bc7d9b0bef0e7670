// How many tokens a model writes per call, for --dry-run: the JSON of a typical answer with its text at typical sizes.
import { tokensOf } from '../token_estimate.js';
import type { ThinkingLevel } from '../config.js';
import { PARAMS } from '../config.js';

/**
 * Typical lengths, in characters, of the free text in gemini-2.5-flash and gpt-4o-mini answers to this pipeline's
 * prompts, which ask for them: a question is one sentence a person would type, an answer "a few sentences", validator
 * and judge feedback "one or two sentences", a judgment lists about one issue, a user message is a sentence or two
 * and an assistant reply one paragraph. Categories are one or two of the domain's topic names.
 */
export const TYPICAL_CHARS = {
  question: 110,
  answer: 320,
  category: 8,
  validationFeedback: 170,
  judgeFeedback: 200,
  issue: 90,
  userMessage: 220,
  assistantMessage: 650,
};

const text = (chars: number) => 'x'.repeat(chars);
const answerTokens = (answer: unknown) => tokensOf(JSON.stringify(answer));

/** Stand-in conversation messages at typical sizes, for estimates that need a conversation before one exists. */
export function typicalMessages(turns: number): Array<{ role: 'user' | 'assistant'; content: string }> {
  return Array.from({ length: turns }, () => [
    { role: 'user' as const, content: text(TYPICAL_CHARS.userMessage) },
    { role: 'assistant' as const, content: text(TYPICAL_CHARS.assistantMessage) },
  ]).flat();
}

/**
 * Output tokens of one typical answer per stage. What is assumed: each call is answered once (retries add their
 * own output), Gemini thinks with a budget of 0 (THINKING_BUDGET, so no thinking tokens), and the answer is the
 * compact JSON the schema asks for. Booleans and keys are counted exactly; only the free text is typical.
 */
/**
 * Thinking tokens a call bills at each level, on top of its answer (billed as output). Real thinking varies with the
 * task and the model; these are the small figures a short structured answer takes, so a dry run does not leave
 * thinking out. The lowest level a model accepts is the default of stages 1, 2 and 4 (README: thinking and cost).
 */
export const TYPICAL_THINKING_TOKENS: Record<ThinkingLevel, number> = { minimal: 0, low: 24, medium: 96, high: 256 };

export const OUTPUT_TOKENS = {
  extract: answerTokens({
    qa_pairs: Array.from({ length: PARAMS.pairsPerChunk }, (_, i) => ({
      question: text(TYPICAL_CHARS.question),
      answer: text(TYPICAL_CHARS.answer),
      difficulty: 'intermediate',
      // One or two topics: alternate.
      categories: Array.from({ length: 1 + ((i + 1) % 2) }, () => text(TYPICAL_CHARS.category)),
    })),
  }),
  validate: answerTokens({
    uses_source_fact: true,
    realistic_question: true,
    sensible_answer: true,
    feedback: text(TYPICAL_CHARS.validationFeedback),
  }),
  /** One verdict per assistant turn (supported, with an empty claim: the usual case), then the rubric. */
  judge: (turns: number) =>
    answerTokens({
      assistant_turns: Array.from({ length: turns }, (_, i) => ({
        turn: i + 1,
        supported: true,
        unsupported_claim: '',
      })),
      natural_conversation: true,
      on_topic: true,
      adds_value: true,
      feedback: text(TYPICAL_CHARS.judgeFeedback),
      issues: [text(TYPICAL_CHARS.issue)],
    }),
  /** A conversation grows with its turns, which the stage knows for every call from its sampled plan. */
  generate: (turns: number) => answerTokens({ messages: typicalMessages(turns) }),
};

// Zod schemas for every artifact the pipeline writes: the single source of truth for their shape.
// Field names are the Python original's snake_case, so artifacts load in either implementation.
import { z } from './zod.js';

export const DIFFICULTIES = ['basic', 'intermediate', 'advanced'] as const;
export const STYLES = ['formal', 'casual', 'technical'] as const;
export const EMOTIONS = ['professional', 'happy', 'frustrated', 'impatient', 'confused'] as const;
export const MODALITIES = ['standard', 'typed_on_phone', 'voice_dictated'] as const;
export const TEXT_VARIATIONS = ['standard', 'all_lowercase', 'no_punctuation'] as const;
export const ROLES = ['system', 'user', 'assistant'] as const;

export const Difficulty = z.enum(DIFFICULTIES);
export const Style = z.enum(STYLES);
export const Emotion = z.enum(EMOTIONS);
export const Modality = z.enum(MODALITIES);
export const TextVariation = z.enum(TEXT_VARIATIONS);

// What a model wrote and a later stage sends on: an empty or blank string would be sent as if it said something.
const Written = z.string().regex(/\S/, 'expected text, got an empty or blank string');

// Stage 1 → qa_pairs.jsonl. source_text and context are set by code from the chunk, never echoed by the model.
export const QAPair = z.object({
  question: Written,
  answer: Written,
  source_text: z.string(),
  context_before: z.string().default(''),
  context_after: z.string().default(''),
  difficulty: Difficulty,
  categories: z.array(z.string()).default([]),
  // Not in the original's model: the id of the fact line the pair came from (src/facts.ts). Optional, so rows of the
  // original and of runs before ids still load; readers derive the fact from source_text instead.
  fact_id: z.string().optional(),
  // Not in the original: where the fact came from. Optional, so Python artifacts (one facts file) still load.
  section: z.string().optional(),
  source_file: z.string().optional(),
  source_location: z.string().optional(),
});
export type QAPair = z.infer<typeof QAPair>;

// The criteria a verdict scores, each a boolean field of it, named once here for the schemas, the report and the
// HTML filters.
export const QA_CRITERIA = ['uses_source_fact', 'realistic_question', 'sensible_answer'] as const;
export const JUDGE_CRITERIA = ['factually_accurate', 'natural_conversation', 'on_topic', 'adds_value'] as const;

/** One `z.boolean()` field per criterion, in the list's order. */
function criteriaFields<K extends string>(criteria: readonly K[]): Record<K, z.ZodBoolean> {
  return Object.fromEntries(criteria.map((name) => [name, z.boolean()])) as Record<K, z.ZodBoolean>;
}

// Stage 2 → qa_pairs_validated.jsonl. `passed` is computed in code as all three booleans.
export const QAValidation = z.object({
  ...criteriaFields(QA_CRITERIA),
  passed: z.boolean(),
  feedback: z.string(),
});
export type QAValidation = z.infer<typeof QAValidation>;

export const ValidatedQAPair = z.object({ qa_pair: QAPair, validation: QAValidation });
export type ValidatedQAPair = z.infer<typeof ValidatedQAPair>;

// Stage 3 → conversations_raw.jsonl
export const Message = z.object({ role: z.enum(ROLES), content: Written });
export type Message = z.infer<typeof Message>;

export const ConversationMetadata = z.object({
  num_turns: z.number().int().min(1),
  style: Style,
  user_persona: z.string(),
  user_emotion: Emotion.default('professional'),
  input_modality: Modality.default('standard'),
  text_variation: TextVariation.default('standard'),
  source_qa_ids: z.array(z.number().int()).default([]),
  difficulty: z.string(),
  categories: z.array(z.string()).default([]),
  // Not in the original's model: which system prompt template was sampled. Optional so Python artifacts still load.
  system_prompt: z.string().optional(),
});
export type ConversationMetadata = z.infer<typeof ConversationMetadata>;

export const Conversation = z.object({
  messages: z.array(Message).min(1),
  metadata: ConversationMetadata,
  source_qa_pairs: z.array(QAPair).default([]),
});
export type Conversation = z.infer<typeof Conversation>;

// Stage 4's verdict on one assistant message, checked against the source fact lines.
export const TurnVerdict = z.object({
  /** 1-based: the first assistant message is turn 1. */
  turn: z.number().int().min(1),
  supported: z.boolean(),
  /** The first claim the facts do not support, quoted; empty when supported. */
  unsupported_claim: z.string(),
});
export type TurnVerdict = z.infer<typeof TurnVerdict>;

// Stage 4 → conversations_judged.jsonl. `overall_pass` is computed in code as all four booleans, and
// `factually_accurate` as "every assistant turn supported".
export const Judgment = z.object({
  ...criteriaFields(JUDGE_CRITERIA),
  overall_pass: z.boolean(),
  feedback: z.string(),
  issues: z.array(z.string()).default([]),
  // Not in the original's model: the per-turn verdicts factually_accurate was computed from. Optional, so judgments
  // of the original and of runs before per-turn judging still load.
  turn_verdicts: z.array(TurnVerdict).optional(),
});
export type Judgment = z.infer<typeof Judgment>;

export const JudgedConversation = z.object({ conversation: Conversation, judgment: Judgment });
export type JudgedConversation = z.infer<typeof JudgedConversation>;

// Stage 5 → conversations_embedded.jsonl
export const EmbeddedConversation = z.object({
  conversation: Conversation,
  judgment: Judgment,
  embedding: z.array(z.number()).min(1),
  text_preview: z.string(),
});
export type EmbeddedConversation = z.infer<typeof EmbeddedConversation>;

// Stage 6 → conversations_deduplicated.jsonl: the judged row without its embedding.
export const UniqueConversation = JudgedConversation;
export type UniqueConversation = JudgedConversation;
/** Its members in order: what stage 6 keeps of each embedded row (readEmbedded's `keep`). */
export const UNIQUE_CONVERSATION_MEMBERS = Object.keys(UniqueConversation.shape) as ReadonlyArray<
  keyof UniqueConversation
>;

// Stage 7 → conversations_final.jsonl in the original's chat training format.
export const TrainingExample = z.object({ messages: z.array(Message).min(2) });
export type TrainingExample = z.infer<typeof TrainingExample>;

// Defaults for every stage in one place; they reproduce the Python original's config.py.

export type ThinkingLevel = 'minimal' | 'low' | 'medium' | 'high';

export interface LlmStageDefaults {
  model: string;
  /** Model used when the stage runs on OpenAI (`--provider openai`). */
  openaiModel: string;
  /** Environment variable that pins the stage's model (the flag --model wins over it). */
  modelEnv: string;
  temperature: number;
  concurrency: number;
  /** Thinking (Gemini) or reasoning effort (OpenAI reasoning models); 'lowest' = the least the model accepts. */
  thinking: ThinkingLevel | 'lowest';
  /** Said when the key is missing: what the stage needs it for. */
  why: string;
}

/**
 * When the defaults below were last checked against the providers' pages (README "Models" says where). Gemini
 * stages use Google's aliases, which follow the current release (gemini-flash-latest was 3.8 Flash, and
 * gemini-flash-lite-latest 3.5 Flash-Lite, on that day); the manifest records the concrete version that answered.
 * OpenAI names no alias for its small models: gpt-6-luna is the replacement its deprecations page gives for
 * gpt-4o-mini (shut down 2027-01-14) and has no shutdown date.
 */
export const MODELS_CHECKED = '2026-12-02';

// Thinking tokens are billed as output and a model's own default (MEDIUM on 3.x Flash) can multiply a stage's cost,
// so every call names a level. Extraction, yes/no validation and judging are reading tasks: the lowest level the
// model accepts. Stage 3 gets 'low': a conversation has to honour several sampled constraints at once (turn count,
// persona, emotion, modality, the one fact it must convey) and a short plan keeps them consistent; medium or high
// would bill hundreds of thinking tokens per conversation for prose that needs no reasoning.
export const STAGES = {
  extract: {
    model: 'gemini-flash-latest',
    openaiModel: 'gpt-6-luna',
    modelEnv: 'MODEL_EXTRACT',
    temperature: 0.8,
    concurrency: 30,
    thinking: 'lowest',
    why: 'stage 1 asks the model for Q&A pairs',
  },
  validate: {
    model: 'gemini-flash-lite-latest',
    openaiModel: 'gpt-6-luna',
    modelEnv: 'MODEL_VALIDATE',
    temperature: 0.0,
    concurrency: 50,
    thinking: 'lowest',
    why: 'stage 2 asks the model to validate Q&A pairs',
  },
  generate: {
    model: 'gemini-flash-latest',
    openaiModel: 'gpt-6-luna',
    modelEnv: 'MODEL_GENERATE',
    temperature: 0.9,
    concurrency: 30,
    thinking: 'low',
    why: 'stage 3 asks the model to write conversations',
  },
  judge: {
    model: 'gemini-flash-latest',
    openaiModel: 'gpt-6-luna',
    modelEnv: 'MODEL_JUDGE',
    temperature: 0.0,
    concurrency: 50,
    thinking: 'lowest',
    why: 'stage 4 asks the model to judge conversations',
  },
} satisfies Record<string, LlmStageDefaults>;

export const EMBEDDING = {
  // text-embedding-3-small stays (its deprecation mark was called a mistake, PROVIDERS.md §8); gemini-embedding-001
  // remains available for text next to gemini-embedding-2.
  openaiModel: 'text-embedding-3-small',
  geminiModel: 'gemini-embedding-001',
  modelEnv: 'MODEL_EMBED',
  dimensions: 1024,
  batchSize: 100,
  concurrency: 20,
  maxChars: 24_000,
  previewChars: 200,
};

export const PARAMS = {
  contextLines: 3,
  pairsPerChunk: 3,
  numConversations: 2000,
  conversationsPerQa: 10,
  seed: 42,
  topK: 1000,
  dedupThreshold: 0.95,
  minhashThreshold: 0.8,
  trialChunks: 10,
  /** Requests are abandoned after this long unless LLM_TIMEOUT_MS says otherwise. */
  timeoutMs: 60_000,
  /** Answers that are not JSON or fail the schema are asked for again, at most this many times in all. */
  maxAttempts: 6,
};

export const DEFAULT_FACTS = 'data/swap_facts.md';
export const DEFAULT_DOMAIN = 'data/domain.json';

// Artifact paths (PATHS, artifactPaths) are in src/pipeline.ts, beside the stages that write them.

// Sampling distributions of stage 3 (config.py in the original).
export const DISTRIBUTIONS = {
  turns: { 1: 0.2, 2: 0.35, 3: 0.35, 4: 0.1 } as Record<number, number>,
  emotion: { professional: 0.5, happy: 0.15, frustrated: 0.15, impatient: 0.1, confused: 0.1 },
  modality: { standard: 0.7, typed_on_phone: 0.2, voice_dictated: 0.1 },
  textVariation: { standard: 0.8, all_lowercase: 0.15, no_punctuation: 0.05 },
};

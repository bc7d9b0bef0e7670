// Defaults for every stage in one place; they reproduce the Python original's config.py.

export type Provider = 'gemini' | 'openai';

export interface LlmStageDefaults {
  model: string;
  /** Model used when the stage runs on OpenAI (`--provider openai`). */
  openaiModel: string;
  temperature: number;
  concurrency: number;
}

// Thinking is switched off (budget 0) on every Gemini call, as the original did: the stages need no reasoning trace
// and thinking tokens are billed as output.
export const THINKING_BUDGET = 0;

export const STAGES = {
  extract: { model: 'gemini-2.5-flash', openaiModel: 'gpt-4o-mini', temperature: 0.8, concurrency: 30 },
  validate: { model: 'gemini-2.5-flash-lite', openaiModel: 'gpt-4o-mini', temperature: 0.0, concurrency: 50 },
  generate: { model: 'gemini-2.5-flash', openaiModel: 'gpt-4o-mini', temperature: 0.9, concurrency: 30 },
  judge: { model: 'gemini-2.5-flash', openaiModel: 'gpt-4o-mini', temperature: 0.0, concurrency: 50 },
} satisfies Record<string, LlmStageDefaults>;

export const EMBEDDING = {
  openaiModel: 'text-embedding-3-small',
  geminiModel: 'gemini-embedding-001',
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

/** Artifact paths; the trial run uses the same names prefixed with `trial_`. */
export function artifactPaths(prefix = '', dir = 'output') {
  const p = (name: string) => `${dir}/${prefix}${name}`;
  return {
    qaPairs: p('qa_pairs.jsonl'),
    qaValidated: p('qa_pairs_validated.jsonl'),
    qaPassed: p('qa_pairs_validated_passed.jsonl'),
    conversationsRaw: p('conversations_raw.jsonl'),
    conversationsJudged: p('conversations_judged.jsonl'),
    conversationsEmbedded: p('conversations_embedded.jsonl'),
    conversationsDeduplicated: p('conversations_deduplicated.jsonl'),
    conversationsFinal: p('conversations_final.jsonl'),
  };
}
export type ArtifactPaths = ReturnType<typeof artifactPaths>;
export const PATHS = artifactPaths();

// Sampling distributions of stage 3 (config.py in the original).
export const DISTRIBUTIONS = {
  turns: { 1: 0.2, 2: 0.35, 3: 0.35, 4: 0.1 } as Record<number, number>,
  emotion: { professional: 0.5, happy: 0.15, frustrated: 0.15, impatient: 0.1, confused: 0.1 },
  modality: { standard: 0.7, typed_on_phone: 0.2, voice_dictated: 0.1 },
  textVariation: { standard: 0.8, all_lowercase: 0.15, no_punctuation: 0.05 },
};

/** A file that lives beside an artifact: `output/x.jsonl` + `.meta.json` → `output/x.meta.json`. */
export function sidecarPath(artifact: string, suffix: string): string {
  return artifact.replace(/\.jsonl$/, '') + suffix;
}

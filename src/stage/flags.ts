// Flags shared by the stage scripts, so every stage spells and validates them the same way.
import type { FlagSpec, FlagSpecs } from '../cli.js';
import { EMBEDDING, type LlmStageDefaults, type ThinkingLevel } from '../config.js';
import { env } from '../env.js';
import { UsageError } from '../errors.js';
import {
  DEFAULT_CHAT_PROVIDER,
  isProvider,
  PROVIDER_CHOICES,
  PROVIDER_NAMES,
  PROVIDERS,
  type Provider,
} from '../llm/providers.js';

export function ioFlags(input: string, output: string) {
  return {
    input: { kind: 'string', help: 'input file', default: input },
    output: { kind: 'string', help: 'output file', default: output },
  } satisfies Record<string, FlagSpec>;
}

export function concurrencyFlag(defaultValue: number) {
  return {
    concurrency: { kind: 'int', help: 'most requests in flight at once', default: defaultValue, min: 1 },
  } satisfies Record<string, FlagSpec>;
}

export const RUN_FLAGS = {
  quiet: { kind: 'boolean', help: 'no progress bar or samples, only the summary' },
  fresh: { kind: 'boolean', help: 'ignore finished items saved by an earlier run and start over' },
} satisfies Record<string, FlagSpec>;

/** Stages 6 and 7 make no calls: nothing to resume, nothing to start over. */
export const QUIET_FLAG = {
  quiet: { kind: 'boolean', help: 'only the summary' },
} satisfies Record<string, FlagSpec>;

/** The stages that call a model: how many failed items the exit code lets pass. */
export const MAX_FAILURE_RATE_FLAG = {
  'max-failure-rate': {
    kind: 'number',
    help: 'share of items that may fail before the exit code says so',
    default: 0,
    min: 0,
    max: 1,
  },
} satisfies Record<string, FlagSpec>;

export const LLM_FLAGS = {
  provider: {
    kind: 'string',
    help: `${PROVIDER_CHOICES} (default: $LLM_PROVIDER, else gemini)`,
    choices: PROVIDER_NAMES,
  },
  model: {
    kind: 'string',
    value: 'NAME',
    help: "model name (default: $MODEL_<STAGE>, else the stage's default for the provider)",
  },
  thinking: {
    kind: 'string',
    help: "thinking level on Gemini, reasoning effort on OpenAI reasoning models (default: the stage's, see README)",
    choices: ['minimal', 'low', 'medium', 'high'],
  },
  rpm: { kind: 'int', help: 'requests per minute at most (your quota)', min: 1 },
  tpm: { kind: 'int', help: 'tokens per minute at most (your quota)', min: 1 },
  ...MAX_FAILURE_RATE_FLAG,
  'dry-run': {
    kind: 'boolean',
    help: 'make no API call: print the calls, estimated tokens and cost, and the first prompt',
  },
  batch: {
    kind: 'boolean',
    help: 'send the requests as provider batch jobs: half the price, answers within 24 h (usually minutes)',
  },
  domain: {
    kind: 'string',
    help: 'domain JSON overriding the company, personas and system prompts (default data/domain.json if present)',
  },
} satisfies Record<string, FlagSpec>;

/** The flags every LLM stage ends with: --concurrency (the stage's default), the model and run flags. */
export function llmStageFlags(defaults: LlmStageDefaults) {
  return { ...concurrencyFlag(defaults.concurrency), ...LLM_FLAGS, ...RUN_FLAGS } satisfies Record<string, FlagSpec>;
}

/** A stage's default --input and --output paths. */
type IoPaths = readonly [input: string, output: string];

// A stage's whole flag set, in --help order: --input and --output, the flags that are the stage's own, then the
// flags its kind of stage shares. A script passes only what is its own, so a shared flag is changed here once.

/** Stages 2–4: one file in, one out, then llmStageFlags (stage 1 reads a list of facts files instead). */
export function llmStageFlagSet<const Own extends FlagSpecs>(
  defaults: LlmStageDefaults,
  [input, output]: IoPaths,
  own: Own,
) {
  return { ...ioFlags(input, output), ...own, ...llmStageFlags(defaults) };
}

/** Stage 5's --provider and --model: its default provider is OpenAI and its models are embedding models. */
const EMBEDDING_MODEL_FLAGS = {
  provider: {
    kind: 'string',
    help: `${PROVIDER_CHOICES} (default: $LLM_PROVIDER, else openai; gemini needs only GOOGLE_API_KEY)`,
    choices: PROVIDER_NAMES,
  },
  model: {
    kind: 'string',
    value: 'NAME',
    help: `embedding model (default $${EMBEDDING.modelEnv}, else ${EMBEDDING.openaiModel} / ${EMBEDDING.geminiModel})`,
  },
} satisfies Record<string, FlagSpec>;

/** Stage 5: the embedding model, the stage's own, then the flags of a stage that calls an API (no --dry-run). */
export function embeddingStageFlagSet<const Own extends FlagSpecs>([input, output]: IoPaths, own: Own) {
  return {
    ...ioFlags(input, output),
    ...EMBEDDING_MODEL_FLAGS,
    ...own,
    ...concurrencyFlag(EMBEDDING.concurrency),
    ...MAX_FAILURE_RATE_FLAG,
    ...RUN_FLAGS,
  };
}

/** Stages 6 and 7 make no calls: the stage's own flags, then --quiet. */
export function offlineStageFlagSet<const Own extends FlagSpecs>([input, output]: IoPaths, own: Own) {
  return { ...ioFlags(input, output), ...own, ...QUIET_FLAG };
}

/** The flag, else LLM_PROVIDER, else the stage's own default (gemini for chat, openai for embeddings as the original). */
export function resolveProvider(flag: string | undefined, fallback: Provider = DEFAULT_CHAT_PROVIDER): Provider {
  const value = flag ?? env('LLM_PROVIDER') ?? fallback;
  if (!isProvider(value))
    throw new UsageError(`Expected LLM_PROVIDER to be ${PROVIDER_CHOICES}, got ${JSON.stringify(value)}`);
  return value;
}

/** The flag, else the stage's environment variable (MODEL_EXTRACT, …), else the stage's default for the provider. */
export function resolveModel(defaults: LlmStageDefaults, provider: Provider, flag: string | undefined): string {
  return flag ?? env(defaults.modelEnv) ?? PROVIDERS[provider].defaultModel(defaults);
}

/** Stage 5's model: the flag, else MODEL_EMBED, else the provider's default embedding model. */
export function resolveEmbeddingModel(provider: Provider, flag: string | undefined): string {
  return flag ?? env(EMBEDDING.modelEnv) ?? PROVIDERS[provider].embeddingModel;
}

/**
 * The thinking level a stage sends: --thinking, else the stage's default ('lowest' = the least the model accepts).
 * A level the model is known to reject is a usage error now, not a 400 on the first call.
 */
export function resolveThinking(
  defaults: LlmStageDefaults,
  provider: Provider,
  model: string,
  flag: string | undefined,
): ThinkingLevel {
  const wanted = (flag as ThinkingLevel | undefined) ?? defaults.thinking;
  const level = PROVIDERS[provider].thinking(model, wanted);
  if (typeof level !== 'string') throw new UsageError(level.error);
  return level;
}

// The narrow seam between the pipeline and a model provider.
import type { z } from 'zod';
import type { LlmStageDefaults, ThinkingLevel } from '../config.js';
import type { KeyName } from '../key_check.js';
import type { Provider } from './providers.js';
import type { ProviderClassifier } from './retry.js';

export interface Usage {
  /** All input tokens, cached ones included (both providers count them in the prompt total). */
  inputTokens: number;
  /** Output tokens including thinking tokens, which are billed as output. */
  outputTokens: number;
  /** Input tokens served from the provider's prompt cache, billed at the cached rate (Gemini
   * `cachedContentTokenCount`, OpenAI `prompt_tokens_details.cached_tokens`). */
  cachedInputTokens?: number;
}

export interface ChatRequest {
  model: string;
  system?: string;
  prompt: string;
  /** Name of the output schema (Gemini `title`, OpenAI `json_schema.name`). */
  schemaName: string;
  /** The answer's schema; each provider derives its own JSON Schema from it. */
  schema: z.ZodType;
  temperature: number;
  /** Gemini thinking level / OpenAI reasoning effort, sent in the form the model accepts (src/llm/model_rules.ts). */
  thinking?: ThinkingLevel;
}

export interface ChatResponse {
  text: string | undefined;
  /** Normalised: 'stop', 'length' (cut off), 'blocked' or the provider's own word. */
  finishReason: string;
  usage: Usage;
  refusal?: string;
  /** The concrete model that answered (Gemini `modelVersion`, OpenAI `model`): an alias resolves to one. */
  modelVersion?: string;
}

export interface ChatProvider {
  readonly name: Provider;
  complete(request: ChatRequest, signal: AbortSignal): Promise<ChatResponse>;
  /** Asks the provider (free) whether it offers the model; throws a FatalError naming current ones when not. */
  checkModel?(model: string): Promise<void>;
}

export interface EmbedResponse {
  vectors: number[][];
  usage: Usage;
  modelVersion?: string;
}

export interface EmbeddingProvider {
  readonly name: Provider;
  readonly model: string;
  embed(texts: string[], dimensions: number, signal: AbortSignal): Promise<EmbedResponse>;
  checkModel?(): Promise<void>;
}

/** One provider, as its own module describes it (a row of the providers table, src/llm/providers.ts). */
export interface ProviderModule {
  /** The name users know it by, in messages ("Gemini"). */
  readonly label: string;
  /** The environment variable its key is read from. */
  readonly keyName: KeyName;
  chat(apiKey: string, timeoutMs: number): ChatProvider;
  embeddings(apiKey: string, timeoutMs: number, model: string): EmbeddingProvider;
  /** Reads its SDK's errors for the retry policy (src/llm/retry.ts). */
  readonly classify: ProviderClassifier;
  /** A chat stage's default model on this provider. */
  defaultModel(defaults: LlmStageDefaults): string;
  readonly embeddingModel: string;
  /** The level a stage sends for `wanted` ('lowest': the least the model accepts), or why the model rejects it. */
  thinking(model: string, wanted: ThinkingLevel | 'lowest'): ThinkingLevel | { error: string };
  /** What a request sends for its thinking level (part of the resume key); undefined when it sends nothing. */
  thinkingSent(model: string, level: ThinkingLevel | undefined): unknown;
}

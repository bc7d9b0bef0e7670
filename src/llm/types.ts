// The narrow seam between the pipeline and a model provider.
import type { z } from 'zod';
import type { Provider, ThinkingLevel } from '../config.js';

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

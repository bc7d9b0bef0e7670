// The narrow seam between the pipeline and a model provider.
import type { z } from 'zod';
import type { Provider } from '../config.js';

export interface Usage {
  inputTokens: number;
  /** Output tokens including thinking tokens, which are billed as output. */
  outputTokens: number;
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
}

export interface ChatResponse {
  text: string | undefined;
  /** Normalised: 'stop', 'length' (cut off), 'blocked' or the provider's own word. */
  finishReason: string;
  usage: Usage;
  refusal?: string;
}

export interface ChatProvider {
  readonly name: Provider;
  complete(request: ChatRequest, signal: AbortSignal): Promise<ChatResponse>;
}

export interface EmbedResponse {
  vectors: number[][];
  usage: Usage;
}

export interface EmbeddingProvider {
  readonly name: Provider;
  readonly model: string;
  embed(texts: string[], dimensions: number, signal: AbortSignal): Promise<EmbedResponse>;
}

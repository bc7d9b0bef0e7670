// The providers table: the only list of the model providers the pipeline can call. A provider is its own module
// (src/llm/<name>.ts: client, calls, error reading, default models) plus one row here; its batch service, when it
// has one, is src/batch/<name>.ts.
import { geminiBatchEngine } from '../batch/gemini.js';
import { openaiBatchEngine } from '../batch/openai.js';
import type { BatchEngine } from '../batch/engine.js';
import { envInt, requireKey } from '../env.js';
import { prices } from '../pricing.js';
import { GEMINI, geminiClient } from './gemini.js';
import { OPENAI, openaiClient } from './openai.js';
import { callTimeoutMs } from './retry.js';
import type { ChatProvider, EmbeddingProvider, ProviderModule } from './types.js';

export const PROVIDER_NAMES = ['gemini', 'openai'] as const;
export type Provider = (typeof PROVIDER_NAMES)[number];

export interface ProviderEntry extends ProviderModule {
  /** The provider's batch service (half price, answers within 24 h). */
  batchEngine(apiKey: string, timeoutMs: number, stage: string): BatchEngine;
}

// The Gemini API takes inline requests up to 20 MB in all; the rest of the create request needs a little room.
const GEMINI_INLINE_MAX_BYTES = 19_000_000;

export const PROVIDERS: Record<Provider, ProviderEntry> = {
  gemini: {
    ...GEMINI,
    batchEngine: (key, timeout) =>
      geminiBatchEngine(geminiClient(key, timeout, { batch: true }), {
        inlineMaxBytes: envInt('GEMINI_BATCH_INLINE_MAX_BYTES', GEMINI_INLINE_MAX_BYTES, 0),
      }),
  },
  openai: {
    ...OPENAI,
    batchEngine: (key, timeout, stage) => openaiBatchEngine(openaiClient(key, timeout, { batch: true }), stage),
  },
};

/** The provider of the chat stages (1–4) and of stage 5 when neither --provider nor LLM_PROVIDER names one; the
 * embedding default follows the Python original. */
export const DEFAULT_CHAT_PROVIDER: Provider = 'gemini';
export const DEFAULT_EMBEDDING_PROVIDER: Provider = 'openai';

/** "gemini or openai", for messages. */
export const PROVIDER_CHOICES = PROVIDER_NAMES.join(' or ');

export function isProvider(name: string): name is Provider {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/** The provider's key, read only now; a missing one is one line naming the variable and `why` it is needed. */
export function keyFor(provider: Provider, why: string): string {
  return requireKey(PROVIDERS[provider].keyName, why);
}

export function chatProvider(provider: Provider, why: string): ChatProvider {
  const key = keyFor(provider, why);
  // The price table is read before the first call: a bad PRICES_FILE found by the first answer's bill costs a call.
  prices();
  return PROVIDERS[provider].chat(key, callTimeoutMs());
}

export function embeddingProvider(provider: Provider, model: string, why: string): EmbeddingProvider {
  const key = keyFor(provider, why);
  prices();
  return PROVIDERS[provider].embeddings(key, callTimeoutMs(), model);
}

// Builds the provider a stage asked for, reading its key only then, and wraps structured calls as resumable tasks.
import { createHash } from 'node:crypto';
import { EMBEDDINGS_CODEC, toFloat32 } from '../io/embedding_codec.js';
import type { Provider } from '../config.js';
import { env, requireKey, timeoutMs } from '../env.js';
import { FatalError } from '../errors.js';
import { baseMs } from './backoff.js';
import { PARAMS } from '../config.js';
import { prices } from '../pricing.js';
import type { StageRun, Task } from '../stage/stage_run.js';
import { geminiChat, geminiClient, geminiEmbeddings } from './gemini.js';
import { openaiChat, openaiClient, openaiEmbeddings } from './openai.js';
import { InvalidAnswerError } from './failure.js';
import { withRetries } from './retry.js';
import { callStructured, requestKey, type StructuredCall } from './structured.js';
import type { ChatProvider, EmbeddingProvider } from './types.js';

const KEY = { gemini: 'GOOGLE_API_KEY', openai: 'OPENAI_API_KEY' } as const;

export function keyFor(provider: Provider, why: string): string {
  return requireKey(KEY[provider], why);
}

export function chatProvider(provider: Provider, why: string): ChatProvider {
  const key = keyFor(provider, why);
  // The price table is read before the first call: a bad PRICES_FILE found by the first answer's bill costs a call.
  prices();
  const timeout = timeoutMs(PARAMS.timeoutMs);
  return provider === 'gemini' ? geminiChat(geminiClient(key, timeout)) : openaiChat(openaiClient(key, timeout));
}

export function embeddingProvider(provider: Provider, model: string, why: string): EmbeddingProvider {
  const key = keyFor(provider, why);
  prices();
  const timeout = timeoutMs(PARAMS.timeoutMs);
  return provider === 'gemini' ? geminiEmbeddings(geminiClient(key, timeout), model) : openaiEmbeddings(openaiClient(key, timeout), model);
}

/** Attempts per item; read (and checked, with the backoff) when a stage builds its tasks, before any call. */
export function maxAttempts(): number {
  baseMs();
  const raw = env('LLM_MAX_ATTEMPTS');
  if (raw === undefined) return PARAMS.maxAttempts;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new FatalError(`Expected LLM_MAX_ATTEMPTS to be an integer ≥ 1, got ${raw}`);
  return value;
}

/** A structured call as a task of the stage: keyed for resume, metered, retried by policy. */
export function llmTask<T>(run: StageRun, provider: ChatProvider, id: string, call: StructuredCall<T>): Task<T> {
  const timeout = timeoutMs(PARAMS.timeoutMs);
  const attempts = maxAttempts();
  return {
    id,
    key: requestKey(provider.name, call.request),
    run: async (signal) =>
      (
        await callStructured(provider, call, {
          limiter: run.limiter,
          signal,
          admit: run.admit,
          timeoutMs: timeout,
          maxAttempts: attempts,
          model: call.request.model,
          onUsage: (usage, model, version) => run.meter.add(model, usage, version),
          onRetry: () => run.retried(),
        })
      ).value,
  };
}

/** One embeddings request (a batch of texts) as a resumable task; vectors must have the asked-for size. */
export function embeddingTask(run: StageRun, embedder: EmbeddingProvider, id: string, texts: string[], dimensions: number): Task<number[][]> {
  const key = createHash('sha256').update(JSON.stringify([embedder.name, embedder.model, dimensions, texts])).digest('hex').slice(0, 32);
  const estimate = Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4);
  return {
    id,
    key,
    codec: EMBEDDINGS_CODEC,
    run: async (signal) =>
      (
        await withRetries(
          async (attemptSignal) => {
            const { vectors, usage, modelVersion } = await embedder.embed(texts, dimensions, attemptSignal);
            run.meter.add(embedder.model, usage, modelVersion);
            if (vectors.length !== texts.length) throw new InvalidAnswerError('invalid', `asked for ${texts.length} embeddings, got ${vectors.length}`);
            const wrong = vectors.find((v) => v.length !== dimensions);
            if (wrong) throw new InvalidAnswerError('invalid', `asked for ${dimensions}-dimensional embeddings, got ${wrong.length}`);
            return vectors.map(toFloat32);
          },
          estimate,
          { limiter: run.limiter, signal, admit: run.admit, timeoutMs: timeoutMs(PARAMS.timeoutMs), maxAttempts: maxAttempts(), model: embedder.model, onRetry: () => run.retried() },
        )
      ).value,
  };
}

// Model calls as resumable tasks of a stage: keyed for resume, metered, and retried by the policy in ./retry.ts.
import { createHash } from 'node:crypto';
import { EMBEDDINGS_CODEC, toFloat32 } from '../io/embedding_codec.js';
import { embeddingsProblem } from '../embedding_check.js';
import { InvalidAnswerError } from '../errors.js';
import { tokensOf } from '../token_estimate.js';
import { PROVIDERS } from './providers.js';
import { callTimeoutMs, maxAttempts, withRetries } from './retry.js';
import { callStructured, type StructuredCall } from './structured.js';
import type { CallHost, Task } from './task.js';
import type { ChatProvider, EmbeddingProvider } from './types.js';

/**
 * A structured call as a task of the stage: keyed for resume, metered, retried by policy. The call is built by
 * `build` when the task runs, so a stage of many calls holds each prompt only while it is asked; `key` is its
 * requestKey, which the stage has already computed (to recheck its checkpoint) and `build` must keep matching.
 */
export function llmTask<T>(
  run: CallHost,
  provider: ChatProvider,
  id: string,
  build: () => StructuredCall<T>,
  key: string,
): Task<T> {
  const timeout = callTimeoutMs();
  const attempts = maxAttempts();
  return {
    id,
    key,
    run: async (signal) => {
      const call = build();
      return (
        await callStructured(provider, call, {
          limiter: run.limiter,
          signal,
          admit: run.admit,
          timeoutMs: timeout,
          maxAttempts: attempts,
          classify: PROVIDERS[provider.name].classify,
          model: call.request.model,
          onUsage: (usage, model, version) => run.meter.add(model, usage, version),
          onRetry: () => run.addRetries(1),
        })
      ).value;
    },
  };
}

/** One embeddings request (a batch of texts) as a resumable task; vectors must be usable (src/embedding_check.ts). */
export function embeddingTask(
  run: CallHost,
  embedder: EmbeddingProvider,
  id: string,
  texts: string[],
  dimensions: number,
): Task<number[][]> {
  const key = createHash('sha256')
    .update(JSON.stringify([embedder.name, embedder.model, dimensions, texts]))
    .digest('hex')
    .slice(0, 32);
  const estimate = tokensOf(texts);
  // Read now, when the stage builds its tasks: a bad setting stops it before any call.
  const timeout = callTimeoutMs();
  const attempts = maxAttempts();
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
            // A NaN, a string, a null or a zero vector is a bad answer like bad JSON: asked again, then recorded.
            const problem = embeddingsProblem(vectors, texts.length, dimensions);
            if (problem) throw new InvalidAnswerError('invalid', problem);
            return vectors.map(toFloat32);
          },
          estimate,
          {
            limiter: run.limiter,
            signal,
            admit: run.admit,
            timeoutMs: timeout,
            maxAttempts: attempts,
            classify: PROVIDERS[embedder.name].classify,
            model: embedder.model,
            onRetry: () => run.addRetries(1),
          },
        )
      ).value,
  };
}

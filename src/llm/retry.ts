// The retry policy every model call goes through: the error decides (retry after a wait, or stop the stage), the
// limiter admits each attempt, and each attempt has its own timeout.
import { FatalError } from '../errors.js';
import type { AdaptiveLimiter } from '../limiter.js';
import { backoffMs, sleep } from './backoff.js';
import { classify, InvalidAnswerError, type Failure } from './failure.js';
import type { Usage } from './types.js';

/** A failure after every attempt was spent; recorded for the item, the stage goes on. */
export class ItemFailedError extends Error {
  override name = 'ItemFailedError';
  constructor(readonly errorClass: string, message: string, readonly attempts: number) {
    super(message);
  }
}

/** Thrown when the stage is stopping: the item is neither finished nor failed. */
export class StoppedError extends Error {
  override name = 'StoppedError';
}

export interface CallEnvironment {
  limiter: AdaptiveLimiter;
  /** The stage's stop signal (a second Ctrl-C, a fatal error elsewhere): cancels calls in flight. */
  signal: AbortSignal;
  /** Aborted when no new request may start (the first Ctrl-C); defaults to `signal`. */
  admit?: AbortSignal;
  timeoutMs: number;
  maxAttempts: number;
  onUsage?: (usage: Usage, model: string) => void;
  onRetry?: (failure: Failure) => void;
}

/** Runs `attempt` until it succeeds, a fatal error stops the stage, or the attempts are spent. */
export async function withRetries<T>(attempt: (signal: AbortSignal) => Promise<T>, estimatedTokens: number, env: CallEnvironment): Promise<{ value: T; attempts: number }> {
  let last: Failure | undefined;
  for (let n = 1; n <= env.maxAttempts; n++) {
    if (env.signal.aborted || env.admit?.aborted) throw new StoppedError('stopping');
    try {
      const value = await env.limiter.run(() => attempt(AbortSignal.any([env.signal, AbortSignal.timeout(env.timeoutMs)])), estimatedTokens, env.admit ?? env.signal);
      env.limiter.onSuccess();
      return { value, attempts: n };
    } catch (error) {
      if (env.signal.aborted || env.admit?.aborted) throw new StoppedError('stopping');
      last = classify(error);
      if (last.kind === 'fatal') throw new FatalError(last.message);
      if (last.errorClass === 'rate_limited') env.limiter.onRateLimited(last.retryAfterMs);
      if (n < env.maxAttempts) {
        env.onRetry?.(last);
        // A bad answer is worth asking again at once; a struggling server is given time.
        if (!(error instanceof InvalidAnswerError)) await sleep(backoffMs(n, last.retryAfterMs), env.signal);
      }
    }
  }
  throw new ItemFailedError(last!.errorClass, last!.message, env.maxAttempts);
}

// The retry policy every model call goes through: the error decides (retry after a wait, or stop the stage), the
// limiter admits each attempt, and each attempt has its own timeout.
import { FatalError } from '../errors.js';
import type { AdaptiveLimiter } from '../limiter.js';
import { callSpan } from '../tracing.js';
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
  /** Named on the call's span when tracing is on. */
  model?: string;
  /** `version`: the concrete model the response named. */
  onUsage?: (usage: Usage, model: string, version?: string) => void;
  onRetry?: (failure: Failure) => void;
}

/**
 * A 429 says the account is busy, not that the item is bad: while the limiter slows the stage down, an item may be
 * turned away this many times more often than it may fail otherwise, so a stage that meets a quota loses nothing.
 */
export const RATE_LIMIT_ATTEMPT_FACTOR = 4;

/**
 * Runs `attempt` until it succeeds, a fatal error stops the stage, or the attempts are spent: `maxAttempts` failures
 * of other kinds, or `maxAttempts × RATE_LIMIT_ATTEMPT_FACTOR` 429s.
 */
export async function withRetries<T>(attempt: (signal: AbortSignal) => Promise<T>, estimatedTokens: number, env: CallEnvironment): Promise<{ value: T; attempts: number }> {
  const admit = env.admit ?? env.signal;
  let attempts = 0;
  let failures = 0;
  let rateLimited = 0;
  for (;;) {
    if (env.signal.aborted || admit.aborted) throw new StoppedError('stopping');
    attempts++;
    // The limiter's epoch when this attempt went out: a 429 to a request sent before the last decrease is not news.
    let epoch = env.limiter.epoch;
    try {
      const value = await env.limiter.run(() => {
        epoch = env.limiter.epoch;
        const signal = AbortSignal.any([env.signal, AbortSignal.timeout(env.timeoutMs)]);
        return callSpan({ model: env.model, attempt: attempts }, () => attempt(signal), (e) => classify(e).errorClass);
      }, estimatedTokens, admit);
      env.limiter.onSuccess();
      return { value, attempts };
    } catch (error) {
      if (env.signal.aborted || admit.aborted) throw new StoppedError('stopping');
      const failure = classify(error);
      if (failure.kind === 'fatal') throw new FatalError(failure.message);
      const limited = failure.errorClass === 'rate_limited';
      if (limited) env.limiter.onRateLimited(failure.retryAfterMs, epoch);
      const n = limited ? ++rateLimited : ++failures;
      if (n >= (limited ? env.maxAttempts * RATE_LIMIT_ATTEMPT_FACTOR : env.maxAttempts)) throw new ItemFailedError(failure.errorClass, failure.message, attempts);
      env.onRetry?.(failure);
      // A bad answer is worth asking again at once; a struggling server is given time. The wait ends early when
      // the stage stops taking work (Ctrl-C), so a long backoff does not hold up stop-and-keep.
      if (!(error instanceof InvalidAnswerError)) {
        const wait = backoffMs(n, failure.retryAfterMs);
        // Told to the limiter so the progress line can say the stage is backing off, and for how long.
        const done = env.limiter.beginBackoff(wait);
        try {
          await sleep(wait, admit);
        } finally {
          done();
        }
      }
    }
  }
}

// The whole retry policy every model call goes through: what an error means (retry after a wait, or stop the stage),
// how many attempts an item gets, how long to wait between them, and when a stage that makes no progress stops. The
// limiter admits each attempt, and each attempt has its own timeout. Each provider reads its own error bodies
// (src/llm/gemini.ts, src/llm/openai.ts) into a Failure; everything else about retrying is decided here.
import { PARAMS } from '../config.js';
import { envInt, timeoutMs } from '../env.js';
import { FatalError, INVALID_ANSWER_CLASSES, InvalidAnswerError, ItemFailedError, StoppedError } from '../errors.js';
import type { AdaptiveLimiter } from '../limiter.js';
import { redact } from '../secrets.js';
import { callSpan } from '../tracing.js';
import type { Usage } from './types.js';

export type FailureKind = 'transient' | 'fatal';

export interface Failure {
  kind: FailureKind;
  /** Short machine-readable class, recorded in errors files: rate_limited, server_error, timeout, auth, … */
  errorClass: string;
  message: string;
  status?: number;
  /** The wait the server asked for, in milliseconds. */
  retryAfterMs?: number;
}

/** A provider's reading of its own SDK's errors; undefined for an error that is not one of them. */
export type ProviderClassifier = (error: unknown) => Failure | undefined;

/** Who answered, for a message about its status: the provider's name as users know it and the key it reads. */
export interface Answerer {
  label: string;
  keyName: string;
}

/** The policy for an HTTP status, once the provider has read what its body says beyond it. */
export function byStatus(status: number, message: string, retryAfterMs: number | undefined, who: Answerer): Failure {
  if (status === 401 || status === 403)
    return {
      kind: 'fatal',
      errorClass: 'auth',
      status,
      message: `${who.label} rejected the API key (${status}): check ${who.keyName} — ${message}`,
    };
  if (status === 429) return { kind: 'transient', errorClass: 'rate_limited', status, message, retryAfterMs };
  if (status === 408) return { kind: 'transient', errorClass: 'timeout', status, message, retryAfterMs };
  if (status >= 500) return { kind: 'transient', errorClass: 'server_error', status, message, retryAfterMs };
  if (status === 404)
    return {
      kind: 'fatal',
      errorClass: 'not_found',
      status,
      message: `${who.label} answered 404 (is the model name right?): ${message}`,
    };
  return {
    kind: 'fatal',
    errorClass: 'invalid_request',
    status,
    message: `${who.label} refused the request (${status}): ${message}`,
  };
}

/**
 * What an error means for the call. `provider` reads that provider's API errors; timeouts, broken connections,
 * unreadable bodies and unusable answers mean the same whoever answered.
 */
export function classify(error: unknown, provider?: ProviderClassifier): Failure {
  const err = error as Error & { cause?: unknown };
  // Redacted too: the retry prompt quotes this message, and a model may echo anything it was sent.
  if (error instanceof InvalidAnswerError)
    return { kind: 'transient', errorClass: error.errorClass, message: redact(error.message).slice(0, 500) };
  const name = err?.name ?? '';
  const constructorName = err?.constructor?.name ?? '';
  const timedOut =
    /Timeout/i.test(constructorName) ||
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    /aborted|timed out/i.test(err?.message ?? '');
  // Gemini's ApiError is read before the timeout test: its message may say "timed out" about a server-side deadline.
  let failure = name === 'ApiError' ? provider?.(error) : undefined;
  if (!failure && timedOut) failure = { kind: 'transient', errorClass: 'timeout', message: 'request timed out' };
  failure ??= provider?.(error);
  if (failure) return { ...failure, message: redact(failure.message).slice(0, 500) };
  if (
    constructorName === 'APIConnectionError' ||
    (name === 'TypeError' && /fetch failed/.test(err.message)) ||
    /ECONNRESET|ECONNREFUSED|socket hang up|terminated/i.test(`${err.message} ${String(err.cause)}`)
  )
    failure = { kind: 'transient', errorClass: 'connection', message: `connection failed: ${err.message}` };
  // A 200 whose body is not JSON (a proxy's HTML page, a body cut off mid-way) fails inside the SDK's own parsing.
  else if (name === 'SyntaxError')
    failure = {
      kind: 'transient',
      errorClass: 'bad_response',
      message: `the response could not be read: ${err.message}`,
    };
  else failure = { kind: 'fatal', errorClass: 'internal', message: err?.message ?? String(error) };
  return { ...failure, message: redact(failure.message).slice(0, 500) };
}

/** A failure that was an answer the model gave but that cannot be used: asked again at once, told what was wrong. */
export function isInvalidAnswer(failure: Failure): boolean {
  return (INVALID_ANSWER_CLASSES as readonly string[]).includes(failure.errorClass);
}

// --- how long to wait -------------------------------------------------------------------------------------------

export const MAX_DELAY_MS = 60_000;

/** LLM_BACKOFF_MS exists for tests and for proxies that recover fast; 1 s is a sane first wait for real APIs. */
export function baseMs(): number {
  return envInt('LLM_BACKOFF_MS', 1000, 0);
}

/** attempt counts from 1. Full jitter on the upper half keeps concurrent retries from arriving in lockstep. */
export function backoffMs(attempt: number, serverDelayMs?: number, random: () => number = Math.random): number {
  if (serverDelayMs !== undefined)
    return Math.min(MAX_DELAY_MS, serverDelayMs + random() * Math.min(1000, serverDelayMs * 0.2));
  const ceiling = Math.min(MAX_DELAY_MS, baseMs() * 2 ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

// --- how many attempts, how long each -------------------------------------------------------------------------------

/** The per-request timeout: LLM_TIMEOUT_MS, else the default. */
export function callTimeoutMs(): number {
  return timeoutMs(PARAMS.timeoutMs);
}

/**
 * Attempts per item; read (and checked, with the backoff and the no-progress bound) when a stage builds its tasks,
 * so a bad value stops the stage before any call instead of failing each item.
 */
export function maxAttempts(): number {
  baseMs();
  noProgressMs();
  return envInt('LLM_MAX_ATTEMPTS', PARAMS.maxAttempts, 1);
}

/**
 * A 429 says the account is busy, not that the item is bad: while the limiter slows the stage down, an item may be
 * turned away this many times more often than it may fail otherwise, so a stage that meets a quota loses nothing.
 */
export const RATE_LIMIT_ATTEMPT_FACTOR = 4;

// --- when to give up on the whole stage ---------------------------------------------------------------------------

/** How long a stage may go without a single answer while its requests fail, unless LLM_NO_PROGRESS_MS says otherwise. */
export const NO_PROGRESS_MS = 120_000;

export function noProgressMs(): number {
  return envInt('LLM_NO_PROGRESS_MS', NO_PROGRESS_MS, 1);
}

/**
 * Stops a stage whose every request fails for a bounded time (a quota that is gone, a service that does not answer):
 * without it, 429s and timeouts are retried item after item for hours. The clock starts at the first failure after
 * the last answer; any answer (a usable one or not: the service is answering) stops it.
 */
export class NoProgressWatch {
  private since: number | undefined;
  private readonly seen = new Map<string, number>();
  private lastTimeoutMs = 0;

  constructor(
    readonly boundMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  answered(): void {
    this.since = undefined;
    this.seen.clear();
  }

  failed(failure: Failure, timeoutMs: number): void {
    this.since ??= this.now();
    this.seen.set(failure.errorClass, (this.seen.get(failure.errorClass) ?? 0) + 1);
    if (failure.errorClass === 'timeout') this.lastTimeoutMs = timeoutMs;
  }

  /** How long until the bound is reached (Infinity while the service answers). */
  remainingMs(): number {
    return this.since === undefined ? Number.POSITIVE_INFINITY : Math.max(0, this.since + this.boundMs - this.now());
  }

  /** The one-line reason to stop, once the bound is reached. */
  verdict(): FatalError | undefined {
    if (this.remainingMs() > 0) return undefined;
    const seconds = `${Math.round(this.boundMs / 1000)} s`;
    const classes = [...this.seen.keys()];
    const only = classes.length === 1 ? classes[0] : undefined;
    const keep = 'what was answered is saved; run the same command again later to resume';
    if (only === 'rate_limited')
      return new FatalError(
        `every request answered 429 for ${seconds}: the quota is exhausted or the --rpm is too high — ${keep}`,
      );
    if (only === 'timeout')
      return new FatalError(
        `no request was answered for ${seconds} (each timed out after ${this.lastTimeoutMs} ms): the service is not answering — check it (or raise LLM_TIMEOUT_MS); ${keep}`,
      );
    if (only === 'server_error')
      return new FatalError(
        `every request answered a server error (5xx) for ${seconds}: the service is failing — ${keep}`,
      );
    if (only === 'connection')
      return new FatalError(`no connection to the service for ${seconds}: check the network or the base URL — ${keep}`);
    const tally = [...this.seen].map(([k, v]) => `${k} ×${v}`).join(', ');
    return new FatalError(
      `no request succeeded for ${seconds} (${tally}): the service is not answering usefully — ${keep}`,
    );
  }
}

// One watch per limiter, that is per stage: every call of the stage counts towards the same clock.
const watches = new WeakMap<AdaptiveLimiter, NoProgressWatch>();

/** The stage's watch, made at its first call. */
export function noProgressWatch(limiter: AdaptiveLimiter): NoProgressWatch {
  let watch = watches.get(limiter);
  if (!watch) {
    watch = new NoProgressWatch(noProgressMs());
    watches.set(limiter, watch);
  }
  return watch;
}

// --- the loop ----------------------------------------------------------------------------------------------------

export interface CallEnvironment {
  limiter: AdaptiveLimiter;
  /** The stage's stop signal (a second Ctrl-C, a fatal error elsewhere): cancels calls in flight. */
  signal: AbortSignal;
  /** Aborted when no new request may start (the first Ctrl-C); defaults to `signal`. */
  admit?: AbortSignal;
  timeoutMs: number;
  maxAttempts: number;
  /** Reads the answering provider's own errors. */
  classify?: ProviderClassifier;
  /** Named on the call's span when tracing is on. */
  model?: string;
  /** `version`: the concrete model the response named. */
  onUsage?: (usage: Usage, model: string, version?: string) => void;
  onRetry?: (failure: Failure) => void;
}

/**
 * One attempt's signal: aborted by the stage's stop, or with a TimeoutError after `timeoutMs`. `release` clears the
 * timer and the listener once the attempt is over. Not `AbortSignal.any([stop, AbortSignal.timeout(ms)])`: the
 * timeout signal's timer holds it (and what the SDK hung on it) until the timeout passes, whether or not the call
 * has ended, and Node keeps `any`'s signals registered on the long-lived stop signal (nodejs/node#55351). At 30,000
 * calls that kept ~9,000 timers and their signals alive, and stage 3 ran out of a 200 MiB heap that it now fits.
 */
export function attemptSignal(stop: AbortSignal, timeoutMs: number): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onStop = () => controller.abort(stop.reason);
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    timeoutMs,
  );
  if (stop.aborted) onStop();
  else stop.addEventListener('abort', onStop, { once: true });
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
    },
  };
}

/**
 * Runs `attempt` until it succeeds, a fatal error stops the stage, the stage has made no progress for the bound of
 * its NoProgressWatch, or the attempts are spent: `maxAttempts` failures of other kinds, or `maxAttempts ×
 * RATE_LIMIT_ATTEMPT_FACTOR` 429s.
 */
export async function withRetries<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  estimatedTokens: number,
  env: CallEnvironment,
): Promise<{ value: T; attempts: number }> {
  const admit = env.admit ?? env.signal;
  const watch = noProgressWatch(env.limiter);
  let attempts = 0;
  let failures = 0;
  let rateLimited = 0;
  for (;;) {
    if (env.signal.aborted || admit.aborted) throw new StoppedError('stopping');
    attempts++;
    // The limiter's epoch when this attempt went out: a 429 to a request sent before the last decrease is not news.
    let epoch = env.limiter.epoch;
    try {
      const value = await env.limiter.run(
        async () => {
          epoch = env.limiter.epoch;
          const { signal, release } = attemptSignal(env.signal, env.timeoutMs);
          try {
            return await callSpan(
              { model: env.model, attempt: attempts },
              () => attempt(signal),
              (e) => classify(e, env.classify).errorClass,
            );
          } finally {
            release();
          }
        },
        estimatedTokens,
        admit,
      );
      env.limiter.onSuccess();
      watch.answered();
      return { value, attempts };
    } catch (error) {
      if (env.signal.aborted || admit.aborted) throw new StoppedError('stopping');
      const failure = classify(error, env.classify);
      if (failure.kind === 'fatal') throw new FatalError(failure.message, { cause: error });
      if (error instanceof InvalidAnswerError) watch.answered();
      else watch.failed(failure, env.timeoutMs);
      const stop = watch.verdict();
      if (stop) throw stop;
      const limited = failure.errorClass === 'rate_limited';
      if (limited) env.limiter.onRateLimited(failure.retryAfterMs, epoch);
      const n = limited ? ++rateLimited : ++failures;
      if (n >= (limited ? env.maxAttempts * RATE_LIMIT_ATTEMPT_FACTOR : env.maxAttempts))
        throw new ItemFailedError(failure.errorClass, failure.message, attempts, { cause: error });
      env.onRetry?.(failure);
      // A bad answer is worth asking again at once; a struggling server is given time. The wait ends early when
      // the stage stops taking work (Ctrl-C), so a long backoff does not hold up stop-and-keep, and it never runs
      // past the no-progress bound, so the stop comes on time.
      if (!(error instanceof InvalidAnswerError)) {
        const wait = Math.min(backoffMs(n, failure.retryAfterMs), watch.remainingMs());
        // Told to the limiter so the progress line can say the stage is backing off, and for how long.
        const done = env.limiter.beginBackoff(wait);
        try {
          await sleep(wait, admit);
        } finally {
          done();
        }
        const late = watch.verdict();
        if (late) throw late;
      }
    }
  }
}

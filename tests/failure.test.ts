// Error classification: which provider errors are retried (and after how long) and which stop the stage.
import { ApiError } from '@google/genai';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidAnswerError } from '../src/errors.js';
import { classifyGeminiError } from '../src/llm/gemini.js';
import { classifyOpenAIError } from '../src/llm/openai.js';
import { classify as classifyWith } from '../src/llm/retry.js';

/** As a call does: the provider that made the request reads its own errors; the rest is the shared policy. */
const classify = (error: unknown) =>
  classifyWith(error, error instanceof ApiError ? classifyGeminiError : classifyOpenAIError);

/** An error the way @google/genai throws it: name 'ApiError', the HTTP status, and the whole JSON body as message. */
function geminiError(status: number, error: Record<string, unknown>) {
  return new ApiError({ status, message: JSON.stringify({ error: { code: status, ...error } }) });
}
const RETRY_INFO = (delay: string) => ({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay });
const QUOTA = (quotaId: string) => ({
  '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
  violations: [
    {
      quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
      quotaId,
      quotaValue: '250',
    },
  ],
});

/** classify() of a Gemini 429 RESOURCE_EXHAUSTED carrying `details` and `message` when they are given. */
function exhausted(details: unknown[] | undefined, message?: string) {
  return classify(
    geminiError(429, {
      ...(message === undefined ? {} : { message }),
      status: 'RESOURCE_EXHAUSTED',
      ...(details === undefined ? {} : { details }),
    }),
  );
}

/** An error the way the openai SDK builds it from a response. */
function openaiError(status: number, body: Record<string, unknown> | undefined, headers: Record<string, string> = {}) {
  return APIError.generate(status, body ? { error: body } : undefined, undefined, new Headers(headers));
}

describe('Gemini errors', () => {
  it('a 429 with RetryInfo "0.5s" is transient and waits 500 ms', () => {
    const failure = exhausted([RETRY_INFO('0.5s')], 'Resource has been exhausted');
    expect(failure).toMatchObject({ kind: 'transient', errorClass: 'rate_limited', status: 429, retryAfterMs: 500 });
    expect(failure.message).toBe('RESOURCE_EXHAUSTED Resource has been exhausted');
  });

  it('reads fractional and whole-second retry delays', () => {
    expect(exhausted([RETRY_INFO('3.957525076s')]).retryAfterMs).toBe(3958);
    expect(
      exhausted([QUOTA('GenerateRequestsPerMinutePerProjectPerModel-FreeTier'), RETRY_INFO('26s')]).retryAfterMs,
    ).toBe(26_000);
  });

  it('a 429 without details is transient with no server delay', () => {
    const failure = exhausted(undefined, 'Resource has been exhausted (e.g. check quota).');
    expect(failure).toMatchObject({ kind: 'transient', errorClass: 'rate_limited' });
    expect(failure.retryAfterMs).toBeUndefined();
  });

  it('a per-day QuotaFailure is fatal, a per-minute one is not', () => {
    const daily = exhausted(
      [QUOTA('GenerateRequestsPerDayPerProjectPerModel-FreeTier'), RETRY_INFO('26s')],
      'You exceeded your current quota',
    );
    expect(daily).toMatchObject({ kind: 'fatal', errorClass: 'daily_quota', status: 429 });
    expect(daily.message).toMatch(/^Gemini daily quota exhausted: /);
    const perMinute = exhausted([QUOTA('GenerateRequestsPerMinutePerProjectPerModel-FreeTier')]);
    expect(perMinute.kind).toBe('transient');
  });

  it.each([401, 403])('a %i is a fatal auth error naming GOOGLE_API_KEY', (status) => {
    const failure = classify(geminiError(status, { message: 'Permission denied', status: 'PERMISSION_DENIED' }));
    expect(failure).toMatchObject({ kind: 'fatal', errorClass: 'auth', status });
    expect(failure.message).toContain('check GOOGLE_API_KEY');
  });

  it('a 400 API_KEY_INVALID (what the real API answers to a wrong key) is a fatal auth error', () => {
    const failure = classify(
      geminiError(400, {
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
      }),
    );
    expect(failure).toMatchObject({ kind: 'fatal', errorClass: 'auth' });
  });

  // 5xx is transient; 404 and other 4xx are fatal.
  it.each([
    [503, 'transient', 'server_error', { message: 'The model is overloaded.', status: 'UNAVAILABLE' }],
    [500, 'transient', 'server_error', { message: 'Internal', status: 'INTERNAL' }],
    [404, 'fatal', 'not_found', { message: 'models/gemini-9 is not found', status: 'NOT_FOUND' }],
    [400, 'fatal', 'invalid_request', { message: 'Invalid JSON payload', status: 'INVALID_ARGUMENT' }],
  ] as const)('%i is %s (%s)', (status, kind, errorClass, body) => {
    expect(classify(geminiError(status, body))).toMatchObject({ kind, errorClass });
  });

  it('a body that is not JSON still classifies by status', () => {
    const failure = classify(new ApiError({ status: 502, message: '<html>Bad gateway</html>' }));
    expect(failure).toMatchObject({ kind: 'transient', errorClass: 'server_error', status: 502 });
    expect(failure.message).toContain('Bad gateway');
  });
});

describe('OpenAI errors', () => {
  it('insufficient_quota is fatal even though it is a 429', () => {
    const failure = classify(
      openaiError(429, {
        message: 'You exceeded your current quota',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      }),
    );
    expect(failure).toMatchObject({ kind: 'fatal', errorClass: 'insufficient_quota' });
  });

  it('a rate-limit 429 honours retry-after-ms, then retry-after', () => {
    const body = { message: 'Rate limit reached', type: 'tokens', code: 'rate_limit_exceeded' };
    expect(classify(openaiError(429, body, { 'retry-after-ms': '750', 'retry-after': '9' }))).toMatchObject({
      kind: 'transient',
      errorClass: 'rate_limited',
      retryAfterMs: 750,
    });
    expect(classify(openaiError(429, body, { 'retry-after': '2' })).retryAfterMs).toBe(2000);
    expect(classify(openaiError(429, body)).retryAfterMs).toBeUndefined();
  });

  it('accepts headers as a plain object too', () => {
    const error = Object.assign(new Error('429 slow down'), { status: 429, headers: { 'retry-after-ms': '120' } });
    expect(classify(error)).toMatchObject({ kind: 'transient', retryAfterMs: 120 });
  });

  it('reads an HTTP-date retry-after', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const failure = classify(openaiError(503, { message: 'busy' }, { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }));
    vi.useRealTimers();
    expect(failure).toMatchObject({ kind: 'transient', errorClass: 'server_error', retryAfterMs: 5000 });
  });

  it.each([401, 403])('a %i is a fatal auth error naming OPENAI_API_KEY', (status) => {
    const failure = classify(openaiError(status, { message: 'Incorrect API key provided', code: 'invalid_api_key' }));
    expect(failure).toMatchObject({ kind: 'fatal', errorClass: 'auth', status });
    expect(failure.message).toContain('check OPENAI_API_KEY');
  });

  it('500 is transient, 400 fatal', () => {
    expect(classify(openaiError(500, { message: 'oops' }))).toMatchObject({
      kind: 'transient',
      errorClass: 'server_error',
    });
    expect(classify(openaiError(400, { message: 'bad dimensions', code: null }))).toMatchObject({
      kind: 'fatal',
      errorClass: 'invalid_request',
    });
  });
});

describe('timeouts, aborts and connections', () => {
  it.each([
    [
      'a DOMException AbortError (the Gemini SDK timeout)',
      new DOMException('This operation was aborted', 'AbortError'),
    ],
    [
      'a TimeoutError from AbortSignal.timeout',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    ],
    ['the openai SDK timeout', new APIConnectionTimeoutError()],
    ['the openai SDK abort', new APIUserAbortError()],
  ])('%s is a transient timeout', (_name, error) => {
    expect(classify(error)).toMatchObject({ kind: 'transient', errorClass: 'timeout' });
  });

  it('connection failures are transient', () => {
    const refused = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    expect(classify(refused)).toMatchObject({ kind: 'transient', errorClass: 'connection' });
    expect(classify(new APIConnectionError({ message: 'Connection error.' }))).toMatchObject({
      kind: 'transient',
      errorClass: 'connection',
    });
  });

  it('an invalid answer is transient and keeps its class', () => {
    expect(classify(new InvalidAnswerError('schema', 'expected 3 items'))).toEqual({
      kind: 'transient',
      errorClass: 'schema',
      message: 'expected 3 items',
    });
  });

  it('anything else is a fatal internal error', () => {
    expect(classify(new RangeError('bug'))).toMatchObject({ kind: 'fatal', errorClass: 'internal', message: 'bug' });
  });
});

describe('messages', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('never carry the API key', () => {
    vi.stubEnv('GOOGLE_API_KEY', 'AIzaSyTEST-secret-key-123456');
    const failure = classify(
      geminiError(400, { message: 'bad request for key AIzaSyTEST-secret-key-123456', status: 'INVALID_ARGUMENT' }),
    );
    expect(failure.message).not.toContain('AIzaSyTEST-secret-key-123456');
    expect(failure.message).toContain('[redacted]');
  });

  it('are cut to 500 characters', () => {
    expect(classify(new Error('x'.repeat(5000))).message).toHaveLength(500);
  });
});

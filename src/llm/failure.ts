// Decides what an error means: worth retrying (and after how long) or a reason to stop the stage at once.
import { redact } from '../secrets.js';

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

/** An answer that arrived but cannot be used; retried with the reason told to the model. */
export class InvalidAnswerError extends Error {
  override name = 'InvalidAnswerError';
  constructor(readonly errorClass: 'not_json' | 'schema' | 'truncated' | 'refused' | 'blocked' | 'invalid', message: string) {
    super(message);
  }
}

/** Parses a protobuf Duration such as "26s" or "3.957525076s". */
function durationMs(text: unknown): number | undefined {
  const match = typeof text === 'string' ? /^([\d.]+)s$/.exec(text) : null;
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

function retryAfterFromHeaders(headers: unknown): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && header(headers, 'retry-after-ms') !== undefined) return ms;
  const after = header(headers, 'retry-after');
  if (after === undefined) return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

function byStatus(status: number, message: string, retryAfterMs: number | undefined, provider: string): Failure {
  if (status === 401 || status === 403)
    return { kind: 'fatal', errorClass: 'auth', status, message: `${provider} rejected the API key (${status}): check ${provider === 'Gemini' ? 'GOOGLE_API_KEY' : 'OPENAI_API_KEY'} — ${message}` };
  if (status === 429) return { kind: 'transient', errorClass: 'rate_limited', status, message, retryAfterMs };
  if (status === 408) return { kind: 'transient', errorClass: 'timeout', status, message, retryAfterMs };
  if (status >= 500) return { kind: 'transient', errorClass: 'server_error', status, message, retryAfterMs };
  if (status === 404) return { kind: 'fatal', errorClass: 'not_found', status, message: `${provider} answered 404 (is the model name right?): ${message}` };
  return { kind: 'fatal', errorClass: 'invalid_request', status, message: `${provider} refused the request (${status}): ${message}` };
}

function classifyGemini(error: { status?: number; message: string }): Failure {
  let body: { error?: { message?: string; status?: string; details?: Array<Record<string, unknown>> } } = {};
  try {
    body = JSON.parse(error.message);
  } catch {
    // Non-JSON body: the SDK wraps the text; keep the raw message.
  }
  const details = body.error?.details ?? [];
  const message = `${body.error?.status ?? error.status} ${body.error?.message ?? error.message}`.trim();
  const retry = details.find((d) => String(d['@type']).endsWith('RetryInfo'));
  const quota = details.find((d) => String(d['@type']).endsWith('QuotaFailure')) as { violations?: Array<{ quotaId?: string }> } | undefined;
  // The real API answers a wrong key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401: still a key problem.
  if (details.some((d) => d['reason'] === 'API_KEY_INVALID') || /API key not valid/i.test(message))
    return { kind: 'fatal', errorClass: 'auth', status: error.status, message: `Gemini rejected the API key (${error.status}): check GOOGLE_API_KEY — ${message}` };
  // A per-day quota will not come back within any retry budget: stop instead of hammering the API until midnight.
  if (error.status === 429 && quota?.violations?.some((v) => /PerDay/i.test(v.quotaId ?? '')))
    return { kind: 'fatal', errorClass: 'daily_quota', status: 429, message: `Gemini daily quota exhausted: ${message}` };
  return byStatus(error.status ?? 0, message, durationMs(retry?.retryDelay), 'Gemini');
}

function classifyOpenAI(error: { status?: number; code?: string | null; message: string; headers?: unknown }): Failure {
  if (error.code === 'insufficient_quota')
    return { kind: 'fatal', errorClass: 'insufficient_quota', status: error.status, message: `OpenAI quota exhausted (insufficient_quota): check the billing of the account — ${error.message}` };
  // A requests- or tokens-per-day limit will not reset within any retry budget.
  if (error.status === 429 && /per day|\((?:RPD|TPD)\)/i.test(error.message))
    return { kind: 'fatal', errorClass: 'daily_quota', status: 429, message: `OpenAI daily limit reached: ${error.message}` };
  return byStatus(error.status ?? 0, error.message, retryAfterFromHeaders(error.headers), 'OpenAI');
}

export function classify(error: unknown): Failure {
  const err = error as Error & { status?: number; code?: string; headers?: unknown; cause?: unknown };
  // Redacted too: the retry prompt quotes this message, and a model may echo anything it was sent.
  if (error instanceof InvalidAnswerError) return { kind: 'transient', errorClass: error.errorClass, message: redact(error.message).slice(0, 500) };
  const name = err?.name ?? '';
  const constructorName = err?.constructor?.name ?? '';
  let failure: Failure;
  if (name === 'ApiError' && typeof err.status === 'number') failure = classifyGemini(err);
  else if (/Timeout/i.test(constructorName) || name === 'TimeoutError' || name === 'AbortError' || /aborted|timed out/i.test(err?.message ?? ''))
    failure = { kind: 'transient', errorClass: 'timeout', message: 'request timed out' };
  else if (typeof err.status === 'number') failure = classifyOpenAI(err);
  else if (constructorName === 'APIConnectionError' || (name === 'TypeError' && /fetch failed/.test(err.message)) || /ECONNRESET|ECONNREFUSED|socket hang up|terminated/i.test(`${err.message} ${String(err.cause)}`))
    failure = { kind: 'transient', errorClass: 'connection', message: `connection failed: ${err.message}` };
  // A 200 whose body is not JSON (a proxy's HTML page, a body cut off mid-way) fails inside the SDK's own parsing.
  else if (name === 'SyntaxError') failure = { kind: 'transient', errorClass: 'bad_response', message: `the response could not be read: ${err.message}` };
  else failure = { kind: 'fatal', errorClass: 'internal', message: err?.message ?? String(error) };
  return { ...failure, message: redact(failure.message).slice(0, 500) };
}

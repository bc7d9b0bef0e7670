// Error bodies as the real providers send them (PROVIDERS.md §2.4, §3.3): quota, rate, auth, fatal and per-status errors.
import type { Provider, Reply } from './protocol.js';
import type { FaultPlan } from './types.js';

export const GEMINI_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const GEMINI_HELP = {
  '@type': 'type.googleapis.com/google.rpc.Help',
  links: [
    { description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' },
  ],
};

export function geminiError(status: number, message: string, details?: unknown[]): Reply {
  return {
    status,
    body: {
      error: { code: status, message, status: GEMINI_STATUS[status] ?? 'UNKNOWN', ...(details ? { details } : {}) },
    },
  };
}

export function geminiQuotaError(
  model: string,
  quotaId: string,
  metric: string,
  value: string,
  delaySeconds?: number,
): Reply {
  const details: unknown[] = [
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: `generativelanguage.googleapis.com/${metric}`,
          quotaId,
          quotaDimensions: { location: 'global', model },
          quotaValue: value,
        },
      ],
    },
    GEMINI_HELP,
  ];
  if (delaySeconds !== undefined) {
    details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${+delaySeconds.toFixed(3)}s` });
  }
  return geminiError(
    429,
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
    details,
  );
}

export function openaiError(
  status: number,
  message: string,
  type: string,
  code: string | null,
  headers?: Record<string, string>,
): Reply {
  return { status, body: { error: { message, type, param: null, code } }, headers };
}

export function openaiRateError(model: string, per: 'min' | 'day', limit: number, delaySeconds?: number): Reply {
  const unit = per === 'min' ? 'requests per min (RPM)' : 'requests per day (RPD)';
  const wait = delaySeconds === undefined ? '' : ` Please try again in ${+delaySeconds.toFixed(3)}s.`;
  const headers =
    delaySeconds === undefined ? undefined : { 'retry-after-ms': String(Math.round(delaySeconds * 1000)) };
  return openaiError(
    429,
    `Rate limit reached for ${model} in organization org-imitation on ${unit}: Limit ${limit}, Used ${limit}, Requested 1.${wait} Visit https://platform.openai.com/account/rate-limits to learn more.`,
    'requests',
    'rate_limit_exceeded',
    headers,
  );
}

/** The error a provider sends for `status`, as used by scripted faults that give no body. */
export function errorForStatus(provider: Provider, status: number, model: string): Reply {
  if (provider === 'gemini') {
    if (status === 429)
      return geminiQuotaError(
        model,
        'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
        'generate_content_free_tier_requests',
        '10',
        0.05,
      );
    const messages: Record<number, string> = {
      400: 'Request contains an invalid argument.',
      401: 'Request had invalid authentication credentials.',
      403: 'The caller does not have permission',
      404: 'Requested entity was not found.',
      500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      503: 'The model is overloaded. Please try again later.',
      504: 'The request timed out. Please try again.',
    };
    return geminiError(status, messages[status] ?? `Imitated error ${status}.`);
  }
  if (status === 429) return openaiRateError(model, 'min', 500, 0.05);
  if (status === 400) return openaiError(400, 'Invalid request.', 'invalid_request_error', null);
  if (status === 401)
    return openaiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
  if (status === 404) return openaiError(404, 'Not found.', 'invalid_request_error', null);
  if (status === 503) return openaiError(503, 'The server is overloaded or not ready yet.', 'server_error', null);
  if (status >= 500)
    return openaiError(
      status,
      'The server had an error while processing your request. Sorry about that!',
      'server_error',
      null,
    );
  return openaiError(status, `Imitated error ${status}.`, 'invalid_request_error', null);
}

export function fatalError(provider: Provider, fatal: NonNullable<FaultPlan['fatal']>, model: string): Reply {
  if (fatal === 'invalid_argument') return errorForStatus(provider, 400, model);
  if (provider === 'gemini') {
    // Gemini has no separate billing code: running out shows up as a per-day quota, with a RetryInfo that lies.
    return geminiQuotaError(
      model,
      'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
      'generate_content_free_tier_requests',
      '250',
      0.05,
    );
  }
  if (fatal === 'daily_quota') return openaiRateError(model, 'day', 10_000, 0.05);
  return openaiError(
    429,
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
    'insufficient_quota',
    'insufficient_quota',
  );
}

export function authError(provider: Provider, missing: boolean): Reply {
  if (provider === 'openai') {
    return missing
      ? openaiError(
          401,
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          'invalid_request_error',
          null,
        )
      : openaiError(
          401,
          'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
          'invalid_request_error',
          'invalid_api_key',
        );
  }
  if (missing) {
    return geminiError(
      403,
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    );
  }
  return geminiError(401, 'API key not valid. Please pass a valid API key.', [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
  ]);
}

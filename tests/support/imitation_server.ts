// In-process imitation of the Gemini and OpenAI REST APIs (generate, embed, files, batches) for the real SDKs, offline.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { defaultAnswer, embedText, estimateTokens, hashString, makeRng, type GenerateCall, type Rng } from './fake_answers.js';
import {
  catalogue as makeCatalogue,
  geminiModelResource,
  geminiNotFoundMessage,
  geminiThinkingProblem,
  geminiThoughtTokens,
  openaiNotFoundMessage,
  openaiParamProblem,
  openaiReasoningTokens,
  PrefixCache,
  type CatalogueName,
} from './imitation_catalogue.js';

export type { GenerateCall } from './fake_answers.js';

/** One scripted fault; the first unconsumed entry whose `match` is a substring of the request path is used once. */
export interface ScriptedFault {
  /** Substring of the request path (with query). Without it the entry matches the next HTTP request of any kind. */
  match?: string;
  status?: number;
  body?: any;
  headers?: Record<string, string>;
  hang?: boolean;
  truncated?: boolean;
  badJson?: boolean;
}

export interface FaultPlan {
  rate429?: number;
  /** Share of random 429s that carry Gemini RetryInfo / OpenAI `retry-after-ms` (default 1). */
  rate429RetryInfo?: number;
  rate503?: number;
  /** MAX_TOKENS / finish_reason `length` with the JSON cut off. */
  rateTruncated?: number;
  /** Never answer; the client has to time out. */
  rateHang?: number;
  rateBadJson?: number;
  /** A real sliding window per provider (60 s unless `windowMs` shortens it for tests): calls beyond `rpm` get 429. */
  quota?: { rpm: number; windowMs?: number };
  /** Every model call and batch creation fails this way. */
  fatal?: 'insufficient_quota' | 'daily_quota' | 'invalid_argument';
  script?: ScriptedFault[];
  /** Embedding answers carry `value` (NaN, null, a string …) in their first vector — at [0], or `every` value — for the next `answers` answers (default: all). */
  badEmbedding?: { value: unknown; every?: boolean; answers?: number };
}

export interface ImitationOptions {
  faults?: FaultPlan;
  /** Override the answer of a generate call: an object is sent as JSON text, a string as-is; undefined → default. */
  respond?: (req: GenerateCall) => unknown | undefined;
  /** Forces this embedding size; unset → the requested dimensions/outputDimensionality, else the model's default. */
  embeddingDim?: number;
  keys?: { gemini?: string; openai?: string };
  /** The GET of a batch that reports it done (default 1: the first poll). */
  batchPollsBeforeDone?: number;
  seed?: number;
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Every answer waits this long (ms) before it is sent, as a real model takes time; 0 by default. */
  latencyMs?: number;
  /** Plus a uniform random 0…jitter ms (seeded). */
  latencyJitterMs?: number;
  /** Keep each request's body in `requests` (default true); a long benchmark turns it off to bound memory. */
  recordBodies?: boolean;
  /** Which models exist (default 'today': 2.0 and 2.5 Gemini answer 404); 'any' serves every name. */
  catalogue?: CatalogueName;
  /** false: no models list/get endpoints (404 on the route), as some OpenAI-compatible servers. Default true. */
  modelsEndpoint?: boolean;
  /** Least shared prefix, in tokens, that implicit caching serves (default: each provider's documented minimum). */
  cacheMinTokens?: { gemini?: number; openai?: number };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
  /** 0 while unanswered (a hang). */
  status: number;
  at: number;
  /** The tokens this answer reported (generate and OpenAI embedding calls that got a 200), as the provider bills them. */
  usage?: ReportedUsage;
}

/** What one answer reported: tokens as billed (output includes thinking), cached input, the concrete version. */
export interface ReportedUsage {
  input: number;
  output: number;
  cached?: number;
  thoughts?: number;
  version?: string;
}

export interface Imitation {
  url: string;
  geminiBaseUrl: string;
  openaiBaseUrl: string;
  requests: RecordedRequest[];
  count(pred?: (r: RecordedRequest) => boolean): number;
  setFaults(f: FaultPlan): void;
  close(): Promise<void>;
}

type Provider = 'gemini' | 'openai';

interface Reply {
  status: number;
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  usage?: ReportedUsage;
}

const HANG = Symbol('hang');
type Outcome = Reply | typeof HANG;

type Fault = { kind: 'reply'; reply: Reply } | { kind: 'hang' } | { kind: 'truncated' } | { kind: 'badJson' };

class BadRequest extends Error {}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const iso = (ms = Date.now()) => new Date(ms).toISOString();

// ---------------------------------------------------------------------------------------------------------------
// Error bodies as the real providers send them (PROVIDERS.md §2.4, §3.3)

const GEMINI_STATUS: Record<number, string> = {
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
  links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
};

function geminiError(status: number, message: string, details?: unknown[]): Reply {
  return { status, body: { error: { code: status, message, status: GEMINI_STATUS[status] ?? 'UNKNOWN', ...(details ? { details } : {}) } } };
}

function geminiQuotaError(model: string, quotaId: string, metric: string, value: string, delaySeconds?: number): Reply {
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

function openaiError(status: number, message: string, type: string, code: string | null, headers?: Record<string, string>): Reply {
  return { status, body: { error: { message, type, param: null, code } }, headers };
}

function openaiRateError(model: string, per: 'min' | 'day', limit: number, delaySeconds?: number): Reply {
  const unit = per === 'min' ? 'requests per min (RPM)' : 'requests per day (RPD)';
  const wait = delaySeconds === undefined ? '' : ` Please try again in ${+delaySeconds.toFixed(3)}s.`;
  const headers = delaySeconds === undefined ? undefined : { 'retry-after-ms': String(Math.round(delaySeconds * 1000)) };
  return openaiError(
    429,
    `Rate limit reached for ${model} in organization org-imitation on ${unit}: Limit ${limit}, Used ${limit}, Requested 1.${wait} Visit https://platform.openai.com/account/rate-limits to learn more.`,
    'requests',
    'rate_limit_exceeded',
    headers,
  );
}

/** The error a provider sends for `status`, as used by scripted faults that give no body. */
function errorForStatus(provider: Provider, status: number, model: string): Reply {
  if (provider === 'gemini') {
    if (status === 429) return geminiQuotaError(model, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'generate_content_free_tier_requests', '10', 0.05);
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
  if (status === 401) return openaiError(401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
  if (status === 404) return openaiError(404, 'Not found.', 'invalid_request_error', null);
  if (status === 503) return openaiError(503, 'The server is overloaded or not ready yet.', 'server_error', null);
  if (status >= 500) return openaiError(status, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
  return openaiError(status, `Imitated error ${status}.`, 'invalid_request_error', null);
}

function fatalError(provider: Provider, fatal: NonNullable<FaultPlan['fatal']>, model: string): Reply {
  if (fatal === 'invalid_argument') return errorForStatus(provider, 400, model);
  if (provider === 'gemini') {
    // Gemini has no separate billing code: running out shows up as a per-day quota, with a RetryInfo that lies.
    return geminiQuotaError(model, 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', 'generate_content_free_tier_requests', '250', 0.05);
  }
  if (fatal === 'daily_quota') return openaiRateError(model, 'day', 10_000, 0.05);
  return openaiError(
    429,
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
    'insufficient_quota',
    'insufficient_quota',
  );
}

function authError(provider: Provider, missing: boolean): Reply {
  if (provider === 'openai') {
    return missing
      ? openaiError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 'invalid_request_error', null)
      : openaiError(401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key');
  }
  if (missing) {
    return geminiError(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
  }
  return geminiError(401, 'API key not valid. Please pass a valid API key.', [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading requests

function contentText(content: any): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map(contentText).join('\n');
  if (content && Array.isArray(content.parts)) return content.parts.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('\n');
  if (content && typeof content.text === 'string') return content.text;
  return '';
}

function geminiCallOf(model: string, request: any): { call: GenerateCall; jsonMode: boolean } {
  if (!request || typeof request !== 'object') throw new BadRequest('request must be an object');
  if (request.contents === undefined || (Array.isArray(request.contents) && request.contents.length === 0)) {
    throw new BadRequest('* GenerateContentRequest.contents: contents is not specified');
  }
  const gc = request.generationConfig ?? {};
  const schema = gc.responseJsonSchema ?? gc.responseSchema;
  const call: GenerateCall = {
    provider: 'gemini',
    model,
    system: contentText(request.systemInstruction),
    prompt: (Array.isArray(request.contents) ? request.contents : [request.contents]).map(contentText).join('\n'),
    schemaName: typeof schema?.title === 'string' ? schema.title : undefined,
    schema,
    temperature: gc.temperature,
  };
  return { call, jsonMode: gc.responseMimeType === 'application/json' || schema !== undefined };
}

function openaiCallOf(body: any): { call: GenerateCall; jsonMode: boolean } {
  if (!body || typeof body.model !== 'string') throw new BadRequest("you must provide a model parameter");
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new BadRequest("Missing required parameter: 'messages'.");
  if (body.stream) throw new BadRequest('The imitation server does not stream.');
  const isSystem = (m: any) => m?.role === 'system' || m?.role === 'developer';
  const rf = body.response_format;
  const schema = rf?.type === 'json_schema' ? rf.json_schema?.schema : undefined;
  const call: GenerateCall = {
    provider: 'openai',
    model: body.model,
    system: body.messages.filter(isSystem).map((m: any) => contentText(m.content)).join('\n'),
    prompt: body.messages.filter((m: any) => !isSystem(m)).map((m: any) => contentText(m.content)).join('\n'),
    schemaName: rf?.type === 'json_schema' ? rf.json_schema?.name : undefined,
    schema,
    temperature: body.temperature,
  };
  return { call, jsonMode: rf?.type === 'json_schema' || rf?.type === 'json_object' };
}

function defaultEmbeddingDim(model: string): number {
  if (/text-embedding-004|embedding-001$/.test(model) && !model.includes('gemini')) return 768;
  if (model.includes('ada-002') || model.includes('3-small')) return 1536;
  return 3072;
}

function mangle(text: string, fault: Fault | undefined): string {
  if (fault?.kind === 'truncated') return text.slice(0, Math.max(0, Math.min(text.length - 1, Math.floor(text.length * 0.6))));
  // A trailing comma: the shape of JSON a model "almost" got right, which JSON.parse still rejects.
  if (fault?.kind === 'badJson') return text.startsWith('{') && text.endsWith('}') ? `${text.slice(0, -1)},}` : `{${text}`;
  return text;
}

// ---------------------------------------------------------------------------------------------------------------
// The server

interface StoredFile {
  id: string;
  provider: Provider;
  filename: string;
  purpose: string;
  mimeType: string;
  bytes: Buffer;
  createdMs: number;
}

interface LineResult {
  key: string;
  /** HTTP status the line would have had as a normal request; 0 = the line never ran (expired). */
  status: number;
  body?: any;
  usage?: ReportedUsage;
}

interface OpenAIBatch {
  id: string;
  endpoint: string;
  inputFileId: string;
  metadata: unknown;
  createdAt: number;
  polls: number;
  status: 'validating' | 'in_progress' | 'failed' | 'completed' | 'cancelling' | 'cancelled';
  lines: Array<{ custom_id: string; url: string; body: any }>;
  errors?: Array<{ code: string; line: number; message: string; param: null }>;
  outputFileId?: string;
  errorFileId?: string;
  counts: { total: number; completed: number; failed: number };
  usage?: { input: number; output: number };
  doneAt?: number;
}

interface GeminiBatch {
  id: string;
  model: string;
  displayName?: string;
  createMs: number;
  updateMs: number;
  polls: number;
  state: 'BATCH_STATE_PENDING' | 'BATCH_STATE_RUNNING' | 'BATCH_STATE_SUCCEEDED' | 'BATCH_STATE_CANCELLED';
  inline?: Array<{ request: any; metadata?: any }>;
  fromFile?: Array<{ key: string; request?: any; invalid?: string }>;
  inlinedResponses?: unknown[];
  responsesFile?: string;
  stats?: { requestCount: string; successfulRequestCount: string; failedRequestCount: string };
}

export async function startImitation(opts: ImitationOptions = {}): Promise<Imitation> {
  const seed = opts.seed ?? 1;
  const pollsBeforeDone = opts.batchPollsBeforeDone ?? 1;
  let plan: FaultPlan = opts.faults ?? {};
  let script: ScriptedFault[] = [...(plan.script ?? [])];
  const faultRng: Rng = makeRng(hashString('faults', seed));
  const orderRng: Rng = makeRng(hashString('order', seed));
  const latencyRng: Rng = makeRng(hashString('latency', seed));
  const windows: Record<Provider, number[]> = { gemini: [], openai: [] };
  const requests: RecordedRequest[] = [];
  const files = new Map<string, StoredFile>();
  const uploads = new Map<string, { meta: any; parts: Buffer[] }>();
  const openaiBatches = new Map<string, OpenAIBatch>();
  const geminiBatches = new Map<string, GeminiBatch>();
  const sockets = new Set<Socket>();
  let seq = 0;
  let origin = '';
  const cat = makeCatalogue(opts.catalogue ?? 'today');
  const prefixes = new PrefixCache();
  const modelsEndpoint = opts.modelsEndpoint ?? true;

  const newId = (prefix: string) => `${prefix}${(++seq).toString(36)}${randomBytes(5).toString('hex')}`;

  // --- faults ---------------------------------------------------------------------------------------------------

  /** Scripted entries without `match` apply to HTTP requests only; batch lines need an explicit match. */
  function takeScript(path: string, forLine: boolean): ScriptedFault | undefined {
    const i = script.findIndex((s) => (s.match === undefined ? !forLine : path.includes(s.match)));
    return i < 0 ? undefined : script.splice(i, 1)[0];
  }

  function takeMatchedScript(path: string): ScriptedFault | undefined {
    const i = script.findIndex((s) => s.match !== undefined && path.includes(s.match));
    return i < 0 ? undefined : script.splice(i, 1)[0];
  }

  function scriptedFault(entry: ScriptedFault, provider: Provider, model: string): Fault | undefined {
    if (entry.hang) return { kind: 'hang' };
    if (entry.status !== undefined && entry.status !== 200) {
      const reply: Reply = entry.body !== undefined ? { status: entry.status, body: entry.body } : errorForStatus(provider, entry.status, model);
      return { kind: 'reply', reply: { ...reply, headers: { ...reply.headers, ...entry.headers } } };
    }
    if (entry.truncated) return { kind: 'truncated' };
    if (entry.badJson) return { kind: 'badJson' };
    if (entry.body !== undefined) return { kind: 'reply', reply: { status: 200, body: entry.body, headers: entry.headers } };
    return undefined;
  }

  /** Three draws per call whatever the outcome, so a seed and a request order give the same faults. */
  function randomFault(provider: Provider, model: string, generate: boolean): Fault | undefined {
    const u = faultRng();
    const v = faultRng();
    const d = faultRng();
    let edge = plan.rate429 ?? 0;
    if (u < edge) {
      const delay = v < (plan.rate429RetryInfo ?? 1) ? 0.02 + d * 0.06 : undefined;
      if (provider === 'openai') return { kind: 'reply', reply: openaiRateError(model, 'min', 500, delay) };
      if (delay === undefined) return { kind: 'reply', reply: geminiError(429, 'Resource has been exhausted (e.g. check quota).') };
      return {
        kind: 'reply',
        reply: geminiQuotaError(model, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'generate_content_free_tier_requests', '10', delay),
      };
    }
    if (u < (edge += plan.rate503 ?? 0)) return { kind: 'reply', reply: errorForStatus(provider, 503, model) };
    if (u < (edge += plan.rateHang ?? 0)) return { kind: 'hang' };
    if (u < (edge += plan.rateTruncated ?? 0)) return generate ? { kind: 'truncated' } : undefined;
    if (u < (edge += plan.rateBadJson ?? 0)) return generate ? { kind: 'badJson' } : undefined;
    return undefined;
  }

  /** Faults of a synchronous model call, after any scripted one: fatal, then the quota window, then chance. */
  function modelFault(provider: Provider, model: string, generate: boolean): Fault | undefined {
    if (plan.fatal) return { kind: 'reply', reply: fatalError(provider, plan.fatal, model) };
    if (plan.quota) {
      const window = windows[provider];
      const now = Date.now();
      const span = plan.quota.windowMs ?? 60_000;
      while (window.length > 0 && window[0] <= now - span) window.shift();
      if (window.length >= plan.quota.rpm) {
        const wait = (window[0] + span - now) / 1000;
        const reply =
          provider === 'openai'
            ? openaiRateError(model, 'min', plan.quota.rpm, wait)
            : geminiQuotaError(model, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'generate_content_free_tier_requests', String(plan.quota.rpm), wait);
        return { kind: 'reply', reply };
      }
      window.push(now);
    }
    return randomFault(provider, model, generate);
  }

  function lineFault(provider: Provider, virtualPath: string, model: string): Fault | undefined {
    const entry = takeScript(virtualPath, true);
    if (entry) return scriptedFault(entry, provider, model);
    return randomFault(provider, model, true);
  }

  // --- answers --------------------------------------------------------------------------------------------------

  function answerText(call: GenerateCall, jsonMode: boolean): string {
    const custom = opts.respond?.(call);
    const value = custom !== undefined ? custom : defaultAnswer(call, jsonMode, seed);
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  function geminiGenerate(model: string, request: any, fault: Fault | undefined): LineResult {
    if (fault?.kind === 'reply') return { key: '', status: fault.reply.status, body: fault.reply.body };
    if (fault?.kind === 'hang') return { key: '', status: 0 };
    const { call, jsonMode } = geminiCallOf(model, request);
    const spec = cat.gemini(model);
    const version = spec?.id ?? model;
    const text = mangle(answerText(call, jsonMode), fault);
    const input = estimateTokens(call.system + call.prompt);
    const output = estimateTokens(text);
    const thoughts = spec ? geminiThoughtTokens(spec, request.generationConfig?.thinkingConfig) : 0;
    // The system instruction goes first, then the contents: the order the model reads (and caches) them in.
    const cached = prefixes.cachedTokens(`gemini:${version}`, `${call.system}\n${call.prompt}`, opts.cacheMinTokens?.gemini ?? spec?.cacheMin ?? 4096);
    const body = {
      candidates: [
        { content: { role: 'model', parts: [{ text }] }, finishReason: fault?.kind === 'truncated' ? 'MAX_TOKENS' : 'STOP', index: 0 },
      ],
      usageMetadata: {
        promptTokenCount: input,
        candidatesTokenCount: output,
        totalTokenCount: input + output + thoughts,
        thoughtsTokenCount: thoughts,
        ...(cached ? { cachedContentTokenCount: cached, cacheTokensDetails: [{ modality: 'TEXT', tokenCount: cached }] } : {}),
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: input }],
      },
      modelVersion: version,
      responseId: newId('resp'),
    };
    return { key: '', status: 200, body, usage: { input, output: output + thoughts, cached, thoughts, version } };
  }

  function openaiChat(body: any, fault: Fault | undefined): LineResult {
    if (fault?.kind === 'reply') return { key: '', status: fault.reply.status, body: fault.reply.body };
    if (fault?.kind === 'hang') return { key: '', status: 0 };
    const { call, jsonMode } = openaiCallOf(body);
    const spec = cat.openai(call.model);
    const version = spec?.snapshot ?? call.model;
    const text = mangle(answerText(call, jsonMode), fault);
    const input = estimateTokens(call.system + call.prompt);
    const reasoning = spec ? openaiReasoningTokens(spec, body) : 0;
    const output = estimateTokens(text) + reasoning;
    // OpenAI caches the longest seen prefix from 1,024 tokens on, in steps of 128.
    const cached = prefixes.cachedTokens(`openai:${version}`, `${call.system}\n${call.prompt}`, opts.cacheMinTokens?.openai ?? 1024, 128);
    const completion = {
      id: newId('chatcmpl-'),
      object: 'chat.completion',
      created: nowSeconds(),
      model: version,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: fault?.kind === 'truncated' ? 'length' : 'stop',
        },
      ],
      usage: {
        prompt_tokens: input,
        completion_tokens: output,
        total_tokens: input + output,
        prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
      },
      service_tier: 'default',
      system_fingerprint: 'fp_imitation',
    };
    return { key: '', status: 200, body: completion, usage: { input, output, cached, thoughts: reasoning, version } };
  }

  function openaiEmbeddings(body: any, fault: Fault | undefined): LineResult {
    if (fault?.kind === 'reply') return { key: '', status: fault.reply.status, body: fault.reply.body };
    if (fault?.kind === 'hang') return { key: '', status: 0 };
    if (!body || typeof body.model !== 'string' || body.input === undefined) throw new BadRequest("'input' and 'model' are required.");
    const spec = cat.openai(body.model);
    if (!spec?.embedding) return { key: '', status: 404, body: openaiError(404, openaiNotFoundMessage(body.model), 'invalid_request_error', 'model_not_found').body };
    const raw = body.input;
    const inputs: string[] =
      typeof raw === 'string'
        ? [raw]
        : Array.isArray(raw) && raw.every((x: unknown) => typeof x === 'number')
          ? [raw.join(' ')]
          : Array.isArray(raw)
            ? raw.map((x: unknown) => (Array.isArray(x) ? x.join(' ') : String(x)))
            : [String(raw)];
    const dim = opts.embeddingDim ?? body.dimensions ?? defaultEmbeddingDim(body.model);
    const base64 = body.encoding_format === 'base64';
    const tokens = inputs.reduce((n, s) => n + estimateTokens(s), 0);
    const data = spoiled(inputs.map((text) => embedText(text, dim))).map((vec, index) => {
      // The SDK asks for base64 by default and decodes little-endian float32; floats there would decode as garbage.
      // A value float32 cannot hold (null, a string) is sent as a plain array, as a compatible server might.
      const embedding = base64 && vec.every((x) => typeof x === 'number') ? Buffer.from(new Float32Array(vec as number[]).buffer).toString('base64') : vec;
      return { object: 'embedding', index, embedding };
    });
    return {
      key: '',
      status: 200,
      body: { object: 'list', data, model: spec.snapshot, usage: { prompt_tokens: tokens, total_tokens: tokens } },
      usage: { input: tokens, output: 0, version: spec.snapshot },
    };
  }

  /** One embedding answer's vectors with the plan's bad value in the first one, while answers are left to spoil. */
  function spoiled(vectors: number[][]): unknown[][] {
    const bad = plan.badEmbedding;
    if (!bad || (bad.answers ?? 1) <= 0 || !vectors.length) return vectors;
    if (bad.answers !== undefined) bad.answers--;
    const [first, ...rest] = vectors;
    return [bad.every ? first!.map(() => bad.value) : [bad.value, ...first!.slice(1)], ...rest];
  }

  function geminiEmbed(model: string, request: any): number[] {
    const dim = opts.embeddingDim ?? request?.outputDimensionality ?? defaultEmbeddingDim(model);
    return embedText(contentText(request?.content), dim);
  }

  // --- the catalogue's rules, checked before any fault is drawn (a 404 or 400 is decided by the request alone) ----

  function geminiRuleReply(model: string, body: any, method: 'generateContent' | 'embedContent'): Reply | undefined {
    const spec = cat.gemini(model);
    if (!spec || !spec.methods.includes(method)) return geminiError(404, geminiNotFoundMessage(model, method));
    if (method === 'generateContent') {
      const problem = geminiThinkingProblem(spec, body?.generationConfig?.thinkingConfig);
      if (problem) return geminiError(400, problem);
    }
    return undefined;
  }

  function openaiRuleReply(body: any): Reply | undefined {
    const spec = cat.openai(body.model);
    if (!spec || spec.embedding) return openaiError(404, openaiNotFoundMessage(body.model), 'invalid_request_error', 'model_not_found');
    const problem = openaiParamProblem(spec, body);
    if (problem) return { status: 400, body: { error: { message: problem.message, type: 'invalid_request_error', param: problem.param, code: problem.code } } };
    return undefined;
  }

  /** `GET /v1beta/models[/{id}]` and `GET /v1/models[/{id}]`: free, like the real ones. */
  function modelsRoute(provider: Provider, method: string, path: string): Reply | undefined {
    if (!modelsEndpoint || method !== 'GET') return undefined;
    if (provider === 'gemini') {
      if (path === '/v1beta/models') return { status: 200, body: { models: cat.geminiListed().map((m) => geminiModelResource(m.id, m.model)) } };
      const id = /^\/v1beta\/models\/([^/:]+)$/.exec(path)?.[1];
      if (id === undefined) return undefined;
      const spec = cat.gemini(id);
      return spec ? { status: 200, body: geminiModelResource(id, spec) } : geminiError(404, `Model is not found: models/${id} for api version v1beta`);
    }
    const object = (m: { id: string; created: number }) => ({ id: m.id, object: 'model', created: m.created, owned_by: 'system' });
    if (path === '/v1/models') return { status: 200, body: { object: 'list', data: cat.openaiListed().map(object) } };
    const id = /^\/v1\/models\/([^/]+)$/.exec(path)?.[1];
    if (id === undefined) return undefined;
    const spec = cat.openai(decodeURIComponent(id));
    return spec ? { status: 200, body: object(spec) } : openaiError(404, openaiNotFoundMessage(decodeURIComponent(id)), 'invalid_request_error', 'model_not_found');
  }

  // --- files ----------------------------------------------------------------------------------------------------

  function storeFile(provider: Provider, filename: string, purpose: string, mimeType: string, bytes: Buffer): StoredFile {
    const id = provider === 'openai' ? newId('file-') : newId('');
    const file = { id, provider, filename, purpose, mimeType, bytes, createdMs: Date.now() };
    files.set(`${provider}:${id}`, file);
    return file;
  }

  const openaiFileObject = (f: StoredFile) => ({
    id: f.id,
    object: 'file',
    bytes: f.bytes.length,
    created_at: Math.floor(f.createdMs / 1000),
    filename: f.filename,
    purpose: f.purpose,
    status: 'processed',
    expires_at: null,
    status_details: null,
  });

  const geminiFileObject = (f: StoredFile) => ({
    name: `files/${f.id}`,
    displayName: f.filename,
    mimeType: f.mimeType,
    sizeBytes: String(f.bytes.length),
    createTime: iso(f.createdMs),
    updateTime: iso(f.createdMs),
    expirationTime: iso(f.createdMs + 48 * 3600_000),
    uri: `${origin}/v1beta/files/${f.id}`,
    state: 'ACTIVE',
    source: 'UPLOADED',
  });

  const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length > 0 ? '\n' : '');

  // --- OpenAI batches -------------------------------------------------------------------------------------------

  function openaiBatchObject(b: OpenAIBatch) {
    const done = b.doneAt !== undefined ? Math.floor(b.doneAt / 1000) : null;
    return {
      id: b.id,
      object: 'batch',
      endpoint: b.endpoint,
      errors: b.errors ? { object: 'list', data: b.errors } : null,
      input_file_id: b.inputFileId,
      completion_window: '24h',
      status: b.status,
      output_file_id: b.outputFileId ?? null,
      error_file_id: b.errorFileId ?? null,
      created_at: b.createdAt,
      in_progress_at: b.status === 'validating' ? null : b.createdAt,
      expires_at: b.createdAt + 86_400,
      finalizing_at: b.status === 'completed' ? done : null,
      completed_at: b.status === 'completed' ? done : null,
      failed_at: b.status === 'failed' ? done : null,
      expired_at: null,
      cancelling_at: b.status === 'cancelling' || b.status === 'cancelled' ? done : null,
      cancelled_at: b.status === 'cancelled' ? done : null,
      request_counts: b.counts,
      metadata: b.metadata ?? null,
      ...(b.usage
        ? {
            usage: {
              input_tokens: b.usage.input,
              output_tokens: b.usage.output,
              total_tokens: b.usage.input + b.usage.output,
              input_tokens_details: { cached_tokens: 0 },
              output_tokens_details: { reasoning_tokens: 0 },
            },
          }
        : {}),
    };
  }

  function createOpenAIBatch(body: any): Reply {
    if (!body || typeof body.input_file_id !== 'string') throw new BadRequest("Missing required parameter: 'input_file_id'.");
    if (body.endpoint !== '/v1/chat/completions' && body.endpoint !== '/v1/embeddings') {
      throw new BadRequest(`The imitation supports endpoints /v1/chat/completions and /v1/embeddings, got ${JSON.stringify(body.endpoint)}.`);
    }
    if (body.completion_window !== '24h') throw new BadRequest("Invalid value for 'completion_window': expected '24h'.");
    const input = files.get(`openai:${body.input_file_id}`);
    if (!input) return openaiError(404, `No such File object: ${body.input_file_id}`, 'invalid_request_error', null);
    if (plan.fatal) return fatalError('openai', plan.fatal, 'batch');
    const b: OpenAIBatch = {
      id: newId('batch_'),
      endpoint: body.endpoint,
      inputFileId: input.id,
      metadata: body.metadata,
      createdAt: nowSeconds(),
      polls: 0,
      status: 'validating',
      lines: [],
      counts: { total: 0, completed: 0, failed: 0 },
    };
    // Input problems surface the way the real API reports them: the batch is created, then reports `failed`.
    const errors: NonNullable<OpenAIBatch['errors']> = [];
    const seen = new Set<string>();
    input.bytes
      .toString('utf8')
      .split('\n')
      .forEach((text, i) => {
        if (text.trim() === '') return;
        let line: any;
        try {
          line = JSON.parse(text);
        } catch {
          errors.push({ code: 'invalid_json_line', line: i + 1, message: 'This line is not parseable as valid JSON.', param: null });
          return;
        }
        if (typeof line?.custom_id !== 'string') {
          errors.push({ code: 'missing_required_parameter', line: i + 1, message: "Missing required parameter: 'custom_id'.", param: null });
        } else if (seen.has(line.custom_id)) {
          errors.push({ code: 'duplicate_custom_id', line: i + 1, message: 'The custom_id for this request is a duplicate of another request.', param: null });
        } else if (line.url !== b.endpoint) {
          errors.push({ code: 'url_mismatch', line: i + 1, message: `The provided url '${line.url}' does not match the batch endpoint.`, param: null });
        } else {
          seen.add(line.custom_id);
          b.lines.push({ custom_id: line.custom_id, url: line.url, body: line.body });
        }
      });
    if (b.lines.length === 0 && errors.length === 0) errors.push({ code: 'empty_file', line: 0, message: 'The batch input file is empty.', param: null });
    if (errors.length > 0) {
      b.errors = errors;
      b.status = 'failed';
      b.doneAt = Date.now();
    }
    b.counts.total = b.lines.length;
    openaiBatches.set(b.id, b);
    if (pollsBeforeDone <= 0) advanceOpenAIBatch(b);
    return { status: 200, body: openaiBatchObject(b) };
  }

  function advanceOpenAIBatch(b: OpenAIBatch): void {
    if (b.status === 'cancelling') {
      b.status = 'cancelled';
      return;
    }
    if (b.status !== 'validating' && b.status !== 'in_progress') return;
    if (b.polls < pollsBeforeDone) {
      b.status = 'in_progress';
      return;
    }
    const ok: unknown[] = [];
    const bad: unknown[] = [];
    const usage = { input: 0, output: 0 };
    for (const line of b.lines) {
      const model = typeof line.body?.model === 'string' ? line.body.model : 'unknown';
      const rule = b.endpoint === '/v1/chat/completions' && typeof line.body?.model === 'string' ? openaiRuleReply(line.body) : undefined;
      const fault = rule ? undefined : lineFault('openai', `${line.url}#${line.custom_id}`, model);
      let result: LineResult;
      try {
        if (rule) result = { key: '', status: rule.status, body: rule.body };
        else result = b.endpoint === '/v1/embeddings' ? openaiEmbeddings(line.body, fault) : openaiChat(line.body, fault);
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        result = { key: '', status: 400, body: openaiError(400, e.message, 'invalid_request_error', null).body };
      }
      const id = newId('batch_req_');
      if (result.status === 0) {
        bad.push({ id, custom_id: line.custom_id, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } });
      } else {
        const row = { id, custom_id: line.custom_id, response: { status_code: result.status, request_id: newId('req_'), body: result.body }, error: null };
        (result.status === 200 ? ok : bad).push(row);
      }
      if (result.usage) {
        usage.input += result.usage.input;
        usage.output += result.usage.output;
      }
    }
    // Real output order differs from input order; shuffling makes callers match by custom_id.
    const shuffle = (rows: unknown[]) => rows.map((r) => [orderRng(), r] as const).sort((x, y) => x[0] - y[0]).map(([, r]) => r);
    if (ok.length > 0) b.outputFileId = storeFile('openai', `${b.id}_output.jsonl`, 'batch_output', 'application/jsonl', Buffer.from(jsonl(shuffle(ok)))).id;
    if (bad.length > 0) b.errorFileId = storeFile('openai', `${b.id}_error.jsonl`, 'batch_output', 'application/jsonl', Buffer.from(jsonl(shuffle(bad)))).id;
    b.counts = { total: b.lines.length, completed: ok.length, failed: bad.length };
    b.usage = usage;
    b.status = 'completed';
    b.doneAt = Date.now();
  }

  // --- Gemini batches -------------------------------------------------------------------------------------------

  function geminiBatchOperation(b: GeminiBatch) {
    const terminal = b.state === 'BATCH_STATE_SUCCEEDED' || b.state === 'BATCH_STATE_CANCELLED';
    const total = b.inline?.length ?? b.fromFile?.length ?? 0;
    const output = b.inlinedResponses
      ? { inlinedResponses: { inlinedResponses: b.inlinedResponses } }
      : b.responsesFile
        ? { responsesFile: b.responsesFile }
        : undefined;
    return {
      name: `batches/${b.id}`,
      metadata: {
        '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
        name: `batches/${b.id}`,
        model: `models/${b.model}`,
        ...(b.displayName !== undefined ? { displayName: b.displayName } : {}),
        state: b.state,
        createTime: iso(b.createMs),
        updateTime: iso(b.updateMs),
        ...(terminal ? { endTime: iso(b.updateMs) } : {}),
        batchStats: b.stats ?? { requestCount: String(total), pendingRequestCount: String(total) },
        ...(output ? { output } : {}),
      },
      ...(terminal ? { done: true } : {}),
    };
  }

  function createGeminiBatch(model: string, body: any): Reply {
    const batch = body?.batch;
    const input = batch?.inputConfig;
    if (!input) throw new BadRequest('* BatchGenerateContentRequest.batch.input_config: input_config is not specified');
    if (!cat.gemini(model)) return geminiError(404, geminiNotFoundMessage(model, 'batchGenerateContent'));
    if (plan.fatal) return fatalError('gemini', plan.fatal, model);
    const b: GeminiBatch = {
      id: newId(''),
      model,
      displayName: batch.displayName,
      createMs: Date.now(),
      updateMs: Date.now(),
      polls: 0,
      state: 'BATCH_STATE_PENDING',
    };
    if (Array.isArray(input.requests?.requests)) {
      b.inline = input.requests.requests;
    } else if (typeof input.fileName === 'string') {
      const file = files.get(`gemini:${input.fileName.replace(/^files\//, '')}`);
      if (!file) return geminiError(404, `File ${input.fileName} not found.`);
      b.fromFile = file.bytes
        .toString('utf8')
        .split('\n')
        .filter((t) => t.trim() !== '')
        .map((text, i) => {
          try {
            const line = JSON.parse(text);
            return { key: String(line.key ?? line.metadata?.key ?? `line-${i + 1}`), request: line.request };
          } catch {
            return { key: `line-${i + 1}`, invalid: 'Invalid JSON in the batch input line.' };
          }
        });
    } else {
      throw new BadRequest('* BatchGenerateContentRequest.batch.input_config: requests or file_name is required');
    }
    geminiBatches.set(b.id, b);
    if (pollsBeforeDone <= 0) advanceGeminiBatch(b);
    return { status: 200, body: geminiBatchOperation(b) };
  }

  function geminiLine(model: string, key: string, request: any): { response?: unknown; error?: unknown } {
    const rule = geminiRuleReply(model, request, 'generateContent');
    if (rule) return { error: (rule.body as any).error };
    const fault = lineFault('gemini', `/v1beta/models/${model}:generateContent#${key}`, model);
    let result: LineResult;
    try {
      result = geminiGenerate(model, request, fault);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      return { error: { code: 400, message: e.message, status: 'INVALID_ARGUMENT' } };
    }
    if (result.status === 200) return { response: result.body };
    if (result.status === 0) return { error: { code: 504, message: 'Deadline expired before operation could complete.', status: 'DEADLINE_EXCEEDED' } };
    const err = (result.body as any)?.error;
    return { error: err ?? { code: result.status, message: 'Imitated error.', status: GEMINI_STATUS[result.status] ?? 'UNKNOWN' } };
  }

  function advanceGeminiBatch(b: GeminiBatch): void {
    if (b.state !== 'BATCH_STATE_PENDING' && b.state !== 'BATCH_STATE_RUNNING') return;
    b.updateMs = Date.now();
    if (b.polls < pollsBeforeDone) {
      b.state = 'BATCH_STATE_RUNNING';
      return;
    }
    let failed = 0;
    if (b.inline) {
      b.inlinedResponses = b.inline.map((item, i) => {
        const out = geminiLine(b.model, String(item.metadata?.key ?? i), item.request);
        if (out.error) failed++;
        return { ...(item.metadata !== undefined ? { metadata: item.metadata } : {}), ...out };
      });
    } else {
      const rows = (b.fromFile ?? []).map((line) => {
        const out = line.invalid
          ? { error: { code: 400, message: line.invalid, status: 'INVALID_ARGUMENT' } }
          : geminiLine(b.model, line.key, line.request);
        if (out.error) failed++;
        return { key: line.key, ...out };
      });
      b.responsesFile = `files/${storeFile('gemini', `batch-${b.id}-results.jsonl`, 'batch_output', 'application/jsonl', Buffer.from(jsonl(rows))).id}`;
    }
    const total = b.inline?.length ?? b.fromFile?.length ?? 0;
    b.stats = { requestCount: String(total), successfulRequestCount: String(total - failed), failedRequestCount: String(failed) };
    b.state = 'BATCH_STATE_SUCCEEDED';
  }

  // --- routing --------------------------------------------------------------------------------------------------

  function parseJson(raw: Buffer): any {
    if (raw.length === 0) return {};
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new BadRequest('Invalid JSON payload received.');
    }
  }

  function fromLine(result: LineResult): Outcome {
    if (result.status === 0) return HANG;
    return { status: result.status, body: result.body, usage: result.usage };
  }

  async function routeGemini(method: string, url: URL, req: http.IncomingMessage, raw: Buffer, pre: Fault | undefined): Promise<Outcome> {
    const path = url.pathname;
    const listed = modelsRoute('gemini', method, path);
    if (listed) return listed;
    let m = /^\/v1beta\/(?:models|tunedModels)\/([^/:]+):(\w+)$/.exec(path);
    if (m && method === 'POST') {
      const [, model, action] = m;
      const body = parseJson(raw);
      if (action === 'generateContent') {
        const { call } = geminiCallOf(model, body); // validates before a fault is drawn
        const rule = geminiRuleReply(model, body, 'generateContent');
        if (rule) return rule;
        return fromLine(geminiGenerate(call.model, body, pre ?? modelFault('gemini', model, true)));
      }
      if (action === 'batchEmbedContents' || action === 'embedContent') {
        const rule = geminiRuleReply(model, body, 'embedContent');
        if (rule) return rule;
        const fault = pre ?? modelFault('gemini', model, false);
        if (fault?.kind === 'reply') return fault.reply;
        if (fault?.kind === 'hang') return HANG;
        if (action === 'embedContent') return { status: 200, body: { embedding: { values: spoiled([geminiEmbed(model, body)])[0] } } };
        if (!Array.isArray(body.requests)) throw new BadRequest('* BatchEmbedContentsRequest.requests: requests is required');
        return { status: 200, body: { embeddings: spoiled(body.requests.map((r: any) => geminiEmbed(model, r))).map((values) => ({ values })) } };
      }
      if (action === 'batchGenerateContent') return createGeminiBatch(model, body);
    }
    m = /^\/v1beta\/batches\/([^/:]+)(:cancel)?$/.exec(path);
    if (m) {
      const b = geminiBatches.get(m[1]);
      if (!b) return geminiError(404, `Batch batches/${m[1]} not found.`);
      if (method === 'POST' && m[2]) {
        if (b.state === 'BATCH_STATE_PENDING' || b.state === 'BATCH_STATE_RUNNING') {
          b.state = 'BATCH_STATE_CANCELLED';
          b.updateMs = Date.now();
        }
        return { status: 200, body: {} };
      }
      if (method === 'DELETE' && !m[2]) {
        geminiBatches.delete(b.id);
        return { status: 200, body: {} };
      }
      if (method === 'GET' && !m[2]) {
        b.polls++;
        advanceGeminiBatch(b);
        return { status: 200, body: geminiBatchOperation(b) };
      }
    }
    if (path === '/upload/v1beta/files' && method === 'POST') {
      const command = String(req.headers['x-goog-upload-command'] ?? '').toLowerCase();
      const uploadId = url.searchParams.get('upload_id');
      if (command === 'start') {
        const id = newId('up');
        uploads.set(id, { meta: parseJson(raw)?.file ?? {}, parts: [] });
        return {
          status: 200,
          raw: '',
          headers: {
            'x-goog-upload-url': `${origin}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`,
            'x-goog-upload-status': 'active',
          },
        };
      }
      const upload = uploadId ? uploads.get(uploadId) : undefined;
      if (!upload) return geminiError(404, 'Upload session not found.');
      upload.parts.push(raw);
      if (!command.includes('finalize')) return { status: 200, raw: '', headers: { 'x-goog-upload-status': 'active' } };
      uploads.delete(uploadId!);
      const file = storeFile(
        'gemini',
        upload.meta.displayName ?? String(req.headers['x-goog-upload-file-name'] ?? 'upload'),
        'upload',
        upload.meta.mimeType ?? 'application/octet-stream',
        Buffer.concat(upload.parts),
      );
      return { status: 200, body: { file: geminiFileObject(file) }, headers: { 'x-goog-upload-status': 'final' } };
    }
    m = /^\/v1beta\/files\/([a-z0-9-]+)(:download)?$/.exec(path);
    if (m && method === 'GET') {
      const file = files.get(`gemini:${m[1]}`);
      if (!file) return geminiError(404, `File files/${m[1]} not found.`);
      if (m[2]) return { status: 200, raw: file.bytes, contentType: 'application/octet-stream' };
      return { status: 200, body: geminiFileObject(file) };
    }
    return geminiError(404, `The imitation does not serve ${method} ${path}.`);
  }

  async function routeOpenAI(method: string, url: URL, req: http.IncomingMessage, raw: Buffer, pre: Fault | undefined): Promise<Outcome> {
    const path = url.pathname;
    const listed = modelsRoute('openai', method, path);
    if (listed) return listed;
    if (method === 'POST' && path === '/v1/chat/completions') {
      const body = parseJson(raw);
      openaiCallOf(body); // validates before a fault is drawn
      const rule = openaiRuleReply(body);
      if (rule) return rule;
      return fromLine(openaiChat(body, pre ?? modelFault('openai', body.model, true)));
    }
    if (method === 'POST' && path === '/v1/embeddings') {
      const body = parseJson(raw);
      if (body && typeof body.model === 'string' && !cat.openai(body.model)?.embedding) {
        return openaiError(404, openaiNotFoundMessage(body.model), 'invalid_request_error', 'model_not_found');
      }
      return fromLine(openaiEmbeddings(body, pre ?? modelFault('openai', String(body?.model), false)));
    }
    if (method === 'POST' && path === '/v1/files') {
      const form = await multipart(req, raw);
      const file = form.get('file');
      const purpose = form.get('purpose');
      if (!(file instanceof File) || typeof purpose !== 'string') throw new BadRequest("Missing required parameters: 'file' and 'purpose'.");
      const stored = storeFile('openai', file.name, purpose, file.type || 'application/octet-stream', Buffer.from(await file.arrayBuffer()));
      return { status: 200, body: openaiFileObject(stored) };
    }
    let m = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (m && method === 'GET') {
      const file = files.get(`openai:${m[1]}`);
      if (!file) return openaiError(404, `No such File object: ${m[1]}`, 'invalid_request_error', null);
      if (m[2]) return { status: 200, raw: file.bytes, contentType: 'application/octet-stream' };
      return { status: 200, body: openaiFileObject(file) };
    }
    if (method === 'POST' && path === '/v1/batches') return createOpenAIBatch(parseJson(raw));
    m = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (m) {
      const b = openaiBatches.get(m[1]);
      if (!b) return openaiError(404, `No batch found with id '${m[1]}'.`, 'invalid_request_error', null);
      if (method === 'POST' && m[2]) {
        if (b.status === 'validating' || b.status === 'in_progress') {
          b.status = 'cancelling';
          b.doneAt = Date.now();
        }
        return { status: 200, body: openaiBatchObject(b) };
      }
      if (method === 'GET' && !m[2]) {
        b.polls++;
        advanceOpenAIBatch(b);
        return { status: 200, body: openaiBatchObject(b) };
      }
    }
    return openaiError(404, `Invalid URL (${method} ${path})`, 'invalid_request_error', null);
  }

  async function multipart(req: http.IncomingMessage, raw: Buffer): Promise<FormData> {
    try {
      return await new Request(`http://imitation${req.url}`, { method: 'POST', headers: req.headers as Record<string, string>, body: raw }).formData();
    } catch {
      throw new BadRequest('Expected a multipart/form-data body.');
    }
  }

  function checkKey(provider: Provider, req: http.IncomingMessage, url: URL): Reply | undefined {
    const expected = opts.keys?.[provider];
    if (expected === undefined) return undefined;
    const sent =
      provider === 'gemini'
        ? (req.headers['x-goog-api-key'] as string | undefined) ?? url.searchParams.get('key') ?? undefined
        : /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (sent === expected) return undefined;
    return authError(provider, sent === undefined || sent === '');
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://imitation');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
    const body = opts.recordBodies === false ? undefined : recordedBody(raw, headers['content-type']);
    const record: RecordedRequest = { method, path: req.url ?? '/', headers, body, status: 0, at: Date.now() };
    requests.push(record);
    const provider: Provider = url.pathname.startsWith('/v1/') ? 'openai' : 'gemini';
    let outcome: Outcome;
    try {
      outcome = checkKey(provider, req, url) ?? (await afterAuth(provider, method, url, req, raw));
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      outcome = provider === 'gemini' ? geminiError(400, e.message) : openaiError(400, e.message, 'invalid_request_error', null);
    }
    if (outcome === HANG) return; // the socket stays open until the client gives up or close() destroys it
    const wait = (opts.latencyMs ?? 0) + (opts.latencyJitterMs ? latencyRng() * opts.latencyJitterMs : 0);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    record.status = outcome.status;
    record.usage = outcome.usage;
    send(res, provider, outcome);
  }

  async function afterAuth(provider: Provider, method: string, url: URL, req: http.IncomingMessage, raw: Buffer): Promise<Outcome> {
    // The free model look-ups a client makes before paying are not what a scripted fault without `match` is for.
    const lookup = isModelLookup({ method, path: url.pathname });
    const entry = lookup ? takeMatchedScript(req.url ?? '/') : takeScript(req.url ?? '/', false);
    const pre = entry ? scriptedFault(entry, provider, modelOf(url, raw)) : undefined;
    if (pre?.kind === 'reply') return pre.reply;
    if (pre?.kind === 'hang') return HANG;
    return provider === 'openai' ? routeOpenAI(method, url, req, raw, pre) : routeGemini(method, url, req, raw, pre);
  }

  function send(res: http.ServerResponse, provider: Provider, reply: Reply): void {
    if (res.destroyed || res.headersSent) return;
    const payload = reply.raw ?? JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status, {
      'content-type': reply.contentType ?? 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(payload)),
      ...(provider === 'openai' ? { 'x-request-id': newId('req_') } : {}),
      ...reply.headers,
    });
    res.end(payload);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A bug in the imitation must fail loudly in the test that hit it, not hang it.
      if (!res.destroyed && !res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`imitation server bug: ${e instanceof Error ? e.stack : String(e)}`);
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url: origin,
    geminiBaseUrl: origin,
    openaiBaseUrl: `${origin}/v1`,
    requests,
    count: (pred) => (pred ? requests.filter(pred).length : requests.length),
    setFaults(f) {
      plan = f;
      script = [...(f.script ?? [])];
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests keep their sockets busy; without this close() would wait for the clients forever.
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** The model a request is for, only to word error messages. */
function modelOf(url: URL, raw: Buffer): string {
  const fromPath = /models\/([^/:]+)/.exec(url.pathname)?.[1];
  if (fromPath) return fromPath;
  try {
    return String(JSON.parse(raw.toString('utf8')).model ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function recordedBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  if (contentType?.includes('multipart/')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The free model look-up a stage makes before its first paid call (Gemini models.get, OpenAI GET /v1/models/{id}). */
export function isModelLookup(request: { method?: string; path: string }): boolean {
  return request.method === 'GET' && /^\/(v1beta|v1)\/models(\/[^/:?]+)?(\?.*)?$/.test(request.path);
}

/** Requests a stage pays for: everything but the free model look-ups. */
export function paidRequests(im: Imitation): RecordedRequest[] {
  return im.requests.filter((r) => !isModelLookup(r));
}

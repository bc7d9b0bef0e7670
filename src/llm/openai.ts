// OpenAI (and any OpenAI-compatible server) through the openai SDK: strict json_schema chat and embeddings.
import type OpenAI from 'openai';
import { env } from '../env.js';
import { UsageError } from '../errors.js';
import { openaiJsonSchema } from './json_schema.js';
import { checkedChat, checkedEmbeddings, openaiLister } from './model_check.js';
import { EMBEDDING } from '../config.js';
import { isReasoningModel, openaiReasoningEffort } from './model_rules.js';
import { byStatus, type Answerer, type Failure } from './retry.js';
import { httpFetch } from './http_fetch.js';
import { openaiSdk } from './sdk_modules.js';
import type { ChatProvider, ChatRequest, ChatResponse, EmbeddingProvider, ProviderModule } from './types.js';

/** `batch`: the client of batch mode, whose result files are large: the global fetch, which streams them. */
export function openaiClient(apiKey: string, timeoutMs: number, { batch = false } = {}): OpenAI {
  // maxRetries 0: the SDK would retry insufficient_quota like any 429 and ignore our limiter; retries are ours.
  return new (openaiSdk().OpenAI)({
    apiKey,
    baseURL: env('OPENAI_BASE_URL'),
    timeout: timeoutMs,
    maxRetries: 0,
    ...(batch ? {} : { fetch: httpFetch }),
  });
}

/**
 * `OPENAI_JSON_MODE=json_object` is for local servers without strict JSON-schema support (some Ollama, llama.cpp
 * builds): the schema then goes into the prompt and zod checks the answer as always.
 */
function jsonObjectMode(): boolean {
  const mode = env('OPENAI_JSON_MODE') ?? 'json_schema';
  if (mode !== 'json_schema' && mode !== 'json_object')
    throw new UsageError(`Expected OPENAI_JSON_MODE to be json_schema or json_object, got ${JSON.stringify(mode)}`);
  return mode === 'json_object';
}

export function openaiChatBody(request: ChatRequest) {
  const jsonObject = jsonObjectMode();
  const schema = openaiJsonSchema(request.schema);
  const system = [
    request.system,
    jsonObject ? `Answer with one JSON object that matches this JSON Schema:\n${JSON.stringify(schema)}` : undefined,
  ]
    .filter(Boolean)
    .join('\n\n');
  // Reasoning models (gpt-5*, o*) reject a temperature other than 1 and take reasoning_effort; every other model
  // gets the body it always got, so its resume keys and answers stay as they were. The system message (shared by
  // every call of a stage) comes first: OpenAI caches the longest shared prefix from 1,024 tokens on.
  const reasoning = isReasoningModel(request.model);
  const effort = openaiReasoningEffort(request.model, request.thinking);
  return {
    model: request.model,
    ...(reasoning ? {} : { temperature: request.temperature }),
    ...(effort ? { reasoning_effort: effort as OpenAI.ReasoningEffort } : {}),
    messages: [
      ...(system ? [{ role: 'system' as const, content: system }] : []),
      { role: 'user' as const, content: request.prompt },
    ],
    response_format: jsonObject
      ? { type: 'json_object' as const }
      : { type: 'json_schema' as const, json_schema: { name: request.schemaName, strict: true, schema } },
  };
}

export function openaiChatResponse(body: OpenAI.Chat.Completions.ChatCompletion): ChatResponse {
  const choice = body.choices?.[0];
  return {
    text: choice?.message?.content ?? undefined,
    refusal: choice?.message?.refusal ?? undefined,
    finishReason: choice?.finish_reason === 'content_filter' ? 'blocked' : (choice?.finish_reason ?? 'stop'),
    // completion_tokens includes reasoning tokens, which are billed as output.
    usage: {
      inputTokens: body.usage?.prompt_tokens ?? 0,
      outputTokens: body.usage?.completion_tokens ?? 0,
      cachedInputTokens: body.usage?.prompt_tokens_details?.cached_tokens ?? 0,
    },
    modelVersion: typeof body.model === 'string' && body.model ? body.model : undefined,
  };
}

/** The check's scope: the same model name on another server (a compatible one, the imitation) is another question. */
const scope = () => env('OPENAI_BASE_URL') ?? '';

export function openaiChat(client: OpenAI): ChatProvider {
  return checkedChat(openaiLister(client), scope, {
    name: 'openai',
    complete: async (request, signal) =>
      openaiChatResponse(await client.chat.completions.create(openaiChatBody(request), { signal })),
  });
}

export function openaiEmbeddings(client: OpenAI, model: string): EmbeddingProvider {
  return checkedEmbeddings(openaiLister(client), scope, {
    name: 'openai',
    model,
    async embed(texts, dimensions, signal) {
      // base64 asked for explicitly, so the SDK passes the answer through and a compatible server that sends plain
      // floats instead (some do) is read correctly rather than decoded into garbage.
      const response = await client.embeddings.create(
        { model, input: texts, dimensions, encoding_format: 'base64' },
        { signal },
      );
      const vectors = [...response.data]
        .sort((a, b) => a.index - b.index)
        .map((d) => decodeEmbedding(d.embedding as unknown));
      return {
        vectors,
        usage: { inputTokens: response.usage?.prompt_tokens ?? 0, outputTokens: 0 },
        modelVersion: response.model || undefined,
      };
    },
  });
}

/** base64 of little-endian float32 (what OpenAI sends when asked), or a plain float array. */
function decodeEmbedding(embedding: unknown): number[] {
  if (typeof embedding !== 'string') return embedding as number[];
  // Copied into a fresh buffer: a pooled Buffer's offset need not be a multiple of 4.
  const bytes = Uint8Array.from(Buffer.from(embedding, 'base64'));
  return Array.from(new Float32Array(bytes.buffer, 0, Math.floor(bytes.length / 4)));
}

const OPENAI_ANSWERER = { label: 'OpenAI', keyName: 'OPENAI_API_KEY' } as const satisfies Answerer;

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

/** What an OpenAI API error (any error with an HTTP status: the SDK's APIError family) means for the retry policy. */
export function classifyOpenAIError(error: unknown): Failure | undefined {
  const err = error as { status?: unknown; code?: string | null; message: string; headers?: unknown };
  if (typeof err?.status !== 'number') return undefined;
  const status = err.status;
  if (err.code === 'insufficient_quota')
    return {
      kind: 'fatal',
      errorClass: 'insufficient_quota',
      status,
      message: `OpenAI quota exhausted (insufficient_quota): check the billing of the account — ${err.message}`,
    };
  // A requests- or tokens-per-day limit will not reset within any retry budget.
  if (status === 429 && /per day|\((?:RPD|TPD)\)/i.test(err.message))
    return {
      kind: 'fatal',
      errorClass: 'daily_quota',
      status: 429,
      message: `OpenAI daily limit reached: ${err.message}`,
    };
  return byStatus(status, err.message, retryAfterFromHeaders(err.headers), OPENAI_ANSWERER);
}

export const OPENAI: ProviderModule = {
  ...OPENAI_ANSWERER,
  chat: (key, timeout) => openaiChat(openaiClient(key, timeout)),
  // Any OpenAI-compatible server too (OPENAI_BASE_URL; OPENAI_JSON_MODE for those without strict schemas).
  embeddings: (key, timeout, model) => openaiEmbeddings(openaiClient(key, timeout), model),
  classify: classifyOpenAIError,
  defaultModel: (defaults) => defaults.openaiModel,
  embeddingModel: EMBEDDING.openaiModel,
  // Non-reasoning models ignore the level (openaiReasoningEffort sends none); 'minimal' is the least effort.
  thinking: (_model, wanted) => (wanted === 'lowest' ? 'minimal' : wanted),
  thinkingSent: openaiReasoningEffort,
};

// Gemini through @google/genai: structured output with responseJsonSchema, an explicit thinking level, our own retries.
import type { GoogleGenAI } from '@google/genai';
import { env } from '../env.js';
import { tokensOf } from '../token_estimate.js';
import { geminiJsonSchema } from './json_schema.js';
import { checkedChat, checkedEmbeddings, geminiLister } from './model_check.js';
import { EMBEDDING } from '../config.js';
import { geminiThinking, resolveGeminiLevel } from './model_rules.js';
import { byStatus, type Answerer, type Failure } from './retry.js';
import { httpFetch } from './http_fetch.js';
import { geminiSdk } from './sdk_modules.js';
import type { ChatProvider, ChatRequest, ChatResponse, EmbeddingProvider, ProviderModule, Usage } from './types.js';

/** `batch`: the client of batch mode, whose result files are large: the global fetch, which streams them. */
export function geminiClient(apiKey: string, timeoutMs: number, { batch = false } = {}): GoogleGenAI {
  // vertexai:false guards against GOOGLE_GENAI_USE_VERTEXAI in the environment; the base URL is passed explicitly so
  // GOOGLE_GEMINI_BASE_URL (a proxy or the local imitation) keeps working. The SDK retries nothing unless asked,
  // which is what we want: retries are a policy of the pipeline (src/llm/retry.ts).
  return new (geminiSdk().GoogleGenAI)({
    apiKey,
    vertexai: false,
    httpOptions: {
      baseUrl: env('GOOGLE_GEMINI_BASE_URL'),
      timeout: timeoutMs,
      ...(batch ? {} : { fetch: httpFetch }),
    },
  });
}

/**
 * The REST body of a generateContent request, shared with batch mode so both send the same thing. Every call names
 * its thinking (a level on Gemini 3, a budget on 2.5, never both): left to the model, 3.x Flash thinks at MEDIUM and
 * bills it as output. The system instruction (the part shared by every call of a stage) goes before the contents,
 * which is what implicit caching needs.
 */
export function geminiGenerationConfig(request: ChatRequest) {
  return {
    ...(request.system ? { systemInstruction: request.system } : {}),
    temperature: request.temperature,
    responseMimeType: 'application/json',
    responseJsonSchema: geminiJsonSchema(request.schema, request.schemaName),
    thinkingConfig: geminiThinking(request.model, request.thinking),
  };
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
}

export function geminiUsage(metadata: GeminiUsageMetadata | undefined): Usage {
  return {
    inputTokens: metadata?.promptTokenCount ?? 0,
    outputTokens: (metadata?.candidatesTokenCount ?? 0) + (metadata?.thoughtsTokenCount ?? 0),
    cachedInputTokens: metadata?.cachedContentTokenCount ?? 0,
  };
}

export function normaliseGeminiFinish(reason: string | undefined, blocked: boolean): string {
  if (blocked) return 'blocked';
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason === undefined || reason === 'STOP') return 'stop';
  return reason.toLowerCase();
}

/** The check's scope: the same model name on another base URL (a proxy, the imitation) is another question. */
const scope = () => env('GOOGLE_GEMINI_BASE_URL') ?? '';

export function geminiChat(client: GoogleGenAI): ChatProvider {
  return checkedChat(geminiLister(client), scope, {
    name: 'gemini',
    async complete(request, signal): Promise<ChatResponse> {
      const response = await client.models.generateContent({
        model: request.model,
        contents: request.prompt,
        // automaticContinuation off: a stray continuationToken must never turn one call into a loop.
        config: { ...geminiGenerationConfig(request), abortSignal: signal, automaticContinuation: false } as never,
      });
      const candidate = response.candidates?.[0];
      return {
        text: response.text,
        finishReason: normaliseGeminiFinish(
          candidate?.finishReason,
          !candidate && !!response.promptFeedback?.blockReason,
        ),
        usage: geminiUsage(response.usageMetadata),
        modelVersion: response.modelVersion,
      };
    },
  });
}

export function geminiEmbeddings(client: GoogleGenAI, model: string): EmbeddingProvider {
  return checkedEmbeddings(geminiLister(client), scope, {
    name: 'gemini',
    model,
    async embed(texts, dimensions, signal) {
      // Content objects, not bare strings: newer embedding models merge a string array into one embedding.
      const response = await client.models.embedContent({
        model,
        contents: texts.map((text) => ({ role: 'user', parts: [{ text }] })),
        config: { outputDimensionality: dimensions, taskType: 'SEMANTIC_SIMILARITY', abortSignal: signal },
      });
      const vectors = (response.embeddings ?? []).map((e) => e.values ?? []);
      // Gemini bills embeddings by input tokens and reports none: estimated.
      const inputTokens = tokensOf(texts);
      return { vectors, usage: { inputTokens, outputTokens: 0 } };
    },
  });
}

const GEMINI_ANSWERER = { label: 'Gemini', keyName: 'GOOGLE_API_KEY' } as const satisfies Answerer;

/** Parses a protobuf Duration such as "26s" or "3.957525076s". */
function durationMs(text: unknown): number | undefined {
  const match = typeof text === 'string' ? /^([\d.]+)s$/.exec(text) : null;
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** What a Gemini API error (the SDK's ApiError: a status and the JSON body as its message) means for the retry policy. */
export function classifyGeminiError(error: unknown): Failure | undefined {
  const err = error as { name?: string; status?: unknown; message: string };
  if (err?.name !== 'ApiError' || typeof err.status !== 'number') return undefined;
  const status = err.status;
  let body: { error?: { message?: string; status?: string; details?: Array<Record<string, unknown>> } } = {};
  try {
    body = JSON.parse(err.message);
  } catch {
    // Non-JSON body: the SDK wraps the text; keep the raw message.
  }
  const details = body.error?.details ?? [];
  const message = `${body.error?.status ?? status} ${body.error?.message ?? err.message}`.trim();
  const retry = details.find((d) => String(d['@type']).endsWith('RetryInfo'));
  const quota = details.find((d) => String(d['@type']).endsWith('QuotaFailure')) as
    | { violations?: Array<{ quotaId?: string }> }
    | undefined;
  // The real API answers a wrong key with 400 INVALID_ARGUMENT (reason API_KEY_INVALID), not 401: still a key problem.
  if (details.some((d) => d.reason === 'API_KEY_INVALID') || /API key not valid/i.test(message))
    return {
      kind: 'fatal',
      errorClass: 'auth',
      status,
      message: `Gemini rejected the API key (${status}): check GOOGLE_API_KEY — ${message}`,
    };
  // A per-day quota will not come back within any retry budget: stop instead of hammering the API until midnight.
  if (status === 429 && quota?.violations?.some((v) => /PerDay/i.test(v.quotaId ?? '')))
    return {
      kind: 'fatal',
      errorClass: 'daily_quota',
      status: 429,
      message: `Gemini daily quota exhausted: ${message}`,
    };
  return byStatus(status, message, durationMs(retry?.retryDelay), GEMINI_ANSWERER);
}

export const GEMINI: ProviderModule = {
  ...GEMINI_ANSWERER,
  // GOOGLE_GEMINI_BASE_URL points both kinds of call at a proxy (or the local imitation).
  chat: (key, timeout) => geminiChat(geminiClient(key, timeout)),
  embeddings: (key, timeout, model) => geminiEmbeddings(geminiClient(key, timeout), model),
  classify: classifyGeminiError,
  defaultModel: (defaults) => defaults.model,
  embeddingModel: EMBEDDING.geminiModel,
  // A level on Gemini 3, a budget on 2.5: every request names one, so both are part of the resume key.
  thinking: resolveGeminiLevel,
  thinkingSent: geminiThinking,
};

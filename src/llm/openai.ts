// OpenAI (and any OpenAI-compatible server) through the openai SDK: strict json_schema chat and embeddings.
import OpenAI from 'openai';
import { env } from '../env.js';
import { UsageError } from '../errors.js';
import { openaiJsonSchema } from './json_schema.js';
import type { ChatProvider, ChatRequest, ChatResponse, EmbeddingProvider } from './types.js';

export function openaiClient(apiKey: string, timeoutMs: number): OpenAI {
  // maxRetries 0: the SDK would retry insufficient_quota like any 429 and ignore our limiter; retries are ours.
  return new OpenAI({ apiKey, baseURL: env('OPENAI_BASE_URL'), timeout: timeoutMs, maxRetries: 0 });
}

/**
 * `OPENAI_JSON_MODE=json_object` is for local servers without strict JSON-schema support (some Ollama, llama.cpp
 * builds): the schema then goes into the prompt and zod checks the answer as always.
 */
function jsonObjectMode(): boolean {
  const mode = env('OPENAI_JSON_MODE') ?? 'json_schema';
  if (mode !== 'json_schema' && mode !== 'json_object') throw new UsageError(`Expected OPENAI_JSON_MODE to be json_schema or json_object, got ${JSON.stringify(mode)}`);
  return mode === 'json_object';
}

export function openaiChatBody(request: ChatRequest) {
  const jsonObject = jsonObjectMode();
  const schema = openaiJsonSchema(request.schema);
  const system = [request.system, jsonObject ? `Answer with one JSON object that matches this JSON Schema:\n${JSON.stringify(schema)}` : undefined]
    .filter(Boolean)
    .join('\n\n');
  return {
    model: request.model,
    temperature: request.temperature,
    messages: [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: request.prompt }],
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
    usage: { inputTokens: body.usage?.prompt_tokens ?? 0, outputTokens: body.usage?.completion_tokens ?? 0 },
  };
}

export function openaiChat(client: OpenAI): ChatProvider {
  return {
    name: 'openai',
    async complete(request, signal) {
      const body = await client.chat.completions.create(openaiChatBody(request), { signal });
      return openaiChatResponse(body);
    },
  };
}

export function openaiEmbeddings(client: OpenAI, model: string): EmbeddingProvider {
  return {
    name: 'openai',
    model,
    async embed(texts, dimensions, signal) {
      // base64 asked for explicitly, so the SDK passes the answer through and a compatible server that sends plain
      // floats instead (some do) is read correctly rather than decoded into garbage.
      const response = await client.embeddings.create({ model, input: texts, dimensions, encoding_format: 'base64' }, { signal });
      const vectors = [...response.data].sort((a, b) => a.index - b.index).map((d) => decodeEmbedding(d.embedding as unknown));
      return { vectors, usage: { inputTokens: response.usage?.prompt_tokens ?? 0, outputTokens: 0 } };
    },
  };
}

/** base64 of little-endian float32 (what OpenAI sends when asked), or a plain float array. */
function decodeEmbedding(embedding: unknown): number[] {
  if (typeof embedding !== 'string') return embedding as number[];
  // Copied into a fresh buffer: a pooled Buffer's offset need not be a multiple of 4.
  const bytes = Uint8Array.from(Buffer.from(embedding, 'base64'));
  return Array.from(new Float32Array(bytes.buffer, 0, Math.floor(bytes.length / 4)));
}

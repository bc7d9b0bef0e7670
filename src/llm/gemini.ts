// Gemini through @google/genai: structured output with responseJsonSchema, thinking off, our own retries.
import { GoogleGenAI } from '@google/genai';
import { THINKING_BUDGET } from '../config.js';
import { env } from '../env.js';
import { geminiJsonSchema } from './json_schema.js';
import type { ChatProvider, ChatRequest, ChatResponse, EmbeddingProvider, Usage } from './types.js';

export function geminiClient(apiKey: string, timeoutMs: number): GoogleGenAI {
  // vertexai:false guards against GOOGLE_GENAI_USE_VERTEXAI in the environment; the base URL is passed explicitly so
  // GOOGLE_GEMINI_BASE_URL (a proxy or the local imitation) keeps working. The SDK retries nothing unless asked,
  // which is what we want: retries are a policy of the pipeline (src/llm/retry.ts).
  return new GoogleGenAI({
    apiKey,
    vertexai: false,
    httpOptions: { baseUrl: env('GOOGLE_GEMINI_BASE_URL'), timeout: timeoutMs },
  });
}

/** The REST body of a generateContent request, shared with batch mode so both send the same thing. */
export function geminiGenerationConfig(request: ChatRequest) {
  return {
    temperature: request.temperature,
    responseMimeType: 'application/json',
    responseJsonSchema: geminiJsonSchema(request.schema, request.schemaName),
    thinkingConfig: { thinkingBudget: THINKING_BUDGET },
    ...(request.system ? { systemInstruction: request.system } : {}),
  };
}

export function geminiUsage(metadata: { promptTokenCount?: number; candidatesTokenCount?: number; thoughtsTokenCount?: number } | undefined): Usage {
  return {
    inputTokens: metadata?.promptTokenCount ?? 0,
    outputTokens: (metadata?.candidatesTokenCount ?? 0) + (metadata?.thoughtsTokenCount ?? 0),
  };
}

export function normaliseGeminiFinish(reason: string | undefined, blocked: boolean): string {
  if (blocked) return 'blocked';
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason === undefined || reason === 'STOP') return 'stop';
  return reason.toLowerCase();
}

export function geminiChat(client: GoogleGenAI): ChatProvider {
  return {
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
        finishReason: normaliseGeminiFinish(candidate?.finishReason, !candidate && !!response.promptFeedback?.blockReason),
        usage: geminiUsage(response.usageMetadata),
      };
    },
  };
}

export function geminiEmbeddings(client: GoogleGenAI, model: string): EmbeddingProvider {
  return {
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
      // Gemini bills embeddings by input tokens and reports none; estimate at 4 characters a token.
      const inputTokens = Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4);
      return { vectors, usage: { inputTokens, outputTokens: 0 } };
    },
  };
}

// Gemini through @google/genai: structured output with responseJsonSchema, an explicit thinking level, our own retries.
import { GoogleGenAI } from '@google/genai';
import { env } from '../env.js';
import { geminiJsonSchema } from './json_schema.js';
import { checkModel, geminiLister, isModelNotFound, modelGoneError } from './model_check.js';
import { geminiThinking } from './model_rules.js';
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
  const lister = geminiLister(client);
  return {
    name: 'gemini',
    async complete(request, signal): Promise<ChatResponse> {
      let response;
      try {
        response = await client.models.generateContent({
          model: request.model,
          contents: request.prompt,
          // automaticContinuation off: a stray continuationToken must never turn one call into a loop.
          config: { ...geminiGenerationConfig(request), abortSignal: signal, automaticContinuation: false } as never,
        });
      } catch (error) {
        // A model retired while the stage runs (or past a skipped check) stops it with the same line as the check.
        if (isModelNotFound(error, request.model)) throw await modelGoneError(lister, request.model, 'generate');
        throw error;
      }
      const candidate = response.candidates?.[0];
      return {
        text: response.text,
        finishReason: normaliseGeminiFinish(candidate?.finishReason, !candidate && !!response.promptFeedback?.blockReason),
        usage: geminiUsage(response.usageMetadata),
        modelVersion: response.modelVersion,
      };
    },
    checkModel: (model) => checkModel(lister, model, 'generate', scope()),
  };
}

export function geminiEmbeddings(client: GoogleGenAI, model: string): EmbeddingProvider {
  const lister = geminiLister(client);
  return {
    name: 'gemini',
    model,
    checkModel: () => checkModel(lister, model, 'embed', scope()),
    async embed(texts, dimensions, signal) {
      let response;
      try {
        // Content objects, not bare strings: newer embedding models merge a string array into one embedding.
        response = await client.models.embedContent({
          model,
          contents: texts.map((text) => ({ role: 'user', parts: [{ text }] })),
          config: { outputDimensionality: dimensions, taskType: 'SEMANTIC_SIMILARITY', abortSignal: signal },
        });
      } catch (error) {
        if (isModelNotFound(error, model)) throw await modelGoneError(lister, model, 'embed');
        throw error;
      }
      const vectors = (response.embeddings ?? []).map((e) => e.values ?? []);
      // Gemini bills embeddings by input tokens and reports none; estimate at 4 characters a token.
      const inputTokens = Math.ceil(texts.reduce((n, t) => n + t.length, 0) / 4);
      return { vectors, usage: { inputTokens, outputTokens: 0 } };
    },
  };
}

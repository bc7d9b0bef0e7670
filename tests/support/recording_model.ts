// A recording fake model for unit tests: a ChatProvider that answers from a function and keeps every request it was
// sent, so a stage test asserts on what the stage asked, with no HTTP server (after vercel/ai's MockLanguageModelV3,
// packages/ai/src/test/mock-language-model-v3.ts, which records doGenerateCalls). The HTTP imitation
// (./imitation_server.ts) stays the end-to-end path through the real SDKs. It lives in tests/, not src/: no stage
// ever runs on it, and src/ holds only what a run uses.
import { geminiJsonSchema } from '../../src/llm/json_schema.js';
import type { Provider } from '../../src/llm/providers.js';
import type { ChatProvider, ChatRequest, ChatResponse } from '../../src/llm/types.js';
import { defaultAnswer } from './fake_answers.js';

/** What the answer function may give: a whole response, an object sent as JSON text, or a string sent as-is. */
export type RecordedAnswer = ChatResponse | Record<string, unknown> | string;

export interface RecordingModelOptions {
  /** The provider it stands for: its name is part of every resume key (default gemini). */
  name?: Provider;
  /**
   * The answer to the `index`-th request (from 0); a thrown error is what the call throws. By default, what the HTTP
   * imitation would answer: a value fabricated from the request's schema and prompt (./fake_answers.ts).
   */
  answer?: (request: ChatRequest, index: number) => RecordedAnswer | Promise<RecordedAnswer>;
}

const USAGE = { inputTokens: 10, outputTokens: 5 };

function isResponse(answer: RecordedAnswer): answer is ChatResponse {
  return typeof answer === 'object' && 'finishReason' in answer && 'usage' in answer;
}

export class RecordingChatModel implements ChatProvider {
  readonly name: Provider;
  /** Every request, in the order the stage sent them (retries included). */
  readonly requests: ChatRequest[] = [];
  private readonly answer: NonNullable<RecordingModelOptions['answer']>;

  constructor(options: RecordingModelOptions = {}) {
    this.name = options.name ?? 'gemini';
    this.answer = options.answer ?? ((request) => schemaAnswer(this.name, request));
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatResponse> {
    signal.throwIfAborted();
    const index = this.requests.push(request) - 1;
    const answer = await this.answer(request, index);
    if (isResponse(answer)) return answer;
    return { text: typeof answer === 'string' ? answer : JSON.stringify(answer), finishReason: 'stop', usage: USAGE };
  }
}

/** What the imitation answers to the same request, built from its schema (as the provider would receive it). */
export function schemaAnswer(provider: Provider, request: ChatRequest): Record<string, unknown> {
  const call = {
    provider,
    model: request.model,
    system: request.system ?? '',
    prompt: request.prompt,
    schemaName: request.schemaName,
    schema: geminiJsonSchema(request.schema, request.schemaName),
    temperature: request.temperature,
  };
  return defaultAnswer(call, false, 1) as Record<string, unknown>;
}

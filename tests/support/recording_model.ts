// A recording fake model for unit tests: a ChatProvider that answers from a function and keeps every request it was
// sent, so a stage test asserts on what the stage asked, with no HTTP server (after vercel/ai's MockLanguageModelV3,
// packages/ai/src/test/mock-language-model-v3.ts, which records doGenerateCalls). The HTTP imitation
// (./imitation_server.ts) stays the end-to-end path through the real SDKs. It lives in tests/, not src/: no stage
// ever runs on it, and src/ holds only what a run uses.
import type { Provider } from '../../src/llm/providers.js';
import type { ChatProvider, ChatRequest, ChatResponse } from '../../src/llm/types.js';

/** What the answer function may give: a whole response, an object sent as JSON text, or a string sent as-is. */
export type RecordedAnswer = ChatResponse | Record<string, unknown> | string;

export interface RecordingModelOptions {
  /** The provider it stands for: its name is part of every resume key (default gemini). */
  name?: Provider;
  /** The answer to the `index`-th request (from 0); a thrown error is what the call throws. */
  answer: (request: ChatRequest, index: number) => RecordedAnswer | Promise<RecordedAnswer>;
}

const USAGE = { inputTokens: 10, outputTokens: 5 };

function isResponse(answer: RecordedAnswer): answer is ChatResponse {
  return typeof answer === 'object' && 'finishReason' in answer && 'usage' in answer;
}

export class RecordingChatModel implements ChatProvider {
  readonly name: Provider;
  /** Every request, in the order the stage sent them (retries included). */
  readonly requests: ChatRequest[] = [];
  private readonly answer: RecordingModelOptions['answer'];

  constructor(options: RecordingModelOptions) {
    this.name = options.name ?? 'gemini';
    this.answer = options.answer;
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatResponse> {
    signal.throwIfAborted();
    const index = this.requests.push(request) - 1;
    const answer = await this.answer(request, index);
    if (isResponse(answer)) return answer;
    return { text: typeof answer === 'string' ? answer : JSON.stringify(answer), finishReason: 'stop', usage: USAGE };
  }
}

// A model that disappears while a stage runs stops it with the check's one-line error; other errors pass through.
import { describe, expect, it } from 'vitest';
import { FatalError } from '../src/errors.js';
import { besideLookup, checkedChat, checkedEmbeddings, type ModelLister } from '../src/llm/model_check.js';
import type { ChatResponse } from '../src/llm/types.js';

const lister: ModelLister = {
  service: 'the Test API',
  get: async () => ({ unknown: true }),
  list: async () => [{ id: 'model-b', supports: () => true }],
};
const gone = Object.assign(new Error('models/model-a is not found for API version v1beta'), { status: 404 });
const signal = new AbortController().signal;

describe('checkedChat and checkedEmbeddings', () => {
  it('turn a 404 about the model into a FatalError that names current models', async () => {
    const chat = checkedChat(lister, () => '', { name: 'gemini', complete: () => Promise.reject(gone) });
    const request = { model: 'model-a' } as Parameters<typeof chat.complete>[0];
    const error = await chat.complete(request, signal).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toBe(
      'model-a is not offered by the Test API (retired?) — current: model-b; pass --model',
    );
    const embeddings = checkedEmbeddings(lister, () => '', {
      name: 'openai',
      model: 'model-a',
      embed: () => Promise.reject(gone),
    });
    await expect(embeddings.embed(['x'], 8, signal)).rejects.toThrow(/model-a is not offered by the Test API/);
  });

  it('pass any other error through unchanged', async () => {
    const busy = Object.assign(new Error('overloaded'), { status: 503 });
    const chat = checkedChat(lister, () => '', { name: 'gemini', complete: () => Promise.reject(busy) });
    await expect(chat.complete({ model: 'model-a' } as never, signal)).rejects.toBe(busy);
  });
});

describe('besideLookup', () => {
  const answer = { text: '{}', usage: { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0 } } as ChatResponse;
  const verdict = () => {
    let settle!: (error?: Error) => void;
    const lookup = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    return { lookup, settle };
  };

  it('stops the stage when the look-up finds the model gone before any call was answered', async () => {
    const { lookup, settle } = verdict();
    const stopped: Error[] = [];
    besideLookup(
      () => new Promise(() => {}),
      lookup,
      (e) => stopped.push(e),
    );
    settle(new FatalError('model-a is not offered'));
    await lookup.catch(() => undefined);
    expect(stopped.map((e) => e.message)).toEqual(['model-a is not offered']);
  });

  it('lets a failed call wait for the verdict and speak in its words', async () => {
    const { lookup, settle } = verdict();
    const call = besideLookup(
      () => Promise.reject(gone),
      lookup,
      () => undefined,
    );
    const failing = call().catch((e: unknown) => e);
    settle(new FatalError('model-a is offered by the Test API but not for generateContent'));
    expect(((await failing) as Error).message).toMatch(/but not for generateContent/);
    // A look-up that found nothing wrong leaves the call's own error as it was.
    const fine = verdict();
    const other = besideLookup(
      () => Promise.reject(gone),
      fine.lookup,
      () => undefined,
    );
    fine.settle();
    await expect(other()).rejects.toBe(gone);
  });

  it('does not hold a retried failure (a 503) for a look-up that is still out', async () => {
    const busy = Object.assign(new Error('overloaded'), { status: 503 });
    const call = besideLookup(
      () => Promise.reject(busy),
      new Promise<void>(() => {}),
      () => undefined,
    );
    await expect(call()).rejects.toBe(busy);
  });

  it('ignores a failed look-up once a call was answered: the model evidently works', async () => {
    const { lookup, settle } = verdict();
    const stopped: Error[] = [];
    const call = besideLookup(
      async (text: string) => ({ ...answer, text }),
      lookup,
      (e) => stopped.push(e),
    );
    expect((await call('{"a":1}')).text).toBe('{"a":1}');
    settle(new FatalError('model-a is not offered'));
    await lookup.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toEqual([]);
  });
});

// A model that disappears while a stage runs stops it with the check's one-line error; other errors pass through.
import { describe, expect, it } from 'vitest';
import { FatalError } from '../src/errors.js';
import { checkedChat, checkedEmbeddings, type ModelLister } from '../src/llm/model_check.js';

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

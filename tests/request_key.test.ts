// requestKey builds its JSON in pieces and copies the hash of a shared prefix: the key must stay the SHA-256 of the
// plain JSON.stringify it was defined as, or every checkpoint written before would be asked again.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PROVIDERS, type Provider } from '../src/llm/providers.js';
import { schemaText } from '../src/llm/json_schema.js';
import { requestKey } from '../src/llm/structured.js';
import type { ChatRequest } from '../src/llm/types.js';

function plainKey(provider: Provider, request: ChatRequest): string {
  const parts: unknown[] = [
    provider,
    request.model,
    request.system ?? '',
    request.prompt,
    request.schemaName,
    schemaText(request.schema),
    request.temperature,
  ];
  const thinking = PROVIDERS[provider].thinkingSent(request.model, request.thinking);
  if (thinking !== undefined) parts.push(thinking);
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

const A = z.object({ answer: z.string().describe('quote "this" \\ and ünïcödé ✓') });
const B = z.object({ items: z.array(z.number()), note: z.string().optional() });

describe('requestKey', () => {
  it('is the SHA-256 of the plain JSON.stringify, whatever varies from one call to the next', () => {
    const systems = [undefined, '', 'You are "careful".\n\tRules: \\ \u2028 \u0000 😀', 'another system'];
    const cases: Array<[Provider, ChatRequest]> = [];
    for (const provider of ['gemini', 'openai'] as const)
      for (const model of ['gemini-flash-latest', 'gpt-5-mini', 'gpt-4.1-mini'])
        for (const system of systems)
          for (const [schema, schemaName] of [
            [A, 'a'],
            [B, 'b "quoted"'],
          ] as const)
            for (const temperature of [0.7, 1, 0, undefined])
              for (const thinking of [undefined, 'low', 'minimal'] as const)
                cases.push([
                  provider,
                  {
                    model,
                    system,
                    prompt: `prompt ${cases.length} "x" \n ✓ \ud83d`,
                    schema,
                    schemaName,
                    temperature,
                    thinking,
                  } as ChatRequest,
                ]);
    // Interleaved, so the cached prefix and schema are switched as often as they are reused.
    const keys = cases.map(([p, r]) => requestKey(p, r));
    expect(keys).toEqual(cases.map(([p, r]) => plainKey(p, r)));
    expect(new Set(keys).size).toBe(cases.length);
    // The same requests again in reverse order: no key depends on the call before it.
    expect([...cases].reverse().map(([p, r]) => requestKey(p, r))).toEqual([...keys].reverse());
  });
});

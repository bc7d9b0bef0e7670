// Drives the imitation server with the real @google/genai and openai SDKs, as the pipeline's integration tests will.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { GoogleGenAI } from '@google/genai';
import OpenAI, { toFile } from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startImitation, type Imitation, type ImitationOptions } from './support/imitation_server.js';

const Verdict = z.object({
  title: z.string(),
  score: z.int().min(1).max(5),
  passed: z.boolean(),
  tone: z.enum(['formal', 'casual']),
  tags: z.array(z.string()).min(1).max(3),
  note: z.string().nullable(),
});

const Conversation = z
  .object({ messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.string() })) })
  .meta({ title: 'conversation' });

const QaBatch = z
  .object({
    qa_pairs: z.array(
      z.object({
        question: z.string(),
        answer: z.string(),
        difficulty: z.enum(['easy', 'medium', 'hard']),
        categories: z.array(z.enum(['shipping', 'returns', 'billing', 'product'])),
      }),
    ),
  })
  .meta({ title: 'qa_batch' });

let imitation: Imitation | undefined;
afterEach(async () => {
  await imitation?.close();
  imitation = undefined;
});

async function start(opts?: ImitationOptions): Promise<Imitation> {
  imitation = await startImitation(opts);
  return imitation;
}

const gemini = (im: Imitation, timeout = 5_000) =>
  new GoogleGenAI({ apiKey: 'test-gemini-key', vertexai: false, httpOptions: { baseUrl: im.geminiBaseUrl, timeout } });
const openai = (im: Imitation, timeout = 5_000) =>
  new OpenAI({ apiKey: 'sk-test', baseURL: im.openaiBaseUrl, maxRetries: 0, timeout });

const geminiJson = (schema: z.ZodType) => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema) as Record<string, unknown>;
  return { responseMimeType: 'application/json', responseJsonSchema: rest };
};

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe("today's catalogue and request rules", () => {
  it("a retired model is a 404 NOT_FOUND in Google's shape; an alias answers with a concrete modelVersion", async () => {
    const im = await start();
    const client = gemini(im);
    const retired = await client.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(retired?.message).toMatch(/"code":404.*gemini-2\.5-flash is not found.*"status":"NOT_FOUND"/);
    const res = await client.models.generateContent({
      model: 'gemini-flash-latest',
      contents: 'hi',
      config: { thinkingConfig: { thinkingLevel: 'LOW' as never } },
    });
    expect(res.modelVersion).toBe('gemini-3.8-flash');
  });

  it('a thinking config with both thinkingLevel and thinkingBudget is a 400', async () => {
    const im = await start();
    const both = await gemini(im)
      .models.generateContent({
        model: 'gemini-flash-latest',
        contents: 'hi',
        config: { thinkingConfig: { thinkingLevel: 'LOW' as never, thinkingBudget: 0 } },
      })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(both?.message).toMatch(/"code":400.*only one of thinking budget and thinking level/);
  });

  it('an OpenAI reasoning model rejects a temperature other than 1, and an unknown model is model_not_found', async () => {
    const im = await start();
    const client = openai(im);
    const hot = await client.chat.completions
      .create({ model: 'gpt-5-mini', temperature: 0.2, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(hot?.message).toMatch(/400/);
    expect((hot as { code?: string }).code).toBe('unsupported_value');
    const missing = await client.models.retrieve('gpt-2-tiny').then(
      () => undefined,
      (e: Error) => e,
    );
    expect((missing as { status?: number }).status).toBe(404);
    expect((missing as { code?: string }).code).toBe('model_not_found');
  });
});

describe('generate', () => {
  it('Gemini generateContent answers JSON that fits the responseJsonSchema, with usage and the key header', async () => {
    const im = await start();
    const res = await gemini(im).models.generateContent({
      model: 'gemini-flash-latest',
      contents: 'Rate this answer about free returns within 30 days.',
      config: { systemInstruction: 'You are a strict judge.', temperature: 0.2, ...geminiJson(Verdict) },
    });
    const parsed = Verdict.parse(JSON.parse(res.text ?? ''));
    expect(parsed.tags.length).toBeGreaterThanOrEqual(1);
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    const usage = res.usageMetadata!;
    expect(usage.promptTokenCount).toBe(
      Math.ceil(('You are a strict judge.' + 'Rate this answer about free returns within 30 days.').length / 4),
    );
    expect(usage.candidatesTokenCount).toBe(Math.ceil((res.text ?? '').length / 4));
    // No thinking config: the model thinks at its default level, and those tokens are billed.
    expect(usage.thoughtsTokenCount).toBeGreaterThan(0);
    const [sent] = im.requests;
    expect(sent.path).toBe('/v1beta/models/gemini-flash-latest:generateContent');
    expect(sent.headers['x-goog-api-key']).toBe('test-gemini-key');
    expect(sent.body.generationConfig.temperature).toBe(0.2);
    expect(sent.status).toBe(200);
  });

  it('OpenAI chat.completions.parse accepts the json_schema answer, and json_object mode returns an object', async () => {
    const im = await start();
    const client = openai(im);
    const res = await client.chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'judge' },
        { role: 'user', content: 'Is shipping free over 50 euros?' },
      ],
      response_format: zodResponseFormat(Verdict, 'verdict'),
    });
    expect(Verdict.parse(res.choices[0].message.parsed)).toBeTruthy();
    expect(res.usage?.completion_tokens).toBe(Math.ceil((res.choices[0].message.content ?? '').length / 4));
    const plain = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Reply in JSON please.' }],
      response_format: { type: 'json_object' },
    });
    expect(typeof JSON.parse(plain.choices[0].message.content ?? '')).toBe('object');
    expect(im.requests[0].headers.authorization).toBe('Bearer sk-test');
  });

  it('answers are deterministic per prompt and booleans are mostly, not always, true', async () => {
    const im = await start({ seed: 7 });
    const ai = gemini(im);
    const ask = (i: number) =>
      ai.models.generateContent({
        model: 'gemini-flash-latest',
        contents: `prompt number ${i}`,
        config: geminiJson(Verdict),
      });
    const first = (await ask(1)).text;
    expect((await ask(1)).text).toBe(first);
    const verdicts = await Promise.all(
      Array.from({ length: 60 }, (_, i) => ask(i).then((r) => Verdict.parse(JSON.parse(r.text ?? '')))),
    );
    const passed = verdicts.filter((v) => v.passed).length;
    expect(passed).toBeGreaterThan(35);
    expect(passed).toBeLessThan(60);
  });

  it('the conversation schema gets N user turns alternating with the assistant, quoting the prompt', async () => {
    const im = await start();
    const ai = gemini(im);
    const ask = (qa: string) =>
      ai.models.generateContent({
        model: 'gemini-flash-latest',
        contents: `Write a chat.\nNumber of turns: 3\nQ: ${qa}?\nA: Yes, ${qa} is included for members.`,
        config: geminiJson(Conversation),
      });
    const a = Conversation.parse(JSON.parse((await ask('express delivery to Norway')).text ?? ''));
    const b = Conversation.parse(JSON.parse((await ask('gift wrapping of large parcels')).text ?? ''));
    expect(a.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(a.messages.map((m) => m.content).join(' ')).toMatch(/express|delivery|Norway|members|included/);
    expect(b.messages[0].content).not.toBe(a.messages[0].content);

    const oa = await openai(im).chat.completions.parse({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Number of turns: 1\nQ: Can I pay by invoice?' }],
      response_format: zodResponseFormat(Conversation, 'conversation'),
    });
    expect(oa.choices[0].message.parsed?.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
  });

  it('the qa_batch schema gets three pairs derived from the source line, different per chunk', async () => {
    const im = await start();
    const ai = gemini(im);
    const ask = async (source: string) => {
      const res = await ai.models.generateContent({
        model: 'gemini-flash-latest',
        contents: `Extract questions.\nSource text:\n${source}\n`,
        config: geminiJson(QaBatch),
      });
      return QaBatch.parse(JSON.parse(res.text ?? '')).qa_pairs;
    };
    const a = await ask('Orders ship from Rotterdam within two days. Returns are free for thirty days.');
    const b = await ask('Invoices are sent monthly by email. Late payments incur a small fee.');
    expect(a).toHaveLength(3);
    expect(a.map((p) => p.answer).join(' ')).toMatch(/Rotterdam|Returns/);
    expect(b.map((p) => p.answer).join(' ')).toMatch(/Invoices|Late payments/);
    expect(a[0].question).not.toBe(b[0].question);
  });

  it('respond overrides the answer: objects as JSON, strings verbatim', async () => {
    const im = await start({
      respond: (call) =>
        call.schemaName === 'verdict'
          ? 'not json at all'
          : call.provider === 'gemini'
            ? { ok: call.prompt }
            : undefined,
    });
    const g = await gemini(im).models.generateContent({ model: 'gemini-flash-latest', contents: 'hello' });
    expect(JSON.parse(g.text ?? '')).toEqual({ ok: 'hello' });
    const o = await openai(im).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
      response_format: zodResponseFormat(Verdict, 'verdict'),
    });
    expect(o.choices[0].message.content).toBe('not json at all');
  });
});

describe('embeddings', () => {
  it('Gemini batchEmbedContents gives one vector per text at the requested size, similar for near-identical texts', async () => {
    const im = await start();
    const base =
      'Customers in Belgium and the Netherlands can return any unused jacket, shirt or trouser bought online within thirty calendar days of delivery for a full refund to the original card';
    const res = await gemini(im).models.embedContent({
      model: 'gemini-embedding-001',
      contents: [
        base,
        base,
        base.replace('unused', 'unworn'),
        'How long do I have to return an item?',
        'how long do I have to return items',
        'The warehouse in Rotterdam closes at six on Fridays',
      ],
      config: { outputDimensionality: 256, taskType: 'SEMANTIC_SIMILARITY' },
    });
    const vecs = res.embeddings!.map((e) => e.values!);
    expect(vecs).toHaveLength(6);
    expect(vecs[0]).toHaveLength(256);
    expect(Math.hypot(...vecs[0])).toBeCloseTo(1, 6);
    expect(cosine(vecs[0], vecs[1])).toBeCloseTo(1, 9);
    expect(cosine(vecs[0], vecs[2])).toBeGreaterThanOrEqual(0.95);
    expect(cosine(vecs[3], vecs[4])).toBeGreaterThanOrEqual(0.95);
    expect(cosine(vecs[0], vecs[5])).toBeLessThan(0.4);
    expect(cosine(vecs[3], vecs[5])).toBeLessThan(0.4);
    expect(im.requests[0].path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
  });

  it('OpenAI embeddings follow encoding_format: the default base64 decodes to the same numbers as float', async () => {
    const im = await start();
    const client = openai(im);
    const input = ['free returns within thirty days', 'invoices are sent monthly'];
    const viaBase64 = await client.embeddings.create({ model: 'text-embedding-3-small', input, dimensions: 64 });
    const viaFloat = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input,
      dimensions: 64,
      encoding_format: 'float',
    });
    expect(im.requests[0].body.encoding_format).toBe('base64');
    expect(viaBase64.data[1].embedding).toHaveLength(64);
    viaFloat.data[1].embedding.forEach((v, i) => {
      expect(viaBase64.data[1].embedding[i]).toBeCloseTo(v, 6);
    });
    expect(viaBase64.usage.prompt_tokens).toBe(Math.ceil(input[0].length / 4) + Math.ceil(input[1].length / 4));
  });
});

describe('faults', () => {
  it('a scripted 429 reaches Gemini as ApiError 429 with RetryInfo, and OpenAI as RateLimitError with retry-after-ms', async () => {
    const im = await start({
      faults: {
        script: [
          { match: ':generateContent', status: 429 },
          { match: '/chat/completions', status: 429 },
        ],
      },
    });
    const gErr = await rejection(gemini(im).models.generateContent({ model: 'gemini-flash-latest', contents: 'hi' }));
    expect(gErr.name).toBe('ApiError');
    expect(gErr.status).toBe(429);
    const details = JSON.parse(gErr.message).error.details;
    expect(details.find((d: any) => d['@type'].endsWith('RetryInfo')).retryDelay).toMatch(/^0\.\d+s$/);
    const oErr = await rejection(
      openai(im).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(oErr).toBeInstanceOf(OpenAI.RateLimitError);
    expect(oErr.code).toBe('rate_limit_exceeded');
    expect(oErr.headers.get('retry-after-ms')).toBe('50');
    // The script is used up: the next calls succeed.
    expect(
      (await gemini(im).models.generateContent({ model: 'gemini-flash-latest', contents: 'hi' })).text,
    ).toBeTruthy();
  });

  it('a hang is cut off by the client timeout and close() still returns promptly', async () => {
    const im = await start({ faults: { script: [{ hang: true }, { hang: true }] } });
    const gErr = await rejection(
      gemini(im, 300).models.generateContent({ model: 'gemini-flash-latest', contents: 'hi' }),
    );
    expect(gErr.name).toBe('AbortError');
    const oErr = await rejection(
      openai(im, 300).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(oErr).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    // A hang that no client gives up on must not keep the server open either.
    const stuck = fetch(`${im.openaiBaseUrl}/chat/completions`, { method: 'POST', body: '{}' }).catch(() => 'closed');
    im.setFaults({ script: [{ hang: true }] });
    await new Promise((r) => setTimeout(r, 50));
    const closed = await Promise.race([
      im.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open'), 2_000)),
    ]);
    expect(closed).toBe('closed');
    expect(await stuck).toBe('closed');
    expect(im.requests.filter((r) => r.status === 0)).toHaveLength(3);
  });

  it('truncated answers: Gemini MAX_TOKENS with unparseable text, OpenAI parse() throws LengthFinishReasonError', async () => {
    const im = await start({ faults: { rateTruncated: 1 } });
    const g = await gemini(im).models.generateContent({
      model: 'gemini-flash-latest',
      contents: 'hi',
      config: geminiJson(Verdict),
    });
    expect(g.candidates?.[0]?.finishReason).toBe('MAX_TOKENS');
    expect(() => JSON.parse(g.text ?? '')).toThrow();
    const err = await rejection(
      openai(im).chat.completions.parse({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        response_format: zodResponseFormat(Verdict, 'v'),
      }),
    );
    expect(err.constructor.name).toBe('LengthFinishReasonError');
  });

  it('random faults are reproducible from the seed and request order', async () => {
    const statuses = async () => {
      const im = await startImitation({ seed: 42, faults: { rate429: 0.3, rate503: 0.2, rateBadJson: 0.2 } });
      const ai = gemini(im);
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        try {
          const r = await ai.models.generateContent({
            model: 'gemini-flash-latest',
            contents: `q${i}`,
            config: geminiJson(Verdict),
          });
          out.push(
            Verdict.safeParse(
              (() => {
                try {
                  return JSON.parse(r.text ?? '');
                } catch {
                  return null;
                }
              })(),
            ).success
              ? 'ok'
              : 'bad',
          );
        } catch (e: any) {
          out.push(String(e.status));
        }
      }
      await im.close();
      return out;
    };
    const first = await statuses();
    expect(await statuses()).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['ok', 'bad', '429', '503']));
  });

  it('quota, fatal and key faults use the providers’ error shapes', async () => {
    const im = await start({ faults: { quota: { rpm: 2 } }, keys: { gemini: 'right', openai: 'sk-right' } });
    const ai = new GoogleGenAI({
      apiKey: 'right',
      vertexai: false,
      httpOptions: { baseUrl: im.geminiBaseUrl, timeout: 5_000 },
    });
    await ai.models.generateContent({ model: 'gemini-flash-latest', contents: 'a' });
    await ai.models.generateContent({ model: 'gemini-flash-latest', contents: 'b' });
    const over = await rejection(ai.models.generateContent({ model: 'gemini-flash-latest', contents: 'c' }));
    expect(over.status).toBe(429);
    const retry = JSON.parse(over.message).error.details.find((d: any) => d['@type'].endsWith('RetryInfo'));
    expect(parseFloat(retry.retryDelay)).toBeGreaterThan(50);

    const wrongKey = await rejection(
      gemini(im).models.generateContent({ model: 'gemini-flash-latest', contents: 'a' }),
    );
    expect(wrongKey.status).toBe(401);
    const wrongOpenAIKey = await rejection(
      openai(im).embeddings.create({ model: 'text-embedding-3-small', input: 'a' }),
    );
    expect(wrongOpenAIKey).toBeInstanceOf(OpenAI.AuthenticationError);

    im.setFaults({ fatal: 'daily_quota' });
    const daily = await rejection(ai.models.generateContent({ model: 'gemini-flash-latest', contents: 'd' }));
    expect(JSON.parse(daily.message).error.details[0].violations[0].quotaId).toContain('PerDay');
    im.setFaults({ fatal: 'insufficient_quota' });
    const client = new OpenAI({ apiKey: 'sk-right', baseURL: im.openaiBaseUrl, maxRetries: 0 });
    const broke = await rejection(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(broke.status).toBe(429);
    expect(broke.code).toBe('insufficient_quota');
  });
});

describe('batches', () => {
  it('OpenAI: files.create → batches.create → retrieve → files.content, results keyed by custom_id', async () => {
    const im = await start({ batchPollsBeforeDone: 2, faults: { script: [{ match: '#r3', status: 429 }] } });
    const client = openai(im);
    const lines = ['r1', 'r2', 'r3'].map((id) => ({
      custom_id: id,
      method: 'POST',
      url: '/v1/chat/completions',
      body: {
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `question ${id}` }],
        response_format: zodResponseFormat(Verdict, 'verdict'),
      },
    }));
    const file = await client.files.create({
      file: await toFile(Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), 'batch.jsonl'),
      purpose: 'batch',
    });
    expect(im.requests[0].headers['content-type']).toMatch(/^multipart\/form-data/);
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { run: 't' },
    });
    expect(created.status).toBe('validating');
    expect((await client.batches.retrieve(created.id)).status).toBe('in_progress');
    const done = await client.batches.retrieve(created.id);
    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect(done.usage?.input_tokens).toBeGreaterThan(0);

    const ok = (await (await client.files.content(done.output_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byId = new Map(ok.map((row) => [row.custom_id, row]));
    expect([...byId.keys()].sort()).toEqual(['r1', 'r2']);
    expect(Verdict.parse(JSON.parse(byId.get('r1').response.body.choices[0].message.content))).toBeTruthy();
    const bad = (await (await client.files.content(done.error_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(bad).toMatchObject([
      {
        custom_id: 'r3',
        response: { status_code: 429, body: { error: { code: 'rate_limit_exceeded' } } },
        error: null,
      },
    ]);
    expect(im.count((r) => r.method === 'POST' && r.path === '/v1/batches')).toBe(1);
  });

  it('random faults hit batch lines too: the counts add up and every custom_id comes back once', async () => {
    const im = await start({ seed: 5, faults: { rate429: 0.2, rateHang: 0.1, rateTruncated: 0.2 } });
    const client = openai(im);
    const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);
    const body = ids
      .map((id) =>
        JSON.stringify({
          custom_id: id,
          method: 'POST',
          url: '/v1/chat/completions',
          body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: id }] },
        }),
      )
      .join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(body), 'b.jsonl'), purpose: 'batch' });
    const job = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const done = await client.batches.retrieve(job.id);
    const rows = async (id: string) =>
      (await (await client.files.content(id)).text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    const ok = await rows(done.output_file_id!);
    const bad = await rows(done.error_file_id!);
    expect(done.request_counts).toEqual({ total: 40, completed: ok.length, failed: bad.length });
    expect([...ok, ...bad].map((r) => r.custom_id).sort()).toEqual([...ids].sort());
    expect(bad.some((r) => r.error?.code === 'batch_expired')).toBe(true);
    expect(bad.some((r) => r.response?.status_code === 429)).toBe(true);
    expect(ok.some((r) => r.response.body.choices[0].finish_reason === 'length')).toBe(true);
    expect(ok.map((r) => r.custom_id)).not.toEqual(ids.filter((id) => ok.some((r) => r.custom_id === id)));
  });

  it('Gemini inline: batches.create → batches.get returns responses keyed by metadata.key', async () => {
    const im = await start({ faults: { script: [{ match: '#k2', status: 503 }] } });
    const ai = gemini(im);
    const job = await ai.batches.create({
      model: 'gemini-flash-latest',
      src: ['k1', 'k2', 'k3'].map((key) => ({
        contents: [{ role: 'user', parts: [{ text: `Number of turns: 2\nQ: about ${key}?` }] }],
        metadata: { key },
        config: { systemInstruction: 'write', temperature: 0.9, ...geminiJson(Conversation) },
      })),
      config: { displayName: 'job1' },
    });
    expect(job.state).toBe('JOB_STATE_PENDING');
    expect(job.name).toMatch(/^batches\//);
    const sent = im.requests[0].body.batch.inputConfig.requests.requests[0];
    expect(sent.request.systemInstruction.parts[0].text).toBe('write');
    const done = await ai.batches.get({ name: job.name! });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const byKey = new Map(done.dest!.inlinedResponses!.map((r) => [r.metadata?.key, r]));
    // Batch responses are plain objects without the `.text` getter of a generateContent response.
    const text = byKey.get('k1')!.response!.candidates![0].content!.parts![0].text!;
    expect(Conversation.parse(JSON.parse(text)).messages).toHaveLength(4);
    expect(byKey.get('k2')!.error).toMatchObject({ code: 503, status: 'UNAVAILABLE' });
    expect(byKey.get('k3')!.response?.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
  });

  it('Gemini file-based: upload → batches.create(src file) → get → download JSONL keyed by key', async () => {
    const im = await start();
    const ai = gemini(im);
    const input = ['a', 'b']
      .map((key) => JSON.stringify({ key, request: { contents: [{ role: 'user', parts: [{ text: `say ${key}` }] }] } }))
      .join('\n');
    const uploaded = await ai.files.upload({
      file: new Blob([input], { type: 'application/jsonl' }),
      config: { mimeType: 'application/jsonl', displayName: 'in.jsonl' },
    });
    expect(uploaded.name).toMatch(/^files\//);
    const job = await ai.batches.create({ model: 'gemini-flash-latest', src: uploaded.name! });
    const done = await ai.batches.get({ name: job.name! });
    expect(done.state).toBe('JOB_STATE_SUCCEEDED');
    const dir = await mkdtemp(join(tmpdir(), 'imitation-'));
    try {
      const out = join(dir, 'out.jsonl');
      await ai.files.download({ file: done.dest!.fileName!, downloadPath: out });
      const rows = (await readFile(out, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows.map((r) => r.key)).toEqual(['a', 'b']);
      expect(rows[0].response.candidates[0].content.parts[0].text).toBeTruthy();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(im.count((r) => r.path.includes('/upload/v1beta/files'))).toBe(2);
  });
});

describe('serve_imitation CLI', () => {
  it('prints both base URLs and serves until killed', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'tests/support/serve_imitation.ts', '--port', '0', '--faults', '{"rate429":0}'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const lines = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (/OPENAI_BASE_URL=.*\n/.test(out)) resolve(out);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const geminiUrl = /GOOGLE_GEMINI_BASE_URL=(http:\/\/127\.0\.0\.1:\d+)\n/.exec(lines)![1];
      expect(lines).toContain(`OPENAI_BASE_URL=${geminiUrl}/v1`);
      const ai = new GoogleGenAI({ apiKey: 'k', vertexai: false, httpOptions: { baseUrl: geminiUrl, timeout: 5_000 } });
      expect((await ai.models.generateContent({ model: 'gemini-flash-latest', contents: 'hi' })).text).toBeTruthy();
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('rejects a bad flag with a one-line error', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/serve_imitation.ts', '--port', 'abc'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toContain('--port');
  });
});

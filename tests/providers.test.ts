// Either provider alone runs the whole pipeline, and the OpenAI path sends what OpenAI-compatible servers need.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  startImitation,
  type GenerateCall,
  type Imitation,
  type ImitationOptions,
  type RecordedRequest,
} from './support/imitation_server.js';
import { manifest, readRows, setEnv, stage, stages1to4 } from './support/run_stages.js';

let im: Imitation | undefined;
const dirs: string[] = [];
const servers: http.Server[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'providers-test-'));
  dirs.push(dir);
  return dir;
}

async function start(opts: ImitationOptions = {}): Promise<Imitation> {
  im = await startImitation(opts);
  return im;
}

afterEach(async () => {
  await im?.close();
  im = undefined;
  for (const server of servers.splice(0)) await new Promise((r) => server.close(r));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const ALL_ARTIFACTS = [
  'qa_pairs.jsonl',
  'qa_pairs_validated.jsonl',
  'conversations_raw.jsonl',
  'conversations_judged.jsonl',
  'conversations_embedded.jsonl',
];
const isOpenAI = (r: RecordedRequest) => r.path.startsWith('/v1/');

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((n, x) => n + x * x, 0));
}

describe.each([
  ['interactive', []],
  ['batch', ['--batch']],
] as const)('one provider alone, %s', (_mode, extra) => {
  it('OpenAI: with only OPENAI_API_KEY set, stages 1–5 complete and nothing is sent to Gemini', async () => {
    const imitation = await start();
    useOnly(imitation, 'openai');
    const dir = tempDir();
    expect(await stages1to4(dir, [...extra])).toEqual([0, 0, 0, 0]);
    expect(await stage.embed(dir)).toBe(0);

    expect(imitation.requests.length).toBeGreaterThan(0);
    expect(imitation.requests.every(isOpenAI)).toBe(true);
    for (const artifact of ALL_ARTIFACTS) expect(manifest(dir, artifact).settings.provider, artifact).toBe('openai');
    expect(manifest(dir, 'conversations_embedded.jsonl').settings.model).toBe('text-embedding-3-small');
    const embedded = readRows(join(dir, 'conversations_embedded.jsonl'));
    expect(embedded.length).toBe(readRows(join(dir, 'conversations_judged.jsonl')).length);
    for (const row of embedded) {
      expect(row.embedding).toHaveLength(1024);
      expect(norm(row.embedding)).toBeCloseTo(1, 5);
    }
  });

  it('Gemini: with only GOOGLE_API_KEY set, stages 1–5 complete (Gemini embeddings) and nothing is sent to OpenAI', async () => {
    const imitation = await start();
    setEnv({ GOOGLE_API_KEY: 'test-gemini-key', GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl });
    const dir = tempDir();
    expect(await stages1to4(dir, [...extra])).toEqual([0, 0, 0, 0]);
    expect(await stage.embed(dir, ['--provider', 'gemini'])).toBe(0);

    expect(imitation.requests.some(isOpenAI)).toBe(false);
    expect(imitation.count((r) => r.path.endsWith('gemini-embedding-001:batchEmbedContents'))).toBe(1);
    for (const artifact of ALL_ARTIFACTS) expect(manifest(dir, artifact).settings.provider, artifact).toBe('gemini');
    for (const row of readRows(join(dir, 'conversations_embedded.jsonl'))) {
      expect(row.embedding).toHaveLength(1024);
      expect(norm(row.embedding)).toBeCloseTo(1, 5);
    }
  });
});

/** Only `provider`'s key and base URL (the imitation's) are set, and LLM_PROVIDER names it; `extra` is added. */
function useOnly(imitation: Imitation, provider: 'gemini' | 'openai', extra: Record<string, string> = {}): void {
  setEnv(
    provider === 'openai'
      ? { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: imitation.openaiBaseUrl, LLM_PROVIDER: 'openai', ...extra }
      : {
          GOOGLE_API_KEY: 'test-gemini-key',
          GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl,
          LLM_PROVIDER: 'gemini',
          ...extra,
        },
  );
}

describe('choosing the provider and model', () => {
  it('LLM_PROVIDER=gemini is also the default of stage 5', async () => {
    const imitation = await start();
    useOnly(imitation, 'gemini');
    const dir = tempDir();
    expect(await stages1to4(dir)).toEqual([0, 0, 0, 0]);
    expect(await stage.embed(dir)).toBe(0);
    expect(manifest(dir, 'conversations_embedded.jsonl').settings).toMatchObject({
      provider: 'gemini',
      model: 'gemini-embedding-001',
    });
  });

  it('a stage told to use a provider whose key is missing stops with one line naming the variable, writing nothing', async () => {
    const imitation = await start();
    setEnv({ GOOGLE_API_KEY: 'test-gemini-key', GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl });
    const dir = tempDir();
    await expect(stage.extract(dir, ['--provider', 'openai'])).rejects.toThrow(
      /^OPENAI_API_KEY is not set \(stage 1 asks the model for Q&A pairs\)/,
    );
    await expect(stage.extract(dir, ['--provider', 'openai', '--batch'])).rejects.toThrow(/^OPENAI_API_KEY is not set/);
    expect(readdirSync(dir)).toEqual([]);
    expect(imitation.requests).toHaveLength(0);
  });

  it('--provider and --model reach the request and the manifest; OpenAI gets a strict json_schema built from the zod schema', async () => {
    const imitation = await start();
    setEnv({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: imitation.openaiBaseUrl, GOOGLE_API_KEY: 'unused' });
    const dir = tempDir();
    expect(await stage.extract(dir, ['--provider', 'openai', '--model', 'gpt-4.1-mini', '--limit', '1'])).toBe(0);
    const body = imitation.requests.find((r) => r.path === '/v1/chat/completions')!.body;
    expect(body.model).toBe('gpt-4.1-mini');
    expect(body.response_format.type).toBe('json_schema');
    expect(body.response_format.json_schema).toMatchObject({ name: 'qa_batch', strict: true });
    const schema = body.response_format.json_schema.schema;
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['qa_pairs'] });
    expect(schema.properties.qa_pairs.items).toMatchObject({
      additionalProperties: false,
      required: ['question', 'answer', 'difficulty', 'categories'],
    });
    expect(manifest(dir, 'qa_pairs.jsonl').settings).toMatchObject({
      provider: 'openai',
      model: 'gpt-4.1-mini',
      mode: 'interactive',
    });
  });
});

describe('OpenAI-compatible servers', () => {
  it('OPENAI_JSON_MODE=json_object: JSON mode with the schema in the system prompt, and zod still checks each answer', async () => {
    let verdict: unknown = {
      uses_source_fact: true,
      realistic_question: true,
      sensible_answer: false,
      feedback: 'too vague',
    };
    // Like a local server in JSON mode: it knows no schema, it just answers in JSON.
    const imitation = await start({
      respond: (call: GenerateCall) =>
        call.schemaName === undefined && call.system.includes('JSON Schema') ? verdict : undefined,
    });
    useOnly(imitation, 'openai', { LLM_MAX_ATTEMPTS: '2' });
    const dir = tempDir();
    expect(await stage.extract(dir, ['--limit', '2'])).toBe(0);
    process.env.OPENAI_JSON_MODE = 'json_object';
    const before = imitation.requests.length;

    expect(await stage.validate(dir)).toBe(0);
    const sent = imitation.requests.slice(before).filter((r) => r.path === '/v1/chat/completions');
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      expect(r.body.response_format).toEqual({ type: 'json_object' });
      const system = r.body.messages.find((m: { role: string }) => m.role === 'system').content as string;
      expect(system).toContain('Answer with one JSON object that matches this JSON Schema');
      expect(system).toContain('"uses_source_fact"');
    }
    const rows = readRows(join(dir, 'qa_pairs_validated.jsonl'));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.validation.sensible_answer === false && r.validation.passed === false)).toBe(true);

    // An answer in JSON that misses the schema is rejected as in strict mode: asked again, then a recorded failure.
    verdict = { answer: 'yes' };
    expect(await stage.validate(dir, ['--fresh'])).toBe(1);
    const failures = readRows(join(dir, 'qa_pairs_validated.errors.jsonl'));
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => f.error_class === 'schema' && f.attempts === 2)).toBe(true);
  });

  it('an unknown OPENAI_JSON_MODE is named in a one-line error', async () => {
    const imitation = await start();
    useOnly(imitation, 'openai', { OPENAI_JSON_MODE: 'strict' });
    await expect(stage.extract(tempDir(), ['--limit', '1'])).rejects.toThrow(
      'Expected OPENAI_JSON_MODE to be json_schema or json_object, got "strict"',
    );
  });

  it('stage 5 reads embeddings a compatible server sends as plain floats although base64 was asked for', async () => {
    const imitation = await start();
    useOnly(imitation, 'openai');
    const dir = tempDir();
    expect(await stages1to4(dir)).toEqual([0, 0, 0, 0]);

    const asked: any[] = [];
    // Some local servers ignore encoding_format and always answer with float arrays.
    const server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        // Like many compatible servers it has no models endpoint: the model check must skip, not fail.
        if (req.method === 'GET') {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              error: {
                message: `Invalid URL (GET ${req.url})`,
                type: 'invalid_request_error',
                param: null,
                code: null,
              },
            }),
          );
          return;
        }
        const body = JSON.parse(raw);
        asked.push(body);
        const data = (body.input as string[]).map((_, index) => ({
          object: 'embedding',
          index,
          embedding: Array.from({ length: body.dimensions }, (_, k) => (k === index % body.dimensions ? 3 : 0)),
        }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: 7, total_tokens: 7 } }),
        );
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.OPENAI_BASE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

    expect(await stage.embed(dir)).toBe(0);
    expect(asked[0].encoding_format).toBe('base64');
    const rows = readRows(join(dir, 'conversations_embedded.jsonl'));
    expect(rows.length).toBeGreaterThan(1);
    rows.forEach((row, i) => {
      expect(row.embedding).toHaveLength(1024);
      expect(row.embedding[i]).toBe(1);
    });
  });
});

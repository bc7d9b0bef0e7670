// The interactive calls' fetch: what a stage relies on from fetch (aborts, failures, compressed answers) holds, and
// both SDKs' interactive clients send through it while batch mode's keep the global fetch.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { geminiChat, geminiClient } from '../src/llm/gemini.js';
import { httpFetch } from '../src/llm/http_fetch.js';
import { openaiChat, openaiClient } from '../src/llm/openai.js';
import { classify } from '../src/llm/retry.js';
import type { ChatRequest } from '../src/llm/types.js';
import { startImitation, type Imitation } from './support/imitation_server.js';

let base = '';
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    const delay = Number(req.headers['x-delay'] ?? 0);
    setTimeout(() => {
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return res.end(gzipSync(JSON.stringify({ zipped: true })));
      }
      if (req.url === '/cut') {
        // Promises 1,000 bytes, sends 10, hangs up: an answer cut off mid-body.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"partial"');
        return setTimeout(() => res.socket?.destroy(), 20);
      }
      if (req.url === '/quota') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
        return res.end('{"error":{"code":429}}');
      }
      if (req.url === '/empty') {
        res.writeHead(204);
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ method: req.method, length: req.headers['content-length'], body, key: req.headers['x-key'] }),
      );
    }, delay);
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('httpFetch', () => {
  it('sends the method, headers and body, and answers with the status, headers and body', async () => {
    const text = 'résumé — 1,000 km';
    const answer = await httpFetch(`${base}/echo`, { method: 'POST', body: text, headers: { 'X-Key': 'k' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(await answer.json()).toEqual({
      method: 'POST',
      length: String(Buffer.byteLength(text)),
      body: text,
      key: 'k',
    });
    const quota = await httpFetch(`${base}/quota`, { method: 'POST', body: '{}' });
    expect([quota.status, quota.headers.get('retry-after'), await quota.text()]).toEqual([
      429,
      '7',
      '{"error":{"code":429}}',
    ]);
    expect((await httpFetch(`${base}/empty`)).status).toBe(204);
  });

  it('decodes a gzip answer', async () => {
    const answer = await httpFetch(`${base}/gzip`);
    expect(answer.headers.get('content-encoding')).toBeNull();
    expect(await answer.json()).toEqual({ zipped: true });
  });

  it("rejects with the signal's reason when aborted, before or during the call", async () => {
    const timeout = httpFetch(`${base}/slow`, { headers: { 'x-delay': '2000' }, signal: AbortSignal.timeout(50) });
    await expect(timeout).rejects.toMatchObject({ name: 'TimeoutError' });
    const stopped = new AbortController();
    stopped.abort(new Error('stage stopped'));
    await expect(httpFetch(`${base}/echo`, { signal: stopped.signal })).rejects.toThrow('stage stopped');
    expect(classify(await timeout.catch((e: unknown) => e)).errorClass).toBe('timeout');
  });

  it('a refused connection and an answer cut off mid-body fail as fetch fails: a connection error, retried', async () => {
    for (const url of ['http://127.0.0.1:1/nothing', `${base}/cut`]) {
      const error = await httpFetch(url, { method: 'POST', body: '{}' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe('fetch failed');
      expect(classify(error)).toMatchObject({ kind: 'transient', errorClass: 'connection' });
    }
  });
});

describe('the SDK clients', () => {
  let im: Imitation;
  beforeAll(async () => {
    im = await startImitation();
  });
  afterAll(() => im.close());
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.unstubAllEnvs();
  });

  const request: ChatRequest = {
    model: 'gemini-flash-latest',
    system: 'Answer in JSON.',
    prompt: 'Say ok.',
    schema: z.object({ ok: z.boolean() }),
    schemaName: 'ok',
    temperature: 0,
  };

  it('interactive calls go through httpFetch, never the global fetch; batch clients keep the global fetch', async () => {
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', im.geminiBaseUrl);
    vi.stubEnv('OPENAI_BASE_URL', im.openaiBaseUrl);
    const globalFetch = vi.fn(() => Promise.reject(new Error('the global fetch was used')));
    vi.stubGlobal('fetch', globalFetch);
    const gemini = await geminiChat(geminiClient('test-google-key', 10_000)).complete(
      request,
      new AbortController().signal,
    );
    expect(gemini.text).toBeTruthy();
    const openai = await openaiChat(openaiClient('test-openai-key', 10_000)).complete(
      {
        ...request,
        model: 'gpt-5-mini',
      },
      new AbortController().signal,
    );
    expect(openai.text).toBeTruthy();
    expect(globalFetch).not.toHaveBeenCalled();
    await expect(
      geminiClient('test-google-key', 10_000, { batch: true }).models.get({ model: 'gemini-flash-latest' }),
    ).rejects.toThrow('the global fetch was used');
    expect(globalFetch).toHaveBeenCalled();
  });
});

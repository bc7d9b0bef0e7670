// Logfire tracing: nothing loaded or sent without LOGFIRE_TOKEN; with it, a span per stage and per model call arrives.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tracingSdk } from '../src/tracing.js';
import { startImitation, type Imitation } from './support/imitation_server.js';
import { manifest, setEnv, stage } from './support/run_stages.js';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  status?: { code?: number; message?: string };
}

const TOKEN = 'pylf_v1_us_TestWriteToken0123456789abcdef';
const GOOGLE_KEY = 'test-google-key-SECRET-1234';

let imitation: Imitation;
let collector: http.Server;
let collectorUrl: string;
const received: Received[] = [];

beforeAll(async () => {
  imitation = await startImitation({ seed: 5 });
  // A local stand-in for Logfire's OTLP endpoint: it keeps what it is sent.
  collector = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});

afterAll(async () => {
  process.env.LOGFIRE_TOKEN = '';
  delete process.env.LOGFIRE_BASE_URL;
  await imitation.close();
  await new Promise<void>((resolve) => collector.close(() => resolve()));
});

function env(extra: Record<string, string>): void {
  setEnv({
    GOOGLE_API_KEY: GOOGLE_KEY,
    GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl,
    OPENAI_BASE_URL: imitation.openaiBaseUrl,
    LLM_PROVIDER: 'gemini',
    LOGFIRE_BASE_URL: collectorUrl,
    ...extra,
  });
}

/** OTLP/JSON attribute values to plain ones (int64 may come as a string). */
function value(v: any): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return v;
}

function spans(): OtlpSpan[] {
  return (
    received
      .filter((r) => r.path === '/v1/traces')
      .flatMap((r) => r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans)))
      .map((s: any) => ({
        ...s,
        attributes: Object.fromEntries((s.attributes ?? []).map((a: any) => [a.key, value(a.value)])),
      }))
      // Logfire's pending-span placeholders (sent when a span starts) are not the spans themselves.
      .filter((s: OtlpSpan) => s.attributes['logfire.span_type'] !== 'pending_span')
  );
}

describe('without LOGFIRE_TOKEN', () => {
  it('loads no tracing module and sends nothing', async () => {
    // Empty rather than deleted: a developer's .env must not fill it in.
    env({ LOGFIRE_TOKEN: '' });
    const load = vi.spyOn(tracingSdk, 'load');
    const dir = mkdtempSync(join(tmpdir(), 'tracing-off-'));
    expect(await stage.extract(dir, ['--limit', '3'])).toBe(0);
    expect(imitation.requests.length).toBeGreaterThan(0);
    expect(load).not.toHaveBeenCalled();
    expect(received).toEqual([]);
    load.mockRestore();
  });
});

describe('with LOGFIRE_TOKEN', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracing-on-'));
  let load: ReturnType<typeof vi.spyOn>;
  let generateRequests: typeof imitation.requests;

  beforeAll(async () => {
    env({ LOGFIRE_TOKEN: TOKEN });
    load = vi.spyOn(tracingSdk, 'load');
    const before = imitation.requests.length;
    // The first answer is cut off: that call fails as truncated and is asked again.
    imitation.setFaults({ script: [{ match: ':generateContent', truncated: true }] });
    expect(await stage.extract(dir, ['--limit', '4'])).toBe(0);
    generateRequests = imitation.requests.slice(before).filter((r) => r.path.includes(':generateContent'));
  });

  it('loads the SDK once and sends OTLP to LOGFIRE_BASE_URL/v1/traces with the token as Authorization', () => {
    expect(load).toHaveBeenCalledTimes(1);
    const traces = received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    for (const r of traces) {
      expect(r.headers.authorization).toBe(TOKEN);
      expect(r.headers['content-type']).toContain('application/json');
    }
  });

  it('sends a stage span with its settings, counts, tokens and cost as in the manifest', () => {
    const stages = spans().filter((s) => s.name === 'stage {stage}');
    expect(stages).toHaveLength(1);
    const a = stages[0]!.attributes;
    const meta = manifest(dir, 'qa_pairs.jsonl');
    expect(a.stage).toBe('extract_qa');
    expect(a.model).toBe('gemini-flash-latest');
    expect(a.provider).toBe('gemini');
    expect(a.read).toBe(meta.counts.read);
    expect(a.written).toBe(meta.counts.written);
    expect(a.failed).toBe(0);
    expect(a.retries).toBe(1);
    expect(a.calls).toBe(meta.usage.calls);
    expect(a.input_tokens).toBe(meta.usage.inputTokens);
    expect(a.output_tokens).toBe(meta.usage.outputTokens);
    expect(a.cost_usd).toBeCloseTo(meta.usage.costUsd, 12);
    expect(a['logfire.msg']).toBe('stage extract_qa');
  });

  it('sends one span per model call, a child of the stage, with model, attempt, tokens and the error class', () => {
    const all = spans();
    const stageSpan = all.find((s) => s.name === 'stage {stage}')!;
    const calls = all.filter((s) => s.name === 'model call {model}');
    expect(calls).toHaveLength(generateRequests.length);
    expect(calls).toHaveLength(5);
    for (const c of calls) {
      expect(c.traceId).toBe(stageSpan.traceId);
      expect(c.parentSpanId).toBe(stageSpan.spanId);
      expect(c.attributes.model).toBe('gemini-flash-latest');
    }
    const failed = calls.filter((c) => c.attributes.error_class !== undefined);
    expect(failed.map((c) => c.attributes.error_class)).toEqual(['truncated']);
    expect(failed[0]!.status?.code).toBe(2);
    expect(calls.map((c) => c.attributes.attempt).sort()).toEqual([1, 1, 1, 1, 2]);
    // Tokens on the spans are the usage the imitation reported for these requests, failed call included.
    const sum = (k: string) => calls.reduce((n, c) => n + (c.attributes[k] as number), 0);
    expect(sum('gen_ai.usage.input_tokens')).toBe(generateRequests.reduce((n, r) => n + r.usage!.input, 0));
    expect(sum('gen_ai.usage.output_tokens')).toBe(generateRequests.reduce((n, r) => n + r.usage!.output, 0));
  });

  it('puts neither a key, the token nor a prompt in what it sends', () => {
    const sent = JSON.stringify(received.map((r) => r.body));
    expect(sent).not.toContain(TOKEN);
    expect(sent).not.toContain(GOOGLE_KEY);
    expect(sent).not.toContain('Write EXACTLY 3 different question-answer pairs');
  });
});

// OpenAI's files and batch APIs: multipart upload, file content, batch create (with input validation), poll, cancel.
import type http from 'node:http';
import { fatalError, openaiError } from './error_bodies.js';
import { jsonl, openaiFileObject } from './files.js';
import { openaiChat, openaiEmbeddings, openaiRuleReply } from './openai.js';
import { BadRequest, nowSeconds, parseJson, type LineResult, type Reply, type RouteRequest } from './protocol.js';
import type { Shared } from './shared.js';

interface OpenAIBatch {
  id: string;
  endpoint: string;
  inputFileId: string;
  metadata: unknown;
  createdAt: number;
  polls: number;
  status: 'validating' | 'in_progress' | 'failed' | 'completed' | 'cancelling' | 'cancelled';
  lines: Array<{ custom_id: string; url: string; body: any }>;
  errors?: Array<{ code: string; line: number; message: string; param: null }>;
  outputFileId?: string;
  errorFileId?: string;
  counts: { total: number; completed: number; failed: number };
  usage?: { input: number; output: number };
  doneAt?: number;
}

function openaiBatchObject(b: OpenAIBatch) {
  const done = b.doneAt !== undefined ? Math.floor(b.doneAt / 1000) : null;
  return {
    id: b.id,
    object: 'batch',
    endpoint: b.endpoint,
    errors: b.errors ? { object: 'list', data: b.errors } : null,
    input_file_id: b.inputFileId,
    completion_window: '24h',
    status: b.status,
    output_file_id: b.outputFileId ?? null,
    error_file_id: b.errorFileId ?? null,
    created_at: b.createdAt,
    in_progress_at: b.status === 'validating' ? null : b.createdAt,
    expires_at: b.createdAt + 86_400,
    finalizing_at: b.status === 'completed' ? done : null,
    completed_at: b.status === 'completed' ? done : null,
    failed_at: b.status === 'failed' ? done : null,
    expired_at: null,
    cancelling_at: b.status === 'cancelling' || b.status === 'cancelled' ? done : null,
    cancelled_at: b.status === 'cancelled' ? done : null,
    request_counts: b.counts,
    metadata: b.metadata ?? null,
    ...(b.usage
      ? {
          usage: {
            input_tokens: b.usage.input,
            output_tokens: b.usage.output,
            total_tokens: b.usage.input + b.usage.output,
            input_tokens_details: { cached_tokens: 0 },
            output_tokens_details: { reasoning_tokens: 0 },
          },
        }
      : {}),
  };
}

async function multipart(req: http.IncomingMessage, raw: Buffer): Promise<FormData> {
  try {
    return await new Request(`http://imitation${req.url}`, {
      method: 'POST',
      headers: req.headers as Record<string, string>,
      body: raw,
    }).formData();
  } catch {
    throw new BadRequest('Expected a multipart/form-data body.');
  }
}

export class OpenAIBatches {
  private readonly batches = new Map<string, OpenAIBatch>();

  constructor(private readonly s: Shared) {}

  /** `/v1/files…` and `/v1/batches…`; undefined for any other request. */
  async route({ method, path, req, raw }: RouteRequest): Promise<Reply | undefined> {
    if (method === 'POST' && path === '/v1/files') {
      const form = await multipart(req, raw);
      const file = form.get('file');
      const purpose = form.get('purpose');
      if (!(file instanceof File) || typeof purpose !== 'string')
        throw new BadRequest("Missing required parameters: 'file' and 'purpose'.");
      const stored = this.s.files.store(
        'openai',
        file.name,
        purpose,
        file.type || 'application/octet-stream',
        Buffer.from(await file.arrayBuffer()),
      );
      return { status: 200, body: openaiFileObject(stored) };
    }
    let m = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (m && method === 'GET') {
      const file = this.s.files.get('openai', m[1]!);
      if (!file) return openaiError(404, `No such File object: ${m[1]}`, 'invalid_request_error', null);
      if (m[2]) return { status: 200, raw: file.bytes, contentType: 'application/octet-stream' };
      return { status: 200, body: openaiFileObject(file) };
    }
    if (method === 'POST' && path === '/v1/batches') return this.create(parseJson(raw));
    m = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (m) {
      const b = this.batches.get(m[1]!);
      if (!b) return openaiError(404, `No batch found with id '${m[1]}'.`, 'invalid_request_error', null);
      if (method === 'POST' && m[2]) {
        if (b.status === 'validating' || b.status === 'in_progress') {
          b.status = 'cancelling';
          b.doneAt = Date.now();
        }
        return { status: 200, body: openaiBatchObject(b) };
      }
      if (method === 'GET' && !m[2]) {
        b.polls++;
        this.advance(b);
        return { status: 200, body: openaiBatchObject(b) };
      }
    }
    return undefined;
  }

  private create(body: any): Reply {
    if (!body || typeof body.input_file_id !== 'string')
      throw new BadRequest("Missing required parameter: 'input_file_id'.");
    if (body.endpoint !== '/v1/chat/completions' && body.endpoint !== '/v1/embeddings') {
      throw new BadRequest(
        `The imitation supports endpoints /v1/chat/completions and /v1/embeddings, got ${JSON.stringify(body.endpoint)}.`,
      );
    }
    if (body.completion_window !== '24h')
      throw new BadRequest("Invalid value for 'completion_window': expected '24h'.");
    const input = this.s.files.get('openai', body.input_file_id);
    if (!input) return openaiError(404, `No such File object: ${body.input_file_id}`, 'invalid_request_error', null);
    const fatal = this.s.faults.fatal;
    if (fatal) return fatalError('openai', fatal, 'batch');
    const b: OpenAIBatch = {
      id: this.s.newId('batch_'),
      endpoint: body.endpoint,
      inputFileId: input.id,
      metadata: body.metadata,
      createdAt: nowSeconds(),
      polls: 0,
      status: 'validating',
      lines: [],
      counts: { total: 0, completed: 0, failed: 0 },
    };
    // Input problems surface the way the real API reports them: the batch is created, then reports `failed`.
    const errors: NonNullable<OpenAIBatch['errors']> = [];
    const seen = new Set<string>();
    input.bytes
      .toString('utf8')
      .split('\n')
      .forEach((text, i) => {
        if (text.trim() === '') return;
        let line: any;
        try {
          line = JSON.parse(text);
        } catch {
          errors.push({
            code: 'invalid_json_line',
            line: i + 1,
            message: 'This line is not parseable as valid JSON.',
            param: null,
          });
          return;
        }
        if (typeof line?.custom_id !== 'string') {
          errors.push({
            code: 'missing_required_parameter',
            line: i + 1,
            message: "Missing required parameter: 'custom_id'.",
            param: null,
          });
        } else if (seen.has(line.custom_id)) {
          errors.push({
            code: 'duplicate_custom_id',
            line: i + 1,
            message: 'The custom_id for this request is a duplicate of another request.',
            param: null,
          });
        } else if (line.url !== b.endpoint) {
          errors.push({
            code: 'url_mismatch',
            line: i + 1,
            message: `The provided url '${line.url}' does not match the batch endpoint.`,
            param: null,
          });
        } else {
          seen.add(line.custom_id);
          b.lines.push({ custom_id: line.custom_id, url: line.url, body: line.body });
        }
      });
    if (b.lines.length === 0 && errors.length === 0)
      errors.push({ code: 'empty_file', line: 0, message: 'The batch input file is empty.', param: null });
    if (errors.length > 0) {
      b.errors = errors;
      b.status = 'failed';
      b.doneAt = Date.now();
    }
    b.counts.total = b.lines.length;
    this.batches.set(b.id, b);
    if (this.s.pollsBeforeDone <= 0) this.advance(b);
    return { status: 200, body: openaiBatchObject(b) };
  }

  /** Runs on a poll: in progress until the configured poll, then every line at once, output in shuffled order. */
  private advance(b: OpenAIBatch): void {
    if (b.status === 'cancelling') {
      b.status = 'cancelled';
      return;
    }
    if (b.status !== 'validating' && b.status !== 'in_progress') return;
    if (b.polls < this.s.pollsBeforeDone) {
      b.status = 'in_progress';
      return;
    }
    const ok: unknown[] = [];
    const bad: unknown[] = [];
    const usage = { input: 0, output: 0 };
    for (const line of b.lines) {
      const result = this.runLine(b, line);
      const id = this.s.newId('batch_req_');
      if (result.status === 0) {
        bad.push({
          id,
          custom_id: line.custom_id,
          response: null,
          error: {
            code: 'batch_expired',
            message: 'This request could not be executed before the completion window expired.',
          },
        });
      } else {
        const row = {
          id,
          custom_id: line.custom_id,
          response: { status_code: result.status, request_id: this.s.newId('req_'), body: result.body },
          error: null,
        };
        (result.status === 200 ? ok : bad).push(row);
      }
      if (result.usage) {
        usage.input += result.usage.input;
        usage.output += result.usage.output;
      }
    }
    // Real output order differs from input order; shuffling makes callers match by custom_id.
    const shuffle = (rows: unknown[]) =>
      rows
        .map((r) => [this.s.orderRng(), r] as const)
        .sort((x, y) => x[0] - y[0])
        .map(([, r]) => r);
    const store = (name: string, rows: unknown[]) =>
      this.s.files.store(
        'openai',
        `${b.id}_${name}.jsonl`,
        'batch_output',
        'application/jsonl',
        Buffer.from(jsonl(shuffle(rows))),
      ).id;
    if (ok.length > 0) b.outputFileId = store('output', ok);
    if (bad.length > 0) b.errorFileId = store('error', bad);
    b.counts = { total: b.lines.length, completed: ok.length, failed: bad.length };
    b.usage = usage;
    b.status = 'completed';
    b.doneAt = Date.now();
  }

  private runLine(b: OpenAIBatch, line: OpenAIBatch['lines'][number]): LineResult {
    const model = typeof line.body?.model === 'string' ? line.body.model : 'unknown';
    const rule =
      b.endpoint === '/v1/chat/completions' && typeof line.body?.model === 'string'
        ? openaiRuleReply(this.s, line.body)
        : undefined;
    if (rule) return { key: '', status: rule.status, body: rule.body };
    const fault = this.s.faults.line('openai', `${line.url}#${line.custom_id}`, model);
    try {
      return b.endpoint === '/v1/embeddings'
        ? openaiEmbeddings(this.s, line.body, fault)
        : openaiChat(this.s, line.body, fault);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      return { key: '', status: 400, body: openaiError(400, e.message, 'invalid_request_error', null).body };
    }
  }
}

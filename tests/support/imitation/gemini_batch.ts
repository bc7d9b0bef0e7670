// Gemini's batch API: batchGenerateContent (inline or from an uploaded file), polling, cancel, delete, file uploads.
import { geminiNotFoundMessage } from '../imitation_catalogue.js';
import { fatalError, GEMINI_STATUS, geminiError } from './error_bodies.js';
import { geminiFileObject, jsonl } from './files.js';
import { geminiGenerate, geminiRuleReply } from './gemini.js';
import { BadRequest, iso, parseJson, type LineResult, type Reply, type RouteRequest } from './protocol.js';
import type { Shared } from './shared.js';

interface GeminiBatch {
  id: string;
  model: string;
  displayName?: string;
  createMs: number;
  updateMs: number;
  polls: number;
  state: 'BATCH_STATE_PENDING' | 'BATCH_STATE_RUNNING' | 'BATCH_STATE_SUCCEEDED' | 'BATCH_STATE_CANCELLED';
  inline?: Array<{ request: any; metadata?: any }>;
  fromFile?: Array<{ key: string; request?: any; invalid?: string }>;
  inlinedResponses?: unknown[];
  responsesFile?: string;
  stats?: { requestCount: string; successfulRequestCount: string; failedRequestCount: string };
}

function geminiBatchOperation(b: GeminiBatch) {
  const terminal = b.state === 'BATCH_STATE_SUCCEEDED' || b.state === 'BATCH_STATE_CANCELLED';
  const total = b.inline?.length ?? b.fromFile?.length ?? 0;
  const output = b.inlinedResponses
    ? { inlinedResponses: { inlinedResponses: b.inlinedResponses } }
    : b.responsesFile
      ? { responsesFile: b.responsesFile }
      : undefined;
  return {
    name: `batches/${b.id}`,
    metadata: {
      '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch',
      name: `batches/${b.id}`,
      model: `models/${b.model}`,
      ...(b.displayName !== undefined ? { displayName: b.displayName } : {}),
      state: b.state,
      createTime: iso(b.createMs),
      updateTime: iso(b.updateMs),
      ...(terminal ? { endTime: iso(b.updateMs) } : {}),
      batchStats: b.stats ?? { requestCount: String(total), pendingRequestCount: String(total) },
      ...(output ? { output } : {}),
    },
    ...(terminal ? { done: true } : {}),
  };
}

export class GeminiBatches {
  private readonly batches = new Map<string, GeminiBatch>();
  private readonly uploads = new Map<string, { meta: any; parts: Buffer[] }>();

  constructor(private readonly s: Shared) {}

  /** Batch creation, batch operations, resumable uploads and file reads; undefined for any other request. */
  route({ method, url, path, req, raw }: RouteRequest): Reply | undefined {
    const create = /^\/v1beta\/(?:models|tunedModels)\/([^/:]+):batchGenerateContent$/.exec(path);
    if (create && method === 'POST') return this.create(create[1]!, parseJson(raw));
    let m = /^\/v1beta\/batches\/([^/:]+)(:cancel)?$/.exec(path);
    if (m) {
      const b = this.batches.get(m[1]!);
      if (!b) return geminiError(404, `Batch batches/${m[1]} not found.`);
      if (method === 'POST' && m[2]) {
        if (b.state === 'BATCH_STATE_PENDING' || b.state === 'BATCH_STATE_RUNNING') {
          b.state = 'BATCH_STATE_CANCELLED';
          b.updateMs = Date.now();
        }
        return { status: 200, body: {} };
      }
      if (method === 'DELETE' && !m[2]) {
        this.batches.delete(b.id);
        return { status: 200, body: {} };
      }
      if (method === 'GET' && !m[2]) {
        b.polls++;
        this.advance(b);
        return { status: 200, body: geminiBatchOperation(b) };
      }
    }
    if (path === '/upload/v1beta/files' && method === 'POST') return this.upload(url, req.headers, raw);
    m = /^\/v1beta\/files\/([a-z0-9-]+)(:download)?$/.exec(path);
    if (m && method === 'GET') {
      const file = this.s.files.get('gemini', m[1]!);
      if (!file) return geminiError(404, `File files/${m[1]} not found.`);
      if (m[2]) return { status: 200, raw: file.bytes, contentType: 'application/octet-stream' };
      return { status: 200, body: geminiFileObject(file, this.s.origin) };
    }
    return undefined;
  }

  /** The resumable protocol the SDK speaks: a `start` with the metadata, then chunks, the last one with `finalize`. */
  private upload(url: URL, headers: RouteRequest['req']['headers'], raw: Buffer): Reply {
    const command = String(headers['x-goog-upload-command'] ?? '').toLowerCase();
    const uploadId = url.searchParams.get('upload_id');
    if (command === 'start') {
      const id = this.s.newId('up');
      this.uploads.set(id, { meta: parseJson(raw)?.file ?? {}, parts: [] });
      return {
        status: 200,
        raw: '',
        headers: {
          'x-goog-upload-url': `${this.s.origin}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`,
          'x-goog-upload-status': 'active',
        },
      };
    }
    const upload = uploadId ? this.uploads.get(uploadId) : undefined;
    if (!upload) return geminiError(404, 'Upload session not found.');
    upload.parts.push(raw);
    if (!command.includes('finalize')) return { status: 200, raw: '', headers: { 'x-goog-upload-status': 'active' } };
    this.uploads.delete(uploadId!);
    const file = this.s.files.store(
      'gemini',
      upload.meta.displayName ?? String(headers['x-goog-upload-file-name'] ?? 'upload'),
      'upload',
      upload.meta.mimeType ?? 'application/octet-stream',
      Buffer.concat(upload.parts),
    );
    return {
      status: 200,
      body: { file: geminiFileObject(file, this.s.origin) },
      headers: { 'x-goog-upload-status': 'final' },
    };
  }

  private create(model: string, body: any): Reply {
    const batch = body?.batch;
    const input = batch?.inputConfig;
    if (!input) throw new BadRequest('* BatchGenerateContentRequest.batch.input_config: input_config is not specified');
    if (!this.s.cat.gemini(model)) return geminiError(404, geminiNotFoundMessage(model, 'batchGenerateContent'));
    const fatal = this.s.faults.fatal;
    if (fatal) return fatalError('gemini', fatal, model);
    const b: GeminiBatch = {
      id: this.s.newId(''),
      model,
      displayName: batch.displayName,
      createMs: Date.now(),
      updateMs: Date.now(),
      polls: 0,
      state: 'BATCH_STATE_PENDING',
    };
    if (Array.isArray(input.requests?.requests)) {
      b.inline = input.requests.requests;
    } else if (typeof input.fileName === 'string') {
      const file = this.s.files.get('gemini', input.fileName.replace(/^files\//, ''));
      if (!file) return geminiError(404, `File ${input.fileName} not found.`);
      b.fromFile = file.bytes
        .toString('utf8')
        .split('\n')
        .filter((t) => t.trim() !== '')
        .map((text, i) => {
          try {
            const line = JSON.parse(text);
            return { key: String(line.key ?? line.metadata?.key ?? `line-${i + 1}`), request: line.request };
          } catch {
            return { key: `line-${i + 1}`, invalid: 'Invalid JSON in the batch input line.' };
          }
        });
    } else {
      throw new BadRequest('* BatchGenerateContentRequest.batch.input_config: requests or file_name is required');
    }
    this.batches.set(b.id, b);
    if (this.s.pollsBeforeDone <= 0) this.advance(b);
    return { status: 200, body: geminiBatchOperation(b) };
  }

  private line(model: string, key: string, request: any): { response?: unknown; error?: unknown } {
    const rule = geminiRuleReply(this.s, model, request, 'generateContent');
    if (rule) return { error: (rule.body as any).error };
    const fault = this.s.faults.line('gemini', `/v1beta/models/${model}:generateContent#${key}`, model);
    let result: LineResult;
    try {
      result = geminiGenerate(this.s, model, request, fault);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      return { error: { code: 400, message: e.message, status: 'INVALID_ARGUMENT' } };
    }
    if (result.status === 200) return { response: result.body };
    if (result.status === 0)
      return {
        error: { code: 504, message: 'Deadline expired before operation could complete.', status: 'DEADLINE_EXCEEDED' },
      };
    const err = (result.body as any)?.error;
    return {
      error: err ?? {
        code: result.status,
        message: 'Imitated error.',
        status: GEMINI_STATUS[result.status] ?? 'UNKNOWN',
      },
    };
  }

  /** Runs on a poll: running until the configured poll, then every line at once. */
  private advance(b: GeminiBatch): void {
    if (b.state !== 'BATCH_STATE_PENDING' && b.state !== 'BATCH_STATE_RUNNING') return;
    b.updateMs = Date.now();
    if (b.polls < this.s.pollsBeforeDone) {
      b.state = 'BATCH_STATE_RUNNING';
      return;
    }
    let failed = 0;
    if (b.inline) {
      b.inlinedResponses = b.inline.map((item, i) => {
        const out = this.line(b.model, String(item.metadata?.key ?? i), item.request);
        if (out.error) failed++;
        return { ...(item.metadata !== undefined ? { metadata: item.metadata } : {}), ...out };
      });
    } else {
      const rows = (b.fromFile ?? []).map((line) => {
        const out = line.invalid
          ? { error: { code: 400, message: line.invalid, status: 'INVALID_ARGUMENT' } }
          : this.line(b.model, line.key, line.request);
        if (out.error) failed++;
        return { key: line.key, ...out };
      });
      const file = this.s.files.store(
        'gemini',
        `batch-${b.id}-results.jsonl`,
        'batch_output',
        'application/jsonl',
        Buffer.from(jsonl(rows)),
      );
      b.responsesFile = `files/${file.id}`;
    }
    const total = b.inline?.length ?? b.fromFile?.length ?? 0;
    b.stats = {
      requestCount: String(total),
      successfulRequestCount: String(total - failed),
      failedRequestCount: String(failed),
    };
    b.state = 'BATCH_STATE_SUCCEEDED';
  }
}

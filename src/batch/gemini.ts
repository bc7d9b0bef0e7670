// Gemini Batch Mode with a plain API key: requests inline when small, else an uploaded JSONL file; results by key.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GoogleGenAI, Operation, OperationFromAPIResponseParameters } from '@google/genai';
import { classifyGeminiError, geminiGenerationConfig, geminiUsage, normaliseGeminiFinish } from '../llm/gemini.js';
import { classify, type Failure } from '../llm/retry.js';
import { geminiSdk } from '../llm/sdk_modules.js';
import type { ChatRequest, ChatResponse } from '../llm/types.js';
import type { BatchEngine, BatchRequest, BatchResult, JobPhase, JobRef, JobStatus } from './engine.js';

export interface GeminiBatchOptions {
  /** Jobs whose request lines add up to more than this go as an uploaded file (the API takes ≤ 20 MB inline). */
  inlineMaxBytes: number;
}

const PHASES: Record<string, JobPhase> = {
  PENDING: 'pending',
  QUEUED: 'pending',
  RUNNING: 'running',
  CANCELLING: 'running',
  SUCCEEDED: 'succeeded',
  PARTIALLY_SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  EXPIRED: 'expired',
};

/** The REST body of one generateContent request, as the SDK would send it for a (string) prompt. */
function geminiRestRequest(request: ChatRequest) {
  const { systemInstruction, ...generationConfig } = geminiGenerationConfig(request) as ReturnType<
    typeof geminiGenerationConfig
  > & { systemInstruction?: string };
  return {
    contents: [{ parts: [{ text: request.prompt }], role: 'user' }],
    ...(systemInstruction ? { systemInstruction: { parts: [{ text: systemInstruction }], role: 'user' } } : {}),
    generationConfig,
  };
}

interface RawContent {
  parts?: Array<{ text?: string; thought?: boolean }>;
}
interface RawResponse {
  candidates?: Array<{ content?: RawContent; finishReason?: string }>;
  promptFeedback?: { blockReason?: string };
  usageMetadata?: Parameters<typeof geminiUsage>[0];
  modelVersion?: string;
}
interface RawError {
  code?: number;
  message?: string;
  status?: string;
}
interface RawLine {
  key?: string;
  metadata?: { key?: string };
  response?: RawResponse;
  error?: RawError;
  status?: RawError;
}
interface RawBatch {
  name?: string;
  done?: boolean;
  error?: RawError;
  metadata?: {
    state?: string;
    batchStats?: { requestCount?: string; successfulRequestCount?: string; failedRequestCount?: string };
    output?: { inlinedResponses?: { inlinedResponses?: RawLine[] }; responsesFile?: string };
  };
}

/**
 * The SDK's `batches.get` drops the counts and the error of a Gemini job; a batch is a long-running operation, so
 * reading it through `operations.get` with this pass-through keeps the REST answer whole.
 */
class RawOperation implements Operation<unknown> {
  raw: RawBatch = {};
  constructor(readonly name: string) {}
  _fromAPIResponse({ apiResponse }: OperationFromAPIResponseParameters): Operation<unknown> {
    const next = new RawOperation(this.name);
    next.raw = apiResponse as RawBatch;
    return next;
  }
}

export function geminiBatchEngine(ai: GoogleGenAI, options: GeminiBatchOptions): BatchEngine {
  // A finished inline job carries all its answers: the poll that saw it finish is kept, not fetched twice.
  const finished = new Map<string, RawBatch>();
  async function fetchJob(id: string, signal: AbortSignal): Promise<RawBatch> {
    const kept = finished.get(id);
    if (kept) return kept;
    const op = (await ai.operations.get({
      operation: new RawOperation(id),
      config: { abortSignal: signal },
    })) as RawOperation;
    if (op.raw.done) finished.set(id, op.raw);
    return op.raw;
  }

  return {
    provider: 'gemini',
    // File inputs may be up to 2 GB.
    limits: { requests: Number.POSITIVE_INFINITY, bytes: 1_900_000_000 },
    encode: encodeLine,

    async submit(model, items, label, signal) {
      const lines = items.map(encodeLine);
      const bytes = lines.reduce((n, line) => n + Buffer.byteLength(line), 0);
      if (bytes <= options.inlineMaxBytes) {
        const job = await ai.batches.create({
          model,
          src: items.map((item) => ({
            contents: [{ role: 'user', parts: [{ text: item.request.prompt }] }],
            metadata: { key: item.key },
            config: geminiGenerationConfig(item.request) as never,
          })),
          config: { displayName: label, abortSignal: signal },
        });
        return { id: job.name! };
      }
      const uploaded = await ai.files.upload({
        file: new Blob([`${lines.join('\n')}\n`], { type: 'application/jsonl' }),
        config: { mimeType: 'jsonl', displayName: `${label}.jsonl`, abortSignal: signal },
      });
      const job = await ai.batches.create({
        model,
        src: uploaded.name!,
        config: { displayName: label, abortSignal: signal },
      });
      return { id: job.name!, inputFile: uploaded.name! };
    },

    async status(job, signal): Promise<JobStatus> {
      const raw = await fetchJob(job.id, signal);
      const state = raw.metadata?.state ?? (raw.done ? 'BATCH_STATE_SUCCEEDED' : 'BATCH_STATE_PENDING');
      const stats = raw.metadata?.batchStats;
      return {
        phase: PHASES[state.replace(/^(BATCH|JOB)_STATE_/, '')] ?? 'running',
        state,
        total: Number(stats?.requestCount ?? job.keys.length),
        succeeded: Number(stats?.successfulRequestCount ?? 0),
        failed: Number(stats?.failedRequestCount ?? 0),
        ...(raw.error?.message
          ? { error: `${raw.error.status ?? raw.error.code ?? 'error'}: ${raw.error.message}` }
          : {}),
      };
    },

    async results(job: JobRef, signal): Promise<BatchResult[]> {
      const output = (await fetchJob(job.id, signal)).metadata?.output;
      finished.delete(job.id);
      const inline = output?.inlinedResponses?.inlinedResponses;
      // Inline answers come back in request order; the key in their metadata is checked first all the same.
      if (inline) return inline.flatMap((line, i) => toResult(line, job.keys[i]));
      if (!output?.responsesFile) return [];
      const dir = mkdtempSync(join(tmpdir(), 'gemini-batch-'));
      try {
        const path = join(dir, 'results.jsonl');
        await ai.files.download({ file: output.responsesFile, downloadPath: path, config: { abortSignal: signal } });
        return readFileSync(path, 'utf8')
          .split('\n')
          .flatMap((text) => {
            if (!text.trim()) return [];
            try {
              return toResult(JSON.parse(text) as RawLine, undefined);
            } catch {
              // A damaged line is a missing result: its request is asked again in the next round.
              return [];
            }
          });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },

    async cancel(job, signal) {
      await ai.batches.cancel({ name: job.id, config: { abortSignal: signal } });
    },
  };
}

function encodeLine(item: BatchRequest): string {
  return JSON.stringify({ key: item.key, request: geminiRestRequest(item.request) });
}

function toResult(line: RawLine, fallbackKey: string | undefined): BatchResult[] {
  const key = line.metadata?.key ?? line.key ?? fallbackKey;
  if (key === undefined) return [];
  const error = line.error ?? line.status;
  if (line.response) return [{ key, response: chatResponse(line.response) }];
  return [
    { key, error: lineFailure(error ?? { code: 500, message: 'the batch returned neither a response nor an error' }) },
  ];
}

/** The same reading of a response as the interactive path: text without thought parts, blocked when no candidate. */
function chatResponse(raw: RawResponse): ChatResponse {
  const candidate = raw.candidates?.[0];
  const parts = candidate?.content?.parts ?? [];
  const text = parts
    .filter((p) => !p.thought && typeof p.text === 'string')
    .map((p) => p.text)
    .join('');
  return {
    text: parts.length ? text : undefined,
    finishReason: normaliseGeminiFinish(candidate?.finishReason, !candidate && !!raw.promptFeedback?.blockReason),
    usage: geminiUsage(raw.usageMetadata),
    ...(raw.modelVersion ? { modelVersion: raw.modelVersion } : {}),
  };
}

/** A failed line carries the error the request would have had alone; classify it the same way. */
function lineFailure(error: RawError): Failure {
  return classify(
    new (geminiSdk().ApiError)({ message: JSON.stringify({ error }), status: error.code ?? 500 }),
    classifyGeminiError,
  );
}

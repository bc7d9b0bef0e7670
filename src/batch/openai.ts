// OpenAI Batch API: the chat requests go up as a JSONL file, a job runs them, results come back as output and error files.
import type OpenAI from 'openai';
import { classifyOpenAIError, openaiChatBody, openaiChatResponse } from '../llm/openai.js';
import { classify, type Failure } from '../llm/retry.js';
import { openaiSdk } from '../llm/sdk_modules.js';
import type { BatchEngine, BatchRequest, BatchResult, JobPhase, JobRef, JobStatus } from './engine.js';

const ENDPOINT = '/v1/chat/completions';
// Batch input files expire after 30 days by default; the output files are given the same life instead of piling up
// in the account's storage. 30 days outlasts the 24-hour window and any sensible gap before a resumed run collects.
const OUTPUT_EXPIRES = { anchor: 'created_at', seconds: 30 * 24 * 3600 } as const;

const PHASES: Record<string, JobPhase> = {
  validating: 'pending',
  in_progress: 'running',
  finalizing: 'running',
  cancelling: 'running',
  completed: 'succeeded',
  failed: 'failed',
  expired: 'expired',
  cancelled: 'cancelled',
};

interface OutputLine {
  custom_id?: string;
  response?: { status_code?: number; body?: unknown } | null;
  error?: { code?: string | null; message?: string | null } | null;
}

export function openaiBatchEngine(client: OpenAI, stage: string): BatchEngine {
  return {
    provider: 'openai',
    // The Batch API takes at most 50,000 requests and 200 MB per input file; stay a little under the bytes.
    limits: { requests: 50_000, bytes: 190_000_000 },

    encode: encodeLine,

    async submit(_model, items, label, signal) {
      const text = `${items.map(encodeLine).join('\n')}\n`;
      const file = await client.files.create(
        { file: await openaiSdk().toFile(Buffer.from(text), `${label}.jsonl`), purpose: 'batch' },
        { signal },
      );
      const job = await client.batches.create(
        {
          input_file_id: file.id,
          endpoint: ENDPOINT,
          completion_window: '24h',
          metadata: { pipeline_stage: stage, label },
          output_expires_after: OUTPUT_EXPIRES,
        },
        { signal },
      );
      return { id: job.id, inputFile: file.id };
    },

    async status(job, signal): Promise<JobStatus> {
      const batch = await client.batches.retrieve(job.id, { signal });
      const counts = batch.request_counts;
      const errors = batch.errors?.data ?? [];
      return {
        phase: PHASES[batch.status] ?? 'running',
        state: batch.status,
        total: counts?.total ?? job.keys.length,
        succeeded: counts?.completed ?? 0,
        failed: counts?.failed ?? 0,
        ...(errors.length
          ? {
              error: errors
                .slice(0, 3)
                .map((e) => `${e.code ?? 'error'}: ${e.message ?? ''}${e.line ? ` (line ${e.line})` : ''}`)
                .join('; '),
            }
          : {}),
      };
    },

    async results(job: JobRef, signal): Promise<BatchResult[]> {
      const batch = await client.batches.retrieve(job.id, { signal });
      const out: BatchResult[] = [];
      // An expired or cancelled job still hands back what it finished; the rest is in the error file or absent.
      for (const fileId of [batch.output_file_id, batch.error_file_id]) {
        if (!fileId) continue;
        const text = await (await client.files.content(fileId, { signal })).text();
        for (const line of text.split('\n')) {
          const parsed = parseLine(line);
          if (parsed) out.push(parsed);
        }
      }
      return out;
    },

    async cancel(job, signal) {
      await client.batches.cancel(job.id, { signal });
    },
  };
}

function encodeLine(item: BatchRequest): string {
  return JSON.stringify({ custom_id: item.key, method: 'POST', url: ENDPOINT, body: openaiChatBody(item.request) });
}

function parseLine(text: string): BatchResult | undefined {
  if (!text.trim()) return undefined;
  let line: OutputLine;
  try {
    line = JSON.parse(text) as OutputLine;
  } catch {
    // A damaged line is a missing result: its request is asked again in the next round.
    return undefined;
  }
  if (typeof line.custom_id !== 'string') return undefined;
  const status = line.response?.status_code;
  if (line.response && status === 200)
    return {
      key: line.custom_id,
      response: openaiChatResponse(line.response.body as OpenAI.Chat.Completions.ChatCompletion),
    };
  if (line.response && typeof status === 'number')
    return { key: line.custom_id, error: lineFailure(status, line.response.body) };
  return {
    key: line.custom_id,
    error: {
      kind: 'transient',
      errorClass: line.error?.code ?? 'batch_error',
      message: line.error?.message ?? 'the batch returned an error for this request',
    },
  };
}

/** A failed line carries the status and body the request would have had alone; classify it the same way. */
function lineFailure(status: number, body: unknown): Failure {
  return classify(openaiSdk().APIError.generate(status, body as object, undefined, new Headers()), classifyOpenAIError);
}

// OpenAI's synchronous REST calls: chat completions and embeddings, with the catalogue's model and parameter rules.
import { embedText, estimateTokens, type GenerateCall } from '../fake_answers.js';
import { openaiNotFoundMessage, openaiParamProblem, openaiReasoningTokens } from '../imitation_catalogue.js';
import { openaiError } from './error_bodies.js';
import { mangle } from './faults.js';
import { BadRequest, contentText, defaultEmbeddingDim, fromLine, nowSeconds, parseJson } from './protocol.js';
import type { Fault, LineResult, Outcome, Reply, RouteRequest } from './protocol.js';
import type { Shared } from './shared.js';

function openaiCallOf(body: any): { call: GenerateCall; jsonMode: boolean } {
  if (!body || typeof body.model !== 'string') throw new BadRequest('you must provide a model parameter');
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    throw new BadRequest("Missing required parameter: 'messages'.");
  if (body.stream) throw new BadRequest('The imitation server does not stream.');
  const isSystem = (m: any) => m?.role === 'system' || m?.role === 'developer';
  const rf = body.response_format;
  const schema = rf?.type === 'json_schema' ? rf.json_schema?.schema : undefined;
  const call: GenerateCall = {
    provider: 'openai',
    model: body.model,
    system: body.messages
      .filter(isSystem)
      .map((m: any) => contentText(m.content))
      .join('\n'),
    prompt: body.messages
      .filter((m: any) => !isSystem(m))
      .map((m: any) => contentText(m.content))
      .join('\n'),
    schemaName: rf?.type === 'json_schema' ? rf.json_schema?.name : undefined,
    schema,
    temperature: body.temperature,
  };
  return { call, jsonMode: rf?.type === 'json_schema' || rf?.type === 'json_object' };
}

/** One chat completion (or the fault that replaces it), as a synchronous call and a batch line both use it. */
export function openaiChat(s: Shared, body: any, fault: Fault | undefined): LineResult {
  if (fault?.kind === 'reply') return { key: '', status: fault.reply.status, body: fault.reply.body };
  if (fault?.kind === 'hang') return { key: '', status: 0 };
  const { call, jsonMode } = openaiCallOf(body);
  const spec = s.cat.openai(call.model);
  const version = spec?.snapshot ?? call.model;
  const text = mangle(s.answerText(call, jsonMode), fault);
  const input = estimateTokens(call.system + call.prompt);
  const reasoning = spec ? openaiReasoningTokens(spec, body) : 0;
  const output = estimateTokens(text) + reasoning;
  // OpenAI caches the longest seen prefix from 1,024 tokens on, in steps of 128.
  const cached = s.prefixes.cachedTokens(
    `openai:${version}`,
    `${call.system}\n${call.prompt}`,
    s.opts.cacheMinTokens?.openai ?? 1024,
    128,
  );
  const completion = {
    id: s.newId('chatcmpl-'),
    object: 'chat.completion',
    created: nowSeconds(),
    model: version,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: fault?.kind === 'truncated' ? 'length' : 'stop',
      },
    ],
    usage: {
      prompt_tokens: input,
      completion_tokens: output,
      total_tokens: input + output,
      prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: reasoning,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_imitation',
  };
  return { key: '', status: 200, body: completion, usage: { input, output, cached, thoughts: reasoning, version } };
}

/** One embeddings answer (or the fault that replaces it), as a synchronous call and a batch line both use it. */
export function openaiEmbeddings(s: Shared, body: any, fault: Fault | undefined): LineResult {
  if (fault?.kind === 'reply') return { key: '', status: fault.reply.status, body: fault.reply.body };
  if (fault?.kind === 'hang') return { key: '', status: 0 };
  if (!body || typeof body.model !== 'string' || body.input === undefined)
    throw new BadRequest("'input' and 'model' are required.");
  const spec = s.cat.openai(body.model);
  if (!spec?.embedding)
    return {
      key: '',
      status: 404,
      body: openaiError(404, openaiNotFoundMessage(body.model), 'invalid_request_error', 'model_not_found').body,
    };
  const raw = body.input;
  const inputs: string[] =
    typeof raw === 'string'
      ? [raw]
      : Array.isArray(raw) && raw.every((x: unknown) => typeof x === 'number')
        ? [raw.join(' ')]
        : Array.isArray(raw)
          ? raw.map((x: unknown) => (Array.isArray(x) ? x.join(' ') : String(x)))
          : [String(raw)];
  const dim = s.opts.embeddingDim ?? body.dimensions ?? defaultEmbeddingDim(body.model);
  const base64 = body.encoding_format === 'base64';
  const tokens = inputs.reduce((n, text) => n + estimateTokens(text), 0);
  const data = s.faults.spoiled(inputs.map((text) => embedText(text, dim))).map((vec, index) => {
    // The SDK asks for base64 by default and decodes little-endian float32; floats there would decode as garbage.
    // A value float32 cannot hold (null, a string) is sent as a plain array, as a compatible server might.
    const embedding =
      base64 && vec.every((x) => typeof x === 'number')
        ? Buffer.from(new Float32Array(vec as number[]).buffer).toString('base64')
        : vec;
    return { object: 'embedding', index, embedding };
  });
  return {
    key: '',
    status: 200,
    body: { object: 'list', data, model: spec.snapshot, usage: { prompt_tokens: tokens, total_tokens: tokens } },
    usage: { input: tokens, output: 0, version: spec.snapshot },
  };
}

/** The catalogue's rules, checked before any fault is drawn: a 404 or 400 is decided by the request alone. */
export function openaiRuleReply(s: Shared, body: any): Reply | undefined {
  const spec = s.cat.openai(body.model);
  if (!spec || spec.embedding)
    return openaiError(404, openaiNotFoundMessage(body.model), 'invalid_request_error', 'model_not_found');
  const problem = openaiParamProblem(spec, body);
  if (problem)
    return {
      status: 400,
      body: {
        error: { message: problem.message, type: 'invalid_request_error', param: problem.param, code: problem.code },
      },
    };
  return undefined;
}

/** `POST /v1/chat/completions` and `POST /v1/embeddings`; anything else falls through. */
export function openaiRoute(s: Shared, { method, path, raw, pre }: RouteRequest): Outcome | undefined {
  if (method === 'POST' && path === '/v1/chat/completions') {
    const body = parseJson(raw);
    openaiCallOf(body); // validates before a fault is drawn
    const rule = openaiRuleReply(s, body);
    if (rule) return rule;
    return fromLine(openaiChat(s, body, pre ?? s.faults.model('openai', body.model, true)));
  }
  if (method === 'POST' && path === '/v1/embeddings') {
    const body = parseJson(raw);
    if (body && typeof body.model === 'string' && !s.cat.openai(body.model)?.embedding) {
      return openaiError(404, openaiNotFoundMessage(body.model), 'invalid_request_error', 'model_not_found');
    }
    return fromLine(openaiEmbeddings(s, body, pre ?? s.faults.model('openai', String(body?.model), false)));
  }
  return undefined;
}

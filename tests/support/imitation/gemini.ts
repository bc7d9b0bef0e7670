// Gemini's synchronous REST calls: generateContent, embedContent and batchEmbedContents, with the catalogue's rules.
import { embedText, estimateTokens, type GenerateCall } from '../fake_answers.js';
import { geminiNotFoundMessage, geminiThinkingProblem, geminiThoughtTokens } from '../imitation_catalogue.js';
import { geminiError } from './error_bodies.js';
import { mangle } from './faults.js';
import {
  BadRequest,
  contentText,
  defaultEmbeddingDim,
  fromLine,
  HANG,
  parseJson,
  type Fault,
  type LineResult,
  type Outcome,
  type Reply,
  type RouteRequest,
} from './protocol.js';
import type { Shared } from './shared.js';

export function geminiCallOf(model: string, request: any): { call: GenerateCall; jsonMode: boolean } {
  if (!request || typeof request !== 'object') throw new BadRequest('request must be an object');
  if (request.contents === undefined || (Array.isArray(request.contents) && request.contents.length === 0)) {
    throw new BadRequest('* GenerateContentRequest.contents: contents is not specified');
  }
  const gc = request.generationConfig ?? {};
  const schema = gc.responseJsonSchema ?? gc.responseSchema;
  const call: GenerateCall = {
    provider: 'gemini',
    model,
    system: contentText(request.systemInstruction),
    prompt: (Array.isArray(request.contents) ? request.contents : [request.contents]).map(contentText).join('\n'),
    schemaName: typeof schema?.title === 'string' ? schema.title : undefined,
    schema,
    temperature: gc.temperature,
  };
  return { call, jsonMode: gc.responseMimeType === 'application/json' || schema !== undefined };
}

/** One generateContent answer (or the fault that replaces it), as a synchronous call and a batch line both use it. */
export function geminiGenerate(s: Shared, model: string, request: any, fault: Fault | undefined): LineResult {
  if (fault?.kind === 'reply') return { key: '', status: fault.reply.status, body: fault.reply.body };
  if (fault?.kind === 'hang') return { key: '', status: 0 };
  const { call, jsonMode } = geminiCallOf(model, request);
  const spec = s.cat.gemini(model);
  const version = spec?.id ?? model;
  const text = mangle(s.answerText(call, jsonMode), fault);
  const input = estimateTokens(call.system + call.prompt);
  const output = estimateTokens(text);
  const thoughts = spec ? geminiThoughtTokens(spec, request.generationConfig?.thinkingConfig) : 0;
  // The system instruction goes first, then the contents: the order the model reads (and caches) them in.
  const cached = s.prefixes.cachedTokens(
    `gemini:${version}`,
    `${call.system}\n${call.prompt}`,
    s.opts.cacheMinTokens?.gemini ?? spec?.cacheMin ?? 4096,
  );
  const body = {
    candidates: [
      {
        content: { role: 'model', parts: [{ text }] },
        finishReason: fault?.kind === 'truncated' ? 'MAX_TOKENS' : 'STOP',
        index: 0,
      },
    ],
    usageMetadata: {
      promptTokenCount: input,
      candidatesTokenCount: output,
      totalTokenCount: input + output + thoughts,
      thoughtsTokenCount: thoughts,
      ...(cached
        ? { cachedContentTokenCount: cached, cacheTokensDetails: [{ modality: 'TEXT', tokenCount: cached }] }
        : {}),
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: input }],
    },
    modelVersion: version,
    responseId: s.newId('resp'),
  };
  return { key: '', status: 200, body, usage: { input, output: output + thoughts, cached, thoughts, version } };
}

function geminiEmbed(s: Shared, model: string, request: any): number[] {
  const dim = s.opts.embeddingDim ?? request?.outputDimensionality ?? defaultEmbeddingDim(model);
  return embedText(contentText(request?.content), dim);
}

/** The catalogue's rules, checked before any fault is drawn: a 404 or 400 is decided by the request alone. */
export function geminiRuleReply(
  s: Shared,
  model: string,
  body: any,
  method: 'generateContent' | 'embedContent',
): Reply | undefined {
  const spec = s.cat.gemini(model);
  if (!spec?.methods.includes(method)) return geminiError(404, geminiNotFoundMessage(model, method));
  if (method === 'generateContent') {
    const problem = geminiThinkingProblem(spec, body?.generationConfig?.thinkingConfig);
    if (problem) return geminiError(400, problem);
  }
  return undefined;
}

/** `POST /v1beta/models/{model}:generateContent | :embedContent | :batchEmbedContents`; other actions fall through. */
export function geminiRoute(s: Shared, { method, path, raw, pre }: RouteRequest): Outcome | undefined {
  const m = /^\/v1beta\/(?:models|tunedModels)\/([^/:]+):(\w+)$/.exec(path);
  if (!m || method !== 'POST') return undefined;
  const [, model, action] = m as unknown as [string, string, string];
  const body = parseJson(raw);
  if (action === 'generateContent') {
    const { call } = geminiCallOf(model, body); // validates before a fault is drawn
    const rule = geminiRuleReply(s, model, body, 'generateContent');
    if (rule) return rule;
    return fromLine(geminiGenerate(s, call.model, body, pre ?? s.faults.model('gemini', model, true)));
  }
  if (action === 'batchEmbedContents' || action === 'embedContent') {
    const rule = geminiRuleReply(s, model, body, 'embedContent');
    if (rule) return rule;
    const fault = pre ?? s.faults.model('gemini', model, false);
    if (fault?.kind === 'reply') return fault.reply;
    if (fault?.kind === 'hang') return HANG;
    if (action === 'embedContent')
      return { status: 200, body: { embedding: { values: s.faults.spoiled([geminiEmbed(s, model, body)])[0] } } };
    if (!Array.isArray(body.requests))
      throw new BadRequest('* BatchEmbedContentsRequest.requests: requests is required');
    return {
      status: 200,
      body: {
        embeddings: s.faults
          .spoiled(body.requests.map((r: any) => geminiEmbed(s, model, r)))
          .map((values) => ({ values })),
      },
    };
  }
  return undefined;
}

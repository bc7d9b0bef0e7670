// One structured model call made reliable: timeout, retries decided by the error, and answers checked with zod.
import { createHash, type Hash } from 'node:crypto';
import type { z } from 'zod';
import { formatZodIssue } from '../format.js';
import { InvalidAnswerError } from '../errors.js';
import { tokensOf } from '../token_estimate.js';
import { PROVIDERS, type Provider } from './providers.js';
import { classify, withRetries, type CallEnvironment, type Failure } from './retry.js';
import { redactSecrets } from '../secrets.js';
import { quotedSchemaText } from './json_schema.js';
import type { ChatProvider, ChatRequest, ChatResponse } from './types.js';

export interface StructuredCall<T> {
  request: ChatRequest & { schema: z.ZodType<T> };
  /** A rule the schema cannot express (role order, say); returns why the answer is unusable. */
  check?: (value: T) => string | undefined;
}

/**
 * The resume key of a request: a change to the model, prompt, schema, temperature or thinking sent gives a new key,
 * so only the items it affects are asked again. Thinking counts only where it is sent (every Gemini call, OpenAI
 * reasoning models): a model whose request did not change keeps the key it had before thinking existed.
 *
 * The key is the SHA-256 of `JSON.stringify([provider, model, system, prompt, schemaName, schema, temperature,
 * thinking?])`, byte for byte, so checkpoints written before stay valid. It is built in pieces because every call of
 * a stage repeats its system prompt and schema (kilobytes each): their JSON is escaped once, and the hash of the
 * prefix up to the system prompt is copied rather than computed again. tests/request_key.test.ts holds it to the
 * plain JSON.stringify.
 */
export function requestKey(provider: Provider, request: ChatRequest): string {
  const system = request.system ?? '';
  if (!opening || opening.provider !== provider || opening.model !== request.model || opening.system !== system) {
    const text = `[${jsonInArray(provider)},${jsonInArray(request.model)},${JSON.stringify(system)},`;
    opening = { provider, model: request.model, system, hash: createHash('sha256').update(text) };
  }
  const thinking = PROVIDERS[provider].thinkingSent(request.model, request.thinking);
  const rest =
    `${jsonInArray(request.prompt)},${jsonInArray(request.schemaName)},${quotedSchemaText(request.schema)},` +
    `${jsonInArray(request.temperature)}${thinking === undefined ? '' : `,${jsonInArray(thinking)}`}]`;
  return opening.hash.copy().update(rest).digest('hex').slice(0, 32);
}

/** The hash of the last key's opening (provider, model, system prompt): a stage's calls share it. */
let opening: { provider: string; model: string; system: string; hash: Hash } | undefined;

/** What JSON.stringify writes for a value inside an array: `null` where it would leave a member out. */
function jsonInArray(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

/** Turns a response into a checked value, or says (as an InvalidAnswerError) why it cannot be used. */
export function interpret<T>(call: StructuredCall<T>, response: ChatResponse): T {
  if (response.finishReason === 'blocked') throw new InvalidAnswerError('blocked', 'the provider blocked the answer');
  if (response.refusal)
    throw new InvalidAnswerError('refused', `the model refused: ${redactSecrets(response.refusal.slice(0, 200))}`);
  if (response.finishReason === 'length')
    throw new InvalidAnswerError('truncated', 'the answer was cut off at the output token limit');
  if (!response.text) throw new InvalidAnswerError('not_json', 'the answer was empty');
  let json: unknown;
  try {
    // A key the model quotes (from a prompt, a document, a guess) goes no further: not to the artifact, the
    // checkpoint or a printed sample.
    json = JSON.parse(redactSecrets(response.text));
  } catch (error) {
    throw new InvalidAnswerError('not_json', `the answer was not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  return checked(call, json);
}

/** The schema, then the call's own check: what every answer passes, fresh or saved by an earlier run. */
export function checked<T>(call: StructuredCall<T>, json: unknown): T {
  const parsed = call.request.schema.safeParse(json);
  if (!parsed.success)
    throw new InvalidAnswerError(
      'schema',
      `the answer did not match the schema: ${formatZodIssue(parsed.error.issues[0]!)}`,
    );
  const problem = call.check?.(parsed.data);
  if (problem) throw new InvalidAnswerError('invalid', problem);
  return parsed.data;
}

/** The retry prompt tells the model what was wrong with its last answer. */
export function withFeedback(prompt: string, failure: Failure): string {
  return `${prompt}\n\nYOUR PREVIOUS ANSWER WAS REJECTED: ${failure.message}. Answer again, following every instruction above.`;
}

/** A rough size of one request for the TPM budget, plus room for the answer. */
export function estimatedTokens(request: ChatRequest): number {
  return tokensOf([request.system ?? '', request.prompt]) + 500;
}

export async function callStructured<T>(
  provider: ChatProvider,
  call: StructuredCall<T>,
  env: CallEnvironment,
): Promise<{ value: T; attempts: number }> {
  let request: ChatRequest = call.request;
  const estimate = estimatedTokens(request);
  return withRetries(
    async (signal) => {
      const response = await provider.complete(request, signal);
      env.onUsage?.(response.usage, request.model, response.modelVersion);
      try {
        return interpret(call, response);
      } catch (error) {
        if (error instanceof InvalidAnswerError)
          request = { ...call.request, prompt: withFeedback(call.request.prompt, classify(error)) };
        throw error;
      }
    },
    estimate,
    env,
  );
}

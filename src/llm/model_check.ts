// Asks the provider whether it offers the model (Gemini models.get, OpenAI GET /v1/models/{id}: both free), beside
// a stage's first paid call (before any batch job), and words the one-line error that names current models when it
// does not.
import type { GoogleGenAI } from '@google/genai';
import type OpenAI from 'openai';
import { FatalError } from '../errors.js';
import type { ChatProvider, EmbeddingProvider } from './types.js';

export type ModelPurpose = 'generate' | 'embed';

/** What one look-up of a model said. `unknown`: the check could not decide (no models endpoint, a busy server…). */
type Lookup =
  | { found: true; supports: (purpose: ModelPurpose) => boolean }
  | { found: false; modelNotFound: boolean }
  | { unknown: true };

interface ListedModel {
  id: string;
  supports: (purpose: ModelPurpose) => boolean;
  created?: number;
}

export interface ModelLister {
  /** How the error names the service: "the Gemini API". */
  service: string;
  get(model: string): Promise<Lookup>;
  /** Every model the service lists, or undefined when it has no list endpoint (or the list failed). */
  list(): Promise<ListedModel[] | undefined>;
}

const SHOWN = 6;
// Bounds the pages read from models.list: the catalogue is a few dozen models; a server that pages forever is cut off.
const MAX_PAGES = 20;

const METHODS: Record<ModelPurpose, string[]> = {
  generate: ['generateContent'],
  embed: ['embedContent', 'batchEmbedContents'],
};

interface HttpError {
  status?: number;
  message?: string;
  code?: string | null;
}

/** A 404 that is about the model (not a missing route): Gemini's "models/x is not found …", OpenAI's model_not_found. */
export function isModelNotFound(error: unknown, model: string): boolean {
  const e = error as HttpError;
  if (e?.status !== 404) return false;
  if (e.code === 'model_not_found') return true;
  const text = String(e.message ?? '');
  const name = model.replace(/^models\//, '');
  return (
    /model_not_found|not found|not supported|does not exist/i.test(text) &&
    (text.includes(name) || /\bmodels?\b/i.test(text))
  );
}

function statusOf(error: unknown): number | undefined {
  const status = (error as HttpError)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** A 404 about a route, a 405 or a 501: the server has no models endpoint (some OpenAI-compatible ones). */
function noEndpoint(error: unknown, model: string): boolean {
  const status = statusOf(error);
  return status === 405 || status === 501 || (status === 404 && !isModelNotFound(error, model));
}

/** What a failed models.get says: the model is gone, the server has no models endpoint, or nothing is known. */
function failedLookup(error: unknown, model: string): Lookup {
  if (isModelNotFound(error, model)) return { found: false, modelNotFound: true };
  if (noEndpoint(error, model)) return { found: false, modelNotFound: false };
  return { unknown: true };
}

export function geminiLister(client: GoogleGenAI): ModelLister {
  return {
    service: 'the Gemini API',
    async get(model) {
      try {
        const m = await client.models.get({ model });
        const actions = m.supportedActions;
        return { found: true, supports: (p) => actions === undefined || METHODS[p].some((a) => actions.includes(a)) };
      } catch (error) {
        return failedLookup(error, model);
      }
    },
    async list() {
      try {
        const out: ListedModel[] = [];
        const pager = await client.models.list({ config: { pageSize: 1000 } });
        let pages = 1;
        for (;;) {
          for (const m of pager.page) {
            const actions = m.supportedActions ?? [];
            out.push({
              id: (m.name ?? '').replace(/^models\//, ''),
              supports: (p) => METHODS[p].some((a) => actions.includes(a)),
            });
          }
          if (!pager.hasNextPage() || ++pages > MAX_PAGES) break;
          await pager.nextPage();
        }
        return out;
      } catch {
        return undefined;
      }
    },
  };
}

export function openaiLister(client: OpenAI): ModelLister {
  return {
    service: 'the OpenAI API',
    async get(model) {
      try {
        await client.models.retrieve(model);
        // The OpenAI model object says nothing of what a model does: the call itself will tell.
        return { found: true, supports: () => true };
      } catch (error) {
        return failedLookup(error, model);
      }
    },
    async list() {
      try {
        const out: ListedModel[] = [];
        for await (const m of client.models.list()) {
          out.push({
            id: m.id,
            created: m.created,
            supports: (p) => (p === 'embed' ? /embedding/.test(m.id) : isOpenAIChatModel(m.id)),
          });
          if (out.length >= MAX_PAGES * 100) break;
        }
        return out;
      } catch {
        return undefined;
      }
    },
  };
}

function isOpenAIChatModel(id: string): boolean {
  return (
    /^(gpt-|o\d|chatgpt)/.test(id) &&
    !/embedding|audio|realtime|tts|transcribe|image|search|instruct|moderation|whisper|dall-e|sora/.test(id)
  );
}

/** Aliases first (they follow the current release), then the newest. */
function current(models: ListedModel[], purpose: ModelPurpose): string[] {
  const fitting = models.filter((m) => m.supports(purpose));
  const version = (id: string) => Number(/(\d+(?:\.\d+)?)/.exec(id)?.[1] ?? 0);
  return fitting
    .sort(
      (a, b) =>
        Number(b.id.endsWith('-latest')) - Number(a.id.endsWith('-latest')) ||
        (b.created ?? 0) - (a.created ?? 0) ||
        version(b.id) - version(a.id) ||
        a.id.localeCompare(b.id),
    )
    .map((m) => m.id);
}

function goneMessage(
  service: string,
  model: string,
  purpose: ModelPurpose,
  listed: ListedModel[] | undefined,
  exists = false,
): string {
  const what = exists
    ? `${model} is offered by ${service} but not for ${purpose === 'embed' ? 'embeddings' : 'generateContent'}`
    : `${model} is not offered by ${service} (retired?)`;
  const names = listed ? current(listed, purpose) : [];
  if (names.length === 0) return `${what}; pass --model with a current model`;
  return `${what} — current: ${names.slice(0, SHOWN).join(', ')}${names.length > SHOWN ? ', …' : ''}; pass --model`;
}

/** The FatalError a stage stops with when the model is gone: one line, current models named. */
async function modelGoneError(lister: ModelLister, model: string, purpose: ModelPurpose): Promise<FatalError> {
  return new FatalError(goneMessage(lister.service, model, purpose, await lister.list()));
}

type UncheckedChat = Omit<ChatProvider, 'checkModel'>;
type UncheckedEmbeddings = Omit<EmbeddingProvider, 'checkModel'>;

/**
 * The chat provider with the model check added: the free look-up (see besideLookup), and, when a call finds the
 * model retired while the stage runs (or past a skipped check), the same one-line error as the check. `scope` names
 * the server: the same model name on another base URL is another question.
 */
export function checkedChat(lister: ModelLister, scope: () => string, chat: UncheckedChat): ChatProvider {
  return {
    name: chat.name,
    complete: (request, signal) => stopIfGone(lister, request.model, 'generate', () => chat.complete(request, signal)),
    checkModel: (model) => checkModel(lister, model, 'generate', scope()),
  };
}

/** The embedding provider with the same model check as `checkedChat`. */
export function checkedEmbeddings(
  lister: ModelLister,
  scope: () => string,
  embed: UncheckedEmbeddings,
): EmbeddingProvider {
  const { name, model } = embed;
  return {
    name,
    model,
    embed: (texts, dimensions, signal) =>
      stopIfGone(lister, model, 'embed', () => embed.embed(texts, dimensions, signal)),
    checkModel: () => checkModel(lister, model, 'embed', scope()),
  };
}

async function stopIfGone<T>(
  lister: ModelLister,
  model: string,
  purpose: ModelPurpose,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isModelNotFound(error, model)) throw await modelGoneError(lister, model, purpose);
    throw error;
  }
}

const checked = new Map<string, Promise<void>>();

/**
 * Passes when the service offers the model for the purpose, or when it cannot tell (a server without a models
 * endpoint, a transient error: the first real call then reports as usual); throws a FatalError when it does not.
 */
export function checkModel(lister: ModelLister, model: string, purpose: ModelPurpose, scope = ''): Promise<void> {
  const key = `${lister.service}|${scope}|${purpose}|${model}`;
  let pending = checked.get(key);
  if (!pending) {
    pending = decide(lister, model, purpose);
    checked.set(key, pending);
    // A failed check is not remembered: a later stage in the same process asks again.
    pending.catch(() => checked.delete(key));
  }
  return pending;
}

async function decide(lister: ModelLister, model: string, purpose: ModelPurpose): Promise<void> {
  const lookup = await lister.get(model);
  if ('unknown' in lookup) return;
  if (lookup.found) {
    if (lookup.supports(purpose)) return;
    throw new FatalError(goneMessage(lister.service, model, purpose, await lister.list(), true));
  }
  const listed = await lister.list();
  if (!lookup.modelNotFound) {
    // A 404 that is not about the model: without a list either, the server simply has no models endpoint.
    if (!listed || listed.some((m) => m.id === model.replace(/^models\//, ''))) return;
  }
  throw new FatalError(goneMessage(lister.service, model, purpose, listed));
}

/**
 * A provider call (chat `complete`, `embed`) for a stage whose model look-up is still out when its first call goes.
 * A call that fails for good (the model gone, a 400 or 404) waits for the look-up's verdict, so a model the look-up
 * finds gone, or offered but not for this purpose, is reported in the look-up's words rather than as the call's 404
 * or 400 (neither is billed). A look-up that fails before any call was answered stops the stage through `stop`; once
 * one was, the model evidently works and the verdict is moot.
 */
export function besideLookup<A extends unknown[], R>(
  call: (...args: A) => Promise<R>,
  lookup: Promise<void>,
  stop: (error: Error) => void,
): (...args: A) => Promise<R> {
  let answered = false;
  lookup.catch((error: Error) => {
    if (!answered) stop(error);
  });
  return async (...args) => {
    try {
      const response = await call(...args);
      answered = true;
      return response;
    } catch (error) {
      // Only an answer that stops the stage needs the look-up's words. One that is retried (a 429, a 503, a
      // timeout) goes back at once: a look-up the server is slow to answer must not hold up the retries.
      if (error instanceof FatalError || statusOf(error) === 400 || statusOf(error) === 404) await lookup;
      throw error;
    }
  };
}

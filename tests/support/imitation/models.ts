// The free model look-ups of both providers (list and get), as a stage makes them before its first paid call.
import { geminiModelResource, openaiNotFoundMessage } from '../imitation_catalogue.js';
import { geminiError, openaiError } from './error_bodies.js';
import type { Provider, Reply, RouteRequest } from './protocol.js';
import type { Shared } from './shared.js';

/** `GET /v1beta/models[/{id}]` and `GET /v1/models[/{id}]`: free, like the real ones. */
export function modelsRoute(s: Shared, provider: Provider, { method, path }: RouteRequest): Reply | undefined {
  if (!(s.opts.modelsEndpoint ?? true) || method !== 'GET') return undefined;
  const cat = s.cat;
  if (provider === 'gemini') {
    if (path === '/v1beta/models')
      return { status: 200, body: { models: cat.geminiListed().map((m) => geminiModelResource(m.id, m.model)) } };
    const id = /^\/v1beta\/models\/([^/:]+)$/.exec(path)?.[1];
    if (id === undefined) return undefined;
    const spec = cat.gemini(id);
    return spec
      ? { status: 200, body: geminiModelResource(id, spec) }
      : geminiError(404, `Model is not found: models/${id} for api version v1beta`);
  }
  const object = (m: { id: string; created: number }) => ({
    id: m.id,
    object: 'model',
    created: m.created,
    owned_by: 'system',
  });
  if (path === '/v1/models') return { status: 200, body: { object: 'list', data: cat.openaiListed().map(object) } };
  const id = /^\/v1\/models\/([^/]+)$/.exec(path)?.[1];
  if (id === undefined) return undefined;
  const spec = cat.openai(decodeURIComponent(id));
  return spec
    ? { status: 200, body: object(spec) }
    : openaiError(404, openaiNotFoundMessage(decodeURIComponent(id)), 'invalid_request_error', 'model_not_found');
}

/** The free model look-up a stage makes before its first paid call (Gemini models.get, OpenAI GET /v1/models/{id}). */
export function isModelLookup(request: { method?: string; path: string }): boolean {
  return request.method === 'GET' && /^\/(v1beta|v1)\/models(\/[^/:?]+)?(\?.*)?$/.test(request.path);
}

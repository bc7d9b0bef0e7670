// In-process imitation of the Gemini and OpenAI REST APIs (generate, embed, files, batches) for the real SDKs, offline.
// This module is the HTTP server: keys, scripted faults, latency and the request log; the routes live in imitation/.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hashString, makeRng } from './fake_answers.js';
import { authError, geminiError, openaiError } from './imitation/error_bodies.js';
import { geminiRoute } from './imitation/gemini.js';
import { GeminiBatches } from './imitation/gemini_batch.js';
import { isModelLookup, modelsRoute } from './imitation/models.js';
import { openaiRoute } from './imitation/openai.js';
import { OpenAIBatches } from './imitation/openai_batch.js';
import {
  BadRequest,
  HANG,
  type Outcome,
  type Provider,
  type Reply,
  type Route,
  type RouteRequest,
} from './imitation/protocol.js';
import { Shared } from './imitation/shared.js';
import type { Imitation, ImitationOptions, RecordedRequest } from './imitation/types.js';

export type {
  FaultPlan,
  GenerateCall,
  Imitation,
  ImitationOptions,
  RecordedRequest,
  ReportedUsage,
  ScriptedFault,
} from './imitation/types.js';
export { isModelLookup } from './imitation/models.js';

export async function startImitation(opts: ImitationOptions = {}): Promise<Imitation> {
  const s = new Shared(opts);
  const latencyRng = makeRng(hashString('latency', s.seed));
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const geminiBatches = new GeminiBatches(s);
  const openaiBatches = new OpenAIBatches(s);
  // Tried in order; the first that answers wins, as the paths of one provider never overlap.
  const routes: Record<Provider, Route[]> = {
    gemini: [(r) => modelsRoute(s, 'gemini', r), (r) => geminiRoute(s, r), (r) => geminiBatches.route(r)],
    openai: [(r) => modelsRoute(s, 'openai', r), (r) => openaiRoute(s, r), (r) => openaiBatches.route(r)],
  };
  const notServed = (provider: Provider, { method, path }: RouteRequest): Reply =>
    provider === 'gemini'
      ? geminiError(404, `The imitation does not serve ${method} ${path}.`)
      : openaiError(404, `Invalid URL (${method} ${path})`, 'invalid_request_error', null);

  function checkKey(provider: Provider, req: http.IncomingMessage, url: URL): Reply | undefined {
    const expected = opts.keys?.[provider];
    if (expected === undefined) return undefined;
    const sent =
      provider === 'gemini'
        ? ((req.headers['x-goog-api-key'] as string | undefined) ?? url.searchParams.get('key') ?? undefined)
        : /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (sent === expected) return undefined;
    return authError(provider, sent === undefined || sent === '');
  }

  async function afterAuth(
    provider: Provider,
    method: string,
    url: URL,
    req: http.IncomingMessage,
    raw: Buffer,
  ): Promise<Outcome> {
    // The free model look-ups a client makes before paying are not what a scripted fault without `match` is for.
    const lookup = isModelLookup({ method, path: url.pathname });
    const entry = lookup ? s.faults.takeMatchedScript(req.url ?? '/') : s.faults.takeScript(req.url ?? '/', false);
    const pre = entry ? s.faults.scripted(entry, provider, modelOf(url, raw)) : undefined;
    if (pre?.kind === 'reply') return pre.reply;
    if (pre?.kind === 'hang') return HANG;
    const request: RouteRequest = { method, url, path: url.pathname, req, raw, pre };
    for (const route of routes[provider]) {
      const outcome = await route(request);
      if (outcome !== undefined) return outcome;
    }
    return notServed(provider, request);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://imitation');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : (v ?? '');
    const body = opts.recordBodies === false ? undefined : recordedBody(raw, headers['content-type']);
    const record: RecordedRequest = { method, path: req.url ?? '/', headers, body, status: 0, at: Date.now() };
    requests.push(record);
    const provider: Provider = url.pathname.startsWith('/v1/') ? 'openai' : 'gemini';
    let outcome: Outcome;
    try {
      outcome = checkKey(provider, req, url) ?? (await afterAuth(provider, method, url, req, raw));
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      outcome =
        provider === 'gemini'
          ? geminiError(400, e.message)
          : openaiError(400, e.message, 'invalid_request_error', null);
    }
    if (outcome === HANG) return; // the socket stays open until the client gives up or close() destroys it
    const wait = (opts.latencyMs ?? 0) + (opts.latencyJitterMs ? latencyRng() * opts.latencyJitterMs : 0);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    record.status = outcome.status;
    record.usage = outcome.usage;
    send(res, provider, outcome);
  }

  function send(res: http.ServerResponse, provider: Provider, reply: Reply): void {
    if (res.destroyed || res.headersSent) return;
    const payload = reply.raw ?? JSON.stringify(reply.body ?? {});
    res.writeHead(reply.status, {
      'content-type': reply.contentType ?? 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(payload)),
      ...(provider === 'openai' ? { 'x-request-id': s.newId('req_') } : {}),
      ...reply.headers,
    });
    res.end(payload);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A bug in the imitation must fail loudly in the test that hit it, not hang it.
      if (!res.destroyed && !res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`imitation server bug: ${e instanceof Error ? e.stack : String(e)}`);
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  s.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url: s.origin,
    geminiBaseUrl: s.origin,
    openaiBaseUrl: `${s.origin}/v1`,
    requests,
    count: (pred) => (pred ? requests.filter(pred).length : requests.length),
    setFaults: (f) => s.faults.set(f),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests keep their sockets busy; without this close() would wait for the clients forever.
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** The model a request is for, only to word error messages. */
function modelOf(url: URL, raw: Buffer): string {
  const fromPath = /models\/([^/:]+)/.exec(url.pathname)?.[1];
  if (fromPath) return fromPath;
  try {
    return String(JSON.parse(raw.toString('utf8')).model ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function recordedBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  if (contentType?.includes('multipart/')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Requests a stage pays for: everything but the free model look-ups. */
export function paidRequests(im: Imitation): RecordedRequest[] {
  return im.requests.filter((r) => !isModelLookup(r));
}

// The shapes every route of the imitation shares: a reply, a hang, a bad request, and reading a request's body.
import type { IncomingMessage } from 'node:http';
import type { ReportedUsage } from './types.js';

export type Provider = 'gemini' | 'openai';

export interface Reply {
  status: number;
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  usage?: ReportedUsage;
}

export const HANG = Symbol('hang');
export type Outcome = Reply | typeof HANG;

/** What a fault does to one call: a ready error reply, no answer at all, or a mangled answer. */
export type Fault = { kind: 'reply'; reply: Reply } | { kind: 'hang' } | { kind: 'truncated' } | { kind: 'badJson' };

/** A request the real API would reject with 400; the server words it as the provider does. */
export class BadRequest extends Error {}

/** One answered call, as a synchronous reply or as one line of a batch. */
export interface LineResult {
  key: string;
  /** HTTP status the line would have had as a normal request; 0 = the line never ran (expired). */
  status: number;
  body?: any;
  usage?: ReportedUsage;
}

/** One request as a route sees it; `pre` is the scripted fault already drawn for it, if any. */
export interface RouteRequest {
  method: string;
  url: URL;
  path: string;
  req: IncomingMessage;
  raw: Buffer;
  pre: Fault | undefined;
}

/** A route answers the requests it serves and returns undefined for the rest. */
export type Route = (r: RouteRequest) => Outcome | undefined | Promise<Outcome | undefined>;

export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const iso = (ms = Date.now()) => new Date(ms).toISOString();

export function parseJson(raw: Buffer): any {
  if (raw.length === 0) return {};
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BadRequest('Invalid JSON payload received.');
  }
}

export function fromLine(result: LineResult): Outcome {
  if (result.status === 0) return HANG;
  return { status: result.status, body: result.body, usage: result.usage };
}

/** The text of a Gemini content, an OpenAI message content, or a list of either. */
export function contentText(content: any): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map(contentText).join('\n');
  if (content && Array.isArray(content.parts))
    return content.parts.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('\n');
  if (content && typeof content.text === 'string') return content.text;
  return '';
}

export function defaultEmbeddingDim(model: string): number {
  if (/text-embedding-004|embedding-001$/.test(model) && !model.includes('gemini')) return 768;
  if (model.includes('ada-002') || model.includes('3-small')) return 1536;
  return 3072;
}

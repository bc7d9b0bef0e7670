// What a test passes to the imitation and reads back from it: options, fault plans, recorded requests.
export type { GenerateCall } from '../fake_answers.js';
import type { GenerateCall } from '../fake_answers.js';
import type { CatalogueName } from '../imitation_catalogue.js';

/** One scripted fault; the first unconsumed entry whose `match` is a substring of the request path is used once. */
export interface ScriptedFault {
  /** Substring of the request path (with query). Without it the entry matches the next HTTP request of any kind. */
  match?: string;
  status?: number;
  body?: any;
  headers?: Record<string, string>;
  hang?: boolean;
  truncated?: boolean;
  badJson?: boolean;
}

export interface FaultPlan {
  rate429?: number;
  /** Share of random 429s that carry Gemini RetryInfo / OpenAI `retry-after-ms` (default 1). */
  rate429RetryInfo?: number;
  rate503?: number;
  /** MAX_TOKENS / finish_reason `length` with the JSON cut off. */
  rateTruncated?: number;
  /** Never answer; the client has to time out. */
  rateHang?: number;
  rateBadJson?: number;
  /** A real sliding window per provider (60 s unless `windowMs` shortens it for tests): calls beyond `rpm` get 429. */
  quota?: { rpm: number; windowMs?: number };
  /** Every model call and batch creation fails this way. */
  fatal?: 'insufficient_quota' | 'daily_quota' | 'invalid_argument';
  script?: ScriptedFault[];
}

export interface ImitationOptions {
  faults?: FaultPlan;
  /** Override the answer of a generate call: an object is sent as JSON text, a string as-is; undefined → default. */
  respond?: (req: GenerateCall) => unknown | undefined;
  /** Forces this embedding size; unset → the requested dimensions/outputDimensionality, else the model's default. */
  embeddingDim?: number;
  keys?: { gemini?: string; openai?: string };
  /** The GET of a batch that reports it done (default 1: the first poll). */
  batchPollsBeforeDone?: number;
  seed?: number;
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Every answer waits this long (ms) before it is sent, as a real model takes time; 0 by default. */
  latencyMs?: number;
  /** Plus a uniform random 0…jitter ms (seeded). */
  latencyJitterMs?: number;
  /** Keep each request's body in `requests` (default true); a long benchmark turns it off to bound memory. */
  recordBodies?: boolean;
  /** Which models exist (default 'today': 2.0 and 2.5 Gemini answer 404); 'any' serves every name. */
  catalogue?: CatalogueName;
  /** false: no models list/get endpoints (404 on the route), as some OpenAI-compatible servers. Default true. */
  modelsEndpoint?: boolean;
  /** Least shared prefix, in tokens, that implicit caching serves (default: each provider's documented minimum). */
  cacheMinTokens?: { gemini?: number; openai?: number };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
  /** 0 while unanswered (a hang). */
  status: number;
  at: number;
  /** The tokens this answer reported (generate and OpenAI embedding calls that got a 200), as the provider bills them. */
  usage?: ReportedUsage;
}

/** What one answer reported: tokens as billed (output includes thinking), cached input, the concrete version. */
export interface ReportedUsage {
  input: number;
  output: number;
  cached?: number;
  thoughts?: number;
  version?: string;
}

export interface Imitation {
  url: string;
  geminiBaseUrl: string;
  openaiBaseUrl: string;
  requests: RecordedRequest[];
  count(pred?: (r: RecordedRequest) => boolean): number;
  setFaults(f: FaultPlan): void;
  close(): Promise<void>;
}

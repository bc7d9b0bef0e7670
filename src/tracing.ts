// Sends stages and model calls to Logfire as spans when LOGFIRE_TOKEN is set; without it nothing is loaded or sent.
import type { Span } from '@opentelemetry/api';
import { env } from './env.js';
import type { Usage } from './llm/types.js';
import { redact } from './secrets.js';

export type SpanAttributes = Record<string, string | number | boolean | null | undefined>;

/**
 * The SDK (OpenTelemetry and Logfire's core API, ~30 MB) is imported only when a token is set, so a run without one
 * never loads it. An object, so a test can watch that it is not called.
 */
export const tracingSdk = {
  async load() {
    const [logfire, api, asyncHooks, traceBase, exporter, resources] = await Promise.all([
      import('logfire'),
      import('@opentelemetry/api'),
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    return { logfire, api, asyncHooks, traceBase, exporter, resources };
  },
};

interface Tracing {
  api: typeof import('@opentelemetry/api');
  logfire: typeof import('logfire');
  flush(): Promise<void>;
  /** Spans of model calls, so usage lands on the call it belongs to and never on the stage. */
  calls: WeakSet<Span>;
}

// Logfire's level numbers (logfire.level_num): a retried attempt is a warning, a stage that stopped on an error is one.
const WARNING = 13;
const ERROR = 17;

let starting: Promise<Tracing | undefined> | undefined;
/** Set once the SDK is up; a model call reads it synchronously, so an untraced run pays one comparison per call. */
let active: Tracing | undefined;

function start(): Promise<Tracing | undefined> | undefined {
  const token = env('LOGFIRE_TOKEN');
  if (!token) return undefined;
  starting ??= setUp(token);
  return starting;
}

async function setUp(token: string): Promise<Tracing | undefined> {
  try {
    const { logfire, api, asyncHooks, traceBase, exporter, resources } = await tracingSdk.load();
    // As @pydantic/logfire-node does: LOGFIRE_BASE_URL when set, else the region the token names (pylf_v1_eu_… is
    // the EU), else the US; the raw token is the Authorization header. Logfire takes OTLP as JSON or protobuf.
    const baseUrl = logfire.resolveBaseUrl(process.env, undefined, token);
    const batch = new traceBase.BatchSpanProcessor(
      new exporter.OTLPTraceExporter({ url: `${baseUrl}/v1/traces`, headers: { Authorization: token } }),
    );
    const provider = new traceBase.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'synth-chat-pipeline' }),
      idGenerator: new logfire.ULIDGenerator(),
      // The pending-span processor sends a placeholder as a span starts: a stage shows in Logfire's live view while it runs.
      spanProcessors: [batch, new logfire.PendingSpanProcessor(batch)],
    });
    // Async context: a model call made anywhere inside a stage's tasks becomes a child of the stage's span.
    api.context.setGlobalContextManager(new asyncHooks.AsyncLocalStorageContextManager().enable());
    api.trace.setGlobalTracerProvider(provider);
    active = { api, logfire, flush: () => provider.forceFlush(), calls: new WeakSet() };
    return active;
  } catch (error) {
    // Tracing must never stop a run.
    process.stderr.write(
      `warning: LOGFIRE_TOKEN is set but tracing could not start (${redact((error as Error).message ?? String(error))}); going on without it\n`,
    );
    return undefined;
  }
}

/** The attributes OpenTelemetry accepts: strings, numbers and booleans (null, undefined and objects are left out). */
function clean(attributes: Record<string, unknown>): Record<string, string | number | boolean> {
  return Object.fromEntries(
    Object.entries(attributes).filter((e): e is [string, string | number | boolean] =>
      ['string', 'number', 'boolean'].includes(typeof e[1]),
    ),
  );
}

export interface StageSpan {
  /** Runs `fn` with the stage's span current, so the model calls it makes are the span's children. */
  within<T>(fn: () => Promise<T>): Promise<T>;
  /** Ends the span with the stage's figures (and the error it stopped on), then sends what is pending. */
  end(attributes: SpanAttributes, error?: Error): Promise<void>;
}

const UNTRACED: StageSpan = { within: (fn) => fn(), end: async () => {} };

/** The span of one stage, from its start to its summary; without a token, one that does nothing. */
export function stageSpan(stage: string, attributes: Record<string, unknown>): StageSpan {
  const ready = start();
  if (!ready) return UNTRACED;
  const opened = ready.then(
    (tracing) =>
      tracing && { tracing, span: tracing.logfire.startSpan('stage {stage}', clean({ ...attributes, stage })) },
  );
  let ended = false;
  return {
    async within(fn) {
      const o = await opened;
      if (!o) return fn();
      const { api } = o.tracing;
      return api.context.with(api.trace.setSpan(api.context.active(), o.span), fn);
    },
    async end(final, error) {
      const o = await opened;
      if (!o || ended) return;
      ended = true;
      o.span.setAttributes(clean(final));
      if (error) {
        o.span.setStatus({ code: o.tracing.api.SpanStatusCode.ERROR, message: redact(error.message) });
        o.span.setAttribute('logfire.level_num', ERROR);
      }
      o.span.end();
      await o.tracing.flush();
    },
  };
}

/**
 * One request to a model, as a child of the current stage. A failed attempt records its error class and a redacted
 * one-line message, never the prompt or the raw error (which can echo request details).
 */
export function callSpan<T>(
  attributes: SpanAttributes,
  fn: () => Promise<T>,
  errorClass: (error: unknown) => string,
): Promise<T> {
  const tracing = active;
  if (!tracing) return fn();
  const { api, logfire } = tracing;
  const span = logfire.startSpan(
    attributes.model ? 'model call {model}' : 'model call',
    clean({ ...attributes, 'gen_ai.request.model': attributes.model }),
  );
  tracing.calls.add(span);
  return api.context.with(api.trace.setSpan(api.context.active(), span), async () => {
    try {
      return await fn();
    } catch (error) {
      span.setAttribute('error_class', errorClass(error));
      span.setAttribute('logfire.level_num', WARNING);
      span.setStatus({
        code: api.SpanStatusCode.ERROR,
        message: redact(String((error as Error)?.message ?? error))
          .split('\n')[0]!
          .slice(0, 300),
      });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Puts a call's token usage on its span (every usage the meter counts passes here; a no-op without tracing). */
export function traceUsage(model: string, usage: Usage): void {
  const tracing = active;
  if (!tracing) return;
  const span = tracing.api.trace.getActiveSpan();
  if (!span || !tracing.calls.has(span)) return;
  span.setAttributes({
    'gen_ai.request.model': model,
    'gen_ai.usage.input_tokens': usage.inputTokens,
    'gen_ai.usage.output_tokens': usage.outputTokens,
  });
}

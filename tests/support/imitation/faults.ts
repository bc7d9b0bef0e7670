// The imitation's faults: scripted ones used once each in order, seeded random ones, a quota window, a fatal mode.
import { hashString, makeRng, type Rng } from '../fake_answers.js';
import { errorForStatus, fatalError, geminiError, geminiQuotaError, openaiRateError } from './error_bodies.js';
import type { Fault, Provider, Reply } from './protocol.js';
import type { FaultPlan, ScriptedFault } from './types.js';

export class Faults {
  private plan: FaultPlan;
  private script: ScriptedFault[];
  private readonly rng: Rng;
  private readonly windows: Record<Provider, number[]> = { gemini: [], openai: [] };

  constructor(plan: FaultPlan, seed: number) {
    this.plan = plan;
    this.script = [...(plan.script ?? [])];
    this.rng = makeRng(hashString('faults', seed));
  }

  /** One embedding answer's vectors with the plan's bad value in the first one, while answers are left to spoil. */
  spoiled(vectors: number[][]): unknown[][] {
    const bad = this.plan.badEmbedding;
    if (!bad || (bad.answers ?? 1) <= 0 || !vectors.length) return vectors;
    if (bad.answers !== undefined) bad.answers--;
    const [first, ...rest] = vectors;
    return [bad.every ? first!.map(() => bad.value) : [bad.value, ...first!.slice(1)], ...rest];
  }

  /** A new plan and script; the random draws and the quota windows go on where they were. */
  set(plan: FaultPlan): void {
    this.plan = plan;
    this.script = [...(plan.script ?? [])];
  }

  get fatal(): FaultPlan['fatal'] {
    return this.plan.fatal;
  }

  /** Scripted entries without `match` apply to HTTP requests only; batch lines need an explicit match. */
  takeScript(path: string, forLine: boolean): ScriptedFault | undefined {
    const i = this.script.findIndex((s) => (s.match === undefined ? !forLine : path.includes(s.match)));
    return i < 0 ? undefined : this.script.splice(i, 1)[0];
  }

  takeMatchedScript(path: string): ScriptedFault | undefined {
    const i = this.script.findIndex((s) => s.match !== undefined && path.includes(s.match));
    return i < 0 ? undefined : this.script.splice(i, 1)[0];
  }

  scripted(entry: ScriptedFault, provider: Provider, model: string): Fault | undefined {
    if (entry.hang) return { kind: 'hang' };
    if (entry.status !== undefined && entry.status !== 200) {
      const reply: Reply =
        entry.body !== undefined
          ? { status: entry.status, body: entry.body }
          : errorForStatus(provider, entry.status, model);
      return { kind: 'reply', reply: { ...reply, headers: { ...reply.headers, ...entry.headers } } };
    }
    if (entry.truncated) return { kind: 'truncated' };
    if (entry.badJson) return { kind: 'badJson' };
    if (entry.body !== undefined)
      return { kind: 'reply', reply: { status: 200, body: entry.body, headers: entry.headers } };
    return undefined;
  }

  /** Three draws per call whatever the outcome, so a seed and a request order give the same faults. */
  random(provider: Provider, model: string, generate: boolean): Fault | undefined {
    const plan = this.plan;
    const u = this.rng();
    const v = this.rng();
    const d = this.rng();
    let edge = plan.rate429 ?? 0;
    if (u < edge) {
      const delay = v < (plan.rate429RetryInfo ?? 1) ? 0.02 + d * 0.06 : undefined;
      if (provider === 'openai') return { kind: 'reply', reply: openaiRateError(model, 'min', 500, delay) };
      if (delay === undefined)
        return { kind: 'reply', reply: geminiError(429, 'Resource has been exhausted (e.g. check quota).') };
      return {
        kind: 'reply',
        reply: geminiQuotaError(
          model,
          'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          'generate_content_free_tier_requests',
          '10',
          delay,
        ),
      };
    }
    if (u < (edge += plan.rate503 ?? 0)) return { kind: 'reply', reply: errorForStatus(provider, 503, model) };
    if (u < (edge += plan.rateHang ?? 0)) return { kind: 'hang' };
    if (u < (edge += plan.rateTruncated ?? 0)) return generate ? { kind: 'truncated' } : undefined;
    if (u < (edge += plan.rateBadJson ?? 0)) return generate ? { kind: 'badJson' } : undefined;
    return undefined;
  }

  /** Faults of a synchronous model call, after any scripted one: fatal, then the quota window, then chance. */
  model(provider: Provider, model: string, generate: boolean): Fault | undefined {
    const plan = this.plan;
    if (plan.fatal) return { kind: 'reply', reply: fatalError(provider, plan.fatal, model) };
    if (plan.quota) {
      const window = this.windows[provider];
      const now = Date.now();
      const span = plan.quota.windowMs ?? 60_000;
      while (window.length > 0 && window[0]! <= now - span) window.shift();
      if (window.length >= plan.quota.rpm) {
        const wait = (window[0]! + span - now) / 1000;
        const reply =
          provider === 'openai'
            ? openaiRateError(model, 'min', plan.quota.rpm, wait)
            : geminiQuotaError(
                model,
                'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
                'generate_content_free_tier_requests',
                String(plan.quota.rpm),
                wait,
              );
        return { kind: 'reply', reply };
      }
      window.push(now);
    }
    return this.random(provider, model, generate);
  }

  /** The fault of one batch line: a scripted entry that names it, else chance (batch lines have no quota window). */
  line(provider: Provider, virtualPath: string, model: string): Fault | undefined {
    const entry = this.takeScript(virtualPath, true);
    if (entry) return this.scripted(entry, provider, model);
    return this.random(provider, model, true);
  }
}

/** An answer's text as a truncated or almost-JSON fault leaves it. */
export function mangle(text: string, fault: Fault | undefined): string {
  if (fault?.kind === 'truncated')
    return text.slice(0, Math.max(0, Math.min(text.length - 1, Math.floor(text.length * 0.6))));
  // A trailing comma: the shape of JSON a model "almost" got right, which JSON.parse still rejects.
  if (fault?.kind === 'badJson')
    return text.startsWith('{') && text.endsWith('}') ? `${text.slice(0, -1)},}` : `{${text}`;
  return text;
}

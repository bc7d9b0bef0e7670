// Which earlier stage proves the key and quota of this one: same provider and model, recent, up the chain of inputs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROOF_MAX_AGE_MS, provenConcurrency } from '../src/stage/proven_concurrency.js';

const NOW = Date.parse('2026-12-02T12:00:00Z');

function manifest(
  dir: string,
  artifact: string,
  m: {
    provider: string;
    model: string;
    reached?: number;
    rateLimited?: number;
    inputs?: string[];
    outputs?: string[];
    finishedAgoMs?: number;
  },
): void {
  const started = new Date(NOW - (m.finishedAgoMs ?? 60_000) - 10_000).toISOString();
  writeFileSync(
    join(dir, artifact.replace(/\.jsonl$/, '.meta.json')),
    JSON.stringify({
      stage: 'x',
      started_at: started,
      duration_s: 10,
      inputs: (m.inputs ?? []).map((f) => join(dir, f)),
      outputs: [join(dir, artifact), ...(m.outputs ?? []).map((f) => join(dir, f))],
      settings: { provider: m.provider, model: m.model },
      ...(m.reached
        ? {
            limiter: {
              reached_concurrency: m.reached,
              ...(m.rateLimited !== undefined ? { rate_limit_events: m.rateLimited } : {}),
            },
          }
        : {}),
    }),
  );
}

describe('provenConcurrency', () => {
  it("reads the input's own manifest when it matches the provider and model", () => {
    const dir = mkdtempSync(join(tmpdir(), 'proof-'));
    manifest(dir, 'raw.jsonl', { provider: 'gemini', model: 'gemini-2.5-flash', reached: 30 });
    expect(provenConcurrency([join(dir, 'raw.jsonl')], 'gemini', 'gemini-2.5-flash', NOW)).toEqual({
      concurrency: 30,
      reached: 30,
      manifest: join(dir, 'raw.meta.json'),
    });
    expect(provenConcurrency([join(dir, 'raw.jsonl')], 'openai', 'gemini-2.5-flash', NOW)).toBeUndefined();
    expect(provenConcurrency([join(dir, 'raw.jsonl')], 'gemini', 'gemini-2.5-pro', NOW)).toBeUndefined();
  });

  it('opens at twice what was reached when the earlier stage saw no 429, and at what was reached after one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proof-'));
    const at = (rateLimited: number | undefined) => {
      manifest(dir, 'raw.jsonl', { provider: 'gemini', model: 'm', reached: 30, rateLimited });
      return provenConcurrency([join(dir, 'raw.jsonl')], 'gemini', 'm', NOW);
    };
    // No 429: the ramp was held by the stage's own ceiling, and would have doubled on its next round trip.
    expect(at(0)).toMatchObject({ concurrency: 60, reached: 30 });
    // A 429 found the quota's edge: open there.
    expect(at(3)).toMatchObject({ concurrency: 30, reached: 30 });
    // A manifest from before the count was kept says nothing either way.
    expect(at(undefined)).toMatchObject({ concurrency: 30, reached: 30 });
  });

  it('finds the stage that listed the input among its outputs, and walks on to its inputs for the same model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proof-'));
    manifest(dir, 'qa.jsonl', { provider: 'gemini', model: 'gemini-2.5-flash', reached: 24 });
    // Stage 2 ran another model: it proves nothing for stage 3, but its input's stage does.
    manifest(dir, 'validated.jsonl', {
      provider: 'gemini',
      model: 'gemini-2.5-flash-lite',
      reached: 50,
      inputs: ['qa.jsonl'],
      outputs: ['passed.jsonl'],
    });
    expect(provenConcurrency([join(dir, 'passed.jsonl')], 'gemini', 'gemini-2.5-flash', NOW)?.concurrency).toBe(24);
    expect(provenConcurrency([join(dir, 'passed.jsonl')], 'gemini', 'gemini-2.5-flash-lite', NOW)?.concurrency).toBe(
      50,
    );
  });

  it('ignores a stage that made no interactive call, a stale one, a broken manifest and a missing input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proof-'));
    manifest(dir, 'a.jsonl', { provider: 'gemini', model: 'm' });
    manifest(dir, 'b.jsonl', { provider: 'gemini', model: 'm', reached: 9, finishedAgoMs: PROOF_MAX_AGE_MS + 1000 });
    writeFileSync(join(dir, 'c.meta.json'), '{ not json');
    for (const f of ['a.jsonl', 'b.jsonl', 'c.jsonl', 'nowhere.jsonl'])
      expect(provenConcurrency([join(dir, f)], 'gemini', 'm', NOW)).toBeUndefined();
  });

  it('stops on manifests that name each other as inputs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'proof-'));
    manifest(dir, 'a.jsonl', { provider: 'gemini', model: 'x', reached: 3, inputs: ['b.jsonl'] });
    manifest(dir, 'b.jsonl', { provider: 'gemini', model: 'x', reached: 3, inputs: ['a.jsonl'] });
    expect(provenConcurrency([join(dir, 'a.jsonl')], 'gemini', 'y', NOW)).toBeUndefined();
  });
});

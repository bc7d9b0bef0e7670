// --dry-run sends nothing and estimates tokens and cost within ±10% of what the real run then records in its manifest.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { dryRun, type DryRunEstimate } from '../src/stage/dry_run.js';
import { parseFlags } from '../src/cli.js';
import { FLAGS as TRIAL_FLAGS, trialRun } from '../trial_run.js';
import { startImitation, type Imitation } from './support/imitation_server.js';
import { callsWithOneSaved } from './support/dry_run_calls.js';
import { manifest, setEnv, setImitationEnv, stage } from './support/run_stages.js';

// The stages import dryRun from this module: wrapping it lets the test read the estimate it returned.
vi.mock('../src/stage/dry_run.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/stage/dry_run.js')>();
  return { ...actual, dryRun: vi.fn(actual.dryRun) };
});

let imitation: Imitation;
let stdout: string[] = [];

beforeAll(async () => {
  imitation = await startImitation({ seed: 3 });
});

afterAll(async () => {
  await imitation.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `fn` with stdout captured (the dry run prints the first prompt, which would flood the test log). */
async function captured<T>(fn: () => Promise<T>): Promise<T> {
  stdout = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  try {
    return await fn();
  } finally {
    spy.mockRestore();
  }
}

function within10(estimated: number, recorded: number, what: string): void {
  expect(recorded, `${what}: the real run recorded nothing`).toBeGreaterThan(0);
  const error = Math.abs(estimated - recorded) / recorded;
  expect(
    error,
    `${what}: estimated ${estimated}, recorded ${recorded} (${(100 * error).toFixed(1)}% off)`,
  ).toBeLessThanOrEqual(0.1);
}

const STAGES = [
  { name: 'extract', artifact: 'qa_pairs.jsonl', args: ['--limit', '8'] },
  { name: 'validate', artifact: 'qa_pairs_validated.jsonl', args: [] },
  { name: 'generate', artifact: 'conversations_raw.jsonl', args: ['--num-conversations', '30'] },
  { name: 'judge', artifact: 'conversations_judged.jsonl', args: [] },
] as const;

describe.each(['gemini', 'openai'] as const)('--dry-run on %s, then the real run', (provider) => {
  const dir = mkdtempSync(join(tmpdir(), `dry-run-${provider}-`));
  const results: Record<
    string,
    {
      estimate: DryRunEstimate;
      usage: { calls: number; inputTokens: number; outputTokens: number; costUsd: number };
      sent: number;
      printed: string;
    }
  > = {};

  beforeAll(async () => {
    setImitationEnv(imitation, provider);
    // Each dry run reads what the stage before it really wrote, as a user checking the cost stage by stage would.
    for (const s of STAGES) {
      const before = imitation.requests.length;
      const code = await captured(() => stage[s.name](dir, [...s.args, '--dry-run']));
      expect(code).toBe(0);
      const sent = imitation.requests.length - before;
      const estimate = vi.mocked(dryRun).mock.results.at(-1)!.value as DryRunEstimate;
      const printed = stdout.join('');
      expect(await captured(() => stage[s.name](dir, [...s.args]))).toBe(0);
      results[s.name] = { estimate, usage: manifest(dir, s.artifact).usage, sent, printed };
    }
  });

  it.each(STAGES.map((s) => s.name))(
    '%s: sends no request and prints the calls, tokens, cost and first prompt',
    (name) => {
      const { sent, printed, estimate } = results[name]!;
      expect(sent).toBe(0);
      expect(printed).toMatch(new RegExp(`dry run, no API call\\): ${estimate.calls} calls to ${provider} `));
      expect(printed).toMatch(/~\d[\d.k]* input \+ ~\d[\d.k]* output tokens · ~\$\d/);
      expect(printed).toContain('--- first prompt ---');
    },
  );

  it.each(STAGES.map((s) => s.name))(
    '%s: calls, input and output tokens and cost are within ±10%% of the manifest',
    (name) => {
      const { estimate, usage } = results[name]!;
      expect(estimate.calls).toBe(usage.calls);
      within10(estimate.inputTokens, usage.inputTokens, 'input tokens');
      within10(estimate.outputTokens, usage.outputTokens, 'output tokens');
      within10(estimate.costUsd!, usage.costUsd, 'cost');
    },
  );

  it('the dry run wrote nothing next to the artifacts', () => {
    // Only the real runs' files: artifacts, their manifests (and no checkpoint left by a clean finish).
    for (const file of readdirSync(dir)) expect(file).toMatch(/\.(jsonl|meta\.json)$/);
  });
});

describe('trial_run.ts --dry-run', () => {
  it('makes no request, needs no key, writes nothing, and prints every stage with its first prompt', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trial-dry-'));
    // No keys at all: a dry run must not need one. The base URLs point at the imitation to count what would leak.
    setEnv({ GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl, OPENAI_BASE_URL: imitation.openaiBaseUrl });
    const before = imitation.requests.length;
    const code = await captured(() =>
      trialRun(
        parseFlags(
          ['--dry-run', '--chunks', '6', '--num-conversations', '40', '--output-dir', dir, '--quiet'],
          TRIAL_FLAGS,
          '',
        )!,
      ),
    );
    expect(code).toBe(0);
    expect(imitation.requests.length - before).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    const printed = stdout.join('');
    for (const name of ['extract_qa', 'validate_qa', 'generate_conversations', 'judge'])
      expect(printed).toMatch(new RegExp(`^${name} +\\d+ calls .* ~[\\d.k]+ in / ~[\\d.k]+ out +~\\$\\d`, 'm'));
    expect(printed).toMatch(/^total +\d+ calls +~\$\d/m);
    expect(printed).toContain('--- first prompt ---');
  });
});

describe('dryRun on repeated rows', () => {
  it('counts identical requests once, as the run asks them once, and leaves out what the checkpoint holds', async () => {
    const { artifact, calls } = callsWithOneSaved('dry-repeated-', ['one', 'two', 'one', 'three', 'two', 'one'], 3);
    const estimate = await captured(async () => dryRun('s', 'gemini', 'gemini-2.5-flash', artifact, calls, 100));
    expect(estimate.calls).toBe(2);
    expect(estimate.outputTokens).toBe(200);
    expect(stdout.join('')).toMatch(
      /2 calls to gemini gemini-2\.5-flash \(1 more already finished, reused\) \(3 repeated rows ask the same as an earlier one: asked once\)/,
    );
  });
});

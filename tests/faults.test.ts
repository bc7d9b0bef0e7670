// Under injected faults every item is accounted for; a quota is met without a storm; fatal errors stop at once.
// Each stage runs its real command line in process: what is checked is its output, exit code and requests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FaultPlan, ImitationOptions } from './support/imitation_server.js';
import { runStageInProcess, type InProcessResult } from './support/run_in_process.js';
import {
  generateArgs,
  imitationPerTest,
  lineCount,
  readRows,
  stageEnv,
  tempDir,
  writeFacts,
  writeQaPairs,
} from './support/run_stage.js';

const start = imitationPerTest();

interface Manifest {
  counts: { read: number; written: number; failed: number; filtered: Record<string, number>; reused: number };
  errors_file: string | null;
  limiter?: { reached_concurrency: number; rate_limit_events: number };
}

const manifestOf = (artifact: string): Manifest =>
  JSON.parse(readFileSync(artifact.replace(/\.jsonl$/, '.meta.json'), 'utf8'));
const errorsOf = (artifact: string) => artifact.replace(/\.jsonl$/, '.errors.jsonl');
const filtered = (m: Manifest) => Object.values(m.counts.filtered).reduce((a, b) => a + b, 0);
const isGenerate = (r: { path: string }) => r.path.includes(':generateContent');

/** The balance, the errors file and the exit code agree for one stage; returns the ids of the failed items. */
function accountFor(stage: string, result: InProcessResult, artifact: string, unitsPerFailure = 1): Set<string> {
  expect(result.stderr, stage).not.toMatch(/^\s+at /m);
  const m = manifestOf(artifact);
  expect(m.counts.written + filtered(m) + m.counts.failed, `${stage}: written + filtered + failed = read`).toBe(
    m.counts.read,
  );
  expect(lineCount(artifact), `${stage}: rows in the artifact`).toBe(m.counts.written);
  expect(result.stdout).not.toMatch(/counts do not balance/);
  const errors = existsSync(errorsOf(artifact))
    ? readRows<{ stage: string; item_id: string; error_class: string; message: string; attempts: number }>(
        errorsOf(artifact),
      )
    : [];
  if (m.counts.failed === 0) {
    expect(existsSync(errorsOf(artifact)), `${stage}: no errors file without failures`).toBe(false);
    expect(result.code, `${stage}: exit code\n${result.stderr}`).toBe(0);
  } else {
    expect(errors.length * unitsPerFailure, `${stage}: every failure recorded`).toBe(m.counts.failed);
    for (const e of errors)
      expect(e).toMatchObject({
        stage: expect.any(String),
        item_id: expect.any(String),
        error_class: expect.any(String),
        attempts: expect.any(Number),
      });
    expect(result.code, `${stage}: a failed item makes the exit code non-zero`).toBe(1);
  }
  return new Set(errors.map((e) => e.item_id));
}

describe('a trial-sized run under 10% 429, 5% 503, 5% truncated JSON and 1% hangs', () => {
  it('runs stages 1 → 5 with every item accounted for', async () => {
    const faults: FaultPlan = {
      rate429: 0.1,
      rate429RetryInfo: 0.5,
      rate503: 0.05,
      rateTruncated: 0.05,
      rateHang: 0.01,
      // Each kind at least once whatever the dice say: the first requests of stage 1.
      script: [
        { hang: true },
        {
          status: 429,
          body: {
            error: {
              code: 429,
              message: 'Resource has been exhausted (e.g. check quota).',
              status: 'RESOURCE_EXHAUSTED',
            },
          },
        },
        { status: 429 },
        { status: 503 },
        { truncated: true },
      ],
    };
    const im = await start({ seed: 11, faults });
    const dir = tempDir('faults');
    const env = stageEnv(im, { LLM_TIMEOUT_MS: '1500', LLM_BACKOFF_MS: '20' });
    const run = (script: string, args: string[]) => runStageInProcess(script, [...args, '--quiet'], { env, cwd: dir });
    const out = (name: string) => join(dir, name);
    writeFacts(out('facts.md'), 10);

    const s1 = await run('1_extract_qa.ts', ['--facts', out('facts.md'), '--output', out('qa.jsonl')]);
    accountFor('extract', s1, out('qa.jsonl'), 3);
    expect(manifestOf(out('qa.jsonl')).counts.read).toBe(30);

    const s2 = await run('2_validate_qa.ts', ['--input', out('qa.jsonl'), '--output', out('validated.jsonl')]);
    const failed2 = accountFor('validate', s2, out('validated.jsonl'));
    // Every input pair is either in the output or in the errors file, never both, never neither.
    const pairs = readRows(out('qa.jsonl'));
    const validated = readRows<{ qa_pair: unknown }>(out('validated.jsonl')).map((v) => JSON.stringify(v.qa_pair));
    pairs.forEach((p, i) => {
      expect(validated.includes(JSON.stringify(p)) !== failed2.has(`qa-${i}`), `qa-${i}`).toBe(true);
    });

    const s3 = await run(
      '3_generate_conversations.ts',
      generateArgs(out('validated_passed.jsonl'), out('raw.jsonl'), 40, '--seed', '3'),
    );
    accountFor('generate', s3, out('raw.jsonl'));
    expect(manifestOf(out('raw.jsonl')).counts.read).toBe(Math.min(40, 10 * lineCount(out('validated_passed.jsonl'))));

    const s4 = await run('4_judge_and_save.ts', [
      '--input',
      out('raw.jsonl'),
      '--output',
      out('judged.jsonl'),
      '--final',
      out('final.jsonl'),
    ]);
    accountFor('judge', s4, out('judged.jsonl'));

    const s5 = await run('5_embed_conversations.ts', [
      '--input',
      out('judged.jsonl'),
      '--output',
      out('embedded.jsonl'),
      '--batch-size',
      '4',
    ]);
    accountFor('embed', s5, out('embedded.jsonl'), 4);

    // The faults really happened: the stages above were retried through them.
    const statuses = im.requests.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 0).length).toBeGreaterThanOrEqual(1);
    // No temporary file is left next to the artifacts.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('the limiter under a quota', () => {
  it('concurrency 50 against 6 requests a second: nothing lost, and a bounded number of 429s', async () => {
    // The imitation's sliding window, shortened from 60 s to 1 s so the test takes seconds, not minutes.
    const im = await start({ seed: 5, faults: { quota: { rpm: 6, windowMs: 1000 } } });
    const dir = tempDir('quota');
    writeQaPairs(join(dir, 'pairs.jsonl'), 8);
    const result = await runStageInProcess(
      '3_generate_conversations.ts',
      generateArgs(join(dir, 'pairs.jsonl'), join(dir, 'raw.jsonl'), 60, '--concurrency', '50', '--quiet'),
      { env: stageEnv(im, { LLM_BACKOFF_MS: '200' }), cwd: dir },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(manifestOf(join(dir, 'raw.jsonl')).counts).toMatchObject({ read: 60, written: 60, failed: 0 });
    const generate = im.requests.filter(isGenerate);
    const refused = generate.filter((r) => r.status === 429).length;
    expect(generate.filter((r) => r.status === 200)).toHaveLength(60);
    // Slow start, halving and the server's pause keep it near one 429 per success (measured 53–87); without
    // them every waiting item tries again each window and the same run draws 290–400.
    expect(refused).toBeLessThanOrEqual(150);
    // The manifest says the quota was met, so the next stage opens at what was reached instead of doubling it.
    expect(manifestOf(join(dir, 'raw.jsonl')).limiter?.rate_limit_events).toBeGreaterThan(0);
    // The quota really held: 60 successes at 6 a second cannot take less than 9 s.
    expect(result.ms).toBeGreaterThan(9000);
    console.log(
      `quota: 60 items at 6/s, concurrency 50: ${refused} 429s, ${generate.length} requests, ${(result.ms / 1000).toFixed(1)} s`,
    );
  });
});

describe('errors that stop the stage at once', () => {
  /** Stage 2 on the pairs, asking OpenAI. */
  const validateOnOpenAi = (dir: string) => [
    '--input',
    join(dir, 'pairs.jsonl'),
    '--output',
    join(dir, 'validated.jsonl'),
    '--provider',
    'openai',
  ];
  const cases: Array<{
    name: string;
    options: ImitationOptions;
    script: string;
    args: (dir: string) => string[];
    message: RegExp;
    env?: Record<string, string>;
  }> = [
    {
      name: 'a wrong Gemini key (401)',
      options: { keys: { gemini: 'the-right-key' } },
      script: '1_extract_qa.ts',
      args: (dir) => ['--facts', join(dir, 'facts.md'), '--output', join(dir, 'qa.jsonl')],
      message: /GOOGLE_API_KEY/,
    },
    {
      name: 'a wrong OpenAI key (401)',
      options: { keys: { openai: 'the-right-key' } },
      script: '2_validate_qa.ts',
      args: validateOnOpenAi,
      message: /OPENAI_API_KEY/,
    },
    {
      name: 'OpenAI insufficient_quota',
      options: { faults: { fatal: 'insufficient_quota' } },
      script: '2_validate_qa.ts',
      args: validateOnOpenAi,
      message: /insufficient_quota/,
    },
    {
      name: 'a Gemini daily quota (QuotaFailure …PerDay…)',
      options: { faults: { fatal: 'daily_quota' } },
      script: '2_validate_qa.ts',
      args: (dir) => ['--input', join(dir, 'pairs.jsonl'), '--output', join(dir, 'validated.jsonl')],
      message: /daily quota/i,
    },
    {
      name: 'an OpenAI requests-per-day limit',
      options: { faults: { fatal: 'daily_quota' } },
      script: '2_validate_qa.ts',
      args: validateOnOpenAi,
      message: /daily limit/i,
    },
    {
      name: 'a 400 invalid argument',
      options: { faults: { fatal: 'invalid_argument' } },
      script: '2_validate_qa.ts',
      args: (dir) => ['--input', join(dir, 'pairs.jsonl'), '--output', join(dir, 'validated.jsonl')],
      message: /refused the request \(400\)/,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: one line, exit 1, one request instead of one per item, no artifact`, async () => {
      const im = await start({ seed: 2, ...c.options });
      const dir = tempDir('fatal');
      writeFacts(join(dir, 'facts.md'), 12);
      writeQaPairs(join(dir, 'pairs.jsonl'), 30);
      const result = await runStageInProcess(c.script, [...c.args(dir), '--concurrency', '30'], {
        env: stageEnv(im, c.env),
        cwd: dir,
      });
      expect(result.code).toBe(1);
      const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('error:'));
      expect(errorLines, result.stderr).toHaveLength(1);
      expect(errorLines[0]).toMatch(c.message);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      // Slow start: the first request goes alone, so a fatal answer costs one request, not one per slot.
      expect(im.count((r) => r.method === 'POST')).toBe(1);
      expect(existsSync(join(dir, 'qa.jsonl')) || existsSync(join(dir, 'validated.jsonl'))).toBe(false);
    });
  }

  it('the circuit breaker stops a stage when more than half of its first items fail', async () => {
    const im = await start({ seed: 3, faults: { rate503: 1 } });
    const dir = tempDir('breaker');
    writeQaPairs(join(dir, 'pairs.jsonl'), 60);
    const result = await runStageInProcess(
      '2_validate_qa.ts',
      ['--input', join(dir, 'pairs.jsonl'), '--output', join(dir, 'validated.jsonl'), '--concurrency', '4'],
      {
        env: stageEnv(im, { LLM_MAX_ATTEMPTS: '2', LLM_BACKOFF_MS: '1' }),
        cwd: dir,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/error: stopped early: \d+ of the first \d+ items failed \(server_error ×\d+\)/);
    const errors = readRows(join(dir, 'validated.errors.jsonl'));
    expect(errors.length).toBeGreaterThanOrEqual(10);
    expect(errors.length).toBeLessThan(60);
    expect(existsSync(join(dir, 'validated.jsonl'))).toBe(false);
  });
});

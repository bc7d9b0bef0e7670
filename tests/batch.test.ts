// Batch mode end to end against the imitation's batch endpoints: same artifacts as interactive, resumable jobs,
// re-submission of failed lines, and the request each provider's batch receives.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { qaValidationPrompt } from '../src/prompts/qa_validator.js';
import { DEFAULT_DOMAIN } from '../src/config.js';
import { loadDomain } from '../src/domain.js';
import {
  startImitation,
  type Imitation,
  type ImitationOptions,
  type RecordedRequest,
} from './support/imitation_server.js';
import { BatchStatusLine } from '../src/batch/status_line.js';
import { ARTIFACTS, manifest, readRows, setEnv, stage, stages1to4 } from './support/run_stages.js';

type Provider = 'openai' | 'gemini';

let im: Imitation | undefined;
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'batch-test-'));
  dirs.push(dir);
  return dir;
}

async function start(provider: Provider, opts: ImitationOptions = {}): Promise<Imitation> {
  im = await startImitation({ batchPollsBeforeDone: 2, ...opts });
  setEnv(providerEnv(provider, im));
  return im;
}

function providerEnv(provider: Provider, imitation: Imitation): Record<string, string> {
  return provider === 'openai'
    ? { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: imitation.openaiBaseUrl, LLM_PROVIDER: 'openai' }
    : { GOOGLE_API_KEY: 'test-gemini-key', GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl, LLM_PROVIDER: 'gemini' };
}

const isCreation = (r: RecordedRequest) =>
  r.method === 'POST' && (r.path === '/v1/batches' || r.path.endsWith(':batchGenerateContent'));
const isDirectCall = (r: RecordedRequest) => r.path === '/v1/chat/completions' || r.path.endsWith(':generateContent');

beforeEach(() => {
  dirs.length = 0;
});

afterEach(async () => {
  await im?.close();
  im = undefined;
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The keys an interactive run saved, by item id: batch mode keys its requests the same way. */
function checkpointKeys(file: string): Map<string, string> {
  return new Map(readRows(`${file}.checkpoint.jsonl`).map((e) => [e.id as string, e.key as string]));
}

/** Request lines of every batch job submitted so far: uploaded JSONL (OpenAI, Gemini file) or inline (Gemini). */
function submittedLines(imitation: Imitation): Array<{ key: string; prompt: string; body: any }> {
  const out: Array<{ key: string; prompt: string; body: any }> = [];
  for (const r of imitation.requests) {
    if (r.method !== 'POST') continue;
    if (r.path.endsWith(':batchGenerateContent') && r.body?.batch?.inputConfig?.requests) {
      for (const line of r.body.batch.inputConfig.requests.requests)
        out.push({ key: line.metadata.key, prompt: line.request.contents[0].parts[0].text, body: line.request });
    } else if ((r.path === '/v1/files' || r.path.includes('upload_id=')) && typeof r.body === 'string') {
      for (const text of r.body.split('\n')) {
        if (!text.startsWith('{')) continue;
        const line = JSON.parse(text);
        if (line.custom_id)
          out.push({ key: line.custom_id, prompt: line.body.messages.at(-1).content, body: line.body });
        else if (line.key)
          out.push({ key: line.key, prompt: line.request.contents[0].parts[0].text, body: line.request });
      }
    }
  }
  return out;
}

describe.each<Provider>(['openai', 'gemini'])('%s batch mode', (provider) => {
  it('stages 1–4 with --batch write the same artifacts as an interactive run, at half the price', async () => {
    const imitation = await start(provider);
    const interactive = tempDir();
    const batch = tempDir();
    expect(await stages1to4(interactive)).toEqual([0, 0, 0, 0]);
    const before = imitation.requests.length;
    expect(await stages1to4(batch, ['--batch'])).toEqual([0, 0, 0, 0]);

    for (const artifact of ARTIFACTS)
      expect(readFileSync(join(batch, artifact), 'utf8'), artifact).toBe(
        readFileSync(join(interactive, artifact), 'utf8'),
      );
    expect(readRows(join(batch, 'conversations_judged.jsonl')).length).toBeGreaterThan(0);
    // Every answer came from a batch job: one per stage, and not a single direct model call.
    const during = imitation.requests.slice(before);
    expect(during.filter(isCreation)).toHaveLength(4);
    expect(during.filter(isDirectCall)).toHaveLength(0);

    const a = manifest(interactive, 'qa_pairs.jsonl');
    const b = manifest(batch, 'qa_pairs.jsonl');
    expect(a.settings).toMatchObject({ provider, mode: 'interactive' });
    expect(b.settings).toMatchObject({ provider, mode: 'batch' });
    expect(b.batch.jobs).toHaveLength(1);
    expect(b.batch.jobs[0]).toMatchObject({ round: 1, requests: 5, resumed: false });
    expect(b.usage.inputTokens).toBe(a.usage.inputTokens);
    expect(b.usage.outputTokens).toBe(a.usage.outputTokens);
    expect(b.usage.costUsd).toBeGreaterThan(0);
    expect(b.usage.costUsd).toBeCloseTo(a.usage.costUsd / 2, 10);
    // Nothing is left to resume once every job is collected.
    expect(existsSync(join(batch, 'qa_pairs.jsonl.batch.json'))).toBe(false);
  });

  it('each batch line is the request an interactive call sends', async () => {
    const imitation = await start(provider);
    const dir = tempDir();
    expect(await stage.extract(dir)).toBe(0);
    const direct = imitation.requests.filter(isDirectCall).map((r) => r.body);
    expect(await stage.extract(tempDir(), ['--batch'])).toBe(0);
    const lines = submittedLines(imitation);
    expect(lines).toHaveLength(direct.length);
    for (const line of lines) {
      const twin = direct.find((body) => JSON.stringify(body).includes(JSON.stringify(line.prompt)));
      expect(twin, line.key).toBeDefined();
      expect(line.body).toEqual(
        provider === 'gemini'
          ? {
              contents: twin.contents,
              systemInstruction: twin.systemInstruction,
              generationConfig: twin.generationConfig,
            }
          : twin,
      );
    }
  });

  it('failed and unusable lines are submitted again; lines that keep failing become recorded failures', async () => {
    const imitation = await start(provider);
    const reference = tempDir();
    const dir = tempDir();
    expect(await stage.extract(reference)).toBe(0);
    expect(await stage.validate(reference)).toBe(0);
    copyFileSync(join(reference, 'qa_pairs.jsonl'), join(dir, 'qa_pairs.jsonl'));
    const all = checkpointKeys(join(reference, 'qa_pairs_validated.jsonl'));
    // Pairs that read the same share a request, and so a key: pick four items whose requests are their own.
    const domain = loadDomain(undefined, DEFAULT_DOMAIN);
    const prompts = readRows(join(dir, 'qa_pairs.jsonl')).map((pair) => qaValidationPrompt(domain, pair).prompt);
    const unique = [...all]
      .filter(([id]) => prompts.filter((p) => p === prompts[Number(id.replace('qa-', ''))]).length === 1)
      .slice(0, 4);
    const [transient, invalid, rejected, doomed] = unique.map(([id]) => id);
    const keys = new Map(unique);
    const key = (id: string) => `#${keys.get(id)}`;
    imitation.setFaults({
      script: [
        { match: key(transient!), status: provider === 'openai' ? 429 : 503 }, // transient: asked again as is
        { match: key(invalid!), badJson: true }, // unusable: asked again with the reason
        { match: key(rejected!), status: 400 }, // a rejected request would be rejected again: not re-submitted
        { match: key(doomed!), status: 500 }, // fails in every round
        { match: key(doomed!), status: 500 },
        { match: key(doomed!), status: 500 },
      ],
    });
    const before = imitation.requests.length;

    expect(await stage.validate(dir, ['--batch'])).toBe(1);

    expect(imitation.requests.slice(before).filter(isCreation)).toHaveLength(3);
    const sent = (id: string) => submittedLines(imitation).filter((l) => l.key === keys.get(id));
    expect([transient, invalid, rejected, doomed].map((id) => sent(id!).length)).toEqual([2, 2, 1, 3]);
    expect(sent(invalid!)[1]!.prompt).toContain('YOUR PREVIOUS ANSWER WAS REJECTED: the answer was not valid JSON');
    expect(sent(transient!)[1]!.prompt).toBe(sent(transient!)[0]!.prompt);

    const failures = readRows(join(dir, 'qa_pairs_validated.errors.jsonl'));
    expect(failures.map((f) => [f.item_id, f.error_class, f.attempts]).sort()).toEqual(
      [
        [rejected, 'invalid_request', 1],
        [doomed, 'server_error', 3],
      ].sort(),
    );
    const written = readRows(join(dir, 'qa_pairs_validated.jsonl'));
    const expected = readRows(join(reference, 'qa_pairs_validated.jsonl'));
    const index = (id: string) => Number(id.replace('qa-', ''));
    expect(written).toHaveLength(expected.length - 2);
    // The transient failure got the very answer the interactive run got; the re-asked invalid one got an answer too.
    expect(written).toContainEqual(expected[index(transient!)]);
    expect(
      written.some((row) => JSON.stringify(row.qa_pair) === JSON.stringify(expected[index(invalid!)].qa_pair)),
    ).toBe(true);
    const meta = manifest(dir, 'qa_pairs_validated.jsonl');
    expect(meta.batch).toMatchObject({ rounds: 3, resubmitted: 4 });
    expect(meta.counts).toMatchObject({ read: expected.length, written: expected.length - 2, failed: 2 });

    // Running again retries only the two failures (here interactively), and the artifact is complete.
    imitation.setFaults({});
    expect(await stage.validate(dir)).toBe(0);
    const complete = readRows(join(dir, 'qa_pairs_validated.jsonl'));
    expect(complete).toHaveLength(expected.length);
    // Only the pair whose answer was re-asked with feedback may be judged differently.
    expect(complete.filter((_, i) => i !== index(invalid!))).toEqual(expected.filter((_, i) => i !== index(invalid!)));
    // (A repeated request is reused by its first item only; the others ask again.)
    const repeats = prompts.length - new Set(prompts).size;
    expect(manifest(dir, 'qa_pairs_validated.jsonl').counts).toMatchObject({
      reused: expected.length - 2 - repeats,
      failed: 0,
    });
  });
});

describe('interrupted batch runs', () => {
  /** Starts stage 2 with --batch as a child process, waits until its job id is saved, then kills it. */
  async function interruptChild(
    provider: Provider,
    dir: string,
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; stderr: string; jobId: string }> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '2_validate_qa.ts',
        '--batch',
        '--input',
        join(dir, 'qa_pairs.jsonl'),
        '--output',
        join(dir, 'qa_pairs_validated.jsonl'),
      ],
      { env: { ...process.env, BATCH_POLL_MS: '100' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const stateFile = join(dir, 'qa_pairs_validated.jsonl.batch.json');
    const deadline = Date.now() + 20_000;
    let jobId = '';
    while (!jobId) {
      if (Date.now() > deadline) throw new Error(`no batch job was saved; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
      if (existsSync(stateFile)) jobId = JSON.parse(readFileSync(stateFile, 'utf8')).jobs[0]?.id ?? '';
    }
    expect(provider === 'openai' ? jobId.startsWith('batch_') : jobId.startsWith('batches/')).toBe(true);
    child.kill(signal);
    return { code: await exited, stderr, jobId };
  }

  it.each<[Provider, NodeJS.Signals]>([
    ['openai', 'SIGINT'],
    ['gemini', 'SIGKILL'],
  ])(
    '%s: a run stopped (%s) while polling is resumed on the same job, not submitted again',
    async (provider, signal) => {
      // Enough polls that the child is still waiting when it is stopped.
      const imitation = await start(provider, { batchPollsBeforeDone: 8 });
      const reference = tempDir();
      const dir = tempDir();
      expect(await stage.extract(reference)).toBe(0);
      expect(await stage.validate(reference)).toBe(0);
      copyFileSync(join(reference, 'qa_pairs.jsonl'), join(dir, 'qa_pairs.jsonl'));

      const stopped = await interruptChild(provider, dir, signal);
      if (signal === 'SIGINT') {
        expect(stopped.code).toBe(130);
        expect(stopped.stderr).toContain(`interrupted: 1 batch job(s) keep running at ${provider} (${stopped.jobId})`);
        expect(stopped.stderr).toContain('run the same command again');
      }
      expect(existsSync(join(dir, 'qa_pairs_validated.jsonl'))).toBe(false);
      expect(imitation.count(isCreation)).toBe(1);

      expect(await stage.validate(dir, ['--batch'])).toBe(0);

      expect(imitation.count(isCreation)).toBe(1);
      expect(
        imitation.count((r) => r.method === 'GET' && r.path.includes(stopped.jobId.replace(/^batches\//, ''))),
      ).toBeGreaterThanOrEqual(8);
      const meta = manifest(dir, 'qa_pairs_validated.jsonl');
      expect(meta.batch.jobs).toEqual([expect.objectContaining({ id: stopped.jobId, resumed: true })]);
      expect(readFileSync(join(dir, 'qa_pairs_validated.jsonl'), 'utf8')).toBe(
        readFileSync(join(reference, 'qa_pairs_validated.jsonl'), 'utf8'),
      );
      expect(existsSync(join(dir, 'qa_pairs_validated.jsonl.batch.json'))).toBe(false);
    },
    60_000,
  );

  it('a run stopped between the jobs of a split stage resumes the saved job and submits only the rest', async () => {
    const imitation = await start('openai', { batchPollsBeforeDone: 1 });
    const reference = tempDir();
    const dir = tempDir();
    expect(await stage.extract(reference)).toBe(0);
    process.env.BATCH_MAX_REQUESTS = '2';
    process.env.STOP_GRACE_MS = '100';
    // The second upload never answers: the stop comes while the first job is saved and the second is not.
    imitation.setFaults({ script: [{ match: '/v1/files' }, { match: '/v1/files', hang: true }] });
    const before = imitation.requests.length;
    const running = stage.extract(dir, ['--batch']);
    while (imitation.requests.slice(before).filter((r) => r.path === '/v1/files').length < 2)
      await new Promise((r) => setTimeout(r, 5));
    process.emit('SIGINT');
    await expect(running).rejects.toThrow(/interrupted: 1 batch job\(s\) keep running/);
    expect(imitation.count(isCreation)).toBe(1);

    imitation.setFaults({});
    expect(await stage.extract(dir, ['--batch'])).toBe(0);
    expect(imitation.count(isCreation)).toBe(3);
    expect(
      manifest(dir, 'qa_pairs.jsonl').batch.jobs.map((j: { requests: number; resumed: boolean }) => [
        j.requests,
        j.resumed,
      ]),
    ).toEqual([
      [2, true],
      [2, false],
      [1, false],
    ]);
    expect(readFileSync(join(dir, 'qa_pairs.jsonl'), 'utf8')).toBe(
      readFileSync(join(reference, 'qa_pairs.jsonl'), 'utf8'),
    );
  });

  it('--fresh cancels the job an earlier run left running and submits anew', async () => {
    const imitation = await start('openai', { batchPollsBeforeDone: 1000 });
    const dir = tempDir();
    expect(await stage.extract(dir)).toBe(0);
    const stateFile = join(dir, 'qa_pairs_validated.jsonl.batch.json');
    const running = stage.validate(dir, ['--batch']);
    while (!existsSync(stateFile)) await new Promise((r) => setTimeout(r, 5));
    // The stage's own SIGINT handler: stop taking work, keep the job.
    process.emit('SIGINT');
    await expect(running).rejects.toThrow(/interrupted: 1 batch job\(s\) keep running/);
    const first = JSON.parse(readFileSync(stateFile, 'utf8')).jobs[0].id as string;

    imitation.setFaults({});
    const finishing = stage.validate(dir, ['--batch', '--fresh']);
    // This imitation never finishes a job by itself: the new one is stopped too, after --fresh did its work.
    while (imitation.count(isCreation) < 2) await new Promise((r) => setTimeout(r, 5));
    process.emit('SIGINT');
    await expect(finishing).rejects.toThrow(/interrupted/);
    expect(imitation.count((r) => r.method === 'POST' && r.path === `/v1/batches/${first}/cancel`)).toBe(1);
    const jobs = JSON.parse(readFileSync(stateFile, 'utf8')).jobs.map((j: { id: string }) => j.id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).not.toBe(first);
  });
});

/** Stage 1 with --batch in two fresh folders, `variable=value` set before the second; `between` runs after it is set. */
async function extractBatchTwice(variable: string, value: string, between?: (first: string, second: string) => void) {
  const first = tempDir();
  const second = tempDir();
  expect(await stage.extract(first, ['--batch'])).toBe(0);
  process.env[variable] = value;
  between?.(first, second);
  expect(await stage.extract(second, ['--batch'])).toBe(0);
  return [first, second] as const;
}

describe('batch job shapes', () => {
  it('Gemini: requests beyond the inline limit go as an uploaded JSONL file, with the same answers', async () => {
    const imitation = await start('gemini');
    const [inline, file] = await extractBatchTwice('GEMINI_BATCH_INLINE_MAX_BYTES', '1000', (inline, file) =>
      copyFileSync(join(inline, 'qa_pairs.jsonl'), join(file, 'qa_pairs.jsonl')),
    );
    const creations = imitation.requests.filter(isCreation);
    expect(creations[0]!.body.batch.inputConfig.requests).toBeDefined();
    expect(creations[1]!.body.batch.inputConfig.fileName).toMatch(/^files\//);
    expect(imitation.count((r) => r.path.includes('/upload/v1beta/files'))).toBe(2);
    expect(imitation.count((r) => r.path.includes(':download'))).toBe(1);
    expect(readFileSync(join(file, 'qa_pairs.jsonl'), 'utf8')).toBe(
      readFileSync(join(inline, 'qa_pairs.jsonl'), 'utf8'),
    );
  });

  it('OpenAI: BATCH_MAX_REQUESTS splits a stage into several jobs, each saved and collected', async () => {
    const imitation = await start('openai');
    const [one, split] = await extractBatchTwice('BATCH_MAX_REQUESTS', '2');
    expect(imitation.count(isCreation)).toBe(1 + 3);
    expect(manifest(split, 'qa_pairs.jsonl').batch.jobs.map((j: { requests: number }) => j.requests)).toEqual([
      2, 2, 1,
    ]);
    expect(readFileSync(join(split, 'qa_pairs.jsonl'), 'utf8')).toBe(readFileSync(join(one, 'qa_pairs.jsonl'), 'utf8'));
  });

  it('a damaged batch state file stops the stage with one line naming it, before anything is submitted', async () => {
    const imitation = await start('openai');
    const dir = tempDir();
    expect(await stage.extract(dir)).toBe(0);
    const stateFile = join(dir, 'qa_pairs_validated.jsonl.batch.json');
    await import('node:fs').then((fs) =>
      fs.writeFileSync(stateFile, '{"version":1,"stage":"validate_qa","jobs":[{"id":3}]}'),
    );
    await expect(stage.validate(dir, ['--batch'])).rejects.toThrow(
      new RegExp(
        `^${stateFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: expected string, received number → at jobs\\.0\\.id`,
      ),
    );
    expect(imitation.count(isCreation)).toBe(0);
    expect(existsSync(join(dir, 'qa_pairs_validated.jsonl'))).toBe(false);
  });

  it('a bad BATCH_POLL_MS is named in a one-line error', async () => {
    await start('openai');
    const dir = tempDir();
    expect(await stage.extract(dir)).toBe(0);
    process.env.BATCH_POLL_MS = 'soon';
    await expect(stage.validate(dir, ['--batch'])).rejects.toThrow(
      'Expected BATCH_POLL_MS to be an integer ≥ 1, got soon',
    );
  });
});

describe('batch status line', () => {
  it('in a log: one line per change of state or counts, with the time waited', () => {
    const out: string[] = [];
    const line = new BatchStatusLine({ tty: false, intervalMs: 60_000, write: (t) => out.push(t) });
    line.update('batch round 1 · openai · 1 job · in_progress · 0/10 requests done');
    line.update('batch round 1 · openai · 1 job · in_progress · 0/10 requests done');
    line.update('batch round 1 · openai · 1 job · finalizing · 10/10 requests done');
    line.stop();
    expect(out).toEqual([
      'batch round 1 · openai · 1 job · in_progress · 0/10 requests done · waited 0s\n',
      'batch round 1 · openai · 1 job · finalizing · 10/10 requests done · waited 0s\n',
    ]);
  });

  it('on a terminal: redrawn in place and ended with a newline; --quiet shows nothing', () => {
    const out: string[] = [];
    const line = new BatchStatusLine({ tty: true, write: (t) => out.push(t) });
    line.update('batch resumed · gemini · 2 jobs · BATCH_STATE_RUNNING · 3/8 requests done');
    line.stop();
    expect(out).toEqual([
      '\r\x1b[2Kbatch resumed · gemini · 2 jobs · BATCH_STATE_RUNNING · 3/8 requests done · waited 0s',
      '\n',
    ]);
    const quiet: string[] = [];
    const silent = new BatchStatusLine({ quiet: true, tty: true, write: (t) => quiet.push(t) });
    silent.update('anything');
    silent.stop();
    expect(quiet).toEqual([]);
  });
});

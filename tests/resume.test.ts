// A stage killed with SIGKILL picks up where it stopped: no repeated call for a finished item, the same artifact.
// The killed runs are tsx children (the kill is the point); the reference runs and re-runs run in process.
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImitation, type Imitation, type RecordedRequest } from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import {
  lineCount,
  removeTempDirs,
  savedEntries,
  spawnStage,
  stageEnv,
  startDelayProxy,
  tempDir,
  waitFor,
  writeJudged,
  writeQaPairs,
  type DelayProxy,
} from './support/run_stage.js';

const SEED = 21;
const N = 30;
let imitation: Imitation;
let proxy: DelayProxy;
let reference: string;
const source = tempDir('resume-input');

beforeAll(async () => {
  imitation = await startImitation({ seed: SEED });
  // Slow enough to stop the stage part-way: 30 requests, 3 at a time, 120 ms each.
  proxy = await startDelayProxy(imitation.url, 120);
  writeQaPairs(join(source, 'pairs.jsonl'), 6);
  // The uninterrupted run every interrupted one must reproduce byte for byte.
  const dir = tempDir('resume-reference');
  const result = await runStageInProcess('3_generate_conversations.ts', [...args(dir), '--concurrency', '8'], {
    env: stageEnv(imitation),
    cwd: dir,
  });
  expect(result.code, result.stderr).toBe(0);
  reference = readFileSync(join(dir, 'raw.jsonl'), 'utf8');
  expect(reference.split('\n').filter(Boolean)).toHaveLength(N);
});

afterAll(async () => {
  await proxy?.close();
  await imitation?.close();
  removeTempDirs();
});

function args(dir: string): string[] {
  return [
    '--input',
    join(source, 'pairs.jsonl'),
    '--output',
    join(dir, 'raw.jsonl'),
    '--num-conversations',
    String(N),
    '--seed',
    String(SEED),
    '--quiet',
  ];
}

/** The prompt of a generate request: the item it is for. */
const promptOf = (r: RecordedRequest) => JSON.stringify(r.body?.contents);
const generateCalls = (from = 0, model = 'gemini-flash-latest') =>
  imitation.requests
    .slice(from)
    .filter((r) => r.method === 'POST' && r.path.includes(`/models/${model}:generateContent`));

describe('kill -9 in the middle of stage 3', () => {
  const dir = tempDir('resume');
  const checkpoint = join(dir, 'raw.jsonl.checkpoint.jsonl');
  let firstRun: RecordedRequest[];
  let saved: number;

  it('the killed run leaves finished items in the checkpoint and no artifact', async () => {
    const before = imitation.requests.length;
    const stage = spawnStage('3_generate_conversations.ts', [...args(dir), '--concurrency', '3'], {
      env: stageEnv(proxy),
      cwd: dir,
    });
    await waitFor(() => lineCount(checkpoint) >= 8, 20_000, '8 finished items');
    stage.child.kill('SIGKILL');
    const result = await stage.done;
    expect(result.signal).toBe('SIGKILL');
    saved = savedEntries(checkpoint);
    expect(saved).toBeGreaterThanOrEqual(8);
    expect(saved).toBeLessThan(N);
    expect(existsSync(join(dir, 'raw.jsonl'))).toBe(false);
    firstRun = generateCalls(before);
    // What a kill in the middle of an append leaves: half a line, no newline. It must cost that item only.
    appendFileSync(checkpoint, '{"key":"0123456789abcdef","id":"conversation-');
  });

  it('the re-run asks only for the unfinished items and writes the same artifact as an uninterrupted run', async () => {
    const before = imitation.requests.length;
    const result = await runStageInProcess('3_generate_conversations.ts', [...args(dir), '--concurrency', '3'], {
      env: stageEnv(imitation),
      cwd: dir,
    });
    expect(result.code, result.stderr).toBe(0);
    const second = generateCalls(before);
    // Only items not in the checkpoint are asked for: exactly N minus the saved ones.
    expect(second).toHaveLength(N - saved);
    // A prompt asked twice over both runs can only be one that was in flight when the kill came (3 at a time).
    const answered = new Set(firstRun.filter((r) => r.status === 200).map(promptOf));
    const repeated = second.filter((r) => answered.has(promptOf(r)));
    expect(repeated.length).toBeLessThanOrEqual(3);
    expect(new Set([...firstRun, ...second].map(promptOf)).size).toBe(N);
    expect(result.stdout).toMatch(new RegExp(`reused ${saved}\\b`));
    expect(readFileSync(join(dir, 'raw.jsonl'), 'utf8')).toBe(reference);
  });

  it('a third run makes no call at all; --fresh starts over', async () => {
    let before = imitation.requests.length;
    const again = await runStageInProcess('3_generate_conversations.ts', args(dir), {
      env: stageEnv(imitation),
      cwd: dir,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(generateCalls(before)).toHaveLength(0);
    expect(readFileSync(join(dir, 'raw.jsonl'), 'utf8')).toBe(reference);

    before = imitation.requests.length;
    const fresh = await runStageInProcess('3_generate_conversations.ts', [...args(dir), '--fresh'], {
      env: stageEnv(imitation),
      cwd: dir,
    });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(generateCalls(before)).toHaveLength(N);
    expect(fresh.stdout).toMatch(/reused 0\b/);
    expect(readFileSync(join(dir, 'raw.jsonl'), 'utf8')).toBe(reference);
  });

  it('another --model re-does every item', async () => {
    const before = imitation.requests.length;
    const other = await runStageInProcess(
      '3_generate_conversations.ts',
      [...args(dir), '--model', 'gemini-3.1-flash-lite'],
      { env: stageEnv(imitation), cwd: dir },
    );
    expect(other.code, other.stderr).toBe(0);
    expect(generateCalls(before, 'gemini-3.1-flash-lite')).toHaveLength(N);
    expect(other.stdout).toMatch(/reused 0\b/);
  });
});

describe('kill -9 in the middle of stage 5, which streams its artifact', () => {
  it('leaves no temporary file behind after the re-run, and the same artifact as an uninterrupted run', async () => {
    const input = tempDir('resume-embed-input');
    writeJudged(join(input, 'judged.jsonl'), 24);
    const env = stageEnv(imitation);
    const embedArgs = (dir: string) => [
      '--input',
      join(input, 'judged.jsonl'),
      '--output',
      join(dir, 'embedded.jsonl'),
      '--batch-size',
      '2',
      '--concurrency',
      '2',
      '--quiet',
    ];

    const straight = tempDir('resume-embed-reference');
    expect(
      (await runStageInProcess('5_embed_conversations.ts', embedArgs(straight), { env, cwd: straight })).code,
    ).toBe(0);

    const dir = tempDir('resume-embed');
    const stage = spawnStage('5_embed_conversations.ts', embedArgs(dir), { env: stageEnv(proxy), cwd: dir });
    await waitFor(() => lineCount(join(dir, 'embedded.jsonl.checkpoint.jsonl')) >= 4, 20_000, '4 finished batches');
    stage.child.kill('SIGKILL');
    await stage.done;
    // The killed writer's temporary file is still there: the re-run must clear it.
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(true);
    const before = imitation.requests.length;
    const saved = savedEntries(join(dir, 'embedded.jsonl.checkpoint.jsonl'));
    const result = await runStageInProcess('5_embed_conversations.ts', embedArgs(dir), { env, cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(imitation.count((r) => r.path === '/v1/embeddings' && imitation.requests.indexOf(r) >= before)).toBe(
      12 - saved,
    );
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readFileSync(join(dir, 'embedded.jsonl'), 'utf8')).toBe(
      readFileSync(join(straight, 'embedded.jsonl'), 'utf8'),
    );
  });
});

describe('stage 5 keeps its vectors compactly in the checkpoint', () => {
  const input = tempDir('embed-codec-input');
  writeJudged(join(input, 'judged.jsonl'), 12);
  const embedArgs = (dir: string, provider: string) => [
    '--input',
    join(input, 'judged.jsonl'),
    '--output',
    join(dir, 'embedded.jsonl'),
    '--batch-size',
    '4',
    '--provider',
    provider,
    '--quiet',
  ];
  const entries = (dir: string) =>
    readFileSync(join(dir, 'embedded.jsonl.checkpoint.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));

  for (const provider of ['openai', 'gemini']) {
    it(`${provider}: base64 float32 in the checkpoint, and a resumed run writes exactly what the fresh one wrote`, async () => {
      const dir = tempDir(`embed-codec-${provider}`);
      const env = stageEnv(imitation);
      expect(
        (await runStageInProcess('5_embed_conversations.ts', embedArgs(dir, provider), { env, cwd: dir })).code,
      ).toBe(0);
      const fresh = readFileSync(join(dir, 'embedded.jsonl'), 'utf8');
      const saved = entries(dir);
      expect(saved).toHaveLength(3);
      for (const e of saved) expect(e.result).toMatchObject({ encoding: 'float32_base64', count: 4, dimensions: 1024 });
      const before = imitation.requests.length;
      const again = await runStageInProcess('5_embed_conversations.ts', embedArgs(dir, provider), { env, cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      expect(imitation.requests.length).toBe(before);
      // Gemini's vectors come as decimals: without rounding them to float32 up front the reused ones would differ.
      expect(readFileSync(join(dir, 'embedded.jsonl'), 'utf8')).toBe(fresh);
    });
  }

  it('a checkpoint written before (vectors as JSON arrays) is still reused, with the same artifact', async () => {
    const dir = tempDir('embed-codec-old');
    const env = stageEnv(imitation);
    expect(
      (await runStageInProcess('5_embed_conversations.ts', embedArgs(dir, 'openai'), { env, cwd: dir })).code,
    ).toBe(0);
    const fresh = readFileSync(join(dir, 'embedded.jsonl'), 'utf8');
    const { EMBEDDINGS_CODEC } = await import('../src/io/embedding_codec.js');
    const old = `${entries(dir)
      .map((e) => JSON.stringify({ ...e, result: EMBEDDINGS_CODEC.decode(e.result) }))
      .join('\n')}\n`;
    writeFileSync(join(dir, 'embedded.jsonl.checkpoint.jsonl'), old);
    const before = imitation.requests.length;
    const again = await runStageInProcess('5_embed_conversations.ts', embedArgs(dir, 'openai'), { env, cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/reused 12\b/);
    expect(imitation.requests.length).toBe(before);
    expect(readFileSync(join(dir, 'embedded.jsonl'), 'utf8')).toBe(fresh);
  });
});

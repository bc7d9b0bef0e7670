// Stages 2, 3 and 4 build each call's request when it is sent, not all before the first call (issue 15: at 100,000
// conversations the prompts held up front were most of the stages' memory), with the resume keys unchanged.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FLAGS as VALIDATE_FLAGS, validateQa } from '../2_validate_qa.js';
import { FLAGS as GENERATE_FLAGS, generateConversations } from '../3_generate_conversations.js';
import { FLAGS as JUDGE_FLAGS, judgeConversations } from '../4_judge_and_save.js';
import { parseFlags } from '../src/cli.js';
import { checkpointPath } from '../src/io/sidecars.js';
import { requestKey } from '../src/llm/structured.js';
import type { ChatRequest } from '../src/llm/types.js';
import { structuredCall } from '../src/stage/llm_stage.js';
import { RecordingChatModel, schemaAnswer } from './support/recording_model.js';
import { setEnv } from './support/run_stages.js';
import { readRows, removeTempDirs, tempDir, writeQaPairs } from './support/run_stage.js';

// The stages build their requests with structuredCall: wrapping it lets the test see each request as it is built.
vi.mock('../src/stage/llm_stage.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/stage/llm_stage.js')>();
  return { ...actual, structuredCall: vi.fn(actual.structuredCall) };
});

afterAll(removeTempDirs);
beforeEach(() => {
  // No key and no base URL: a request that went past the fake to a provider would fail the test.
  setEnv({});
  vi.mocked(structuredCall).mockClear();
});

/** Every request structuredCall has built since the test began, oldest first. */
const built = (): ChatRequest[] =>
  vi.mocked(structuredCall).mock.results.map((r) => (r.value as { request: ChatRequest }).request);

const flagsOf = <S extends Parameters<typeof parseFlags>[1]>(specs: S, args: string[]) =>
  parseFlags([...args, '--quiet', '--concurrency', '1'], specs, '')!;

/** A model that records, for each request it is sent, whether that request was the last one built. */
function latestBuiltModel(latest: boolean[]): RecordingChatModel {
  return new RecordingChatModel({
    answer: (request) => {
      latest.push(built().at(-1) === request);
      return schemaAnswer('gemini', request);
    },
  });
}

/** The checkpoint's saved keys by item id. */
function savedKeys(artifact: string): Map<string, string> {
  const lines = readFileSync(checkpointPath(artifact), 'utf8').split('\n').filter(Boolean);
  return new Map(lines.map((l) => JSON.parse(l) as { key: string; id: string }).map((e) => [e.id, e.key]));
}

function paths(dir: string) {
  return {
    pairs: join(dir, 'pairs.jsonl'),
    raw: join(dir, 'raw.jsonl'),
    judged: join(dir, 'judged.jsonl'),
    final: join(dir, 'final.jsonl'),
  };
}

const generateArgs = (p: ReturnType<typeof paths>) => [
  '--input',
  p.pairs,
  '--output',
  p.raw,
  '--num-conversations',
  '5',
];
const judgeArgs = (p: ReturnType<typeof paths>) => ['--input', p.raw, '--output', p.judged, '--final', p.final];

describe('stages 3 and 4 build each request when it is sent', () => {
  it('each request reaches the model as the latest one built: none was built ahead and held', async () => {
    const p = paths(tempDir('lazy-calls'));
    writeQaPairs(p.pairs, 5);
    // Concurrency 1: had the requests been built before the first call, the first sent would not be the latest.
    const latest: boolean[] = [];
    expect(await generateConversations(flagsOf(GENERATE_FLAGS, generateArgs(p)), latestBuiltModel(latest))).toBe(0);
    expect(latest).toEqual([true, true, true, true, true]);

    latest.length = 0;
    expect(await judgeConversations(flagsOf(JUDGE_FLAGS, judgeArgs(p)), latestBuiltModel(latest))).toBe(0);
    expect(latest).toEqual([true, true, true, true, true]);
    expect(readRows(p.judged)).toHaveLength(5);
  });

  it('each request sent hashes to the key saved for its item, and a second run reuses them all: no request', async () => {
    const p = paths(tempDir('lazy-calls-resume'));
    writeQaPairs(p.pairs, 5);
    for (const [run, artifact] of [
      [(m: RecordingChatModel) => generateConversations(flagsOf(GENERATE_FLAGS, generateArgs(p)), m), p.raw],
      [(m: RecordingChatModel) => judgeConversations(flagsOf(JUDGE_FLAGS, judgeArgs(p)), m), p.judged],
    ] as const) {
      const first = new RecordingChatModel();
      expect(await run(first)).toBe(0);
      const keys = savedKeys(artifact);
      expect(keys.size).toBe(5);
      const sentKeys = first.requests.map((r) => requestKey('gemini', r));
      expect(new Set(sentKeys)).toEqual(new Set(keys.values()));
      const rows = readFileSync(artifact, 'utf8');

      const second = new RecordingChatModel();
      expect(await run(second)).toBe(0);
      expect(second.requests).toHaveLength(0);
      expect(readFileSync(artifact, 'utf8')).toBe(rows);
    }
  });

  it('stage 2 too: each request is the latest built, and a second run asks nothing', async () => {
    const dir = tempDir('lazy-calls-2');
    writeQaPairs(join(dir, 'qa.jsonl'), 4);
    const flags = flagsOf(VALIDATE_FLAGS, ['--input', join(dir, 'qa.jsonl'), '--output', join(dir, 'validated.jsonl')]);
    const latest: boolean[] = [];
    expect(await validateQa(flags, latestBuiltModel(latest))).toBe(0);
    expect(latest).toEqual([true, true, true, true]);
    const second = new RecordingChatModel();
    expect(await validateQa(flags, second)).toBe(0);
    expect(second.requests).toHaveLength(0);
  });
});

import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FLAGS as EXTRACT_FLAGS, extractQa } from '../1_extract_qa.js';
import { FLAGS, validateQa } from '../2_validate_qa.js';
import { FLAGS as GENERATE_FLAGS, generateConversations } from '../3_generate_conversations.js';
import { FLAGS as JUDGE_FLAGS, judgeConversations } from '../4_judge_and_save.js';
import { CONVERSATION_SCHEMA_NAME } from '../src/prompts/conversation_generator.js';
import { JUDGMENT_SCHEMA_NAME } from '../src/prompts/conversation_judge.js';
import { QA_BATCH_SCHEMA_NAME } from '../src/prompts/qa_extractor.js';
import { passedPath } from '../src/io/sidecars.js';
import { QA_VALIDATION_SCHEMA_NAME } from '../src/prompts/qa_validator.js';
import { parseFlags } from '../src/cli.js';
import { STAGES } from '../src/config.js';
import { RecordingChatModel, schemaAnswer } from './support/recording_model.js';
import { setEnv } from './support/run_stages.js';
import { readRows, removeTempDirs, tempDir, writeQaPairs } from './support/run_stage.js';

afterAll(removeTempDirs);
beforeEach(() => {
  // No key and no base URL: a request that went past the fake to a provider would fail the test.
  setEnv({});
});

const pass = { uses_source_fact: true, realistic_question: true, sensible_answer: true, feedback: 'fine' };

async function validate(dir: string, model: RecordingChatModel, pairs: number): Promise<number> {
  writeQaPairs(join(dir, 'qa.jsonl'), pairs);
  const flags = parseFlags(
    ['--input', join(dir, 'qa.jsonl'), '--output', join(dir, 'validated.jsonl'), '--quiet', '--concurrency', '1'],
    FLAGS,
    '',
  )!;
  return validateQa(flags, model);
}

describe('stage 2 against a recording model', () => {
  it('sends one request per pair: its question and answer in the prompt, one shared system prompt, the stage settings', async () => {
    const dir = tempDir('recording');
    const model = new RecordingChatModel({ answer: () => pass });
    expect(await validate(dir, model, 4)).toBe(0);
    const pairs = readRows<{ question: string; answer: string }>(join(dir, 'qa.jsonl'));
    expect(model.requests).toHaveLength(4);
    for (const pair of pairs) {
      const sent = model.requests.filter((r) => r.prompt.includes(`Question: ${pair.question}`));
      expect(sent, pair.question).toHaveLength(1);
      expect(sent[0]!.prompt).toContain(`Answer: ${pair.answer}`);
    }
    // The rules go in one system prompt shared by every request: what implicit prompt caching needs.
    expect(new Set(model.requests.map((r) => r.system)).size).toBe(1);
    expect(model.requests[0]!.system).toBeTruthy();
    for (const request of model.requests) {
      expect(request).toMatchObject({
        model: STAGES.validate.model,
        schemaName: QA_VALIDATION_SCHEMA_NAME,
        temperature: 0,
      });
      expect(request.schema.safeParse(pass).success).toBe(true);
    }
  });

  it('computes passed itself and asks again, saying why, when an answer is not JSON', async () => {
    const dir = tempDir('recording');
    const model = new RecordingChatModel({
      answer: (request, index) => {
        if (index === 0) return 'Sure! Here is my verdict: yes';
        // The model says the "duties" pair is not grounded; `passed` must follow from that, not from the model.
        return request.prompt.includes('duties') ? { ...pass, uses_source_fact: false, passed: true } : pass;
      },
    });
    expect(await validate(dir, model, 3)).toBe(0);
    expect(model.requests).toHaveLength(4);
    const retry = model.requests[1]!;
    expect(retry.prompt.startsWith(model.requests[0]!.prompt)).toBe(true);
    expect(retry.prompt).toMatch(/YOUR PREVIOUS ANSWER WAS REJECTED: the answer was not valid JSON/);
    const passed = readRows<{ question: string }>(passedPath(join(dir, 'validated.jsonl')));
    expect(passed.map((p) => p.question)).toEqual([
      expect.stringContaining('returns'),
      expect.stringContaining('shipping labels'),
    ]);
    const validated = readRows<{ validation: { passed: boolean } }>(join(dir, 'validated.jsonl'));
    expect(validated.map((v) => v.validation.passed)).toEqual([true, false, true]);
  });
});

const flagsOf = <S extends Parameters<typeof parseFlags>[1]>(specs: S, args: string[], concurrency = 2) =>
  parseFlags([...args, '--quiet', '--concurrency', String(concurrency)], specs, '')!;

describe('stages 1, 3 and 4 against a recording model', () => {
  it('stage 1 asks once per chunk, with the chunk in the prompt; every pair is grounded in the chunk it came from', async () => {
    const dir = tempDir('recording-1');
    const model = new RecordingChatModel();
    const output = join(dir, 'qa.jsonl');
    const flags = flagsOf(EXTRACT_FLAGS, ['--facts', 'data/swap_facts.md', '--limit', '3', '--output', output]);
    expect(await extractQa(flags, model)).toBe(0);
    expect(model.requests).toHaveLength(3);
    for (const request of model.requests)
      expect(request).toMatchObject({ model: STAGES.extract.model, schemaName: QA_BATCH_SCHEMA_NAME });
    const pairs = readRows<{ source_text: string }>(output);
    expect(pairs.length).toBe(9);
    // A chunk's text may stand in its neighbours' context too; as the main text, in exactly one request.
    for (const pair of pairs)
      expect(
        model.requests.filter((r) => r.prompt.includes(`Source text:\n${pair.source_text}\n\nCONTEXT AFTER:`)),
      ).toHaveLength(1);
  });

  it('stage 3 asks once per conversation with its pairs in the prompt; stage 4 once per conversation with its turns', async () => {
    const dir = tempDir('recording-34');
    writeQaPairs(join(dir, 'pairs.jsonl'), 6);
    const raw = join(dir, 'raw.jsonl');
    const writer = new RecordingChatModel();
    const generate = flagsOf(GENERATE_FLAGS, [
      '--input',
      join(dir, 'pairs.jsonl'),
      '--output',
      raw,
      '--num-conversations',
      '4',
    ]);
    expect(await generateConversations(generate, writer)).toBe(0);
    expect(writer.requests).toHaveLength(4);
    const questions = readRows<{ question: string }>(join(dir, 'pairs.jsonl')).map((p) => p.question);
    for (const request of writer.requests) {
      expect(request).toMatchObject({ model: STAGES.generate.model, schemaName: CONVERSATION_SCHEMA_NAME });
      expect(questions.some((q) => request.prompt.includes(q))).toBe(true);
    }
    const conversations = readRows<{ messages: Array<{ role: string; content: string }> }>(raw);
    expect(conversations).toHaveLength(4);

    const judge = new RecordingChatModel();
    const judgeFlags = flagsOf(JUDGE_FLAGS, [
      '--input',
      raw,
      '--output',
      join(dir, 'judged.jsonl'),
      '--final',
      join(dir, 'final.jsonl'),
    ]);
    expect(await judgeConversations(judgeFlags, judge)).toBe(0);
    expect(judge.requests).toHaveLength(4);
    for (const conversation of conversations) {
      const user = conversation.messages.find((m) => m.role === 'user')!.content;
      expect(judge.requests.filter((r) => r.prompt.includes(user))).toHaveLength(1);
    }
    for (const request of judge.requests)
      expect(request).toMatchObject({ model: STAGES.judge.model, schemaName: JUDGMENT_SCHEMA_NAME });
    expect(readRows(join(dir, 'judged.jsonl'))).toHaveLength(4);
  });
});

/** Lines in the artifact's temporary file (`<file>.<pid>.tmp`, src/io/jsonl.ts) so far; 0 while it does not exist. */
function linesWritten(file: string): number {
  const tmp = `${file}.${process.pid}.tmp`;
  return existsSync(tmp) ? readFileSync(tmp, 'utf8').split('\n').length - 1 : 0;
}

/** Waits (up to 3 s) for `n` lines in the artifact's temporary file: true once they are there. */
async function awaitLines(file: string, n: number): Promise<boolean> {
  for (const end = Date.now() + 3000; Date.now() < end; await new Promise((r) => setTimeout(r, 10)))
    if (linesWritten(file) >= n) return true;
  return false;
}

/** A model whose 4th answer first waits for the first three rows in `file`, and records whether they came. */
function fourthWaitsForRows(file: string, seen: boolean[]): RecordingChatModel {
  return new RecordingChatModel({
    answer: async (request, index) => {
      if (index === 3) seen.push(await awaitLines(file, 3));
      return schemaAnswer('gemini', request);
    },
  });
}

describe('stages 3 and 4 write each answer as it comes', () => {
  // Held until the end, 100k conversations and their answers cost gigabytes (BENCHMARKS.md, the 100k table).
  it('the rows of earlier answers are in the file while the last request is still unanswered, in call order', async () => {
    const dir = tempDir('recording-stream');
    writeQaPairs(join(dir, 'pairs.jsonl'), 6);
    const raw = join(dir, 'raw.jsonl');
    const seen: boolean[] = [];
    // Concurrency 1: one request at a time, so the 4th is sent only after the first three are answered.
    const writer = fourthWaitsForRows(raw, seen);
    const generate = flagsOf(
      GENERATE_FLAGS,
      ['--input', join(dir, 'pairs.jsonl'), '--output', raw, '--num-conversations', '4'],
      1,
    );
    expect(await generateConversations(generate, writer)).toBe(0);
    expect(seen).toEqual([true]);
    expect(readRows(raw)).toHaveLength(4);

    const judged = join(dir, 'judged.jsonl');
    const judge = fourthWaitsForRows(judged, seen);
    const judgeFlags = flagsOf(
      JUDGE_FLAGS,
      ['--input', raw, '--output', judged, '--final', join(dir, 'final.jsonl')],
      1,
    );
    expect(await judgeConversations(judgeFlags, judge)).toBe(0);
    expect(seen).toEqual([true, true]);
    // In call order: the nth judged row is the nth conversation.
    expect(readRows<{ conversation: unknown }>(judged).map((r) => r.conversation)).toEqual(readRows(raw));
  });
});

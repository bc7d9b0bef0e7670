// The keys a run used appear in none of its files or output, even when the provider's errors echo them back.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Imitation, ScriptedFault } from './support/imitation_server.js';
import { keyedRun } from './support/keyed_run.js';
import { filesUnder, imitationPerFile, writeFacts } from './support/run_stage.js';

const GOOGLE_KEY = 'test-key-SECRET-1234-google-q8Zr';
const OPENAI_KEY = 'test-key-SECRET-5678-openai-W3xk';
const SECRETS = [GOOGLE_KEY, OPENAI_KEY, 'SECRET-1234', 'SECRET-5678'];

const geminiError = (status: number, message: string): ScriptedFault => ({
  status,
  body: { error: { code: status, message, status: status === 400 ? 'INVALID_ARGUMENT' : 'INTERNAL' } },
});
const openaiError = (status: number, message: string): ScriptedFault => ({
  status,
  body: { error: { message, type: 'server_error', param: null, code: null } },
});

let imitation: Imitation;
imitationPerFile({ seed: 9, keys: { gemini: GOOGLE_KEY, openai: OPENAI_KEY } }, (started) => (imitation = started));
const run = keyedRun('secrets', () => imitation, { GOOGLE_API_KEY: GOOGLE_KEY, OPENAI_API_KEY: OPENAI_KEY });
const { dir, outputs, out } = run;

beforeAll(async () => {
  const stage = (script: string, args: string[], faults: ScriptedFault[], extra?: Record<string, string>) => {
    imitation.setFaults({ script: faults });
    return run.stage(script, args, extra);
  };
  writeFacts(out('facts.md'), 6);

  // Retried errors whose bodies quote the key, the way some proxies and SDK errors echo request details.
  await stage(
    '1_extract_qa.ts',
    ['--facts', out('facts.md'), '--output', out('qa.jsonl')],
    [
      geminiError(500, `backend failure for request with key=${GOOGLE_KEY}`),
      geminiError(503, `x-goog-api-key: ${GOOGLE_KEY} is overloaded`),
    ],
  );
  // A permanent failure (one attempt allowed) goes to the errors file with the key in its message.
  await stage(
    '2_validate_qa.ts',
    ['--input', out('qa.jsonl'), '--output', out('validated.jsonl')],
    [geminiError(500, `quota project for ${GOOGLE_KEY} unavailable`)],
    { LLM_MAX_ATTEMPTS: '1' },
  );
  await stage(
    '3_generate_conversations.ts',
    [
      '--input',
      out('validated_passed.jsonl'),
      '--output',
      out('raw.jsonl'),
      '--num-conversations',
      '12',
      '--provider',
      'openai',
    ],
    [openaiError(503, `upstream rejected api_key=${OPENAI_KEY}`)],
  );
  // A fatal error quoting the key, with DEBUG=1 so the stack is printed too; then the stage is run again.
  await stage(
    '4_judge_and_save.ts',
    ['--input', out('raw.jsonl'), '--output', out('judged.jsonl'), '--final', out('final4.jsonl')],
    [geminiError(400, `API key ${GOOGLE_KEY} is not allowed for this model`)],
    { DEBUG: '1' },
  );
  await stage(
    '4_judge_and_save.ts',
    ['--input', out('raw.jsonl'), '--output', out('judged.jsonl'), '--final', out('final4.jsonl')],
    [],
  );
  await stage(
    '5_embed_conversations.ts',
    ['--input', out('judged.jsonl'), '--output', out('embedded.jsonl'), '--batch-size', '4'],
    [openaiError(500, `Bearer ${OPENAI_KEY} failed upstream`)],
    { LLM_MAX_ATTEMPTS: '1' },
  );
  await stage('6_deduplicate.ts', ['--input', out('embedded.jsonl'), '--output', out('deduplicated.jsonl')], []);
  await stage('7_select_top.ts', ['--input', out('deduplicated.jsonl'), '--output', out('final.jsonl')], []);
});

describe('a trial-sized run whose provider errors echo the API keys', () => {
  it('really used the keys, and the errors really quoted them', () => {
    expect(imitation.requests.some((r) => r.headers['x-goog-api-key'] === GOOGLE_KEY)).toBe(true);
    expect(imitation.requests.some((r) => r.headers.authorization === `Bearer ${OPENAI_KEY}`)).toBe(true);
    // The scripted faults were served: a failed item in stage 2 and 5, a fatal stop in stage 4.
    expect(outputs.map((o) => o.code)).toEqual([0, 1, 0, 1, 0, 1, 0, 0]);
    const written =
      filesUnder(dir)
        .map((f) => readFileSync(f, 'utf8'))
        .join('\n') + outputs.map((o) => o.stdout + o.stderr).join('\n');
    expect(written).toContain('[redacted]');
  });

  it('no file the run wrote contains a key: artifacts, checkpoints, errors files, manifests', () => {
    const files = filesUnder(dir);
    expect(files.some((f) => f.endsWith('.checkpoint.jsonl'))).toBe(true);
    expect(files.some((f) => f.endsWith('.errors.jsonl'))).toBe(true);
    expect(files.some((f) => f.endsWith('.meta.json'))).toBe(true);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const secret of SECRETS) expect(text.includes(secret), `${file} contains ${secret}`).toBe(false);
    }
  });

  it("no stage's stdout or stderr contains a key", () => {
    outputs.forEach((o, i) => {
      for (const secret of SECRETS) {
        expect(o.stdout.includes(secret), `stdout of run ${i + 1}`).toBe(false);
        expect(o.stderr.includes(secret), `stderr of run ${i + 1}`).toBe(false);
      }
    });
  });
});

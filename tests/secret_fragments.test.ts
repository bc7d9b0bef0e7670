// Any 12 characters of a key in a row count as the key: redacted in answers, inputs, errors, logs and manifests.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { redact, redactSecrets } from '../src/secrets.js';
import { defaultAnswer } from './support/fake_answers.js';
import type { Imitation } from './support/imitation_server.js';
import { keyedRun } from './support/keyed_run.js';
import { filesUnder, imitationPerFile, writeFacts } from './support/run_stage.js';

// The length the issue asks to redact from; spelled out, not imported, so the test holds the code to it.
const FRAGMENT_CHARS = 12;
const GOOGLE_KEY = 'AIzaSyQ4-fragment-test-Zk81Lw0pRt5Xc';
const OPENAI_KEY = 'sk-proj-Fr4gm3nt-T3st-9vQpLm2Wx7KbNc';

/** The first 12-character run of `key` that `text` holds, if any. */
function leakedFragment(text: string, key: string): string | undefined {
  for (let i = 0; i + FRAGMENT_CHARS <= key.length; i++)
    if (text.includes(key.slice(i, i + FRAGMENT_CHARS))) return key.slice(i, i + FRAGMENT_CHARS);
  return undefined;
}

describe('redact', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('removes the key whole, without its first 3 characters, and any 12 of its characters in a row', () => {
    vi.stubEnv('OPENAI_API_KEY', OPENAI_KEY);
    for (const text of [
      `key ${OPENAI_KEY}.`,
      `echo: ${OPENAI_KEY.slice(3)}`,
      `x${OPENAI_KEY.slice(7, 19)}y`,
      `${OPENAI_KEY.slice(0, 14)} then ${OPENAI_KEY.slice(-13)}`,
    ]) {
      const out = redactSecrets(text);
      expect(leakedFragment(out, OPENAI_KEY), out).toBeUndefined();
      expect(out).toContain('[redacted]');
    }
    expect(redactSecrets(`x${OPENAI_KEY.slice(7, 18)}y`)).toBe(`x${OPENAI_KEY.slice(7, 18)}y`);
    expect(redactSecrets('an answer with no key in it')).toBe('an answer with no key in it');
  });

  it('finds a 12-character fragment wherever it starts, in the key and in the text', () => {
    vi.stubEnv('OPENAI_API_KEY', OPENAI_KEY);
    for (let pad = 0; pad < 12; pad++)
      for (let start = 0; start + 12 <= OPENAI_KEY.length; start++) {
        const text = `${'·'.repeat(pad)}${OPENAI_KEY.slice(start, start + 12)}·`;
        expect(redactSecrets(text), `pad ${pad}, start ${start}`).toBe(`${'·'.repeat(pad)}[redacted]·`);
      }
  });

  it('finds every configured key, HF_TOKEN included, and leaves the rest of the text as it was', () => {
    vi.stubEnv('GOOGLE_API_KEY', GOOGLE_KEY);
    vi.stubEnv('HF_TOKEN', 'hf_QpLm2Wx7KbNcFr4gm3ntT3st');
    expect(redact(`a ${GOOGLE_KEY.slice(5)} b hf_QpLm2Wx7KbNcFr4 c`)).toBe('a [redacted] b [redacted] c');
  });

  it('reads a long text once: 20 MB with one fragment at the end', () => {
    vi.stubEnv('OPENAI_API_KEY', OPENAI_KEY);
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(450_000) + OPENAI_KEY.slice(3);
    const out = redactSecrets(text);
    expect(out.endsWith('dog. [redacted]')).toBe(true);
    expect(out.length).toBe(text.length - OPENAI_KEY.length + 3 + '[redacted]'.length);
  });
});

describe('stages whose server echoes a key in part and whose model quotes one', () => {
  let imitation: Imitation;
  imitationPerFile(
    {
      seed: 4,
      keys: { gemini: GOOGLE_KEY, openai: OPENAI_KEY },
      // Every answer quotes the key in its first text field: an answer, a conversation turn.
      respond: (call) => {
        if (call.schemaName === undefined) return undefined;
        const text = JSON.stringify(defaultAnswer(call, true, 4));
        return JSON.parse(
          text.replace(
            /"(answer|content)":"/,
            `"$1":"my key is ${call.provider === 'gemini' ? GOOGLE_KEY : OPENAI_KEY} `,
          ),
        );
      },
    },
    (started) => (imitation = started),
  );
  const run = keyedRun('fragments', () => imitation, { GOOGLE_API_KEY: GOOGLE_KEY, OPENAI_API_KEY: OPENAI_KEY });
  const { dir, outputs, out } = run;

  beforeAll(async () => {
    writeFacts(out('facts.md'), 3);
    // A facts file that holds the key as well (pasted by mistake): its text reaches the artifact as source_text.
    appendFileSync(
      out('facts.md'),
      `\n- The integration uses the token ${GOOGLE_KEY.slice(2)} for every call to the carrier.\n`,
    );
    await run.stage('1_extract_qa.ts', ['--facts', out('facts.md'), '--output', out('qa.jsonl')]);
    // The server's error quotes the key without its first 3 characters; one attempt, so it is recorded.
    imitation.setFaults({
      script: [
        {
          status: 500,
          body: {
            error: {
              code: 500,
              message: `backend failure for credential ...${GOOGLE_KEY.slice(3)}`,
              status: 'INTERNAL',
            },
          },
        },
      ],
    });
    await run.stage(
      '2_validate_qa.ts',
      ['--input', out('qa.jsonl'), '--output', out('validated.jsonl'), '--concurrency', '1'],
      { LLM_MAX_ATTEMPTS: '1' },
    );
    imitation.setFaults({});
    await run.stage('3_generate_conversations.ts', [
      '--input',
      out('validated_passed.jsonl'),
      '--output',
      out('raw.jsonl'),
      '--num-conversations',
      '4',
      '--provider',
      'openai',
    ]);
  });

  it('ran as planned: the answers and the error really held the keys', () => {
    expect(outputs.map((o) => o.code)).toEqual([0, 1, 0]);
    expect(imitation.requests.some((r) => r.status === 500)).toBe(true);
    const errors = readFileSync(join(dir, 'validated.errors.jsonl'), 'utf8');
    expect(errors).toContain('backend failure for credential ...[redacted]');
    expect(readFileSync(join(dir, 'raw.jsonl'), 'utf8')).toContain('my key is [redacted]');
    // Stage 3 prints a sample conversation: the redacted turn is in it.
    expect(outputs[2]!.stdout).toContain('my key is [redacted]');
  });

  it('no file under the output folder and no stdout or stderr holds 12 characters of either key in a row', () => {
    const files = filesUnder(dir);
    expect(files.some((f) => f.endsWith('.checkpoint.jsonl'))).toBe(true);
    expect(files.some((f) => f.endsWith('.meta.json'))).toBe(true);
    const texts = [
      ...files.filter((f) => !f.endsWith('facts.md')).map((f) => [f, readFileSync(f, 'utf8')]),
      ...outputs.flatMap((o, i) => [
        [`stdout ${i + 1}`, o.stdout],
        [`stderr ${i + 1}`, o.stderr],
      ]),
    ];
    for (const [name, text] of texts)
      for (const key of [GOOGLE_KEY, OPENAI_KEY]) expect(leakedFragment(text!, key), name).toBeUndefined();
  });
});

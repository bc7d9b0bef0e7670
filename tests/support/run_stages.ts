// Runs stage scripts in-process against a directory of artifacts, with flags spelled as on the command line.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAGS as EXTRACT_FLAGS, extractQa } from '../../1_extract_qa.js';
import { FLAGS as VALIDATE_FLAGS, validateQa } from '../../2_validate_qa.js';
import { FLAGS as GENERATE_FLAGS, generateConversations } from '../../3_generate_conversations.js';
import { FLAGS as JUDGE_FLAGS, judgeConversations } from '../../4_judge_and_save.js';
import { FLAGS as EMBED_FLAGS, embedConversations } from '../../5_embed_conversations.js';
import { FLAGS as SELECT_FLAGS, selectTop } from '../../7_select_top.js';
import { parseFlags, type FlagSpecs, type Flags } from '../../src/cli.js';
import { vi } from 'vitest';

export const ARTIFACTS = [
  'qa_pairs.jsonl',
  'qa_pairs_validated.jsonl',
  'qa_pairs_validated_passed.jsonl',
  'conversations_raw.jsonl',
  'conversations_judged.jsonl',
  'conversations_final.jsonl',
];

function flags<S extends FlagSpecs>(specs: S, argv: string[]): Flags<S> {
  return parseFlags(argv, specs, '')!;
}

/** Stage 7 in process with its command-line `args` and its printing silenced; resolves to the exit code. */
export async function selectQuietly(args: string[]): Promise<number> {
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await selectTop(flags(SELECT_FLAGS, args));
  } finally {
    spy.mockRestore();
  }
}

/** Each stage reads the previous one's artifact in `dir`; `extra` is appended to every stage's flags. */
export const stage = {
  extract: (dir: string, extra: string[] = []) =>
    extractQa(
      flags(EXTRACT_FLAGS, [
        '--facts',
        'data/swap_facts.md',
        '--limit',
        '5',
        '--output',
        join(dir, 'qa_pairs.jsonl'),
        '--quiet',
        ...extra,
      ]),
    ),
  validate: (dir: string, extra: string[] = []) =>
    validateQa(
      flags(VALIDATE_FLAGS, [
        '--input',
        join(dir, 'qa_pairs.jsonl'),
        '--output',
        join(dir, 'qa_pairs_validated.jsonl'),
        '--quiet',
        ...extra,
      ]),
    ),
  generate: (dir: string, extra: string[] = []) =>
    generateConversations(
      flags(GENERATE_FLAGS, [
        '--input',
        join(dir, 'qa_pairs_validated_passed.jsonl'),
        '--output',
        join(dir, 'conversations_raw.jsonl'),
        '--num-conversations',
        '8',
        '--quiet',
        ...extra,
      ]),
    ),
  judge: (dir: string, extra: string[] = []) =>
    judgeConversations(
      flags(JUDGE_FLAGS, [
        '--input',
        join(dir, 'conversations_raw.jsonl'),
        '--output',
        join(dir, 'conversations_judged.jsonl'),
        '--final',
        join(dir, 'conversations_final.jsonl'),
        '--quiet',
        ...extra,
      ]),
    ),
  embed: (dir: string, extra: string[] = []) =>
    embedConversations(
      flags(EMBED_FLAGS, [
        '--input',
        join(dir, 'conversations_judged.jsonl'),
        '--output',
        join(dir, 'conversations_embedded.jsonl'),
        '--quiet',
        ...extra,
      ]),
    ),
};

/** Stages 1–4 in order; the exit codes. */
export async function stages1to4(dir: string, extra: string[] = []): Promise<number[]> {
  return [
    await stage.extract(dir, extra),
    await stage.validate(dir, extra),
    await stage.generate(dir, extra),
    await stage.judge(dir, extra),
  ];
}

export function manifest(dir: string, artifact: string): any {
  return JSON.parse(readFileSync(join(dir, artifact.replace(/\.jsonl$/, '.meta.json')), 'utf8'));
}

export function readRows(file: string): any[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The imitation's base URLs and both test keys, with `provider` chosen: what a stage test against it runs under. */
export function setImitationEnv(
  imitation: { geminiBaseUrl: string; openaiBaseUrl: string },
  provider = 'gemini',
  extra: Record<string, string> = {},
): void {
  setEnv({
    GOOGLE_API_KEY: 'test-google-key',
    OPENAI_API_KEY: 'test-openai-key',
    GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl,
    OPENAI_BASE_URL: imitation.openaiBaseUrl,
    LLM_PROVIDER: provider,
    ...extra,
  });
}

/** Only these variables are set for the test; the rest of the LLM environment is cleared. */
export function setEnv(values: Record<string, string>): void {
  for (const name of [
    'GOOGLE_API_KEY',
    'GEMINI_API_KEY',
    'OPENAI_API_KEY',
    'GOOGLE_GEMINI_BASE_URL',
    'OPENAI_BASE_URL',
    'LLM_PROVIDER',
    'OPENAI_JSON_MODE',
    'LLM_MAX_ATTEMPTS',
    'STOP_GRACE_MS',
    'GEMINI_BATCH_INLINE_MAX_BYTES',
    'BATCH_MAX_REQUESTS',
    'BATCH_MAX_ROUNDS',
  ])
    delete process.env[name];
  // LOGFIRE_TOKEN empty, not deleted: a developer's .env then cannot switch tracing (and the network) on in a test.
  Object.assign(
    process.env,
    {
      LOGFIRE_TOKEN: '',
      LLM_BACKOFF_MS: '1',
      LLM_TIMEOUT_MS: '5000',
      BATCH_POLL_MS: '5',
      PROGRESS_INTERVAL_MS: '600000',
      STOP_GRACE_MS: '2000',
    },
    values,
  );
}

// Every kind of bad input, through each script's real command line: one line naming the file, line, field or flag;
// the right exit code; no stack trace; and nothing written — no partial artifact, no temporary file. The rows run
// in this process (runCli with process.exit caught); a few run again as real tsx children, where the exit status
// and stderr of the process itself are what is checked.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Imitation } from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import {
  filesUnder,
  imitationPerFile,
  runStage,
  stageEnv,
  tempDir,
  writeFacts,
  writeJudged,
  writeQaPairs,
} from './support/run_stage.js';

const KEYS = { GOOGLE_API_KEY: 'right-google-key', OPENAI_API_KEY: 'right-openai-key' };
let imitation: Imitation;

imitationPerFile(
  { keys: { gemini: KEYS.GOOGLE_API_KEY, openai: KEYS.OPENAI_API_KEY } },
  (started) => (imitation = started),
);

interface Row {
  name: string;
  script: string;
  args: (dir: string) => string[];
  setup?: (dir: string) => void;
  env?: Record<string, string | undefined>;
  code: number;
  message: RegExp;
}

const j = join;
const write = (file: string, text: string) => writeFileSync(file, text);
const pairsWith = (dir: string, bad: string) => {
  writeQaPairs(j(dir, 'pairs.jsonl'), 3);
  const [first, ...rest] = linesOf(j(dir, 'pairs.jsonl'));
  write(j(dir, 'pairs.jsonl'), `${[first, bad, ...rest].join('\n')}\n`);
};
const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
/** Stage 5's output: judged rows with an embedding of the given size each. */
const embedded = (dir: string, dims: number[]) => {
  writeJudged(j(dir, 'judged.jsonl'), dims.length);
  const rows = linesOf(j(dir, 'judged.jsonl')).map((line, i) => ({
    ...JSON.parse(line),
    embedding: Array.from({ length: dims[i]! }, (_, k) => ((k + i) % 3) / 3 + 0.1),
    text_preview: `conversation ${i}`,
  }));
  write(j(dir, 'embedded.jsonl'), `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
};

const missingInput = (stage: number, script: string, writer: number): Row => ({
  name: `stage ${stage}'s input missing`,
  script,
  args: (d) => ['--input', j(d, 'missing.jsonl'), '--output', j(d, 'out.jsonl')],
  code: 1,
  message: new RegExp(`missing\\.jsonl: not found — run stage ${writer} first`),
});

/** Stage 7's command line on the judged rows in `dir`, then `extra`. */
const selectArgs = (dir: string, ...extra: string[]) => [
  '--input',
  j(dir, 'dedup.jsonl'),
  '--output',
  j(dir, 'final.jsonl'),
  ...extra,
];

/** Stage 1's command line on `facts.md` in `dir`, then `extra`. */
const factsArgs = (dir: string, ...extra: string[]) => [
  '--facts',
  j(dir, 'facts.md'),
  '--output',
  j(dir, 'qa.jsonl'),
  ...extra,
];

/** `script` on the input `setup` writes, with `variable` unset: exit 1, and the message names the variable. */
const missingKey = (
  variable: string,
  script: string,
  setup: (dir: string) => void,
  args: (dir: string) => string[],
  message: RegExp,
): Row => ({ name: `${variable} missing`, script, setup, env: { [variable]: undefined }, args, code: 1, message });

/** `script` given `flag value` out of its range: exit 2, and the message says what the flag expects. */
const outOfRange = (name: string, script: string, flag: string, value: string, expected: string): Row => ({
  name,
  script,
  args: () => [flag, value],
  code: 2,
  message: new RegExp(`Expected \`${flag}\` to be ${expected}, got ${value.replace('.', '\\.')}`),
});

const ROWS: Row[] = [
  {
    name: 'facts file missing',
    script: '1_extract_qa.ts',
    args: (d) => ['--facts', j(d, 'missing.md'), '--output', j(d, 'qa.jsonl')],
    code: 1,
    message: /missing\.md: not found/,
  },
  {
    name: 'facts file empty',
    script: '1_extract_qa.ts',
    setup: (d) => write(j(d, 'facts.md'), '\n\n'),
    args: factsArgs,
    code: 1,
    message: /facts\.md: the facts file is empty/,
  },
  {
    name: 'facts with no chunkable line',
    script: '1_extract_qa.ts',
    setup: (d) => write(j(d, 'facts.md'), 'Swap\n\nshort line\n---\n'),
    args: factsArgs,
    code: 1,
    message: /facts\.md: no chunkable line \(expected lines starting with \* or -/,
  },
  missingInput(2, '2_validate_qa.ts', 1),
  missingInput(3, '3_generate_conversations.ts', 2),
  missingInput(4, '4_judge_and_save.ts', 3),
  missingInput(5, '5_embed_conversations.ts', 4),
  missingInput(6, '6_deduplicate.ts', 5),
  missingInput(7, '7_select_top.ts', 6),
  {
    name: 'a JSONL line that is not JSON',
    script: '2_validate_qa.ts',
    setup: (d) => pairsWith(d, '{"question": "cut off'),
    args: (d) => ['--input', j(d, 'pairs.jsonl'), '--output', j(d, 'out.jsonl')],
    code: 1,
    message: /pairs\.jsonl:2: not valid JSON/,
  },
  {
    name: 'a line that fails the schema',
    script: '3_generate_conversations.ts',
    setup: (d) => pairsWith(d, JSON.stringify({ question: 'Q?', answer: 42, source_text: 'S', difficulty: 'basic' })),
    args: (d) => ['--input', j(d, 'pairs.jsonl'), '--output', j(d, 'out.jsonl')],
    code: 1,
    message: /pairs\.jsonl:2: expected string, received number → at answer/,
  },
  {
    name: 'an empty input',
    script: '4_judge_and_save.ts',
    setup: (d) => write(j(d, 'raw.jsonl'), ''),
    args: (d) => ['--input', j(d, 'raw.jsonl'), '--output', j(d, 'out.jsonl'), '--final', j(d, 'final.jsonl')],
    code: 1,
    message: /raw\.jsonl: empty/,
  },
  {
    name: 'embeddings of mixed dimensions',
    script: '6_deduplicate.ts',
    setup: (d) => embedded(d, [4, 4, 3]),
    args: (d) => ['--input', j(d, 'embedded.jsonl'), '--output', j(d, 'out.jsonl')],
    code: 1,
    message: /embedded\.jsonl:3: .*\b3\b.*\b4\b|embedded\.jsonl:3: .*\b4\b.*\b3\b/,
  },
  {
    name: 'an unknown flag',
    script: '3_generate_conversations.ts',
    args: () => ['--num-conversation', '5'],
    code: 2,
    message: /Unknown flag --num-conversation/,
  },
  ...[
    '1_extract_qa.ts',
    '2_validate_qa.ts',
    '3_generate_conversations.ts',
    '4_judge_and_save.ts',
    '5_embed_conversations.ts',
  ].map((script) => outOfRange(`--concurrency 0 (${script})`, script, '--concurrency', '0', 'an integer ≥ 1')),
  outOfRange('--threshold 0', '6_deduplicate.ts', '--threshold', '0', 'a number > 0 and ≤ 1'),
  outOfRange('--threshold 1.5', '6_deduplicate.ts', '--threshold', '1.5', 'a number > 0 and ≤ 1'),
  // --limit 0 would replace the artifact with an empty one.
  {
    name: '--limit 0',
    script: '1_extract_qa.ts',
    setup: (d) => writeFacts(j(d, 'facts.md'), 3),
    args: (d) => factsArgs(d, '--limit', '0'),
    code: 2,
    message: /Expected `--limit` to be an integer ≥ 1, got 0/,
  },
  outOfRange('--top-k 0 (stage 4)', '4_judge_and_save.ts', '--top-k', '0', 'an integer ≥ 1'),
  outOfRange('--top-k 0 (stage 7)', '7_select_top.ts', '--top-k', '0', 'an integer ≥ 1'),
  // A format that keeps the system message would ignore --system drop: refused before the input is read.
  ...(['messages', 'sharegpt', 'openai', 'axolotl'] as const).map(
    (format): Row => ({
      name: `--system drop --format ${format} (stage 7)`,
      script: '7_select_top.ts',
      setup: (d) => writeJudged(j(d, 'dedup.jsonl'), 12),
      args: (d) => selectArgs(d, '--format', format, '--system', 'drop'),
      code: 2,
      message: new RegExp(
        `\`--system drop\` applies to --format nanochat only; --format ${format} keeps the system message`,
      ),
    }),
  ),
  {
    name: '--format openai --top-k 5 (stage 7)',
    script: '7_select_top.ts',
    setup: (d) => writeJudged(j(d, 'dedup.jsonl'), 12),
    args: (d) => selectArgs(d, '--format', 'openai', '--top-k', '5'),
    code: 2,
    message: /at least 10 with --format openai/,
  },
  missingKey(
    'GOOGLE_API_KEY',
    '1_extract_qa.ts',
    (d) => writeFacts(j(d, 'facts.md'), 3),
    factsArgs,
    /GOOGLE_API_KEY is not set .*\.env/,
  ),
  missingKey(
    'OPENAI_API_KEY',
    '5_embed_conversations.ts',
    (d) => writeJudged(j(d, 'judged.jsonl'), 3),
    (d) => ['--input', j(d, 'judged.jsonl'), '--output', j(d, 'out.jsonl')],
    /OPENAI_API_KEY is not set/,
  ),
  {
    name: 'a wrong key',
    script: '1_extract_qa.ts',
    setup: (d) => writeFacts(j(d, 'facts.md'), 3),
    env: { GOOGLE_API_KEY: 'a-wrong-google-key' },
    args: factsArgs,
    code: 1,
    message: /Gemini rejected the API key \(401\): check GOOGLE_API_KEY/,
  },
  {
    name: 'an output folder that cannot be created',
    script: '1_extract_qa.ts',
    setup: (d) => {
      writeFacts(j(d, 'facts.md'), 3);
      write(j(d, 'not-a-folder'), 'a regular file where the output folder should be\n');
    },
    args: (d) => ['--facts', j(d, 'facts.md'), '--output', j(d, 'not-a-folder', 'qa.jsonl')],
    code: 1,
    message: /not-a-folder: output folder not writable \(a file is in the way/,
  },
];

type Runner = typeof runStage | typeof runStageInProcess;

async function refusedInOneLine(run: Runner, row: Row): Promise<void> {
  const dir = tempDir('bad-input');
  row.setup?.(dir);
  const before = filesUnder(dir).sort();
  const result = await run(row.script, [...row.args(dir), '--quiet'], {
    env: stageEnv(imitation, { ...KEYS, ...row.env }),
    cwd: dir,
  });
  const lines = result.stderr.split('\n').filter(Boolean);
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(row.message);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.code).toBe(row.code);
  expect(filesUnder(dir).sort(), 'no file written or left behind').toEqual(before);
}

describe('bad input', () => {
  // One after another: an in-process run swaps process.env, the working folder and process.exit.
  it.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => refusedInOneLine(runStageInProcess, row));
});

// A usage error (exit 2), a bad input file (exit 1) and a key the server rejects (exit 1, after a request): the
// real process's status and stderr, which in-process runs only stand in for.
const THROUGH_A_CHILD = ['an unknown flag', "stage 2's input missing", 'a wrong key'];

describe('bad input, through the real script in its own process', () => {
  it.concurrent.each(ROWS.filter((row) => THROUGH_A_CHILD.includes(row.name)).map((row) => [row.name, row] as const))(
    '%s',
    (_name, row) => refusedInOneLine(runStage, row),
  );
  it('names every row it means to run', () =>
    expect(ROWS.filter((row) => THROUGH_A_CHILD.includes(row.name))).toHaveLength(THROUGH_A_CHILD.length));
});

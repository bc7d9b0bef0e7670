// Every file a stage writes is checked before the first call: an output equal to an input or to another output, a
// folder, a path ending in /, a checkpoint that is a folder or a FIFO — one line naming the path, and 0 calls.
// Through each script's real command line, in process (the FIFO case in a child, which a hang cannot freeze).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Imitation } from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import { imitationPerFile, runStage, stageEnv, tempDir } from './support/run_stage.js';
import { filesUnder, readRows, writeJudged, writeQaPairs, writeRaw } from './support/stage_files.js';

let imitation: Imitation;
imitationPerFile({ seed: 7 }, (started) => (imitation = started));

const j = join;
/** Stage 3's output: the conversations of `writeJudged` without their judgment. */
const writeRawBeside = (file: string, n: number) => writeRaw(file, `${file}.judged`, n);
function writeEmbedded(file: string, n: number): void {
  writeJudged(`${file}.judged`, n);
  const rows = readRows(`${file}.judged`).map((r, i) => ({ ...r, embedding: [1, i + 1, 2, 3], text_preview: `c${i}` }));
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}

/** A FIFO is never read: that would block. */
const contentOf = (file: string) => (statSync(file).isFile() ? readFileSync(file, 'utf8') : 'not a regular file');

interface Case {
  name: string;
  script: string;
  setup: (dir: string) => void;
  args: (dir: string) => string[];
  message: RegExp;
  /** Run as a tsx child rather than in process: a read that blocks would hang the test worker, not just the stage. */
  inChild?: true;
}

/** Stage 4 on four raw conversations, writing `judged.jsonl`, with a folder in the place of `folder`. */
const stage4WithFolder = (name: string, folder: string, message: RegExp): Case => ({
  name,
  script: '4_judge_and_save.ts',
  setup: (d) => {
    writeRawBeside(j(d, 'raw.jsonl'), 4);
    mkdirSync(j(d, folder));
  },
  args: (d) => ['--input', j(d, 'raw.jsonl'), '--output', j(d, 'judged.jsonl'), '--final', j(d, 'final.jsonl')],
  message,
});

const CASES: Case[] = [
  {
    name: 'stage 2 --output equal to --input',
    script: '2_validate_qa.ts',
    setup: (d) => writeQaPairs(j(d, 'pairs.jsonl'), 4),
    args: (d) => ['--input', j(d, 'pairs.jsonl'), '--output', j(d, 'pairs.jsonl')],
    message: /pairs\.jsonl: --output is the same file as the input .*choose another --output/,
  },
  {
    name: 'stage 2 --output equal to --input through a symbolic link and ..',
    script: '2_validate_qa.ts',
    setup: (d) => {
      mkdirSync(j(d, 'real'));
      writeQaPairs(j(d, 'real', 'pairs.jsonl'), 4);
      symlinkSync(j(d, 'real'), j(d, 'link'));
    },
    args: (d) => ['--input', j(d, 'real', 'pairs.jsonl'), '--output', j(d, 'link', '..', 'link', 'pairs.jsonl')],
    message: /--output is the same file as the input/,
  },
  {
    name: 'stage 2 --passed equal to --output',
    script: '2_validate_qa.ts',
    setup: (d) => writeQaPairs(j(d, 'pairs.jsonl'), 4),
    args: (d) => ['--input', j(d, 'pairs.jsonl'), '--output', j(d, 'out.jsonl'), '--passed', j(d, 'out.jsonl')],
    message: /out\.jsonl: --passed is the same file as --output .*choose different paths/,
  },
  {
    name: 'stage 4 --final equal to --output',
    script: '4_judge_and_save.ts',
    setup: (d) => writeRawBeside(j(d, 'raw.jsonl'), 4),
    args: (d) => ['--input', j(d, 'raw.jsonl'), '--output', j(d, 'judged.jsonl'), '--final', j(d, 'judged.jsonl')],
    message: /judged\.jsonl: --final is the same file as --output/,
  },
  {
    name: 'stage 6 --output equal to --input',
    script: '6_deduplicate.ts',
    setup: (d) => writeEmbedded(j(d, 'embedded.jsonl'), 4),
    args: (d) => ['--input', j(d, 'embedded.jsonl'), '--output', j(d, 'embedded.jsonl')],
    message: /embedded\.jsonl: --output is the same file as the input/,
  },
  stage4WithFolder(
    'stage 4 --output an existing folder',
    'judged.jsonl',
    /judged\.jsonl: --output is a folder, expected a file/,
  ),
  {
    name: 'stage 3 --output ending in /',
    script: '3_generate_conversations.ts',
    setup: (d) => writeQaPairs(j(d, 'pairs.jsonl'), 4),
    args: (d) => ['--input', j(d, 'pairs.jsonl'), '--output', `${j(d, 'nested')}/`],
    message: /nested\/: --output ends with a slash, expected a file name/,
  },
  {
    name: 'stage 3 checkpoint path a folder',
    script: '3_generate_conversations.ts',
    setup: (d) => {
      writeQaPairs(j(d, 'pairs.jsonl'), 4);
      mkdirSync(j(d, 'raw.jsonl.checkpoint.jsonl'));
    },
    args: (d) => ['--input', j(d, 'pairs.jsonl'), '--output', j(d, 'raw.jsonl')],
    message: /raw\.jsonl\.checkpoint\.jsonl: the checkpoint of --output is a folder/,
  },
  {
    name: 'stage 3 checkpoint path a FIFO (no hang)',
    script: '3_generate_conversations.ts',
    setup: (d) => {
      writeQaPairs(j(d, 'pairs.jsonl'), 4);
      execFileSync('mkfifo', [j(d, 'raw.jsonl.checkpoint.jsonl')]);
    },
    args: (d) => ['--input', j(d, 'pairs.jsonl'), '--output', j(d, 'raw.jsonl')],
    message: /raw\.jsonl\.checkpoint\.jsonl: the checkpoint of --output is a FIFO, expected a regular file/,
    inChild: true,
  },
  stage4WithFolder(
    'stage 4 errors file of --output a folder',
    'judged.errors.jsonl',
    /judged\.errors\.jsonl: the errors file of --output is a folder/,
  ),
];

describe('outputs are checked before the first call', () => {
  it.each(CASES.map((c) => [c.name, c] as const))(
    '%s: one line, exit 1, 0 calls, inputs untouched',
    async (_name, c) => {
      const dir = tempDir('output-checks');
      c.setup(dir);
      const before = filesUnder(dir).sort();
      const contents = before.map(contentOf);
      const requests = imitation.requests.length;
      const run = c.inChild ? runStage : runStageInProcess;
      const result = await run(c.script, [...c.args(dir), '--quiet'], { env: stageEnv(imitation), cwd: dir });
      const lines = result.stderr.split('\n').filter(Boolean);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(c.message);
      expect(result.code).toBe(1);
      expect(imitation.requests.length - requests, 'no call made').toBe(0);
      expect(filesUnder(dir).sort(), 'nothing written or left behind').toEqual(before);
      expect(before.map(contentOf), 'inputs unchanged').toEqual(contents);
    },
    20_000,
  );
});

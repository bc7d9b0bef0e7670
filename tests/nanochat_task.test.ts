// The nanochat task in integrations/nanochat, run by python3 on top of nanochat's Task base class, yields every
// conversation stage 7 exported with --format nanochat, in order, sliced the way nanochat slices tasks.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FLAGS, selectTop } from '../7_select_top.js';
import { parseFlags } from '../src/cli.js';
import { readRows, removeTempDirs, tempDir, writeJudged } from './support/run_stage.js';

const PYTHON = spawnSync('python3', ['--version'], { encoding: 'utf8' }).status === 0;
const title = PYTHON
  ? 'the nanochat task (python3)'
  : 'the nanochat task — SKIPPED: python3 not found on PATH (apt-get install python3)';
if (!PYTHON) console.warn(title);

const ROOT = join(import.meta.dirname, '..');

/** Runs python3 in a nanochat-like tree (tasks/common.py + tasks/synth_chat.py) and returns what the script printed. */
function python(
  nanochat: string,
  script: string,
  ...args: string[]
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('python3', ['-c', script, ...args], {
    cwd: nanochat,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!PYTHON)(title, () => {
  const dir = tempDir('nanochat-task');
  const exported = join(dir, 'conversations_final.jsonl');
  const nanochat = join(dir, 'nanochat');

  beforeAll(async () => {
    writeJudged(join(dir, 'deduplicated.jsonl'), 30);
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const flags = parseFlags(
        [
          '--input',
          join(dir, 'deduplicated.jsonl'),
          '--output',
          exported,
          '--format',
          'nanochat',
          '--top-k',
          '20',
          '--quiet',
        ],
        FLAGS,
        '',
      )!;
      expect(await selectTop(flags)).toBe(0);
    } finally {
      spy.mockRestore();
    }
    // docs/nanochat.md step 1: the task file goes into nanochat's tasks/ folder, beside tasks/common.py.
    mkdirSync(join(nanochat, 'tasks'), { recursive: true });
    copyFileSync(join(ROOT, 'tests/fixtures/nanochat/tasks/common.py'), join(nanochat, 'tasks/common.py'));
    copyFileSync(join(ROOT, 'integrations/nanochat/synth_chat.py'), join(nanochat, 'tasks/synth_chat.py'));
  }, 60_000);
  afterAll(() => removeTempDirs());

  /** What `SynthChat(filepath=<export>, <kwargs>)` yields, read back through python3, beside its len() and eval_type. */
  const taskItems = (kwargs = '') => {
    const script = [
      'import json, sys',
      'from tasks.common import Task',
      'from tasks.synth_chat import SynthChat',
      `task = SynthChat(filepath=sys.argv[1]${kwargs ? `, ${kwargs}` : ''})`,
      'assert isinstance(task, Task)',
      'print(json.dumps({"n": len(task), "eval_type": task.eval_type, "items": [task[i] for i in range(len(task))]}))',
    ].join('\n');
    const out = python(nanochat, script, exported);
    expect(out.code, out.stderr).toBe(0);
    return JSON.parse(out.stdout) as { n: number; eval_type: string; items: unknown[] };
  };

  it('yields every exported conversation, in order, as {"messages": [...]}', () => {
    const rows = readRows(exported);
    expect(rows).toHaveLength(20);
    const got = taskItems();
    expect(got.n).toBe(20);
    expect(got.eval_type).toBe('generative');
    expect(got.items).toEqual(rows.map((messages) => ({ messages })));
  });

  it('slices with start, stop and step as every nanochat task does', () => {
    const rows = readRows(exported);
    expect(taskItems('start=3, stop=15, step=4').items).toEqual(
      [rows[3], rows[7], rows[11]].map((messages) => ({ messages })),
    );
  });

  it('stops on a --format messages file with the line and what to do', () => {
    const wrong = join(dir, 'messages.jsonl');
    writeFileSync(
      wrong,
      `${JSON.stringify({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'yo' },
        ],
      })}\n`,
    );
    const out = python(
      nanochat,
      'import sys\nfrom tasks.synth_chat import SynthChat\nSynthChat(filepath=sys.argv[1])',
      wrong,
    );
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(
      /messages\.jsonl:1: an object with "messages": this is a --format messages file; export with --format nanochat/,
    );
  });
});

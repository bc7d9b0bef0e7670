// Input a check can refuse costs no call: binary facts, a bad PRICES_FILE, odd flag values — through each script's
// real command line, in process; PRICES_FILE through a child, as prices are read once per process.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { paidRequests, type Imitation } from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import { imitationPerFile, runStage, stageEnv, tempDir } from './support/run_stage.js';
import { filesUnder, readRows, writeFacts, writeQaPairs } from './support/stage_files.js';

let imitation: Imitation;
imitationPerFile({ seed: 5 }, (started) => (imitation = started));

/** Runs a script (in process unless `runner` says otherwise) and says how many requests reached the imitation. */
async function run(
  script: string,
  args: string[],
  dir: string,
  env: Record<string, string> = {},
  runner: typeof runStage | typeof runStageInProcess = runStageInProcess,
) {
  const before = paidRequests(imitation).length;
  const result = await runner(script, [...args, '--quiet'], { env: stageEnv(imitation, env), cwd: dir });
  return {
    ...result,
    calls: paidRequests(imitation).length - before,
    lines: result.stderr.split('\n').filter(Boolean),
  };
}

function refusedInOneLine(result: Awaited<ReturnType<typeof run>>, message: RegExp, code = 1): void {
  expect(result.lines, result.stderr).toHaveLength(1);
  expect(result.lines[0]).toMatch(/^error: /);
  expect(result.lines[0]).toMatch(message);
  expect(result.code).toBe(code);
  expect(result.calls, 'no call paid for').toBe(0);
}

describe('facts that are not text', () => {
  it('a binary file (an ELF executable) is refused with one line and 0 calls', async () => {
    const dir = tempDir('facts-binary');
    const elf = Buffer.concat([
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]),
      Buffer.alloc(200, 0x41),
      Buffer.from('\n* a fact line that looks like text\n'),
    ]);
    writeFileSync(join(dir, 'facts.md'), elf);
    const before = filesUnder(dir).sort();
    const result = await run(
      '1_extract_qa.ts',
      ['--facts', join(dir, 'facts.md'), '--output', join(dir, 'qa.jsonl')],
      dir,
    );
    refusedInOneLine(result, /facts\.md: line 1: not a text file \(a NUL byte/);
    expect(filesUnder(dir).sort()).toEqual(before);
  });

  it('UTF-16 with a BOM is read as text: no NUL reaches source_text', async () => {
    const dir = tempDir('facts-utf16');
    writeFacts(join(dir, 'utf8.md'), 2);
    const utf8 = readFileSync(join(dir, 'utf8.md'), 'utf8');
    writeFileSync(join(dir, 'facts.md'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(utf8, 'utf16le')]));
    const result = await run(
      '1_extract_qa.ts',
      ['--facts', join(dir, 'facts.md'), '--output', join(dir, 'qa.jsonl')],
      dir,
    );
    expect(result.code, result.stderr).toBe(0);
    const rows = readRows<{ source_text: string }>(join(dir, 'qa.jsonl'));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.source_text).not.toContain('\0');
    expect(utf8).toContain(rows[0]!.source_text);
  });

  it('a long line is sent in pieces within the budget, never as one prompt', async () => {
    const dir = tempDir('facts-long');
    const sentences = Array.from(
      { length: 250 },
      (_, i) => `Swap Commerce handles returns for merchants in ${i + 2} countries.`,
    );
    writeFileSync(join(dir, 'facts.md'), `# Facts\n\n* ${sentences.join(' ')}\n`);
    const result = await run(
      '1_extract_qa.ts',
      ['--facts', join(dir, 'facts.md'), '--output', join(dir, 'qa.jsonl')],
      dir,
    );
    expect(result.code, result.stderr).toBe(0);
    const sent = paidRequests(imitation)
      .slice(-result.calls)
      .map((r) => JSON.stringify(r.body).length);
    expect(result.calls, result.stdout).toBe(3); // the long line in 3 pieces (a heading is a section, not a chunk)
    for (const size of sent) expect(size).toBeLessThan(16_000);
  });
});

describe('PRICES_FILE is checked before the first call', () => {
  // A child per run: the price table is read once per process, so an in-process run would see the first file only.
  const inChild = (script: string, args: string[], dir: string, env: Record<string, string>) =>
    run(script, args, dir, env, runStage);
  const pairs = (dir: string) => {
    writeQaPairs(join(dir, 'pairs.jsonl'), 3);
    return ['--input', join(dir, 'pairs.jsonl'), '--output', join(dir, 'out.jsonl')];
  };

  it('a directory says so, in a run and in a dry run', async () => {
    const dir = tempDir('prices-dir');
    mkdirSync(join(dir, 'prices'));
    const args = pairs(dir);
    refusedInOneLine(
      await inChild('2_validate_qa.ts', args, dir, { PRICES_FILE: join(dir, 'prices') }),
      /prices: PRICES_FILE is a directory, expected a JSON file/,
    );
    refusedInOneLine(
      await inChild('2_validate_qa.ts', [...args, '--dry-run'], dir, { PRICES_FILE: join(dir, 'prices') }),
      /PRICES_FILE is a directory/,
    );
  });

  it('invalid JSON or a wrong field stops the stage with 0 calls', async () => {
    const dir = tempDir('prices-bad');
    writeFileSync(join(dir, 'broken.json'), '{"gemini-2.5-flash": {"input": 0.3,');
    writeFileSync(join(dir, 'schema.json'), JSON.stringify({ 'gemini-2.5-flash': { input: 'cheap', output: 1 } }));
    const args = pairs(dir);
    refusedInOneLine(
      await inChild('2_validate_qa.ts', args, dir, { PRICES_FILE: join(dir, 'broken.json') }),
      /broken\.json: not valid JSON/,
    );
    refusedInOneLine(
      await inChild('2_validate_qa.ts', args, dir, { PRICES_FILE: join(dir, 'schema.json') }),
      /schema\.json: expected number, received string → at gemini-2\.5-flash\.input/,
    );
  });
});

describe('odd flag values', () => {
  it('a seed outside 0…2^32−1 and a hex count are refused (exit 2, 0 calls)', async () => {
    const dir = tempDir('odd-flags');
    writeQaPairs(join(dir, 'pairs.jsonl'), 3);
    const io = ['--input', join(dir, 'pairs.jsonl'), '--output', join(dir, 'raw.jsonl')];
    for (const seed of ['4294967296', '1e300', '-1'])
      refusedInOneLine(
        await run('3_generate_conversations.ts', [...io, '--seed', seed], dir),
        new RegExp(`Expected \`--seed\` to be an integer ≥ 0 and ≤ 4294967295, got ${seed}`),
        2,
      );
    refusedInOneLine(
      await run('3_generate_conversations.ts', [...io, '--num-conversations', '0x10'], dir),
      /Expected `--num-conversations` to be an integer ≥ 1, got 0x10/,
      2,
    );
  });

  it('--tpm below one request warns once, up front', async () => {
    const dir = tempDir('tpm-low');
    writeQaPairs(join(dir, 'pairs.jsonl'), 1);
    const result = await run(
      '2_validate_qa.ts',
      ['--input', join(dir, 'pairs.jsonl'), '--output', join(dir, 'out.jsonl'), '--tpm', '1'],
      dir,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.lines).toEqual([
      expect.stringMatching(/^warning: --tpm 1 is below one request's estimated \d+ tokens/),
    ]);
  });
});

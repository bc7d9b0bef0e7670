// `make stats` on fixture runs written with the real schemas: partial runs, both runs, stale and corrupt files.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { artifactPaths } from '../src/pipeline.js';
import { sidecarPath } from '../src/io/sidecars.js';
import { collectRun } from '../src/report/collect.js';
import { collectDiversity, diversityText } from '../src/report/diversity.js';
import { statsText } from '../src/report/stats_text.js';
import { writeFixtureRun } from './support/report_fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stats-'));
  dirs.push(dir);
  return dir;
}

function stats(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/stats.ts', ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The cells of a stage's row in the printed table, e.g. row(out, '1 extract_qa') → ['done', '30', …]. */
function row(text: string, label: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(`${label} `));
  if (!line) throw new Error(`no row ${label} in:\n${text}`);
  return line
    .slice(label.length)
    .trim()
    .split(/\s{2,}/);
}

describe('stats on a partial run', () => {
  it('counts stages 1–3 from their artifacts and says stages 4–7 have not run', async () => {
    const dir = tempDir();
    const fixture = await writeFixtureRun({ dir, stages: 3, chunks: 12, conversations: 40 });
    const { code, stdout, stderr } = stats('--output-dir', dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);

    const full = stdout.slice(0, stdout.indexOf('Trial:'));
    expect(full).toContain(`Full run (${dir}/*)`);
    // status, in, out, failed, dropped, calls
    expect(row(full, '1 extract_qa').slice(0, 6)).toEqual([
      'done',
      '36',
      String(fixture.qaPairs),
      '0',
      String(fixture.futureYear),
      '12',
    ]);
    expect(row(full, '2 validate_qa').slice(0, 4)).toEqual([
      'done',
      String(fixture.qaPairs),
      String(fixture.qaPairs),
      '0',
    ]);
    expect(row(full, '3 generate_conversations').slice(0, 4)).toEqual(['done', '40', '40', '0']);
    for (const label of ['4 judge', '5 embed', '6 deduplicate', '7 select_top'])
      expect(row(full, label)).toEqual(['not run', '–', '–', '–', '–', '–', '–', '–', '–']);
    expect(full).toContain(
      'not run yet: 4 judge (npx tsx 4_judge_and_save.ts), 5 embed (npx tsx 5_embed_conversations.ts), 6 deduplicate (npx tsx 6_deduplicate.ts), 7 select_top (npx tsx 7_select_top.ts)',
    );
    expect(full).toContain(
      `funnel: 12 chunks → ${fixture.qaPairs} Q&A pairs → ${fixture.qaCriteria.passed} validated Q&A → 40 conversations → – judged passing`,
    );
    const pct = (n: number) => `${((100 * n) / fixture.qaPairs).toFixed(1)}%`;
    expect(full).toMatch(
      new RegExp(
        `uses_source_fact\\s+${fixture.qaCriteria.uses_source_fact}/${fixture.qaPairs}\\s+${pct(fixture.qaCriteria.uses_source_fact)}`,
      ),
    );
    expect(full).toMatch(
      new RegExp(`passed\\s+${fixture.qaCriteria.passed}/${fixture.qaPairs}\\s+${pct(fixture.qaCriteria.passed)}`),
    );
    expect(full).not.toContain('overall_pass');
    expect(full).toMatch(new RegExp(`2 validate_qa\\s+${fixture.qaPairs - fixture.qaCriteria.passed}  did not pass`));
    expect(stdout).toContain(`Trial: nothing in ${dir}/ yet (make trial)`);
  });

  it('shows the full run and the trial side by side, with tokens, cost and drop reasons', async () => {
    const dir = tempDir();
    const full = await writeFixtureRun({ dir, stages: 7, chunks: 20, conversations: 120 });
    await writeFixtureRun({ dir, prefix: 'trial_', stages: 4, chunks: 4, conversations: 10, seed: 3 });
    const { code, stdout } = stats('--output-dir', dir);
    expect(code).toBe(0);
    const [fullText, trialText] = stdout.split(`Trial (${dir}/trial_*)`) as [string, string];
    expect(fullText).toContain('all seven stages have run');
    expect(row(fullText, '6 deduplicate').slice(0, 5)).toEqual([
      'done',
      '120',
      String(full.unique),
      '0',
      String(full.removed),
    ]);
    expect(row(fullText, '7 select_top').slice(0, 3)).toEqual(['done', String(full.unique), String(full.final)]);
    expect(fullText).toMatch(new RegExp(`6 deduplicate\\s+${full.removed}  duplicate`));
    // The dropped column agrees with the list under the table, also where the artifact keeps every row (2 and 4).
    const notPassingQa = full.qaPairs - full.qaCriteria.passed;
    const notPassing = 120 - full.judgeCriteria.overall_pass;
    expect(row(fullText, '2 validate_qa')[4]).toBe(String(notPassingQa));
    expect(row(fullText, '4 judge')[4]).toBe(String(notPassing));
    expect(fullText).toMatch(new RegExp(`2 validate_qa\\s+${notPassingQa}  did not pass`));
    expect(fullText).toMatch(new RegExp(`4 judge\\s+${notPassing}  did not pass`));
    expect(fullText).toMatch(new RegExp(`overall_pass\\s+${full.judgeCriteria.overall_pass}/120`));
    expect(fullText).toMatch(
      new RegExp(
        `total\\s+0\\s+${20 + full.qaPairs + 120 + 120 + 2}\\s+[\\d.]+[kM]? / [\\d.]+[kM]?\\s+\\$${full.costUsd.toFixed(2)}`,
      ),
    );
    expect(trialText).toContain('not run yet: 5 embed');
    // Stage 4 wrote the final file (its top-K) but stage 7 has not run.
    expect(row(trialText, '7 select_top')[0]).toBe('not run');
    expect(trialText).toContain(
      "trial_conversations_final.jsonl holds stage 4's top-K passing conversations until stage 7 runs",
    );
  });

  it('points at an artifact that changed after its stage ran and at an interrupted stage', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 3, chunks: 5, conversations: 12 });
    const paths = artifactPaths('', dir);
    const first = readFileSync(paths.conversationsRaw, 'utf8').split('\n')[0]!;
    appendFileSync(paths.conversationsRaw, `${first}\n`);
    writeFileSync(
      `${paths.conversationsJudged}.checkpoint.jsonl`,
      '{"key":"a","id":"conversation-0","result":{}}\n{"key":"b","id":"conversation-1","result":{}}\n',
    );
    const text = statsText((await collectRun({ dir }))!);
    expect(text).toContain(`${paths.conversationsRaw} has 13 rows but its manifest says 12 were written`);
    expect(text).toContain(
      `2 finished items saved in ${paths.conversationsJudged}.checkpoint.jsonl: interrupted or still running`,
    );
  });

  it('notes a stage whose output is older than a later run of an earlier stage', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 3, chunks: 5, conversations: 12 });
    const meta = artifactPaths('', dir).qaPairs.replace(/\.jsonl$/, '.meta.json');
    writeFileSync(
      meta,
      JSON.stringify({ ...JSON.parse(readFileSync(meta, 'utf8')), started_at: '2030-01-01T00:00:00.000Z' }),
    );
    const text = statsText((await collectRun({ dir }))!);
    expect(text).toMatch(/2 validate_qa\s+ran before the latest run of stage 1/);
    expect(text).toMatch(/3 generate_conversations\s+ran before the latest run of stage 1/);
  });

  it('reads an artifact with no manifest (e.g. from the Python original) and says so', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 2, chunks: 4 });
    rmSync(artifactPaths('', dir).qaValidated.replace(/\.jsonl$/, '.meta.json'));
    const { stdout } = stats('--output-dir', dir);
    expect(row(stdout, '2 validate_qa').slice(0, 3)).toEqual(['no manifest', '–', '12']);
  });

  it('says nothing has run when the folder is empty or missing', () => {
    for (const dir of [tempDir(), '/nonexistent/stats-dir']) {
      const { code, stdout } = stats('--output-dir', dir);
      expect(code).toBe(0);
      expect(stdout).toBe(`${dir}/: no stage has run yet, for the full run or the trial (make trial, or make full)\n`);
    }
  });
});

describe('stats on the quality of the final set', () => {
  it('prints the diversity figures of the final set, and what it cannot tell on a run before stage 7 recorded its rows', async () => {
    const dir = tempDir();
    const f = await writeFixtureRun({ dir, stages: 7, chunks: 20, conversations: 120 });
    const p = artifactPaths('', dir);
    const selected = sidecarPath(p.conversationsFinal, '.selected.jsonl');
    const { code, stdout } = stats('--output-dir', dir);
    expect(code).toBe(0);
    const d = (await collectDiversity(p, selected))!;
    expect(stdout).toContain(diversityText(d).join('\n'));
    expect(stdout).toContain(`diversity of the final set (${f.final} conversations):`);
    expect(stdout).toMatch(
      /distinct-1 \/ distinct-2 {3}user 0\.\d{3} \/ 0\.\d{3} \([\d,]+ words\) · assistant 0\.\d{3} \/ 0\.\d{3}/,
    );
    expect(stdout).toMatch(
      new RegExp(
        `mean nearest-neighbour similarity \\(cosine of stage 5 embeddings\\): \\d\\.\\d{3} over ${f.final} conversations`,
      ),
    );
    expect(stdout.indexOf('fact coverage:')).toBeLessThan(stdout.indexOf('diversity of'));

    rmSync(selected);
    const before = stats('--output-dir', dir);
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(`diversity of ${p.conversationsFinal} as exported (${f.final} conversations):`);
    expect(before.stdout).toContain(
      `note: nearest-neighbour similarity not known: ${selected} missing (stage 7 ran before it recorded its rows)`,
    );
  });
});

describe('stats on corrupt files', () => {
  it('stops with one line naming FILE:LINE of a truncated JSONL row', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 4, chunks: 4, conversations: 10 });
    const file = artifactPaths('', dir).conversationsJudged;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[6] = lines[6]!.slice(0, 40);
    writeFileSync(file, lines.join('\n'));
    const { code, stdout, stderr } = stats('--output-dir', dir);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^error: ${file}:7: not valid JSON \\([^\\n]*\\)\\n$`));
  });

  it('finds a truncated line in the embedded file, which it counts without parsing every row', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 5, chunks: 4, conversations: 10 });
    const file = artifactPaths('', dir).conversationsEmbedded;
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(row(stats('--output-dir', dir).stdout, '5 embed').slice(0, 3)).toEqual(['done', '10', '10']);
    lines[4] = lines[4]!.slice(0, lines[4]!.length - 30);
    writeFileSync(file, lines.join('\n'));
    const { code, stderr } = stats('--output-dir', dir);
    expect(code).toBe(1);
    expect(stderr).toBe(`error: ${file}:5: not valid JSON (not one complete object: truncated or interleaved line?)\n`);
  });

  it('names the field of a row that fails its schema', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 2, chunks: 4 });
    const file = artifactPaths('', dir).qaValidated;
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const bad = JSON.parse(lines[2]!);
    bad.validation.sensible_answer = 'yes';
    lines[2] = JSON.stringify(bad);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { code, stderr } = stats('--output-dir', dir);
    expect(code).toBe(1);
    expect(stderr).toBe(`error: ${file}:3: expected boolean, received string → at validation.sensible_answer\n`);
  });

  it('names a manifest that is not JSON', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 1, chunks: 2 });
    const meta = `${dir}/qa_pairs.meta.json`;
    writeFileSync(meta, '{"stage": "extract_qa", ');
    const { code, stderr } = stats('--output-dir', dir);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      new RegExp(`^error: ${meta}: not valid JSON \\(.*\\); delete it or run the stage again\\n$`),
    );
  });

  it('rejects an unknown flag with one line', () => {
    const { code, stderr } = stats('--output', 'x');
    expect(code).toBe(2);
    expect(stderr).toBe('error: Unknown flag --output: did you mean --output-dir? (see --help)\n');
  });
});

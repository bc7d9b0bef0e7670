/**
 * Report — one self-contained HTML page per run, to open in any browser with no network: output/report.html from
 * the full run and output/trial_report.html from the trial, whichever have artifacts. Shows the funnel from chunks to
 * final conversations, the pass rate of each criterion, the sampled mix against its configured targets, the fact
 * coverage (and each fact that did not reach the final set), the similarity of removed duplicates, the diversity of
 * the final set, and a list of conversations to review (all of them, or an evenly spaced sample of --limit): each
 * marked final, removed as a duplicate (beside the one kept), failed or not selected, with its source facts and the
 * judge's verdict per criterion and per turn, filterable by outcome, failing criterion, emotion, turns and text.
 *
 *   npx tsx scripts/report.ts [--output-dir output] [--domain PATH] [--limit 2000]
 */
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { runIfMain, type Flags } from '../src/cli.js';
import { DEFAULT_DOMAIN } from '../src/config.js';
import { loadDomain } from '../src/domain.js';
import { InputError } from '../src/errors.js';
import { ensureWritableDir } from '../src/io/jsonl.js';
import { selectedPath } from '../src/io/sidecars.js';
import { artifactPaths, RUNS } from '../src/pipeline.js';
import { collectRun, type RunData } from '../src/report/collect.js';
import { collectCoverage, type Coverage } from '../src/report/coverage.js';
import { collectDiversity, type Diversity } from '../src/report/diversity.js';
import { reportHtml } from '../src/report/html.js';

export const FLAGS = {
  'output-dir': {
    kind: 'string',
    help: 'folder holding the artifacts; the reports are written there too',
    default: 'output',
    value: 'DIR',
  },
  domain: {
    kind: 'string',
    help: `domain file the run used, for the persona and system-prompt targets (default ${DEFAULT_DOMAIN} if present)`,
  },
  limit: {
    kind: 'int',
    help: 'conversations listed in each report (an evenly spaced sample of a larger run)',
    default: 2000,
    min: 0,
  },
} as const;

const SUMMARY = 'Report: a self-contained HTML page per run (output/report.html, output/trial_report.html)';

export async function writeReports(flags: Flags<typeof FLAGS>): Promise<number> {
  const dir = flags['output-dir'].replace(/\/+$/, '') || '.';
  const domain = loadDomain(flags.domain, DEFAULT_DOMAIN);

  // 1. Read every run first, so each page can link to the others.
  const found: Array<{ run: (typeof RUNS)[number]; data: RunData; coverage?: Coverage; diversity?: Diversity }> = [];
  for (const run of RUNS) {
    const data = await collectRun({ dir, prefix: run.prefix, domain, listLimit: flags.limit });
    if (!data) continue;
    const paths = artifactPaths(run.prefix, dir);
    const selected = selectedPath(paths.conversationsFinal);
    found.push({
      run,
      data,
      coverage: await collectCoverage(paths, selected),
      diversity: await collectDiversity(paths, selected),
    });
  }
  if (!found.length)
    throw new InputError(`${dir}/: no artifacts of the full run or the trial yet — run make trial or make full first`);

  // 2. Write one page per run, atomically (a half-written page is worse than the previous one).
  for (const { run, data, coverage, diversity } of found) {
    const file = `${dir}/${run.report}`;
    const links = found
      .filter((f) => f.run !== run)
      .map((f) => ({ href: f.run.report, label: `${f.run.label} report` }));
    ensureWritableDir(file);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, reportHtml(data, { links, coverage, diversity }));
      renameSync(tmp, file);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw new InputError(`${file}: could not be written (${(error as Error).message})`);
    }
    const listed = data.review.sampled
      ? `${data.conversations.length} of ${data.conversationTotal} (evenly spaced)`
      : String(data.conversations.length);
    const stages =
      data.stages
        .filter((s) => s.manifest)
        .map((s) => s.n)
        .join(',') || 'none';
    process.stdout.write(
      `${data.label}: wrote ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB; stages run: ${stages}; ${listed} conversations listed)\n`,
    );
  }
  for (const run of RUNS)
    if (!found.some((f) => f.run === run))
      process.stdout.write(`${run.label}: no artifacts in ${dir}/, no ${run.report} written (${run.make})\n`);
  return 0;
}

runIfMain(import.meta.url, 'scripts/report.ts', SUMMARY, FLAGS, writeReports);

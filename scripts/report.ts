/**
 * Report — one self-contained HTML page per run, to open in any browser with no network: output/report.html from
 * the full run and output/trial_report.html from the trial, whichever have artifacts. Shows the funnel from chunks to
 * final conversations, the pass rate of each criterion, the sampled mix against its configured targets, the
 * similarity of removed duplicates, and a filterable list of conversations with the judge's feedback.
 *
 *   npx tsx scripts/report.ts [--output-dir output] [--domain PATH] [--limit 2000]
 */
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { runIfMain, type Flags } from '../src/cli.js';
import { DEFAULT_DOMAIN } from '../src/config.js';
import { loadDomain } from '../src/domain.js';
import { InputError } from '../src/errors.js';
import { ensureWritableDir } from '../src/io/jsonl.js';
import { collectRun, type RunData } from '../src/report/collect.js';
import { RUNS } from '../src/pipeline.js';
import { reportHtml } from '../src/report/html.js';

export const FLAGS = {
  'output-dir': { kind: 'string', help: 'folder holding the artifacts; the reports are written there too', default: 'output', value: 'DIR' },
  domain: { kind: 'string', help: `domain file the run used, for the persona and system-prompt targets (default ${DEFAULT_DOMAIN} if present)` },
  limit: { kind: 'int', help: 'conversations listed in each report', default: 2000, min: 0 },
} as const;

const SUMMARY = 'Report: a self-contained HTML page per run (output/report.html, output/trial_report.html)';

export async function writeReports(flags: Flags<typeof FLAGS>): Promise<number> {
  const dir = flags['output-dir'].replace(/\/+$/, '') || '.';
  const domain = loadDomain(flags.domain, DEFAULT_DOMAIN);

  // 1. Read every run first, so each page can link to the others.
  const found: Array<{ run: (typeof RUNS)[number]; data: RunData }> = [];
  for (const run of RUNS) {
    const data = await collectRun({ dir, prefix: run.prefix, domain, listLimit: flags.limit });
    if (data) found.push({ run, data });
  }
  if (!found.length) throw new InputError(`${dir}/: no artifacts of the full run or the trial yet — run make trial or make full first`);

  // 2. Write one page per run, atomically (a half-written page is worse than the previous one).
  for (const { run, data } of found) {
    const file = `${dir}/${run.report}`;
    const links = found.filter((f) => f.run !== run).map((f) => ({ href: f.run.report, label: `${f.run.label} report` }));
    ensureWritableDir(file);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, reportHtml(data, { links }));
      renameSync(tmp, file);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw new InputError(`${file}: could not be written (${(error as Error).message})`);
    }
    const listed = data.conversations.length < data.conversationTotal ? `first ${data.conversations.length} of ${data.conversationTotal}` : String(data.conversations.length);
    const stages = data.stages.filter((s) => s.manifest).map((s) => s.n).join(',') || 'none';
    process.stdout.write(`${data.label}: wrote ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB; stages run: ${stages}; ${listed} conversations listed)\n`);
  }
  for (const run of RUNS) if (!found.some((f) => f.run === run)) process.stdout.write(`${run.label}: no artifacts in ${dir}/, no ${run.report} written (${run.make})\n`);
  return 0;
}

runIfMain(import.meta.url, 'scripts/report.ts', SUMMARY, FLAGS, writeReports);

/**
 * Stats — one table per run (the full run, then the trial, whichever exist) across all seven stages: rows in and
 * out, pass rate of every boolean criterion, why items were dropped, tokens, cost and duration; then the fact
 * coverage funnel and the diversity of the final set (distinct-1/2, repeated openings, nearest-neighbour similarity).
 *
 * Reads the artifacts in the output folder and the `.meta.json` manifests the stages write next to them, streaming
 * each file once; works on a partial run and says which stages have not run. Writes nothing.
 *
 *   npx tsx scripts/stats.ts [--output-dir output]
 */
import { existsSync } from 'node:fs';
import { runIfMain, type Flags } from '../src/cli.js';
import { collectRun } from '../src/report/collect.js';
import { statsText } from '../src/report/stats_text.js';
import { artifactPaths, RUNS } from '../src/pipeline.js';
import { selectedPath } from '../src/io/sidecars.js';
import { collectCoverage, coverageText } from '../src/report/coverage.js';
import { collectDiversity, diversityText } from '../src/report/diversity.js';

export const FLAGS = {
  'output-dir': { kind: 'string', help: 'folder holding the artifacts', default: 'output', value: 'DIR' },
} as const;

const SUMMARY =
  'Stats: one table per run (full run and trial) across all stages, from the artifacts and their manifests';

export async function printStats(flags: Flags<typeof FLAGS>): Promise<number> {
  const dir = flags['output-dir'].replace(/\/+$/, '') || '.';
  const blocks: string[] = [];
  const missing: string[] = [];
  if (existsSync(dir)) {
    for (const run of RUNS) {
      const data = await collectRun({ dir, prefix: run.prefix });
      if (data) {
        const paths = artifactPaths(run.prefix, dir);
        const selected = selectedPath(paths.conversationsFinal);
        const coverage = await collectCoverage(paths, selected);
        const diversity = await collectDiversity(paths, selected);
        const extra = [...(coverage ? coverageText(coverage) : []), ...(diversity ? diversityText(diversity) : [])];
        blocks.push(statsText(data) + (extra.length ? `${extra.join('\n')}\n` : ''));
      } else missing.push(`${run.label}: nothing in ${dir}/ yet (${run.make})`);
    }
  }
  if (!blocks.length) {
    process.stdout.write(`${dir}/: no stage has run yet, for the full run or the trial (make trial, or make full)\n`);
    return 0;
  }
  process.stdout.write([...blocks, ...missing.map((m) => `${m}\n`)].join('\n'));
  return 0;
}

runIfMain(import.meta.url, 'scripts/stats.ts', SUMMARY, FLAGS, printStats);

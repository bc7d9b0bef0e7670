/**
 * Stages — prints the seven stages from the one table (src/pipeline.ts) as `make help` lists them: the make target,
 * what the stage does and the artifacts it writes. The Makefile cannot import TypeScript, so its help asks this.
 *
 *   npx tsx scripts/stages.ts
 */
import { isMain } from '../src/cli.js';
import { PATHS, PIPELINE } from '../src/pipeline.js';

/** One line per stage, in the Makefile help's layout. */
export function stageHelp(): string {
  return PIPELINE.map(
    (s) => `  make ${`stage${s.n}`.padEnd(12)} ${s.role} → ${s.artifacts.map((a) => PATHS[a]).join(', ')}\n`,
  ).join('');
}

if (isMain(import.meta.url)) process.stdout.write(stageHelp());

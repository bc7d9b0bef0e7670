// The Makefile cannot import the stage table (src/pipeline.ts): its stage targets are checked against it here, and
// its help lists the stages from the table itself (scripts/stages.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stageHelp } from '../scripts/stages.js';
import { PATHS, PIPELINE } from '../src/pipeline.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const makefile = readFileSync(new URL('../Makefile', import.meta.url), 'utf8');

/** What `make -n` says a target would run. */
function dryMake(target: string): string[] {
  const result = spawnSync('make', ['-n', '--no-print-directory', target], { cwd: root, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => line.trim());
}

describe('the Makefile and the stage table', () => {
  it('has a stage target for every stage of the table, in order, and no other', () => {
    // STAGE_TARGETS is computed from the scripts' names: ask make what it came to.
    const result = spawnSync('make', ['--no-print-directory', '-f', 'Makefile', '-f', '-', 'print-stages'], {
      cwd: root,
      input: 'print-stages:\n\t@echo $(STAGE_TARGETS)\n',
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim().split(/\s+/)).toEqual(PIPELINE.map((s) => `stage${s.n}`));
  });

  it.each(PIPELINE.map((s) => [s.n, s.script] as const))('`make stage%i` runs %s', (n, script) => {
    expect(dryMake(`stage${n}`)).toEqual([`node --import tsx ${script}`]);
  });

  it('`make full` runs every stage of the table, in order', () => {
    const commands = dryMake('full');
    expect(commands.slice(0, PIPELINE.length)).toEqual(PIPELINE.map((s) => `node --import tsx ${s.script}`));
  });

  it('the stage help comes from the table, not a second list in the Makefile', () => {
    expect(makefile).not.toMatch(/^stage\d+:.*##/m);
    expect(makefile).toMatch(/^\t@\$\(TSX\) scripts\/stages\.ts$/m);
    const help = stageHelp().trimEnd().split('\n');
    expect(help).toHaveLength(PIPELINE.length);
    expect(help[1]).toBe(`  make stage2       validate Q&A pairs → ${PATHS.qaValidated}, ${PATHS.qaPassed}`);
  });
});

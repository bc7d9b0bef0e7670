// The Makefile cannot import the stage table (src/pipeline.ts): its stage targets are checked against it here, and
// its help lists the stages from the table itself (scripts/stages.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stageHelp } from '../scripts/stages.js';
import { PATHS, PIPELINE } from '../src/pipeline.js';

const makefile = readFileSync(new URL('../Makefile', import.meta.url), 'utf8');

/** `stageN` → the script its recipe runs. */
function stageTargets(): Record<string, string> {
  const targets: Record<string, string> = {};
  for (const m of makefile.matchAll(/^(stage\d+):[^\n]*\n\t\$\(TSX\) (\S+)/gm)) targets[m[1]!] = m[2]!;
  return targets;
}

describe('the Makefile and the stage table', () => {
  it('has one stageN target per stage of the table, running its script', () => {
    expect(stageTargets()).toEqual(Object.fromEntries(PIPELINE.map((s) => [`stage${s.n}`, s.script])));
  });

  it('`make full` runs every stage of the table, in order', () => {
    const full = /^full: ([^#\n]*)/m.exec(makefile)?.[1]?.trim().split(/\s+/);
    expect(full).toEqual(PIPELINE.map((s) => `stage${s.n}`));
  });

  it('every stage target is phony, and its help comes from the table, not a second list in the Makefile', () => {
    const phony = /^\.PHONY: (.*)$/m.exec(makefile)![1]!.split(/\s+/);
    for (const s of PIPELINE) expect(phony).toContain(`stage${s.n}`);
    expect(makefile).not.toMatch(/^stage\d+:.*##/m);
    expect(makefile).toMatch(/^\t@\$\(TSX\) scripts\/stages\.ts$/m);
    const help = stageHelp().trimEnd().split('\n');
    expect(help).toHaveLength(PIPELINE.length);
    expect(help[1]).toBe(`  make stage2       validate Q&A pairs → ${PATHS.qaValidated}, ${PATHS.qaPassed}`);
  });
});

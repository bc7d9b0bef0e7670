// Renders a run as the plain-text block `make stats` prints: the stage table, funnel, pass rates, drops, notes.
import type { RunData } from './collect.js';
// The stage table's helpers are shared with the HTML page, so one namespace import names them all.
import * as table from './stage_table.js';

export function statsText(run: RunData): string {
  const out: string[] = [`${run.label} (${run.dir}/${run.prefix}*)`];
  const { rows, total } = table.stageCells(run);
  out.push(
    ...textTable([table.STAGE_COLUMNS, ...rows, total], table.NUMERIC_COLUMNS).map((line, i) =>
      i === rows.length + 1 ? `${rule(line)}\n${line}` : line,
    ),
  );

  out.push(
    '',
    `funnel: ${run.funnel.map((f) => `${f.count === undefined ? '–' : f.count.toLocaleString('en-US')} ${f.label}`).join(' → ')}`,
  );

  if (run.criteria.length) {
    out.push('', 'pass rates:');
    const width = Math.max(...run.criteria.map((c) => c.name.length));
    let last = -1;
    for (const c of run.criteria) {
      const stage = run.stages.find((s) => s.n === c.stage)!;
      const head = c.stage === last ? '' : table.stageLabel(stage);
      last = c.stage;
      out.push(
        `  ${head.padEnd(26)}${c.name.padEnd(width)}  ${`${c.passed}/${c.total}`.padStart(11)}  ${table.percent(c.passed, c.total).padStart(6)}`,
      );
    }
  }

  const models = table.modelLines(run);
  if (models.length) {
    out.push('', 'models (requested → versions that answered):');
    for (const m of models) out.push(`  ${m.stage.padEnd(26)}${m.text}`);
  }

  const drops = table.dropReasons(run);
  if (drops.length) {
    out.push('', 'dropped:');
    for (const d of drops)
      out.push(`  ${d.stage.padEnd(26)}${d.count.toLocaleString('en-US').padStart(7)}  ${d.reason}`);
  }

  const notes = run.stages.flatMap((s) => s.notes.map((note) => `  ${table.stageLabel(s).padEnd(26)}${note}`));
  if (notes.length) out.push('', 'notes:', ...notes);

  const waiting = run.stages.filter((s) => s.status === 'not run');
  out.push(
    '',
    waiting.length
      ? `not run yet: ${waiting.map((s) => `${table.stageLabel(s)} (npx tsx ${s.script})`).join(', ')}`
      : 'all seven stages have run',
  );
  return `${out.join('\n')}\n`;
}

function textTable(rows: string[][], numeric: boolean[]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd(),
  );
}

function rule(line: string): string {
  return '-'.repeat(line.length);
}

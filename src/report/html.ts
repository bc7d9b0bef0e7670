// Renders one run as a self-contained HTML page: inline CSS, SVG and script, a CSP that forbids any fetch, and
// every piece of text escaped (conversation content is model output and must never become markup).
import { formatDuration } from '../progress.js';
import { formatTokens, formatUsd } from '../usage_meter.js';
import type { DistributionData, RunData } from './collect.js';
import { conversationSection } from './conversation_html.js';
import type { Coverage } from './coverage.js';
import type { Diversity } from './diversity.js';
import { escapeHtml as e } from './escape.js';
import { REPORT_CSS, REPORT_SCRIPT } from './page_assets.js';
import { coverageSection, diversitySection } from './quality_html.js';
import {
  dropReasons,
  modelLines,
  NUMERIC_COLUMNS,
  percent,
  STAGE_COLUMNS,
  stageCells,
  stageLabel,
} from './stage_table.js';
import { barChart, histogramBins, histogramChart } from './svg.js';

export interface HtmlOptions {
  generatedAt?: Date;
  /** Other reports in the same folder to link to (relative file names). */
  links?: Array<{ href: string; label: string }>;
  coverage?: Coverage;
  diversity?: Diversity;
}

export function reportHtml(run: RunData, options: HtmlOptions = {}): string {
  const generated = (options.generatedAt ?? new Date())
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const links = (options.links ?? []).map((l) => `<a href="${e(l.href)}">${e(l.label)}</a>`).join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(run.label)} report · ${e(run.dir)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
<h1>${e(run.label)}: synthetic conversation dataset</h1>
<div class="sub">Artifacts in <code>${e(run.dir)}/${e(run.prefix)}*</code> · generated ${e(generated)}${links ? ` · ${links}` : ''}</div>
${cards(run)}
<h2>Funnel</h2>
<div class="panel">${funnelChart(run)}</div>
<h2>Stages</h2>
${stagesTable(run)}
${criteriaSection(run)}
${distributionSection(run)}
${coverageSection(options.coverage)}
${similaritySection(run)}
${diversitySection(options.diversity)}
${conversationSection(run)}
</main>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

function cards(run: RunData): string {
  const usage = run.stages.flatMap((s) => (s.manifest?.usage ? [s.manifest.usage] : []));
  const cost = usage.reduce((a, u) => a + u.costUsd, 0);
  const tokens = usage.reduce((a, u) => a + u.inputTokens + u.outputTokens, 0);
  const seconds = run.stages.reduce((a, s) => a + (s.manifest?.duration_s ?? 0), 0);
  const overall = run.criteria.find((c) => c.name === 'overall_pass');
  const final = run.funnel[run.funnel.length - 1]!.count;
  const items = [
    ['final conversations', final === undefined ? 'not yet' : final.toLocaleString('en-US')],
    ['judged passing', overall ? percent(overall.passed, overall.total) : 'not judged'],
    ['cost', formatUsd(cost)],
    ['tokens', formatTokens(tokens)],
    ['stage time', formatDuration(seconds)],
    ['stages run', `${run.stages.filter((s) => s.manifest).length} of 7`],
  ];
  return `<div class="cards">${items.map(([label, value]) => `<div class="card"><span class="muted">${e(label!)}</span><b>${e(value!)}</b></div>`).join('')}</div>`;
}

function funnelChart(run: RunData): string {
  return barChart(
    run.funnel.map((f) => ({
      label: f.label,
      value: f.count ?? 0,
      text: f.count === undefined ? 'not run' : f.count.toLocaleString('en-US'),
    })),
    { title: 'Funnel from chunks to final conversations' },
  );
}

function stagesTable(run: RunData): string {
  const { rows, total } = stageCells(run);
  const head = STAGE_COLUMNS.map((c, i) => `<th${NUMERIC_COLUMNS[i] ? ' class="num"' : ''}>${e(c)}</th>`).join('');
  const row = (cells: string[], cls = '') =>
    `<tr${cls ? ` class="${cls}"` : ''}>${cells.map((c, i) => `<td${NUMERIC_COLUMNS[i] ? ' class="num"' : ''}>${e(c)}</td>`).join('')}</tr>`;
  const body = rows.map((cells, i) => row(cells, `status-${run.stages[i]!.status.replaceAll(' ', '-')}`)).join('\n');
  const drops = dropReasons(run);
  const models = modelLines(run);
  const notes = run.stages.flatMap((s) => s.notes.map((n) => `<li>${e(stageLabel(s))}: ${e(n)}</li>`));
  const waiting = run.stages.filter((s) => s.status === 'not run');
  return `<div class="panel"><table class="stages"><thead><tr>${head}</tr></thead><tbody>
${body}
${row(total, 'total')}
</tbody></table>
${models.length ? `<h3 style="margin-top:12px">Models that answered</h3><ul class="notes">${models.map((m) => `<li>${e(m.stage)}: ${e(m.text)}</li>`).join('')}</ul>` : ''}
${drops.length ? `<h3 style="margin-top:12px">Why items were dropped</h3><ul class="notes">${drops.map((d) => `<li>${e(d.stage)}: <b>${d.count.toLocaleString('en-US')}</b> ${e(d.reason)}</li>`).join('')}</ul>` : ''}
${notes.length ? `<h3>Notes</h3><ul class="notes">${notes.join('')}</ul>` : ''}
${waiting.length ? `<p class="muted">Not run yet: ${waiting.map((s) => e(`${stageLabel(s)} (npx tsx ${s.script})`)).join(', ')}</p>` : ''}
</div>`;
}

function criteriaSection(run: RunData): string {
  if (!run.criteria.length) return '';
  const panels = [2, 4].flatMap((n) => {
    const list = run.criteria.filter((c) => c.stage === n);
    if (!list.length) return [];
    const stage = run.stages.find((s) => s.n === n)!;
    const title = n === 2 ? 'Q&A validation' : 'Conversation judging';
    const chart = barChart(
      list.map((c) => ({
        label: c.name,
        value: c.total ? c.passed / c.total : 0,
        text: `${percent(c.passed, c.total)} (${c.passed}/${c.total})`,
      })),
      { title: `${title}: pass rate per criterion`, max: 1 },
    );
    return [
      `<div class="panel"><h3>${e(title)} <span class="muted">(${e(stageLabel(stage))})</span></h3>${chart}</div>`,
    ];
  });
  return `<h2>Pass rate per criterion</h2><div class="grid">${panels.join('')}</div>`;
}

function distributionSection(run: RunData): string {
  if (!run.distributions.length) return '';
  return `<h2>Sampled mix against its targets</h2>
<p class="muted">Share of the ${run.distributions[0]!.total.toLocaleString('en-US')} generated conversations (stage 3) per value, against the configured target.</p>
<div class="grid">${run.distributions.map(distributionPanel).join('')}</div>`;
}

function distributionPanel(d: DistributionData): string {
  const bars = Object.entries(d.counts).map(([value, n]) => {
    const share = d.total ? n / d.total : 0;
    const target = d.target[value] ?? 0;
    return {
      label: value,
      value: share,
      text: `${(100 * share).toFixed(1)}% (${n.toLocaleString('en-US')})`,
      target,
      targetText: `target ${(100 * target).toFixed(1)}%`,
    };
  });
  const chart = barChart(bars, { title: `${d.title}: actual share against target` });
  return `<div class="panel" data-dimension="${e(d.key)}"><h3>${e(d.title)}</h3>${d.note ? `<p class="muted">${e(d.note)}</p>` : ''}${chart}</div>`;
}

function similaritySection(run: RunData): string {
  if (!run.similarities) return '';
  const method = run.stages.find((s) => s.n === 6)?.manifest?.settings.method;
  const measure = method === 'minhash' ? 'Jaccard similarity' : 'cosine similarity';
  if (!run.similarities.length)
    return `<h2>Removed duplicates</h2><div class="panel">Stage 6 removed no conversations.</div>`;
  const chart = histogramChart(histogramBins(run.similarities, run.dedupThreshold), {
    title: `Similarity of ${run.similarities.length} removed duplicates`,
    threshold: run.dedupThreshold,
    xLabel: `${measure} to the kept conversation`,
  });
  return `<h2>Removed duplicates</h2><div class="panel"><p class="muted">${run.similarities.length.toLocaleString('en-US')} conversations removed by stage 6, by ${e(measure)} to the conversation kept in their place.</p>${chart}</div>`;
}

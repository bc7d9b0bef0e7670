// The report's Coverage and Diversity sections: which facts reached the final set (and where each lost one dropped
// out), and how varied the final set is.
import type { Coverage } from './coverage.js';
import { samplePhrase, type Diversity } from './diversity.js';
import { OPENING_WORDS, type Distinct } from './diversity_measures.js';
import { escapeHtml as e } from './escape.js';
import { barChart } from './svg.js';

export function coverageSection(c: Coverage | undefined): string {
  if (!c) return '';
  const facts = c.funnel[0]!.count ?? 0;
  const chart = barChart(
    c.funnel.map((f) => ({
      label: f.label,
      value: f.count ?? 0,
      text:
        f.count === undefined
          ? 'not run'
          : `${f.count.toLocaleString('en-US')} (${facts ? ((100 * f.count) / facts).toFixed(0) : 0}%)`,
    })),
    { title: 'Facts followed from stage 1 to the final set', max: Math.max(1, facts) },
  );
  const lost = c.lost.length
    ? `<h3>${c.lost.length.toLocaleString('en-US')} fact${c.lost.length === 1 ? '' : 's'} not in the final set</h3>
<table class="lost"><thead><tr><th>fact</th><th>dropped out</th><th>fact line</th></tr></thead><tbody>
${c.lost.map((l) => `<tr data-fact-id="${e(l.fact_id)}"><td><code>${e(l.fact_id)}</code></td><td>${e(l.stage)}</td><td>${e(l.source_text)}</td></tr>`).join('\n')}
</tbody></table>`
    : '<p><b>Every fact reached the final set.</b></p>';
  const notes = c.notes.length ? `<ul class="notes">${c.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : '';
  return `<h2 id="coverage">Coverage</h2>
<div class="panel"><p class="muted">Each fact line of the input, followed through the stages: a fact counts at a step when at least one of its Q&amp;A pairs (or a conversation written from one) is still there.</p>${chart}${lost}${notes}</div>`;
}

export function diversitySection(d: Diversity | undefined): string {
  if (!d) return '';
  const cell = (x: Distinct, k: 'distinct1' | 'distinct2') => (x.words ? x[k].toFixed(3) : '–');
  const table = `<table class="stages diversity"><thead><tr><th>messages</th><th class="num">distinct-1</th><th class="num">distinct-2</th><th class="num">words</th></tr></thead><tbody>
${(['user', 'assistant'] as const).map((role) => `<tr data-role="${role}"><td>${role}</td><td class="num">${cell(d[role], 'distinct1')}</td><td class="num">${cell(d[role], 'distinct2')}</td><td class="num">${d[role].words.toLocaleString('en-US')}</td></tr>`).join('\n')}
</tbody></table>`;
  const openings = d.openings.length
    ? `<h3>Most repeated openings of user messages <span class="muted">(first ${OPENING_WORDS} words, of ${d.userMessages.toLocaleString('en-US')} messages)</span></h3><ol class="openings">${d.openings.map((o) => `<li><b>${o.count.toLocaleString('en-US')}</b> × ${e(o.phrase)}</li>`).join('')}</ol>`
    : `<p>No user message opening (first ${OPENING_WORDS} words) is repeated.</p>`;
  const nearest = d.nearest
    ? `<p>Mean nearest-neighbour similarity (cosine of the stage 5 embeddings): <b class="nearest">${d.nearest.mean.toFixed(3)}</b>${e(samplePhrase(d.nearest))}. Near 1: every conversation has a near-copy; lower: they spread out.</p>`
    : '';
  const notes = d.notes.length ? `<ul class="notes">${d.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : '';
  return `<h2 id="diversity">Diversity</h2>
<div class="panel"><p class="muted">Of ${e(d.source)}. distinct-n is distinct n-word sequences over all of them, in one message (it falls as a set grows: compare sets of a similar size).</p>${table}${openings}${nearest}${notes}</div>`;
}

// The report's list of conversations, for reviewing: each marked with where it ended up, its judge verdicts per
// criterion and per assistant turn, its source Q&A pairs and fact lines, and a removed duplicate beside the one kept.
import { pairFactId } from '../facts.js';
import { JUDGE_CRITERIA, type Message, type QAPair } from '../schemas.js';
import type { RunData } from './collect.js';
import { escapeHtml as e } from './escape.js';
import type { ConversationStatus, ListedConversation } from './listing.js';

// Long messages are cut so one runaway answer cannot make the page unusable; the artifact keeps the full text.
const MESSAGE_CHARS = 20_000;

const STATUS_TEXT: Record<ConversationStatus, string> = {
  final: 'in the final training set',
  duplicate: 'removed by stage 6 as a near-duplicate',
  failed: 'failed the judge',
  'not selected': 'passed and unique, but not selected by stage 7',
  passed: 'passed the judge (later stages not run, or not recorded)',
  'not judged': 'not judged yet',
};

export function conversationSection(run: RunData): string {
  if (!run.conversationSource) return '';
  const list = run.conversations;
  const source =
    run.conversationSource === 'judged'
      ? 'judged conversations (stage 4)'
      : 'generated conversations (stage 3; not judged yet)';
  const shown = list.length.toLocaleString('en-US');
  const lead =
    !list.length && run.conversationTotal
      ? `None of the ${run.conversationTotal.toLocaleString('en-US')} ${source} listed (scripts/report.ts --limit 0)`
      : run.review.sampled
        ? `Showing ${shown} of ${run.conversationTotal.toLocaleString('en-US')} ${source}, evenly spaced through the file — a sample, to keep this file small (scripts/report.ts --limit N)`
        : `Showing ${run.conversationTotal.toLocaleString('en-US')} ${source}`;
  const options = (values: string[], sort: (a: string, b: string) => number = (a, b) => (a < b ? -1 : a > b ? 1 : 0)) =>
    [...new Set(values)]
      .sort(sort)
      .map((v) => `<option value="${e(v)}">${e(v)}</option>`)
      .join('');
  const passOptions =
    run.conversationSource === 'judged'
      ? '<option value="pass">passed</option><option value="fail">failed</option>'
      : '<option value="unjudged">not judged</option>';
  const failing =
    run.conversationSource === 'judged'
      ? `<select id="filter-fails" aria-label="filter by failing criterion"><option value="">any criterion</option>${JUDGE_CRITERIA.map((k) => `<option value="${k}">fails ${k}</option>`).join('')}</select>`
      : '';
  return `<h2 id="list">Conversations</h2>
<p class="muted">${lead}.</p>
${run.review.notes.length ? `<ul class="notes">${run.review.notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>` : ''}
<div class="filters">
<input id="filter-text" type="search" placeholder="Filter by text, feedback, persona, fact…" aria-label="filter by text">
<select id="filter-status" aria-label="filter by where it ended up"><option value="">every outcome</option>${options(list.map((c) => c.status))}</select>
<select id="filter-pass" aria-label="filter by judge result"><option value="">passed and failed</option>${passOptions}</select>
${failing}
<select id="filter-emotion" aria-label="filter by emotion"><option value="">all emotions</option>${options(list.map((c) => c.metadata.user_emotion))}</select>
<select id="filter-turns" aria-label="filter by turns"><option value="">any turns</option>${options(
    list.map((c) => String(c.metadata.num_turns)),
    (a, b) => Number(a) - Number(b),
  )}</select>
<select id="filter-persona" aria-label="filter by persona"><option value="">all personas</option>${options(list.map((c) => c.metadata.user_persona))}</select>
<select id="filter-style" aria-label="filter by style"><option value="">all styles</option>${options(list.map((c) => c.metadata.style))}</select>
<span class="muted"><b id="filter-count">${list.length}</b> of ${list.length} shown</span>
</div>
<ol class="convs" id="conversations">
${list.map((c) => conversationItem(c, run.review.partners)).join('\n')}
</ol>`;
}

function conversationItem(c: ListedConversation, partners: Record<number, ListedConversation>): string {
  const m = c.metadata;
  const verdict = c.judgment ? (c.judgment.overall_pass ? 'pass' : 'fail') : 'unjudged';
  const fails = c.judgment ? JUDGE_CRITERIA.filter((k) => !c.judgment![k]) : [];
  const firstUser = c.messages.find((msg) => msg.role === 'user')?.content ?? '';
  const tags = [m.user_persona, m.style, m.user_emotion, `${m.num_turns} turn${m.num_turns === 1 ? '' : 's'}`].join(
    ' · ',
  );
  const meta = [
    ['modality', m.input_modality],
    ['text variation', m.text_variation],
    ['difficulty', m.difficulty],
    ['system prompt', m.system_prompt ?? '–'],
    ['categories', m.categories.join(', ') || '–'],
  ]
    .map(([k, v]) => `${e(k!)}: <b>${e(v!)}</b>`)
    .join(' · ');
  const attributes = [
    ['data-pass', verdict],
    ['data-status', c.status],
    ['data-fails', fails.join(' ')],
    ['data-emotion', m.user_emotion],
    ['data-turns', String(m.num_turns)],
    ['data-persona', m.user_persona],
    ['data-style', m.style],
  ]
    .map(([k, v]) => `${k}="${e(v!)}"`)
    .join(' ');
  const partner = c.duplicateOf ? partners[c.duplicateOf.index] : undefined;
  const body = c.duplicateOf
    ? `<div class="dup"><div class="side"><h4>This conversation (#${c.index + 1}, removed)</h4>${messageList(c)}</div><div class="side"><h4>Kept instead: #${c.duplicateOf.index + 1}${partner ? ` <span class="badge ${badgeClass(partner.status)}">${e(partner.status)}</span>` : ''}</h4>${partner ? messageList(partner) : '<p class="muted">not in this file</p>'}</div></div>`
    : messageList(c);
  return `<li class="conv" ${attributes}><details><summary><span class="badge ${badgeClass(c.status)}">${e(c.status)}</span><span class="muted">#${c.index + 1}</span><span class="tags">${e(tags)}</span><span class="first">${e(firstUser.slice(0, 160))}</span></summary>
<div class="body"><div class="status">${statusLine(c)}</div><div class="muted">${meta}</div>${c.judgment ? judgmentBlock(c) : ''}${body}${factsBlock(c.sourcePairs)}</div></details></li>`;
}

function badgeClass(status: ConversationStatus): string {
  return {
    final: 'pass',
    duplicate: 'dupe',
    failed: 'fail',
    'not selected': 'idle',
    passed: 'pass',
    'not judged': 'idle',
  }[status];
}

function statusLine(c: ListedConversation): string {
  const text = e(STATUS_TEXT[c.status]);
  if (!c.duplicateOf) return text;
  const also = c.status === 'duplicate' ? '' : ' (and removed by stage 6 as a near-duplicate)';
  return `${text}${also}: similarity <b class="similarity">${c.duplicateOf.similarity.toFixed(3)}</b> to #${c.duplicateOf.index + 1}, the conversation kept in its place`;
}

function judgmentBlock(c: ListedConversation): string {
  const j = c.judgment!;
  const marks = JUDGE_CRITERIA.map((k) => `<span class="${j[k] ? 'ok' : 'no'}">${j[k] ? '✓' : '✗'} ${k}</span>`).join(
    ' · ',
  );
  const issues = j.issues.length ? `<ul>${j.issues.map((i) => `<li>${e(i)}</li>`).join('')}</ul>` : '';
  const turns = j.turn_verdicts
    ? `<ol class="verdicts">${j.turn_verdicts.map((v) => `<li class="verdict ${v.supported ? 'ok' : 'no'}" data-turn="${v.turn}">turn ${v.turn}: ${v.supported ? '✓ supported by the facts' : `✗ not supported: “${e(v.unsupported_claim)}”`}</li>`).join('')}</ol>`
    : '<div class="muted verdicts">Per-turn verdicts: not recorded (judged before the judge answered per turn).</div>';
  return `<div class="judge"><div>${marks}</div><div><b>Judge:</b> ${e(j.feedback)}</div>${issues}${turns}</div>`;
}

/** The messages, each assistant turn marked with the judge's verdict on it. */
function messageList(c: ListedConversation): string {
  const verdicts = new Map((c.judgment?.turn_verdicts ?? []).map((v) => [v.turn, v]));
  let turn = 0;
  const item = (msg: Message) => {
    const v = msg.role === 'assistant' ? verdicts.get(++turn) : undefined;
    const mark = v
      ? `<span class="${v.supported ? 'ok' : 'no'}">turn ${turn} ${v.supported ? '✓' : '✗ not supported'}</span>`
      : msg.role === 'assistant'
        ? `<span class="muted">turn ${turn}</span>`
        : '';
    return `<li class="msg ${e(msg.role)}${v && !v.supported ? ' unsupported' : ''}"><div class="role">${e(msg.role)} ${mark}</div><div class="content">${e(cut(msg.content))}</div></li>`;
  };
  return `<ol class="messages">${c.messages.map(item).join('')}</ol>`;
}

/** The source facts, each fact line once with its context and the pairs written from it. */
function factsBlock(pairs: QAPair[]): string {
  if (!pairs.length) return '<div class="facts muted">No source Q&amp;A pairs recorded.</div>';
  const byFact = new Map<string, QAPair[]>();
  for (const p of pairs) byFact.set(pairFactId(p), [...(byFact.get(pairFactId(p)) ?? []), p]);
  const facts = [...byFact].map(([id, ps]) => {
    const p = ps[0]!;
    const context = (text: string) => (text.trim() ? `<div class="context">${e(text)}</div>` : '');
    const qa = ps.map((q) => `<li><b>Q:</b> ${e(q.question)}<br><b>A:</b> ${e(q.answer)}</li>`).join('');
    return `<div class="fact" data-fact-id="${e(id)}"><div class="muted">fact <code>${e(id)}</code>${p.source_location ? ` · ${e(p.source_location)}` : ''}</div>${context(p.context_before)}<blockquote class="fact-line">${e(p.source_text)}</blockquote>${context(p.context_after)}<ul class="pairs">${qa}</ul></div>`;
  });
  return `<div class="facts"><h4>Source facts and Q&amp;A pairs</h4>${facts.join('')}</div>`;
}

function cut(text: string): string {
  return text.length <= MESSAGE_CHARS
    ? text
    : `${text.slice(0, MESSAGE_CHARS)}\n… (${(text.length - MESSAGE_CHARS).toLocaleString('en-US')} more characters in the artifact)`;
}

// `make report` on fixture runs: the numbers on the page, the sampled list, escaping, which pages get written, and the
// page as a reviewing tool (outcome of each conversation, duplicates side by side, facts, per-turn verdicts, coverage).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeReports } from '../scripts/report.js';
import { artifactPaths } from '../src/pipeline.js';
import { sidecarPath } from '../src/io/sidecars.js';
import { collectCoverage } from '../src/report/coverage.js';
import { collectDiversity } from '../src/report/diversity.js';
import { escapeHtml } from '../src/report/escape.js';
import { histogramBins } from '../src/report/svg.js';
import type { JudgedConversation, QAPair } from '../src/schemas.js';
import { FACT_WITHOUT_PAIR, fixtureFactId, UNSUPPORTED_CLAIM, writeFixtureRun } from './support/report_fixtures.js';

const dirs: string[] = [];
let printed = '';
beforeEach(() => {
  printed = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'report-'));
  dirs.push(dir);
  return dir;
}

const report = (dir: string, extra: { limit?: number; domain?: string } = {}) =>
  writeReports({ 'output-dir': dir, limit: extra.limit ?? 2000, domain: extra.domain });

/** The HTML between one `<h2>` heading and the next. */
function section(html: string, heading: string): string {
  const start = html.indexOf(`>${heading}</h2>`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const end = html.indexOf('<h2', start);
  return html.slice(start, end < 0 ? undefined : end);
}

const lines = <T>(file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
const pct = (n: number, total: number) => `${((100 * n) / total).toFixed(1)}%`;

describe('report of a full run and a trial', () => {
  it('writes both pages with the funnel, pass rates, mix, duplicates and the conversation list', async () => {
    const dir = tempDir();
    const f = await writeFixtureRun({ dir, stages: 7, chunks: 20, conversations: 120 });
    await writeFixtureRun({ dir, prefix: 'trial_', stages: 3, chunks: 3, conversations: 18, seed: 5 });
    expect(await report(dir)).toBe(0);
    expect(printed).toMatch(
      new RegExp(
        `Full run: wrote ${dir}/report.html \\([\\d.]+ MB; stages run: 1,2,3,4,5,6,7; 120 conversations listed\\)`,
      ),
    );
    expect(printed).toMatch(
      new RegExp(`Trial: wrote ${dir}/trial_report.html \\([\\d.]+ MB; stages run: 1,2,3; 18 conversations listed\\)`),
    );
    const html = readFileSync(`${dir}/report.html`, 'utf8');

    const funnel = texts(section(html, 'Funnel'));
    expect(funnel).toEqual([
      'chunks',
      '20',
      'Q&amp;A pairs',
      String(f.qaPairs),
      'validated Q&amp;A',
      String(f.qaCriteria.passed),
      'conversations',
      '120',
      'judged passing',
      String(f.judgeCriteria.overall_pass),
      'deduplicated passing',
      String(f.uniquePassing),
      'final',
      String(f.final),
    ]);

    const rates = section(html, 'Pass rate per criterion');
    for (const n of Object.values(f.qaCriteria))
      expect(texts(rates)).toContain(`${pct(n, f.qaPairs)} (${n}/${f.qaPairs})`);
    for (const [name, n] of Object.entries(f.judgeCriteria)) {
      expect(texts(rates)).toContain(name);
      expect(texts(rates)).toContain(`${pct(n, 120)} (${n}/120)`);
    }

    const mix = section(html, 'Sampled mix against its targets');
    const personas = mix.slice(mix.indexOf('data-dimension="persona"'), mix.indexOf('data-dimension="style"'));
    for (const [persona, n] of Object.entries(f.personas)) {
      const at = texts(personas).indexOf(persona);
      expect(texts(personas).slice(at, at + 3)).toEqual([persona, `${pct(n, 120)} (${n})`, 'target 16.7%']);
    }
    for (const key of ['style', 'emotion', 'modality', 'text_variation', 'turns'])
      expect(mix).toContain(`data-dimension="${key}"`);
    expect(texts(mix)).toEqual(
      expect.arrayContaining(['target 50.0%', 'target 70.0%', 'target 80.0%', 'target 35.0%']),
    );

    const dups = section(html, 'Removed duplicates');
    expect(dups).toContain(`${f.removed} conversations removed by stage 6, by cosine similarity`);
    const bins = [...dups.matchAll(/<rect class="bin"[^>]*><title>[\d.]+–[\d.]+: (\d+)<\/title>/g)].map((m) =>
      Number(m[1]),
    );
    expect(bins.length).toBeGreaterThan(1);
    expect(bins.reduce((a, b) => a + b, 0)).toBe(f.removed);
    expect(dups).toContain('threshold 0.95');

    const list = section(html, 'Conversations');
    expect(list).toContain('Showing 120 judged conversations (stage 4).');
    expect(list.match(/<li class="conv" /g)).toHaveLength(120);
    expect(list.match(/<li class="conv" data-pass="fail"/g)).toHaveLength(120 - f.judgeCriteria.overall_pass);
    expect(list).toContain('<b>Judge:</b> The assistant says 50 countries; the source says more than 40.');

    expect(html).toContain('<a href="trial_report.html">Trial report</a>');
    expect(readFileSync(`${dir}/trial_report.html`, 'utf8')).toContain('<a href="report.html">Full run report</a>');
  });

  it('needs nothing from the network to open', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 7, chunks: 6, conversations: 30 });
    await report(dir);
    const html = readFileSync(`${dir}/report.html`, 'utf8');
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none';`);
    expect(html).not.toMatch(/<link\b|<script[^>]+src=|<img\b|@import|url\(/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
  });

  it('lists an evenly spaced sample of a larger run and says so', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 4, chunks: 6, conversations: 60 });
    await report(dir, { limit: 25 });
    const list = section(readFileSync(`${dir}/report.html`, 'utf8'), 'Conversations');
    expect(list).toContain(
      'Showing 25 of 60 judged conversations (stage 4), evenly spaced through the file — a sample',
    );
    expect(list.match(/<li class="conv" /g)).toHaveLength(25);
    // Row ⌊k·60/25⌋ for k = 0…24: the first, the last listed near the end, none twice.
    const rows = [...list.matchAll(/<span class="muted">#(\d+)<\/span>/g)].map((m) => Number(m[1]) - 1);
    expect(rows).toEqual(Array.from({ length: 25 }, (_, k) => Math.floor((k * 60) / 25)));
    expect(printed).toContain('25 of 60 (evenly spaced) conversations listed');
  });

  it('lists none with --limit 0 and says so', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 4, chunks: 6, conversations: 20 });
    await writeReports({ 'output-dir': dir, limit: 0, domain: undefined });
    const list = section(readFileSync(`${dir}/report.html`, 'utf8'), 'Conversations');
    expect(list).toContain('None of the 20 judged conversations (stage 4) listed (scripts/report.ts --limit 0).');
    expect(list).not.toContain('<li class="conv" ');
  });
});

describe('report of a partial run', () => {
  it('writes only the trial page, lists unjudged conversations and leaves out the stages that did not run', async () => {
    const dir = tempDir();
    const f = await writeFixtureRun({ dir, prefix: 'trial_', stages: 3, chunks: 4, conversations: 24 });
    await report(dir);
    expect(existsSync(`${dir}/report.html`)).toBe(false);
    expect(printed).toContain(`Full run: no artifacts in ${dir}/, no report.html written (make full)`);
    const html = readFileSync(`${dir}/trial_report.html`, 'utf8');
    expect(texts(section(html, 'Funnel'))).toEqual([
      'chunks',
      '4',
      'Q&amp;A pairs',
      String(f.qaPairs),
      'validated Q&amp;A',
      String(f.qaCriteria.passed),
      'conversations',
      '24',
      'judged passing',
      'not run',
      'deduplicated passing',
      'not run',
      'final',
      'not run',
    ]);
    expect(section(html, 'Stages')).toContain('Not run yet: 4 judge (npx tsx 4_judge_and_save.ts), 5 embed');
    expect(html).not.toContain('Removed duplicates');
    expect(html).not.toContain('Conversation judging');
    const list = section(html, 'Conversations');
    expect(list).toContain('Showing 24 generated conversations (stage 3; not judged yet).');
    expect(list.match(/<li class="conv" data-pass="unjudged"/g)).toHaveLength(24);
  });

  it('fails with one line when neither run has artifacts', async () => {
    const dir = tempDir();
    await expect(report(dir)).rejects.toThrow(
      `${dir}/: no artifacts of the full run or the trial yet — run make trial or make full first`,
    );
  });
});

describe('report escaping', () => {
  it('never turns conversation text, personas or feedback into markup', async () => {
    const dir = tempDir();
    const attack = '</summary><script>window.pwned=1</script><img src=x onerror="alert(1)">';
    await writeFixtureRun({ dir, stages: 4, chunks: 4, conversations: 20, firstUserText: attack });
    const file = artifactPaths('', dir).conversationsJudged;
    const rows = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as JudgedConversation);
    rows[1]!.conversation.metadata.user_persona = 'x" data-pass="pass" onclick="alert(2)';
    rows[1]!.judgment.feedback = 'Looks fine <b>really</b> & done';
    writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    await report(dir);
    const html = readFileSync(`${dir}/report.html`, 'utf8');
    expect(html).not.toContain('<script>window.pwned');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onclick="alert(2)"');
    expect(html).toContain(escapeHtml(attack));
    expect(html).toContain('data-persona="x&quot; data-pass=&quot;pass&quot; onclick=&quot;alert(2)"');
    expect(html).toContain('Looks fine &lt;b&gt;really&lt;/b&gt; &amp; done');
    expect(html.match(/<script>/g)).toHaveLength(1);
  });

  it('escapes all five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('report targets', () => {
  it('compares personas of another domain with an equal share and says so', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 3, chunks: 4, conversations: 24 });
    const domain = join(dir, 'domain.json');
    writeFileSync(domain, JSON.stringify({ name: 'Acme', personas: [{ name: 'buyer', description: 'buys' }] }));
    await report(dir, { domain });
    const personas = section(readFileSync(`${dir}/report.html`, 'utf8'), 'Sampled mix against its targets');
    expect(personas).toContain(
      'target assumed to be an equal share of the 6 values seen (pass --domain with the run&#39;s domain file)',
    );
    expect(personas).not.toContain('>buyer<');
  });

  it('bins similarities from the lowest value up to 1, float error included', () => {
    const bins = histogramBins([0.95, 0.95, 0.951, 0.97, 0.9999, 1.0000001]);
    expect(bins).toHaveLength(10);
    expect(bins[0]!.from).toBeCloseTo(0.95, 9);
    expect(bins.map((b) => b.count)).toEqual([3, 0, 0, 0, 1, 0, 0, 0, 0, 2]);
    // A wider spread gets a wider step: 0.62..1 in 0.02 steps is 19 bins.
    const wide = histogramBins([0.62, 0.9]);
    expect(wide).toHaveLength(19);
    expect(wide.flatMap((b, i) => (b.count ? [[i, b.count]] : []))).toEqual([
      [0, 1],
      [14, 1],
    ]);
    expect(histogramBins([])).toEqual([]);
    // With the threshold given, the range starts there even when nothing was removed right at it.
    expect(histogramBins([0.8, 0.9], 0.5)[0]!.from).toBeCloseTo(0.5, 9);
  });
});

/** The `<li class="conv">` of row `index` (0-based). */
function item(html: string, index: number): string {
  const items = html.split('<li class="conv" ').slice(1);
  const found = items.find((i) => i.includes(`<span class="muted">#${index + 1}</span>`));
  if (!found) throw new Error(`row ${index} not listed`);
  return found.slice(0, found.indexOf('</details></li>'));
}

describe('report for reviewing a finished run', () => {
  it('marks every conversation final, removed as a duplicate, failed or not selected, by what the artifacts say', async () => {
    const dir = tempDir();
    const f = await writeFixtureRun({ dir, stages: 7, chunks: 20, conversations: 120, topK: 40 });
    await report(dir);
    const html = readFileSync(`${dir}/report.html`, 'utf8');
    const p = artifactPaths('', dir);
    const judged = lines<JudgedConversation>(p.conversationsJudged);
    const removed = lines<{ index: number; duplicate_of: number; similarity: number }>(
      sidecarPath(p.conversationsDeduplicated, '.report.jsonl'),
    );
    const removedPassing = removed.filter((r) => judged[r.index]!.judgment.overall_pass).length;
    const status = (s: string) => html.match(new RegExp(`<li class="conv" [^>]*data-status="${s}"`, 'g'))?.length ?? 0;
    expect(status('failed')).toBe(120 - f.judgeCriteria.overall_pass);
    expect(status('duplicate')).toBe(removedPassing);
    expect(status('final')).toBe(40);
    expect(status('not selected')).toBe(f.uniquePassing - 40);
    expect(status('passed') + status('not judged')).toBe(0);

    // A removed duplicate is shown beside the conversation kept in its place, with their similarity.
    const dup = removed.find((r) => judged[r.index]!.judgment.overall_pass)!;
    const entry = item(html, dup.index);
    expect(entry).toContain(
      `similarity <b class="similarity">${dup.similarity.toFixed(3)}</b> to #${dup.duplicate_of + 1}`,
    );
    const sides = entry.slice(entry.indexOf('<div class="dup">'));
    expect(sides).toContain(`This conversation (#${dup.index + 1}, removed)`);
    expect(sides).toContain(`Kept instead: #${dup.duplicate_of + 1}`);
    const keptUser = judged[dup.duplicate_of]!.conversation.messages.find((m) => m.role === 'user')!.content;
    expect(sides.slice(sides.indexOf('Kept instead'))).toContain(escapeHtml(keptUser));
  });

  it('shows each conversation’s source facts and Q&A pairs, and the turn the judge found unsupported', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 4, chunks: 12, conversations: 60 });
    await report(dir);
    const html = readFileSync(`${dir}/report.html`, 'utf8');
    const judged = lines<JudgedConversation>(artifactPaths('', dir).conversationsJudged);
    const wrong = judged.findIndex((j) => !j.judgment.factually_accurate);
    const entry = item(html, wrong);
    const pairs: QAPair[] = judged[wrong]!.conversation.source_qa_pairs;
    for (const pair of pairs) {
      expect(entry).toContain(`<div class="fact" data-fact-id="${escapeHtml(pair.fact_id!)}">`);
      expect(entry).toContain(`<blockquote class="fact-line">${escapeHtml(pair.source_text)}</blockquote>`);
      expect(entry).toContain(`<b>Q:</b> ${escapeHtml(pair.question)}`);
    }
    const turns = judged[wrong]!.conversation.metadata.num_turns;
    expect(entry).toContain(`turn ${turns}: ✗ not supported: “${escapeHtml(UNSUPPORTED_CLAIM)}”`);
    expect(entry.match(/class="msg assistant unsupported"/g)).toHaveLength(1);
    expect(entry).toContain('data-fails="factually_accurate"');
    // The filters: outcome, failing criterion, emotion and turns, beside persona and style.
    const filters = section(html, 'Conversations');
    for (const id of [
      'filter-status',
      'filter-fails',
      'filter-emotion',
      'filter-turns',
      'filter-persona',
      'filter-style',
    ])
      expect(filters).toContain(`id="${id}"`);
    expect(filters).toContain('<option value="factually_accurate">fails factually_accurate</option>');
  });

  it('names every fact that did not reach the final set in its Coverage section, with the stage it dropped out at', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 7, chunks: 20, conversations: 120, topK: 3 });
    await report(dir);
    const coverage = section(readFileSync(`${dir}/report.html`, 'utf8'), 'Coverage');
    const c = (await collectCoverage(
      artifactPaths('', dir),
      sidecarPath(artifactPaths('', dir).conversationsFinal, '.selected.jsonl'),
    ))!;
    expect(c.lost.length).toBeGreaterThan(1);
    expect(c.lost).toContainEqual({ fact_id: fixtureFactId(12), source_text: FACT_WITHOUT_PAIR, stage: 'no pair' });
    expect(c.lost.some((l) => l.stage === 'not selected')).toBe(true);
    expect(coverage).toContain(`${c.lost.length} facts not in the final set`);
    for (const l of c.lost)
      expect(coverage).toContain(
        `<tr data-fact-id="${escapeHtml(l.fact_id)}"><td><code>${escapeHtml(l.fact_id)}</code></td><td>${escapeHtml(l.stage)}</td><td>${escapeHtml(l.source_text)}</td></tr>`,
      );
    expect(coverage.match(/<tr data-fact-id=/g)).toHaveLength(c.lost.length);
  });

  it('shows the diversity figures of the final set', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 7, chunks: 20, conversations: 120 });
    await report(dir);
    const d = (await collectDiversity(
      artifactPaths('', dir),
      sidecarPath(artifactPaths('', dir).conversationsFinal, '.selected.jsonl'),
    ))!;
    const diversity = section(readFileSync(`${dir}/report.html`, 'utf8'), 'Diversity');
    expect(diversity).toContain(`Of the final set (${d.conversations} conversations).`);
    expect(diversity).toContain(
      `<tr data-role="user"><td>user</td><td class="num">${d.user.distinct1.toFixed(3)}</td><td class="num">${d.user.distinct2.toFixed(3)}</td>`,
    );
    expect(diversity).toContain(
      `<tr data-role="assistant"><td>assistant</td><td class="num">${d.assistant.distinct1.toFixed(3)}</td>`,
    );
    expect(d.openings.length).toBeGreaterThan(0);
    expect(diversity).toContain(`<li><b>${d.openings[0]!.count}</b> × ${escapeHtml(d.openings[0]!.phrase)}</li>`);
    expect(diversity).toContain(
      `<b class="nearest">${d.nearest!.mean.toFixed(3)}</b> over ${d.conversations} conversations`,
    );
  });
});

describe('report of a run whose stage 5 did not embed every judged row', () => {
  it('does not mark duplicates or final rows it cannot place, and says why', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 7, chunks: 8, conversations: 40 });
    const embedded = artifactPaths('', dir).conversationsEmbedded;
    writeFileSync(embedded, `${readFileSync(embedded, 'utf8').split('\n').filter(Boolean).slice(0, 30).join('\n')}\n`);
    await report(dir);
    const list = section(readFileSync(`${dir}/report.html`, 'utf8'), 'Conversations');
    expect(list).toContain(
      'stage 5 embedded 30 of 40 judged rows, so which judged row a duplicate or final row is cannot be told: not marked',
    );
    expect(list).not.toMatch(/data-status="(final|duplicate|not selected)"/);
    expect(list).toMatch(/data-status="passed"/);
    expect(list).not.toContain('class="dup"');
  });
});

describe('report of a run made before fact ids, per-turn verdicts and recorded selection', () => {
  it('writes the page and says what it cannot show', async () => {
    const dir = tempDir();
    await writeFixtureRun({ dir, stages: 7, chunks: 8, conversations: 40 });
    const p = artifactPaths('', dir);
    const strip = (file: string, edit: (row: JudgedConversation) => void) => {
      const rows = lines<JudgedConversation>(file);
      rows.forEach(edit);
      writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    };
    const old = (row: JudgedConversation) => {
      delete row.judgment.turn_verdicts;
      for (const pair of row.conversation.source_qa_pairs) delete pair.fact_id;
    };
    strip(p.conversationsJudged, old);
    strip(p.conversationsDeduplicated, old);
    rmSync(p.qaPairs.replace(/\.jsonl$/, '.facts.jsonl'));
    rmSync(sidecarPath(p.conversationsFinal, '.selected.jsonl'));
    expect(await report(dir)).toBe(0);
    const html = readFileSync(`${dir}/report.html`, 'utf8');
    const list = section(html, 'Conversations');
    expect(list).toContain('Per-turn verdicts: not recorded (judged before the judge answered per turn).');
    expect(list).toContain(
      '.selected.jsonl missing (stage 7 not run, or run before it recorded its rows): passing conversations are not marked final or not selected',
    );
    expect(list).not.toContain('data-status="final"');
    // The facts are still shown, by the fact line the pairs carry.
    expect(list).toContain('<blockquote class="fact-line">');
    expect(section(html, 'Coverage')).toContain('.facts.jsonl missing (a run before fact ids)');
    expect(section(html, 'Diversity')).toContain('nearest-neighbour similarity not known');
  });
});

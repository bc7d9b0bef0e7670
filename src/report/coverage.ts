// The fact funnel of a run: every fact of stage 1, followed to the final set, and where each lost one dropped out.
import { existsSync } from 'node:fs';
import type { ArtifactPaths } from '../pipeline.js';
import { factsListPath } from '../io/sidecars.js';
import { conversationFactIds, FactRecord, pairFactId } from '../facts.js';
import { JudgedConversation, QAPair, ValidatedQAPair } from '../schemas.js';
import { SelectedRow } from './final_rows.js';
import { scan } from './scan.js';

export interface Coverage {
  /** Facts → with a validated pair → in a passing conversation → after dedup → in the final set. */
  funnel: Array<{ label: string; count: number | undefined }>;
  lost: Array<{ fact_id: string; source_text: string; stage: string }>;
  notes: string[];
}

export async function collectCoverage(paths: ArtifactPaths, selectedFile: string): Promise<Coverage | undefined> {
  const notes: string[] = [];
  const facts = new Map<string, string>();
  const byText = new Map<string, string>();
  if (
    (await scan(factsListPath(paths.qaPairs), FactRecord, (f) => {
      facts.set(f.fact_id, f.source_text);
      byText.set(f.source_text, f.fact_id);
    })) === undefined
  ) {
    notes.push(
      `${factsListPath(paths.qaPairs)} missing (a run before fact ids): facts are the distinct source lines of the Q&A pairs, so a fact with no pair at all is not counted`,
    );
    await scan(paths.qaPairs, QAPair, (qa) => facts.set(pairFactId(qa), qa.source_text));
  }
  if (!facts.size) return undefined;
  const withPair = new Set<string>();
  await scan(paths.qaPairs, QAPair, (qa) => withPair.add(pairFactId(qa, byText)));
  const validated = new Set<string>();
  const v = await scan(
    paths.qaValidated,
    ValidatedQAPair,
    (r) => r.validation.passed && validated.add(pairFactId(r.qa_pair, byText)),
  );
  const judged = new Set<string>();
  const j = await scan(paths.conversationsJudged, JudgedConversation, (r) => {
    if (r.judgment.overall_pass)
      for (const f of conversationFactIds(r.conversation.source_qa_pairs, byText)) judged.add(f);
  });
  const dedup = new Set<string>();
  const d = await scan(paths.conversationsDeduplicated, JudgedConversation, (r) => {
    if (r.judgment.overall_pass)
      for (const f of conversationFactIds(r.conversation.source_qa_pairs, byText)) dedup.add(f);
  });
  let final: Set<string> | undefined;
  if (existsSync(selectedFile)) {
    final = new Set();
    await scan(selectedFile, SelectedRow, (r) => {
      for (const f of r.fact_ids) final!.add(f);
    });
  } else if (existsSync(paths.conversationsFinal))
    notes.push(
      `${selectedFile} missing (stage 7 not run, or run before fact coverage): the final set's facts are not known`,
    );
  const steps: Array<[string, Set<string> | undefined, string]> = [
    ['with a Q&A pair', withPair, 'no pair'],
    ['with a validated pair', v === undefined ? undefined : validated, 'pairs all failed validation'],
    [
      'in a passing conversation',
      j === undefined ? undefined : judged,
      'no passing conversation (none generated, or all failed the judge)',
    ],
    ['after dedup', d === undefined ? undefined : dedup, 'removed as duplicates'],
    ['in the final set', final, 'not selected'],
  ];
  const lost: Coverage['lost'] = [];
  for (const [id, text] of facts) {
    const miss = steps.find(([, set]) => set && !set.has(id));
    if (miss) lost.push({ fact_id: id, source_text: text, stage: miss[2] });
  }
  return {
    funnel: [
      { label: 'facts', count: facts.size },
      ...steps.map(([label, set]) => ({
        label,
        count: set ? [...facts.keys()].filter((f) => set.has(f)).length : undefined,
      })),
    ],
    lost,
    notes,
  };
}

/** The funnel and the lost facts as `make stats` prints them. */
export function coverageText(c: Coverage): string[] {
  const out = [
    '',
    `fact coverage: ${c.funnel.map((f) => `${f.count === undefined ? '–' : f.count} ${f.label}`).join(' → ')}`,
  ];
  if (c.lost.length)
    out.push(
      `facts not in the final set (${c.lost.length}):`,
      ...c.lost.map((l) => `  ${l.fact_id.padEnd(16)} ${l.stage.padEnd(28)} ${l.source_text.slice(0, 80)}`),
    );
  out.push(...c.notes.map((n) => `  note: ${n}`));
  return out;
}

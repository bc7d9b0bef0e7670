// Diversity figures against values worked out by hand: distinct-n, repeated openings, nearest neighbours, and which
// conversations and embeddings a run's figures are of (the final set through stage 6's report, or what there is).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { artifactPaths } from '../src/pipeline.js';
import { oneTurnMetadata } from './support/conversation_metadata.js';
import { sidecarPath } from '../src/io/sidecars.js';
import { writeJsonl } from '../src/io/jsonl.js';
import { collectDiversity, diversityText, evenlySpaced, samplePhrase } from '../src/report/diversity.js';
import {
  DistinctCounter,
  IntegerSet,
  meanNearestNeighbour,
  OpeningCounter,
  words,
} from '../src/report/diversity_measures.js';
import type { JudgedConversation } from '../src/schemas.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('words', () => {
  it('lower-cases, drops punctuation and keeps a word with an apostrophe whole', () => {
    expect(words("Quick one, I need THIS now! Swap's 40 countries…")).toEqual([
      'quick',
      'one',
      'i',
      'need',
      'this',
      'now',
      "swap's",
      '40',
      'countries',
    ]);
    expect(words('  ?! ')).toEqual([]);
  });
});

describe('distinct-n', () => {
  it('is distinct words over words, and distinct neighbouring pairs over pairs', () => {
    const d = new DistinctCounter();
    d.add(words('the cat sat'));
    d.add(words('The cat ran'));
    // words: the cat sat the cat ran → 4 distinct of 6; pairs: the-cat, cat-sat, the-cat, cat-ran → 3 distinct of 4
    expect(d.result()).toEqual({ words: 6, distinct1: 4 / 6, distinct2: 3 / 4 });
  });

  it('does not pair the last word of one message with the first of the next', () => {
    const d = new DistinctCounter();
    d.add(['a']);
    d.add(['b']);
    d.add(['a', 'b']);
    // Only one pair (a-b, in the last message): distinct-2 is 1 of 1, not 2 of 3.
    expect(d.result()).toEqual({ words: 4, distinct1: 2 / 4, distinct2: 1 });
  });

  it('is 0 with no words at all', () => {
    expect(new DistinctCounter().result()).toEqual({ words: 0, distinct1: 0, distinct2: 0 });
  });
});

describe('opening phrases', () => {
  it('counts the first five words of each message, repeated ones only, most first and then alphabetically', () => {
    const o = new OpeningCounter();
    for (const text of [
      'Hi, quick question about returns: how?',
      'hi quick question about RETURNS',
      'hi quick question about tax',
      'Thanks!',
      'thanks',
      'Can you help?',
      'can you help',
      '...',
    ])
      o.add(words(text));
    expect(o.messages).toBe(7);
    expect(o.top(10)).toEqual([
      { phrase: 'can you help', count: 2 },
      { phrase: 'hi quick question about returns', count: 2 },
      { phrase: 'thanks', count: 2 },
    ]);
    expect(o.top(1)).toEqual([{ phrase: 'can you help', count: 2 }]);
  });
});

describe('mean nearest-neighbour similarity', () => {
  it('averages each vector’s highest cosine to another one', () => {
    // a and b point the same way (cosine 1, whatever their length), c is orthogonal to both: (1 + 1 + 0) / 3.
    const v = (...x: number[]) => Float32Array.from(x);
    expect(meanNearestNeighbour([v(1, 0), v(2, 0), v(0, 1)])).toBeCloseTo(2 / 3, 12);
    // (1,0), (0,1), (1,1): every vector's nearest is at cos 45° = 1/√2.
    expect(meanNearestNeighbour([v(1, 0), v(0, 1), v(1, 1)])).toBeCloseTo(Math.SQRT1_2, 6);
    expect(meanNearestNeighbour([v(1, 0)])).toBeUndefined();
  });
});

describe('a large set’s nearest neighbours', () => {
  it('are measured on evenly spaced rows, and the figure says so', () => {
    expect(evenlySpaced([10, 11, 12, 13, 14, 15, 16, 17, 18, 19], 4)).toEqual([10, 12, 15, 17]);
    expect(samplePhrase({ mean: 0.9, rows: 1000, of: 9000 })).toBe(
      ' over 1,000 evenly spaced of 9,000 conversations (neighbours within that sample)',
    );
    expect(samplePhrase({ mean: 0.9, rows: 391, of: 391 })).toBe(' over 391 conversations');
  });
});

describe('IntegerSet', () => {
  it('counts distinct integers up to 2^52 as a Set does, across many growths', () => {
    const mine = new IntegerSet();
    const reference = new Set<number>();
    let x = 12345;
    for (let i = 0; i < 30_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const key = (x % 7000) * 2 ** 26 + (x % 13);
      mine.add(key);
      reference.add(key);
    }
    mine.add(2 ** 52 - 1);
    mine.add(2 ** 52 - 1);
    mine.add(0);
    reference.add(2 ** 52 - 1).add(0);
    expect(mine.size).toBe(reference.size);
  });
});

// A tiny run by hand: 4 judged/embedded rows, stage 6 removed row 1 as a duplicate of row 0, stage 7 chose rows 1 and
// 2 of the deduplicated file — embedded rows 2 and 3.
function conversation(user: string, assistant: string, pass = true): JudgedConversation {
  return {
    conversation: {
      messages: [
        { role: 'system', content: 'You are helpful.' },
        { role: 'user', content: user },
        { role: 'assistant', content: assistant },
      ],
      metadata: oneTurnMetadata({ style: 'casual', user_persona: 'finance' }),
      source_qa_pairs: [],
    },
    judgment: {
      factually_accurate: pass,
      natural_conversation: true,
      on_topic: true,
      adds_value: true,
      overall_pass: pass,
      feedback: '',
      issues: [],
    },
  };
}

async function tinyRun(options: { selected?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'diversity-'));
  dirs.push(dir);
  const p = artifactPaths('', dir);
  const rows = [
    conversation('how do returns work', 'returns work well'),
    conversation('how do returns work', 'returns work well'),
    conversation('how do returns work today', 'yes today', false),
    conversation('what about tax', 'tax is fine'),
  ];
  const vectors = [
    [1, 0, 0],
    [1, 0, 0],
    [1, 1, 0],
    [1, 0, 0],
  ];
  await writeJsonl(p.conversationsJudged, rows);
  await writeJsonl(
    p.conversationsEmbedded,
    rows.map((r, i) => ({ ...r, embedding: vectors[i], text_preview: '' })),
  );
  await writeJsonl(p.conversationsDeduplicated, [rows[0], rows[2], rows[3]]);
  await writeJsonl(sidecarPath(p.conversationsDeduplicated, '.report.jsonl'), [
    { index: 1, duplicate_of: 0, similarity: 1 },
  ]);
  await writeJsonl(p.conversationsFinal, [
    { messages: rows[2]!.conversation.messages },
    { messages: rows[3]!.conversation.messages },
  ]);
  writeFileSync(
    p.conversationsFinal.replace(/\.jsonl$/, '.meta.json'),
    JSON.stringify({
      stage: 'select_top',
      started_at: '2026-12-01T00:00:00Z',
      duration_s: 0,
      inputs: [],
      outputs: [],
      settings: {},
      counts: { read: 3, written: 2, failed: 0, reused: 0, filtered: {} },
    }),
  );
  const selected = sidecarPath(p.conversationsFinal, '.selected.jsonl');
  if (options.selected !== false)
    await writeJsonl(selected, [
      { index: 1, fact_ids: [] },
      { index: 2, fact_ids: [] },
    ]);
  return { p, selected };
}

describe('diversity of a run', () => {
  it('measures the final set stage 7 recorded, with the embeddings stage 6’s report maps it to', async () => {
    const { p, selected } = await tinyRun();
    const d = (await collectDiversity(p, selected))!;
    expect(d.source).toBe('the final set (2 conversations)');
    // user: "how do returns work today" + "what about tax" → 8 distinct of 8; 7 pairs, all distinct
    expect(d.user).toEqual({ words: 8, distinct1: 1, distinct2: 1 });
    // assistant: "yes today" + "tax is fine" → 5 of 5
    expect(d.assistant).toEqual({ words: 5, distinct1: 1, distinct2: 1 });
    expect(d.openings).toEqual([]);
    // Embedded rows 2 and 3: (1,1,0) and (1,0,0), cosine 1/√2 each way. Rows 0 and 1 (cosine 1) are not in the set.
    expect(d.nearest!.mean).toBeCloseTo(Math.SQRT1_2, 6);
    expect(d.nearest).toMatchObject({ rows: 2, of: 2 });
    const text = diversityText(d).join('\n');
    expect(text).toContain('diversity of the final set (2 conversations):');
    expect(text).toContain('user 1.000 / 1.000 (8 words) · assistant 1.000 / 1.000 (5 words)');
    expect(text).toContain('no user message opening (first 5 words) is repeated');
    expect(text).toContain(
      'mean nearest-neighbour similarity (cosine of stage 5 embeddings): 0.707 over 2 conversations',
    );
  });

  it('says so on a run made before stage 7 recorded its rows, and measures the final file as exported', async () => {
    const { p, selected } = await tinyRun({ selected: false });
    const d = (await collectDiversity(p, selected))!;
    expect(d.source).toBe(`${p.conversationsFinal} as exported (2 conversations)`);
    expect(d.user.words).toBe(8);
    expect(d.nearest).toBeUndefined();
    expect(diversityText(d).join('\n')).toContain(
      `note: nearest-neighbour similarity not known: ${selected} missing (stage 7 ran before it recorded its rows)`,
    );
  });

  it('falls back to the deduplicated passing conversations before stage 7, and counts repeated openings', async () => {
    const { p, selected } = await tinyRun({ selected: false });
    rmSync(p.conversationsFinal);
    const d = (await collectDiversity(p, selected))!;
    expect(d.source).toBe('the deduplicated passing conversations (stage 7 has not run) (2 conversations)');
    expect(d.user).toEqual({ words: 7, distinct1: 1, distinct2: 1 });
    // Embedded rows 0 and 3: both (1,0,0).
    expect(d.nearest!.mean).toBeCloseTo(1, 9);
  });

  it('is undefined when no conversation has been generated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'diversity-'));
    dirs.push(dir);
    expect(await collectDiversity(artifactPaths('', dir), join(dir, 'x.selected.jsonl'))).toBeUndefined();
  });
});

// The artifacts tests feed to stages (facts, Q&A pairs, judged rows) and readers for what the stages write back.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chunkMarkdown } from '../../src/chunking.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The first lines of the SWAP facts holding `chunks` chunkable lines, written to `file`. */
export function writeFacts(file: string, chunks: number): void {
  const lines = readFileSync(join(ROOT, 'data/swap_facts.md'), 'utf8').split('\n');
  const found = chunkMarkdown(lines.join('\n'));
  const last = found[chunks - 1]!.line;
  writeFileSync(file, `${lines.slice(0, last).join('\n')}\n`);
}

/** `n` distinct, schema-valid Q&A pairs (what stage 2 writes to its _passed file). */
export function writeQaPairs(file: string, n: number): void {
  const topics = [
    'returns',
    'duties',
    'shipping labels',
    'exchanges',
    'tax registration',
    'the analytics dashboard',
    'QR drop-off',
    'landed cost',
  ];
  const rows = Array.from({ length: n }, (_, i) => {
    const topic = topics[i % topics.length]!;
    return {
      question: `Question ${i + 1}: how does Swap handle ${topic}?`,
      answer: `Swap handles ${topic} through its merchant dashboard (fact ${i + 1}).`,
      source_text: `* Fact ${i + 1}: Swap handles ${topic} for merchants in more than ${10 + i} countries.`,
      context_before: '',
      context_after: '',
      difficulty: (['basic', 'intermediate', 'advanced'] as const)[i % 3],
      categories: [topic],
    };
  });
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}

/** Judged conversations (what stage 4 writes): `n` short, distinct, schema-valid rows. */
export function writeJudged(file: string, n: number): void {
  const rows = Array.from({ length: n }, (_, i) => ({
    conversation: {
      messages: [
        { role: 'system', content: 'You are the support assistant of Swap.' },
        {
          role: 'user',
          content: `Conversation ${i + 1}: can I return order ${1000 + i} from ${['France', 'Japan', 'Canada', 'Brazil'][i % 4]}?`,
        },
        {
          role: 'assistant',
          content: `Yes: order ${1000 + i} can be returned with a prepaid label or a QR code (${i % 3} days left).`,
        },
      ],
      metadata: { num_turns: 1, style: 'casual', user_persona: 'shopper', difficulty: 'basic' },
    },
    judgment: {
      factually_accurate: true,
      natural_conversation: true,
      on_topic: true,
      adds_value: i % 5 !== 0,
      overall_pass: i % 5 !== 0,
      feedback: 'fine',
    },
  }));
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}

/** Stage 3's output in `file`: the conversations of `writeJudged(judged, n)` without their judgment. */
export function writeRaw(file: string, judged: string, n: number): void {
  writeJudged(judged, n);
  writeFileSync(
    file,
    `${readRows(judged)
      .map((r) => JSON.stringify(r.conversation))
      .join('\n')}\n`,
  );
}

/** Non-blank lines of a JSONL file (0 when it does not exist). */
export function lineCount(file: string): number {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
}

/** Entries of a checkpoint file that survived: a line cut short by kill -9 does not count. */
export function savedEntries(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((line) => {
    try {
      return typeof JSON.parse(line)?.key === 'string';
    } catch {
      return false;
    }
  }).length;
}

export function readRows<T = any>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

// Writes a seeded, realistic-looking run (artifacts and manifests, shaped by the real schemas) for the stats and
// report tests and the README screenshot, and returns the numbers a reader of stats or the report should see.
import { artifactPaths } from '../../src/pipeline.js';
import { writeFileSync } from 'node:fs';
import { DISTRIBUTIONS } from '../../src/config.js';
import { SWAP_DOMAIN } from '../../src/domain.js';
import { factId } from '../../src/facts.js';
import { writeJsonl } from '../../src/io/jsonl.js';
import { Rng } from '../../src/random.js';
import {
  STYLES,
  type Conversation,
  type ConversationMetadata,
  type JudgedConversation,
  type Judgment,
  type QAPair,
  type ValidatedQAPair,
} from '../../src/schemas.js';

export interface FixtureOptions {
  dir: string;
  prefix?: string;
  /** Stages 1..N have run (1–7). */
  stages?: number;
  chunks?: number;
  conversations?: number;
  seed?: number;
  /** Extra text put into the first conversation's first user message (to test escaping). */
  firstUserText?: string;
  /** Stage 7's top-K (1000): fewer leaves passing, unique conversations not selected. */
  topK?: number;
}

export interface FixtureCounts {
  chunks: number;
  requestedPairs: number;
  futureYear: number;
  qaPairs: number;
  qaCriteria: Record<'uses_source_fact' | 'realistic_question' | 'sensible_answer' | 'passed', number>;
  conversations: number;
  judgeCriteria: Record<
    'factually_accurate' | 'natural_conversation' | 'on_topic' | 'adds_value' | 'overall_pass',
    number
  >;
  removed: number;
  unique: number;
  /** Facts in qa_pairs.facts.jsonl: every fact line used, and one that no pair came from. */
  facts: number;
  uniquePassing: number;
  final: number;
  personas: Record<string, number>;
  costUsd: number;
}

const FACTS: Array<[string, string, string, string[]]> = [
  [
    'Which product areas does Swap list in its recent job listings?',
    'Five: returns, tax, cross-border trade, demand planning and a new agentic storefront.',
    '* The same job listings give five product areas: returns, tax, cross-border trade, demand planning and a new agentic storefront.',
    ['company_info'],
  ],
  [
    'In how many countries does Swap Returns offer localised return options?',
    'More than 40 countries. Shoppers get either a prepaid label or a QR code to show at drop-off.',
    '* Swap says Swap Returns offers localised return options in more than 40 countries.',
    ['returns', 'shipping'],
  ],
  [
    'What does the Returns Analytics Dashboard report?',
    'Retained revenue, retained-revenue ratio, exchange revenue and exchange ratio — but only for returns created through Swap, not all Shopify returns.',
    '* The Returns Analytics Dashboard reports retained revenue, retained-revenue ratio, exchange revenue and exchange ratio.',
    ['returns', 'features'],
  ],
  [
    'What does Swap Global do at checkout?',
    'It calculates duties, taxes and fees at checkout, so international shoppers see the landed cost up front.',
    '* Swap Global is the cross-border checkout product: it calculates duties, taxes and fees at checkout.',
    ['tax', 'shipping'],
  ],
  [
    'Who gets tax liability reporting from Swap?',
    'Merchants who subscribe to Tax & Compliance, complete registration and use Swap Global.',
    '* Tax & Compliance is a separate Swap subscription; merchants who subscribe get tax liability reporting.',
    ['tax', 'compliance'],
  ],
  [
    'Can I book a demo of Swap?',
    'Yes — Swap offers a free 15-minute demo, and you can reach the team at contact@swap-commerce.com.',
    '* Swap offers prospective customers a free 15-minute demo.',
    ['company_info'],
  ],
  [
    'Where is the Swap merchant help centre?',
    'At help.swap-commerce.com; there are also merchant guides on a Zendesk site at swap1679.zendesk.com.',
    "* Swap's merchant help centre is hosted at help.swap-commerce.com.",
    ['operations'],
  ],
  [
    'How many merchants does Swap run cross-border logistics for?',
    'A case study by billing partner Senvo in April 2026 said more than 400 merchants.',
    '* A case study published in April 2026 by billing partner Senvo said Swap was running cross-border logistics for more than 400 merchants.',
    ['customers'],
  ],
  [
    'Which company contracts with customers under the terms of service?',
    'Swap Commerce Limited; the public website is swap-commerce.com.',
    '* The company that contracts with customers is Swap Commerce Limited.',
    ['company_info'],
  ],
  [
    'What is Clear by Swap Global?',
    'A B2B2C logistics model meant to help brands reduce duties and limit their exposure to tariffs.',
    '* Clear by Swap Global is marketed as a B2B2C logistics model.',
    ['tax', 'shipping'],
  ],
  [
    'Which protocols does Swap describe for agentic commerce?',
    'Open protocols such as ACP and UCP, which let AI shopping agents talk directly to merchant systems.',
    '* A Swap blog explainer on agentic commerce describes open protocols such as ACP and UCP.',
    ['integrations', 'api'],
  ],
  [
    'Are Swap engineering roles remote?',
    'No — Swap advertises its engineering roles as in-person jobs in London.',
    '* Swap advertises engineering roles as in-person jobs in London.',
    ['company_info'],
  ],
];

/** A fact line stage 1 found no pair for: the report's Coverage section must name it. */
export const FACT_WITHOUT_PAIR = "* Swap's office dog is called Parcel.";

/** The fact id of FACTS[f] (its line is f + 1) or, past the end, of FACT_WITHOUT_PAIR. */
export function fixtureFactId(f: number): string {
  return factId({ text: FACTS[f]?.[2] ?? FACT_WITHOUT_PAIR, line: f + 1 });
}

/** The claim a conversation that fails factually_accurate is judged not to support, in its last turn. */
export const UNSUPPORTED_CLAIM = 'Swap Returns works in 50 countries.';

const OPENERS: Record<string, string> = {
  professional: '',
  happy: 'Thanks for the help so far! ',
  frustrated: "I've been going round in circles on this. ",
  impatient: 'Quick one, I need this now: ',
  confused: "Sorry, I'm a bit lost here. ",
};

const FAILURES: Array<[keyof Judgment, string, string]> = [
  ['factually_accurate', 'The assistant says 50 countries; the source says more than 40.', 'wrong number of countries'],
  ['natural_conversation', 'The second answer repeats the first one almost word for word.', 'repetitive answer'],
  ['adds_value', 'The answer restates the question without adding the fact the user asked for.', 'answer adds nothing'],
  ['on_topic', 'The assistant drifts into general ecommerce advice unrelated to Swap.', 'off topic'],
];

const FLASH = { input: 0.3, output: 2.5 };
/** The usage of `calls` gemini-2.5-flash calls of `input` and `output` tokens each (stages 1, 3 and 4). */
const flash = (calls: number, input: number, output: number) => ({
  calls,
  model: 'gemini-2.5-flash',
  inputTokens: calls * input,
  outputTokens: calls * output,
  price: FLASH,
});
const LITE = { input: 0.1, output: 0.4 };

export async function writeFixtureRun(options: FixtureOptions): Promise<FixtureCounts> {
  const rng = new Rng(options.seed ?? 7);
  const stages = options.stages ?? 7;
  const chunkCount = options.chunks ?? 10;
  const paths = artifactPaths(options.prefix ?? '', options.dir);
  let clock = Date.parse('2026-11-20T09:00:00Z');
  let costUsd = 0;
  const manifest = (
    stage: string,
    artifact: string,
    seconds: number,
    counts: Record<string, unknown>,
    usage?: {
      calls: number;
      model: string;
      inputTokens: number;
      outputTokens: number;
      price: { input: number; output: number };
    },
    extra: Record<string, unknown> = {},
    outputs: string[] = [],
  ) => {
    const cost = usage ? (usage.inputTokens * usage.price.input + usage.outputTokens * usage.price.output) / 1e6 : 0;
    costUsd += cost;
    const totals = usage
      ? { calls: usage.calls, inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costUsd: cost }
      : { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    const { settings: more, ...rest } = extra as { settings?: Record<string, unknown> };
    const body = {
      stage,
      started_at: new Date(clock).toISOString(),
      duration_s: seconds,
      inputs: [],
      outputs: [artifact, ...outputs],
      settings: { model: usage?.model ?? null, ...more },
      counts: { reused: 0, failed: 0, filtered: {}, ...counts },
      usage: { ...totals, by_model: usage ? { [usage.model]: totals } : {}, unpriced_models: [] },
      errors_file: null,
      ...rest,
    };
    clock += seconds * 1000 + 5000;
    writeFileSync(`${artifact.replace(/\.jsonl$/, '')}.meta.json`, `${JSON.stringify(body, null, 2)}\n`);
  };

  /** Stages 3 and 4: `n` rows read and written, one gemini-2.5-flash call of `input` and `output` tokens per row. */
  const oneCallPerRow = (
    stage: string,
    artifact: string,
    seconds: number,
    n: number,
    input: number,
    output: number,
    extra: Record<string, unknown> = {},
    outputs: string[] = [],
  ) => manifest(stage, artifact, seconds, { read: n, written: n }, flash(n, input, output), extra, outputs);

  // Stage 1: three pairs per chunk; a few mention a future year and are dropped.
  const pairs: QAPair[] = [];
  let futureYear = 0;
  for (let c = 0; c < chunkCount; c++) {
    for (let k = 0; k < 3; k++) {
      if (rng.next() < 0.04) {
        futureYear++;
        continue;
      }
      const f = (c * 3 + k) % FACTS.length;
      const [question, answer, source, categories] = FACTS[f]!;
      pairs.push({
        question,
        answer,
        source_text: source,
        context_before: '## Products',
        context_after: '',
        difficulty: rng.choice(['basic', 'intermediate', 'advanced'] as const),
        categories,
        fact_id: fixtureFactId(f),
      });
    }
  }
  await writeJsonl(paths.qaPairs, pairs);
  const used = [...new Set(Array.from({ length: chunkCount * 3 }, (_, i) => i % FACTS.length))].sort((a, b) => a - b);
  const facts = [...used, FACTS.length].map((f) => ({
    fact_id: fixtureFactId(f),
    line: f + 1,
    source_text: FACTS[f]?.[2] ?? FACT_WITHOUT_PAIR,
    context_before: '## Products',
    context_after: '',
  }));
  await writeJsonl(paths.qaPairs.replace(/\.jsonl$/, '.facts.jsonl'), facts);
  manifest(
    'extract_qa',
    paths.qaPairs,
    4 + chunkCount * 0.4,
    { read: chunkCount * 3, written: pairs.length, filtered: futureYear ? { future_year: futureYear } : {} },
    flash(chunkCount, 820, 390),
    { settings: { chunks: chunkCount } },
    [],
  );
  const counts: FixtureCounts = {
    chunks: chunkCount,
    requestedPairs: chunkCount * 3,
    futureYear,
    qaPairs: pairs.length,
    qaCriteria: { uses_source_fact: 0, realistic_question: 0, sensible_answer: 0, passed: 0 },
    conversations: 0,
    judgeCriteria: { factually_accurate: 0, natural_conversation: 0, on_topic: 0, adds_value: 0, overall_pass: 0 },
    removed: 0,
    unique: 0,
    facts: facts.length,
    uniquePassing: 0,
    final: 0,
    personas: {},
    costUsd: 0,
  };
  if (stages < 2) return { ...counts, costUsd };

  // Stage 2: most pairs pass; a failing one misses exactly one criterion.
  const validated: ValidatedQAPair[] = pairs.map((qa) => {
    const miss =
      rng.next() < 0.12
        ? rng.choice(['uses_source_fact', 'realistic_question', 'sensible_answer'] as const)
        : undefined;
    const v = {
      uses_source_fact: miss !== 'uses_source_fact',
      realistic_question: miss !== 'realistic_question',
      sensible_answer: miss !== 'sensible_answer',
    };
    for (const [k, ok] of Object.entries(v)) if (ok) counts.qaCriteria[k as keyof typeof v]++;
    if (!miss) counts.qaCriteria.passed++;
    return {
      qa_pair: qa,
      validation: { ...v, passed: !miss, feedback: miss ? `Fails ${miss}.` : 'Grounded in the source and realistic.' },
    };
  });
  const passedPairs = validated.filter((v) => v.validation.passed).map((v) => v.qa_pair);
  await writeJsonl(paths.qaValidated, validated);
  await writeJsonl(paths.qaPassed, passedPairs);
  const rates = Object.fromEntries(
    Object.entries(counts.qaCriteria).map(([k, n]) => [k, { passed: n, total: pairs.length, rate: n / pairs.length }]),
  );
  manifest(
    'validate_qa',
    paths.qaValidated,
    3 + pairs.length * 0.05,
    { read: pairs.length, written: validated.length },
    {
      calls: pairs.length,
      model: 'gemini-2.5-flash-lite',
      inputTokens: pairs.length * 610,
      outputTokens: pairs.length * 64,
      price: LITE,
    },
    { pass_rates: rates, passed: passedPairs.length },
    [paths.qaPassed],
  );
  if (stages < 3) return { ...counts, costUsd };

  // Stage 3: sampled from the configured distributions, as the real sampler does.
  const n = options.conversations ?? Math.min(2000, 10 * passedPairs.length);
  const conversations: Conversation[] = [];
  for (let i = 0; i < n; i++) {
    const persona = SWAP_DOMAIN.personas[i % SWAP_DOMAIN.personas.length]!.name;
    const style = i < 18 ? STYLES[Math.floor(i / 6) % 3]! : rng.choice(STYLES);
    const system = rng.choice(SWAP_DOMAIN.systemPrompts);
    const metadata: ConversationMetadata = {
      num_turns: Math.min(rng.weighted(DISTRIBUTIONS.turns), passedPairs.length),
      style,
      user_persona: persona,
      user_emotion: rng.weighted(DISTRIBUTIONS.emotion),
      input_modality: rng.weighted(DISTRIBUTIONS.modality),
      text_variation: rng.weighted(DISTRIBUTIONS.textVariation),
      source_qa_ids: [],
      difficulty: 'intermediate',
      categories: [],
      system_prompt: system.name,
    };
    const source = rng.sample(
      passedPairs.map((_, j) => j),
      metadata.num_turns,
    );
    metadata.source_qa_ids = source;
    metadata.categories = [...new Set(source.flatMap((j) => passedPairs[j]!.categories))];
    const messages: Conversation['messages'] = [{ role: 'system', content: system.template }];
    source.forEach((j, turn) => {
      let user = (turn === 0 ? OPENERS[metadata.user_emotion] : '') + passedPairs[j]!.question;
      if (metadata.text_variation === 'all_lowercase') user = user.toLowerCase();
      if (metadata.text_variation === 'no_punctuation') user = user.replace(/[.,?!;:'"]/g, '');
      if (i === 0 && turn === 0 && options.firstUserText) user += options.firstUserText;
      messages.push(
        { role: 'user', content: user },
        {
          role: 'assistant',
          content: `${passedPairs[j]!.answer}${style === 'formal' ? ' Please let me know if you need anything further.' : ''}`,
        },
      );
    });
    conversations.push({ messages, metadata, source_qa_pairs: source.map((j) => passedPairs[j]!) });
    counts.personas[persona] = (counts.personas[persona] ?? 0) + 1;
  }
  counts.conversations = n;
  await writeJsonl(paths.conversationsRaw, conversations);
  oneCallPerRow('generate_conversations', paths.conversationsRaw, 10 + n * 0.3, n, 1450, 520);
  if (stages < 4) return { ...counts, costUsd };

  // Stage 4: about four in five pass.
  const judged: JudgedConversation[] = conversations.map((conversation) => {
    const failure = rng.next() < 0.2 ? rng.choice(FAILURES) : undefined;
    const flags = { factually_accurate: true, natural_conversation: true, on_topic: true, adds_value: true };
    if (failure) (flags as Record<string, boolean>)[failure[0]] = false;
    for (const [k, ok] of Object.entries(flags)) if (ok) counts.judgeCriteria[k as keyof typeof flags]++;
    if (!failure) counts.judgeCriteria.overall_pass++;
    // One verdict per assistant turn; an inaccurate conversation's last turn is the unsupported one.
    const turns = conversation.metadata.num_turns;
    const turn_verdicts = Array.from({ length: turns }, (_, t) => {
      const wrong = !flags.factually_accurate && t === turns - 1;
      return { turn: t + 1, supported: !wrong, unsupported_claim: wrong ? UNSUPPORTED_CLAIM : '' };
    });
    return {
      conversation,
      judgment: {
        ...flags,
        overall_pass: !failure,
        feedback: failure?.[1] ?? 'Accurate, natural and grounded in the facts.',
        issues: failure ? [failure[2]] : [],
        turn_verdicts,
      },
    };
  });
  await writeJsonl(paths.conversationsJudged, judged);
  const passing = judged.filter((j) => j.judgment.overall_pass);
  await writeJsonl(
    paths.conversationsFinal,
    passing.slice(0, 1000).map((j) => ({ messages: j.conversation.messages })),
  );
  const judgeRates = Object.fromEntries(
    Object.entries(counts.judgeCriteria).map(([k, v]) => [k, { passed: v, total: n, rate: v / n }]),
  );
  oneCallPerRow(
    'judge',
    paths.conversationsJudged,
    8 + n * 0.08,
    n,
    1320,
    85,
    { pass_rates: judgeRates, passing: passing.length },
    [paths.conversationsFinal],
  );
  counts.final = Math.min(1000, passing.length);
  if (stages < 5) return { ...counts, costUsd };

  // Stage 5: tiny vectors are enough for the schema.
  await writeJsonl(
    paths.conversationsEmbedded,
    judged.map((j, i) => ({
      ...j,
      embedding: [Math.sin(i), Math.cos(i), 0.5],
      text_preview: j.conversation.messages
        .map((m) => `${m.role.toUpperCase()}: ${m.content}`)
        .join('\n\n')
        .slice(0, 200),
    })),
  );
  const batches = Math.ceil(n / 100);
  manifest(
    'embed',
    paths.conversationsEmbedded,
    2 + batches,
    { read: n, written: n },
    {
      calls: batches,
      model: 'text-embedding-3-small',
      inputTokens: n * 600,
      outputTokens: 0,
      price: { input: 0.02, output: 0 },
    },
    {},
    [],
  );
  if (stages < 6) return { ...counts, costUsd };

  // Stage 6: about 8% removed as near-duplicates of an earlier conversation.
  const removed: Array<{ index: number; duplicate_of: number; similarity: number }> = [];
  const kept: JudgedConversation[] = [];
  judged.forEach((j, i) => {
    if (i > 0 && rng.next() < 0.08)
      removed.push({
        index: i,
        duplicate_of: rng.int(i),
        similarity: Number((0.95 + 0.05 * rng.next() ** 2).toFixed(6)),
      });
    else kept.push(j);
  });
  await writeJsonl(paths.conversationsDeduplicated, kept);
  await writeJsonl(paths.conversationsDeduplicated.replace(/\.jsonl$/, '.report.jsonl'), removed);
  counts.removed = removed.length;
  counts.unique = kept.length;
  counts.uniquePassing = kept.filter((k) => k.judgment.overall_pass).length;
  manifest(
    'deduplicate',
    paths.conversationsDeduplicated,
    1.2,
    { read: n, written: kept.length, filtered: removed.length ? { duplicate: removed.length } : {} },
    undefined,
    { settings: { method: 'cosine', threshold: 0.95 } },
    [paths.conversationsDeduplicated.replace(/\.jsonl$/, '.report.jsonl')],
  );
  if (stages < 7) {
    counts.final = Math.min(1000, passing.length);
    return { ...counts, costUsd };
  }

  // Stage 7: passing conversations only, the first top-K, and which deduplicated rows they are.
  const topK = options.topK ?? 1000;
  const chosen = kept.flatMap((k, i) => (k.judgment.overall_pass ? [i] : [])).slice(0, topK);
  const finalRows = chosen.map((i) => ({ messages: kept[i]!.conversation.messages }));
  await writeJsonl(paths.conversationsFinal, finalRows);
  const selected = paths.conversationsFinal.replace(/\.jsonl$/, '.selected.jsonl');
  await writeJsonl(
    selected,
    chosen.map((i) => ({
      index: i,
      fact_ids: [...new Set(kept[i]!.conversation.source_qa_pairs.map((p) => p.fact_id!))],
    })),
  );
  counts.final = finalRows.length;
  manifest(
    'select_top',
    paths.conversationsFinal,
    0.6,
    {
      read: kept.length,
      written: finalRows.length,
      filtered: {
        not_passing: kept.length - counts.uniquePassing,
        not_selected: counts.uniquePassing - finalRows.length,
      },
    },
    undefined,
    { settings: { format: 'messages', top_k: topK, select: 'first' } },
    [selected],
  );
  return { ...counts, costUsd };
}

// Stage 3 sampling: seeded reproducibility, the configured distributions, persona × style coverage and Q&A draws.
import { describe, expect, it } from 'vitest';
import { DISTRIBUTIONS } from '../src/config.js';
import { SWAP_DOMAIN, type Domain } from '../src/domain.js';
import { Rng } from '../src/random.js';
import {
  conversationTarget,
  planConversations,
  qaPool,
  sampleConfigs,
  type ConversationConfig,
} from '../src/sampling.js';
import { STYLES, type QAPair } from '../src/schemas.js';

const qa = (question: string, i: number): QAPair => ({
  question,
  answer: `Answer ${i}.`,
  source_text: `* fact ${i}`,
  context_before: '',
  context_after: '',
  difficulty: 'basic',
  categories: ['features'],
});
const PAIRS: QAPair[] = Array.from({ length: 40 }, (_, i) => qa(`How does feature ${i} work?`, i));

describe('seeded sampling', () => {
  it('gives identical plans for the same seed', () => {
    const a = planConversations(60, PAIRS, SWAP_DOMAIN, 7);
    const b = planConversations(60, PAIRS, SWAP_DOMAIN, 7);
    expect(b).toEqual(a);
  });

  it('gives different plans for different seeds', () => {
    const a = planConversations(60, PAIRS, SWAP_DOMAIN, 7);
    const b = planConversations(60, PAIRS, SWAP_DOMAIN, 8);
    expect(b).not.toEqual(a);
  });

  it('takes only the seeds its 32-bit state holds, each with its own stream (no wrapping onto seed 0)', () => {
    for (const seed of [4294967296, 1e300, -1, 1.5, Number.NaN])
      expect(() => new Rng(seed), String(seed)).toThrow(/integer from 0 to 4294967295/);
    const firsts = [0, 1, 2, 4294967295].map((seed) => new Rng(seed).next());
    expect(new Set(firsts).size).toBe(4);
  });

  it('Rng streams are reproducible and in [0, 1)', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
  });
});

describe('distributions over 20,000 draws', () => {
  const N = 20_000;
  const configs = sampleConfigs(N, SWAP_DOMAIN, new Rng(42));

  // 4 binomial standard deviations: a correct sampler fails this about once in 16,000 checks per category.
  function expectWithinTolerance<K extends string | number>(
    field: keyof ConversationConfig,
    weights: Record<K, number>,
    pick = (c: ConversationConfig) => c[field] as unknown,
  ) {
    const total = Object.values<number>(weights).reduce((n, w) => n + w, 0);
    const counts = new Map<string, number>();
    for (const c of configs) counts.set(String(pick(c)), (counts.get(String(pick(c))) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(Object.keys(weights).sort());
    for (const [key, weight] of Object.entries<number>(weights)) {
      const p = weight / total;
      const sigma = Math.sqrt(N * p * (1 - p));
      const observed = counts.get(key) ?? 0;
      expect(
        Math.abs(observed - N * p),
        `${String(field)}=${key}: ${observed} vs ${N * p} ± ${4 * sigma}`,
      ).toBeLessThanOrEqual(4 * sigma);
    }
  }

  it('returns exactly n configs', () => expect(configs).toHaveLength(N));
  it('turns follow {1: .20, 2: .35, 3: .35, 4: .10}', () => {
    expect(configs.every((c) => typeof c.num_turns === 'number')).toBe(true);
    expectWithinTolerance('num_turns', DISTRIBUTIONS.turns);
  });
  it('emotion follows its weights', () => expectWithinTolerance('user_emotion', DISTRIBUTIONS.emotion));
  it('input modality follows its weights', () => expectWithinTolerance('input_modality', DISTRIBUTIONS.modality));
  it('text variation follows its weights', () => expectWithinTolerance('text_variation', DISTRIBUTIONS.textVariation));
  it('personas, styles and system prompts are uniform', () => {
    expectWithinTolerance(
      'persona',
      Object.fromEntries(SWAP_DOMAIN.personas.map((p) => [p.name, 1])),
      (c) => c.persona.name,
    );
    expectWithinTolerance('style', Object.fromEntries(STYLES.map((s) => [s, 1])));
    expectWithinTolerance(
      'system_prompt',
      Object.fromEntries(SWAP_DOMAIN.systemPrompts.map((s) => [s.name, 1])),
      (c) => c.system_prompt.name,
    );
  });
  it('the configured weights are the ones issue 2 asks for', () => {
    expect(DISTRIBUTIONS).toEqual({
      turns: { 1: 0.2, 2: 0.35, 3: 0.35, 4: 0.1 },
      emotion: { professional: 0.5, happy: 0.15, frustrated: 0.15, impatient: 0.1, confused: 0.1 },
      modality: { standard: 0.7, typed_on_phone: 0.2, voice_dictated: 0.1 },
      textVariation: { standard: 0.8, all_lowercase: 0.15, no_punctuation: 0.05 },
    });
  });
});

describe('stratification', () => {
  const pairsOf = (configs: ConversationConfig[]) => new Set(configs.map((c) => `${c.persona.name}×${c.style}`));
  const allPairs = SWAP_DOMAIN.personas.flatMap((p) => STYLES.map((s) => `${p.name}×${s}`));

  it.each([18, 19, 50])('covers every persona × style pair with n = %i, whatever the seed', (n) => {
    expect(allPairs).toHaveLength(18);
    for (const seed of [0, 1, 2, 42, 1234, 99999]) {
      const configs = sampleConfigs(n, SWAP_DOMAIN, new Rng(seed));
      expect(configs).toHaveLength(n);
      expect([...pairsOf(configs)].sort()).toEqual([...allPairs].sort());
    }
  });

  it('shuffles the covering block instead of leaving it in persona order', () => {
    const names = sampleConfigs(18, SWAP_DOMAIN, new Rng(42)).map((c) => c.persona.name);
    const blockOrder = SWAP_DOMAIN.personas.flatMap((p) => STYLES.map(() => p.name));
    expect(names).not.toEqual(blockOrder);
  });

  it.each([0, 1, 5, 17])('does not crash below 18 (n = %i)', (n) => {
    const configs = sampleConfigs(n, SWAP_DOMAIN, new Rng(3));
    expect(configs).toHaveLength(n);
    expect(planConversations(n, PAIRS, SWAP_DOMAIN, 3)).toHaveLength(n);
  });

  it('covers a foreign domain with its own number of personas', () => {
    const domain: Domain = { ...SWAP_DOMAIN, personas: SWAP_DOMAIN.personas.slice(0, 2) };
    const configs = sampleConfigs(6, domain, new Rng(5));
    expect(pairsOf(configs).size).toBe(6);
  });
});

describe('conversationTarget', () => {
  it('is min(requested, perQa × available)', () => {
    expect(conversationTarget(2000, 30, 10)).toBe(300);
    expect(conversationTarget(2000, 500, 10)).toBe(2000);
    expect(conversationTarget(2000, 200, 10)).toBe(2000);
    expect(conversationTarget(50, 30, 10)).toBe(50);
    expect(conversationTarget(2000, 0, 10)).toBe(0);
  });
});

describe('Q&A draws', () => {
  const sales = SWAP_DOMAIN.systemPrompts.find((s) => s.name === 'sales')!;
  const helpful = SWAP_DOMAIN.systemPrompts.find((s) => s.name === 'helpful')!;
  const MIXED: QAPair[] = [
    qa('Who is the company director?', 0),
    qa('When was the incorporation of Swap?', 1),
    qa('Where is Swap registered?', 2),
    qa('Which DIRECTOR was appointed in 2021?', 3),
    qa('How do returns work?', 4),
    qa('What does Swap Global calculate?', 5),
    qa('Is there a free demo?', 6),
    qa('How is tax reported?', 7),
  ];
  const corporate = new Set([0, 1, 2, 3]);

  it('sales prompts avoid pairs about directors, incorporation or registration', () => {
    expect(qaPool(MIXED, sales)).toEqual([4, 5, 6, 7]);
    expect(qaPool(MIXED, helpful)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const plans = planConversations(400, MIXED, SWAP_DOMAIN, 11);
    const salesPlans = plans.filter((p) => p.config.system_prompt.name === 'sales');
    expect(salesPlans.length).toBeGreaterThan(20);
    for (const plan of salesPlans) expect(plan.qaIds.filter((id) => corporate.has(id))).toEqual([]);
    // Other prompts do draw them, so the filter above is what kept them out.
    expect(plans.some((p) => p.config.system_prompt.name !== 'sales' && p.qaIds.some((id) => corporate.has(id)))).toBe(
      true,
    );
  });

  it('falls back to every pair when the sales filter would leave none', () => {
    expect(qaPool(MIXED.slice(0, 4), sales)).toEqual([0, 1, 2, 3]);
  });

  it('draws distinct Q&A ids per conversation, one per turn', () => {
    for (const plan of planConversations(500, PAIRS, SWAP_DOMAIN, 42)) {
      expect(new Set(plan.qaIds).size).toBe(plan.qaIds.length);
      expect(plan.config.num_turns).toBe(plan.qaIds.length);
      expect(plan.qaIds.every((id) => Number.isInteger(id) && id >= 0 && id < PAIRS.length)).toBe(true);
    }
  });

  it('shortens conversations to the pairs available', () => {
    const plans = planConversations(200, PAIRS.slice(0, 2), SWAP_DOMAIN, 42);
    expect(Math.max(...plans.map((p) => p.config.num_turns))).toBe(2);
    for (const plan of plans) {
      expect(plan.config.num_turns).toBe(plan.qaIds.length);
      expect(new Set(plan.qaIds).size).toBe(plan.qaIds.length);
    }
  });

  it('keeps the sampled turns when there are enough pairs', () => {
    const plans = planConversations(2000, PAIRS, SWAP_DOMAIN, 9);
    const fours = plans.filter((p) => p.config.num_turns === 4).length;
    expect(fours).toBeGreaterThan(100);
  });
});

describe('even use of the pairs', () => {
  const sales = SWAP_DOMAIN.systemPrompts.find((s) => s.name === 'sales')!;
  // 40 facts of up to 3 pairs; a pair in seven failed validation (so some facts have 2), and one fact in eight is
  // company-registration trivia that the sales prompt passes over.
  const facts = Array.from({ length: 40 }, (_, f) => f);
  const pairs: QAPair[] = facts.flatMap((f) =>
    [0, 1, 2]
      .filter((k) => (f * 3 + k) % 7 !== 3)
      .map((k) => ({
        ...qa(f % 8 === 0 ? `Who was appointed director (${f}.${k})?` : `How does feature ${f}.${k} work?`, f),
        fact_id: `L${f + 1}-fact${f}`,
      })),
  );
  const uses = (plans: Array<{ qaIds: number[] }>) => {
    const n = new Array<number>(pairs.length).fill(0);
    for (const p of plans) for (const id of p.qaIds) n[id]!++;
    return n;
  };
  const unfiltered = pairs.map((_, i) => i).filter((i) => qaPool(pairs, sales).includes(i));

  it.each([42, 7, 2026])('uses every pair between 3/4 and 4/3 of the mean (seed %i)', (seed) => {
    const plans = planConversations(1000, pairs, SWAP_DOMAIN, seed);
    const n = uses(plans);
    const counted = unfiltered.map((i) => n[i]!);
    const mean = counted.reduce((a, b) => a + b, 0) / counted.length;
    expect(Math.min(...counted) / mean).toBeGreaterThanOrEqual(0.75);
    expect(Math.max(...counted) / mean).toBeLessThanOrEqual(4 / 3);
    // The pairs the sales filter passes over are still used, by the other prompts.
    expect(Math.min(...n)).toBeGreaterThan(0);
  });

  it('is much more even than drawing each conversation at random (the old sampler: min/mean about 0.56)', () => {
    const rng = new Rng(42);
    const random = sampleConfigs(1000, SWAP_DOMAIN, rng).map((c) => ({
      qaIds: rng.sample(qaPool(pairs, c.system_prompt), c.num_turns),
    }));
    const spread = (n: number[]) =>
      Math.min(...unfiltered.map((i) => n[i]!)) / (unfiltered.reduce((a, i) => a + n[i]!, 0) / unfiltered.length);
    expect(spread(uses(random))).toBeLessThan(0.75);
    expect(spread(uses(planConversations(1000, pairs, SWAP_DOMAIN, 42)))).toBeGreaterThanOrEqual(0.75);
  });

  it('gives each fact its share: uses in proportion to its validated pairs, one pair of a fact per conversation', () => {
    const plans = planConversations(1000, pairs, SWAP_DOMAIN, 42);
    const n = uses(plans);
    const perPair = new Map<string, number[]>();
    pairs.forEach((p, i) => {
      perPair.set(p.fact_id!, [...(perPair.get(p.fact_id!) ?? []), n[i]!]);
    });
    const mean = n.reduce((a, b) => a + b, 0) / n.length;
    for (const [fact, list] of perPair) {
      const share = list.reduce((a, b) => a + b, 0) / list.length;
      expect(share / mean, fact).toBeGreaterThanOrEqual(0.75);
    }
    for (const plan of plans) expect(new Set(plan.qaIds.map((id) => pairs[id]!.fact_id)).size).toBe(plan.qaIds.length);
  });
});

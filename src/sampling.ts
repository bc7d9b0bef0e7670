// Samples the configuration of every conversation (persona, style, emotion, modality, text variation, turns, system
// prompt) and the Q&A pairs it is built from, seeded so a run is reproducible.
import { DISTRIBUTIONS } from './config.js';
import type { Domain, Persona, SystemPromptTemplate } from './domain.js';
import { pairFactId } from './facts.js';
import { Rng } from './random.js';
import { STYLES, type QAPair } from './schemas.js';

export type Style = (typeof STYLES)[number];
export type Emotion = keyof typeof DISTRIBUTIONS.emotion;
export type Modality = keyof typeof DISTRIBUTIONS.modality;
export type TextVariationName = keyof typeof DISTRIBUTIONS.textVariation;

export interface ConversationConfig {
  num_turns: number;
  style: Style;
  persona: Persona;
  system_prompt: SystemPromptTemplate;
  user_emotion: Emotion;
  input_modality: Modality;
  text_variation: TextVariationName;
}

export interface ConversationPlan {
  config: ConversationConfig;
  /** Indices into the Q&A list, one pair per turn. */
  qaIds: number[];
}

function randomConfig(rng: Rng, domain: Domain, persona?: Persona, style?: Style): ConversationConfig {
  return {
    num_turns: rng.weighted(DISTRIBUTIONS.turns),
    style: style ?? rng.choice(STYLES),
    persona: persona ?? rng.choice(domain.personas),
    system_prompt: rng.choice(domain.systemPrompts),
    user_emotion: rng.weighted(DISTRIBUTIONS.emotion),
    input_modality: rng.weighted(DISTRIBUTIONS.modality),
    text_variation: rng.weighted(DISTRIBUTIONS.textVariation),
  };
}

/**
 * Stratified: when there is room for it, every persona × style pair appears at least once; the rest are drawn at
 * random, and the whole list is shuffled so the covering block does not sit at the front.
 */
export function sampleConfigs(n: number, domain: Domain, rng: Rng): ConversationConfig[] {
  const configs: ConversationConfig[] = [];
  if (n >= domain.personas.length * STYLES.length) {
    for (const persona of domain.personas)
      for (const style of STYLES) configs.push(randomConfig(rng, domain, persona, style));
  }
  while (configs.length < n) configs.push(randomConfig(rng, domain));
  return rng.shuffle(configs).slice(0, n);
}

// A sales conversation is no place for company-registration trivia (the original's pragmatic topic match).
const SALES_AVOID = ['appointed', 'director', 'registered', 'incorporation', 'companies house'];

export function isSalesPrompt(template: SystemPromptTemplate): boolean {
  return template.use_case === 'sales' || /sales|solutions/i.test(template.name);
}

export function qaPool(pairs: QAPair[], template: SystemPromptTemplate): number[] {
  const all = pairs.map((_, i) => i);
  if (!isSalesPrompt(template)) return all;
  const filtered = all.filter((i) => !SALES_AVOID.some((word) => pairs[i]!.question.toLowerCase().includes(word)));
  return filtered.length ? filtered : all;
}

/** target = min(requested, perQa × available pairs), as the original capped it. */
export function conversationTarget(requested: number, available: number, perQa: number): number {
  return Math.min(requested, perQa * available);
}

/**
 * One Q&A pair per turn, drawn so every pair is used about equally: pairs are dealt from a seeded shuffled deck, one
 * round after another, so no pair is used a second time before every other pair has been used once. A sales
 * conversation passes over the pairs its topic filter excludes, which stay at the front of the deck for the next
 * conversation that may use them; within a conversation, a pair of a fact already in it is passed over while
 * another fact can take the turn, so a fact is spread over conversations rather than repeated inside one.
 */
export function planConversations(n: number, pairs: QAPair[], domain: Domain, seed: number): ConversationPlan[] {
  const rng = new Rng(seed);
  const deck = new PairDeck(pairs, rng);
  const pools = new Map<SystemPromptTemplate, Set<number>>();
  return sampleConfigs(n, domain, rng).map((config) => {
    let allowed = pools.get(config.system_prompt);
    if (!allowed) {
      allowed = new Set(qaPool(pairs, config.system_prompt));
      pools.set(config.system_prompt, allowed);
    }
    const qaIds = deck.deal(Math.min(config.num_turns, allowed.size), allowed);
    // Too few pairs for the sampled length: the conversation gets one turn per pair it has.
    return { config: { ...config, num_turns: qaIds.length }, qaIds };
  });
}

class PairDeck {
  private cards: number[] = [];
  private next = 0;
  private readonly facts: string[];

  constructor(
    private readonly pairs: QAPair[],
    private readonly rng: Rng,
  ) {
    this.facts = pairs.map((p) => pairFactId(p));
  }

  /** `k` distinct pairs out of `allowed`, least used first. */
  deal(k: number, allowed: ReadonlySet<number>): number[] {
    const chosen: number[] = [];
    const facts = new Set<string>();
    for (let refills = 0; chosen.length < k; ) {
      const at = this.find(allowed, chosen, facts) ?? this.find(allowed, chosen);
      if (at === undefined) {
        // Nothing usable left in this round: the next round goes behind what is left of it.
        if (refills++ > 1) break;
        this.cards = [...this.cards.slice(this.next), ...this.rng.shuffle(this.pairs.map((_, i) => i))];
        this.next = 0;
        continue;
      }
      // Swap the dealt card to the front of what remains; a passed-over card keeps its turn in this round.
      const card = this.cards[at]!;
      [this.cards[at], this.cards[this.next]] = [this.cards[this.next]!, card];
      this.next++;
      chosen.push(card);
      facts.add(this.facts[card]!);
    }
    return chosen;
  }

  private find(allowed: ReadonlySet<number>, chosen: number[], facts?: Set<string>): number | undefined {
    for (let at = this.next; at < this.cards.length; at++) {
      const card = this.cards[at]!;
      if (allowed.has(card) && !chosen.includes(card) && !facts?.has(this.facts[card]!)) return at;
    }
    return undefined;
  }
}

// Samples the configuration of every conversation (persona, style, emotion, modality, text variation, turns, system
// prompt) and the Q&A pairs it is built from, seeded so a run is reproducible.
import { DISTRIBUTIONS } from './config.js';
import type { Domain, Persona, SystemPromptTemplate } from './domain.js';
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
    for (const persona of domain.personas) for (const style of STYLES) configs.push(randomConfig(rng, domain, persona, style));
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

export function planConversations(n: number, pairs: QAPair[], domain: Domain, seed: number): ConversationPlan[] {
  const rng = new Rng(seed);
  return sampleConfigs(n, domain, rng).map((config) => {
    const qaIds = rng.sample(qaPool(pairs, config.system_prompt), config.num_turns);
    // Too few pairs for the sampled length: the conversation gets one turn per pair it has.
    return { config: { ...config, num_turns: qaIds.length }, qaIds };
  });
}

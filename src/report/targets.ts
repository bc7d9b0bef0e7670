// The configured share of every sampled conversation dimension (stage 3), to set a run's actual mix against.
import { DISTRIBUTIONS } from '../config.js';
import type { Domain } from '../domain.js';
import { STYLES, type ConversationMetadata } from '../schemas.js';

export interface Dimension {
  key: string;
  title: string;
  /** Target share per value, summing to 1; empty when nothing was configured (system prompts of an old run). */
  target: Record<string, number>;
  value(metadata: ConversationMetadata): string | undefined;
}

function uniform(names: readonly string[]): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, 1 / names.length]));
}

function normalised(weights: Record<string | number, number>): Record<string, number> {
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  return Object.fromEntries(Object.entries(weights).map(([k, w]) => [k, w / total]));
}

/**
 * Personas, styles and system prompts are drawn uniformly (stratification only guarantees every persona × style
 * pair appears), so their target is an equal share; the other dimensions have weights in config.ts.
 */
export function sampledDimensions(domain: Domain): Dimension[] {
  return [
    {
      key: 'persona',
      title: 'Persona',
      target: uniform(domain.personas.map((p) => p.name)),
      value: (m) => m.user_persona,
    },
    { key: 'style', title: 'Style', target: uniform(STYLES), value: (m) => m.style },
    { key: 'emotion', title: 'User emotion', target: normalised(DISTRIBUTIONS.emotion), value: (m) => m.user_emotion },
    {
      key: 'modality',
      title: 'Input modality',
      target: normalised(DISTRIBUTIONS.modality),
      value: (m) => m.input_modality,
    },
    {
      key: 'text_variation',
      title: 'Text variation',
      target: normalised(DISTRIBUTIONS.textVariation),
      value: (m) => m.text_variation,
    },
    { key: 'turns', title: 'Turns', target: normalised(DISTRIBUTIONS.turns), value: (m) => String(m.num_turns) },
    {
      key: 'system_prompt',
      title: 'System prompt',
      target: uniform(domain.systemPrompts.map((s) => s.name)),
      value: (m) => m.system_prompt,
    },
  ];
}

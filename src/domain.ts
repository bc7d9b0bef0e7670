// The company a run is about: built-in SWAP Commerce defaults, overridable by a validated JSON file.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { readJsonFile } from './jsonl.js';

// Strict like the file itself: a misspelt key (`typical_question`) is an error, not silently dropped.
export const Persona = z.strictObject({
  name: z.string().min(1),
  description: z.string().min(1),
  typical_questions: z.array(z.string()).default([]),
  formality: z.enum(['formal', 'casual', 'neutral', 'technical']).default('neutral'),
});
export type Persona = z.infer<typeof Persona>;

export const SystemPromptTemplate = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  template: z.string().min(1),
  verbosity: z.enum(['concise', 'balanced', 'detailed']).default('balanced'),
  use_case: z.string().default('general'),
});
export type SystemPromptTemplate = z.infer<typeof SystemPromptTemplate>;

export const DomainFile = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().min(1).optional(),
  personas: z.array(Persona).min(1).optional(),
  system_prompts: z.array(SystemPromptTemplate).min(1).optional(),
  topics: z.array(z.string().min(1)).min(1).optional(),
});

export interface Domain {
  name: string;
  description: string;
  personas: Persona[];
  systemPrompts: SystemPromptTemplate[];
  topics: string[];
}

const SWAP = 'SWAP Commerce';

export const SWAP_DOMAIN: Domain = {
  name: SWAP,
  description: 'SWAP Commerce (Swap) sells software that runs the operational back end of online retail: returns and exchanges, international shipping, and duties and tax.',
  personas: [
    { name: 'developer', description: `Software developer or engineer evaluating ${SWAP}'s APIs and technical implementation`, typical_questions: ['API integration details', 'Technical specifications', 'SDK usage', 'Error handling'], formality: 'technical' },
    { name: 'product_manager', description: `Product manager researching ${SWAP} features, capabilities, and business value`, typical_questions: ['Feature comparisons', 'Roadmap questions', 'Use cases', 'ROI analysis'], formality: 'formal' },
    { name: 'cs_agent', description: `Customer success or support agent learning about ${SWAP} to help customers`, typical_questions: ['Setup instructions', 'Troubleshooting', 'Configuration options', 'Best practices'], formality: 'neutral' },
    { name: 'executive', description: `Business executive or decision-maker evaluating ${SWAP} for strategic fit and ROI`, typical_questions: ['Business value', 'Competitive advantages', 'Pricing strategy', 'Scalability'], formality: 'formal' },
    { name: 'operations', description: `Operations or logistics manager interested in ${SWAP}'s operational features and integrations`, typical_questions: ['Integration capabilities', 'Workflow automation', 'Performance metrics', 'SLA guarantees'], formality: 'neutral' },
    { name: 'finance', description: 'Finance or accounting professional interested in tax compliance, pricing, and financial aspects', typical_questions: ['Tax compliance', 'Financial reporting', 'Audit trails', 'Cost structure'], formality: 'formal' },
  ],
  systemPrompts: [
    { name: 'helpful', description: 'Helpful and friendly assistant', template: `You are a helpful AI assistant with expertise in ${SWAP}'s e-commerce platform and services. You provide accurate, friendly, and detailed answers to questions about ${SWAP}'s products, features, integrations, and pricing.`, verbosity: 'detailed', use_case: 'general' },
    { name: 'concise', description: 'Brief and to-the-point responses', template: `You are a ${SWAP} expert providing clear, concise answers. Focus on key information without unnecessary detail.`, verbosity: 'concise', use_case: 'quick_reference' },
    { name: 'technical', description: 'Technical expert for developers', template: `You are a technical expert on ${SWAP}'s platform. You provide detailed technical information about APIs, integrations, implementation, and system architecture. You assume the user has technical knowledge.`, verbosity: 'detailed', use_case: 'developer' },
    { name: 'detailed', description: 'Comprehensive explanations', template: `You are a comprehensive ${SWAP} expert who provides thorough, well-explained answers with examples, context, and relevant details. You ensure users fully understand the topic.`, verbosity: 'detailed', use_case: 'learning' },
    { name: 'sales', description: 'Sales and solutions focused', template: `You are a ${SWAP} solutions consultant helping potential customers understand how ${SWAP} can solve their e-commerce challenges. You're knowledgeable about features, benefits, and competitive advantages.`, verbosity: 'balanced', use_case: 'sales' },
  ],
  topics: ['pricing', 'features', 'integrations', 'api', 'compliance', 'tax', 'shipping', 'returns', 'tracking', 'inventory', 'operations', 'company_info', 'funding', 'customers', 'partnerships', 'security'],
};

/**
 * Loads the domain: an explicit path must exist; the default path is used only when present.
 * A file replaces each key it names; keys it leaves out keep SWAP's defaults — except that a file naming another
 * company without its own personas or system prompts gets SWAP's wording rewritten to the new name, so no prompt
 * of a foreign run mentions SWAP.
 */
export function loadDomain(path: string | undefined, defaultPath: string): Domain {
  const file = path ?? (existsSync(defaultPath) ? defaultPath : undefined);
  if (!file) return SWAP_DOMAIN;
  const d = readJsonFile(file, DomainFile, { what: 'domain file', ifMissing: 'a JSON file, see README "Domain"' });
  const name = d.name ?? SWAP_DOMAIN.name;
  const rename = (text: string) => (name === SWAP ? text : text.replaceAll(`${SWAP}'s`, `${name}'s`).replaceAll(SWAP, name));
  return {
    name,
    description: d.description ?? (name === SWAP ? SWAP_DOMAIN.description : `${name}, the company described in the facts file.`),
    personas: d.personas ?? SWAP_DOMAIN.personas.map((p) => ({ ...p, description: rename(p.description) })),
    systemPrompts: d.system_prompts ?? SWAP_DOMAIN.systemPrompts.map((s) => ({ ...s, template: rename(s.template) })),
    topics: d.topics ?? SWAP_DOMAIN.topics,
  };
}

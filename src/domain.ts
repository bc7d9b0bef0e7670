// The company a run is about: built-in SWAP Commerce defaults, overridable by a validated JSON file; another company's
// file gets generic defaults for what it leaves out.
import { existsSync } from 'node:fs';
import { z } from './zod.js';
import { GENERIC_TOPICS, genericDescription, genericPersonas, genericSystemPrompts } from './generic_domain.js';
import { readJsonFile } from './io/jsonl.js';

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
  description:
    'SWAP Commerce (Swap) sells software that runs the operational back end of online retail: returns and exchanges, international shipping, and duties and tax.',
  personas: [
    {
      name: 'developer',
      description: `Software developer or engineer evaluating ${SWAP}'s APIs and technical implementation`,
      typical_questions: ['API integration details', 'Technical specifications', 'SDK usage', 'Error handling'],
      formality: 'technical',
    },
    {
      name: 'product_manager',
      description: `Product manager researching ${SWAP} features, capabilities, and business value`,
      typical_questions: ['Feature comparisons', 'Roadmap questions', 'Use cases', 'ROI analysis'],
      formality: 'formal',
    },
    {
      name: 'cs_agent',
      description: `Customer success or support agent learning about ${SWAP} to help customers`,
      typical_questions: ['Setup instructions', 'Troubleshooting', 'Configuration options', 'Best practices'],
      formality: 'neutral',
    },
    {
      name: 'executive',
      description: `Business executive or decision-maker evaluating ${SWAP} for strategic fit and ROI`,
      typical_questions: ['Business value', 'Competitive advantages', 'Pricing strategy', 'Scalability'],
      formality: 'formal',
    },
    {
      name: 'operations',
      description: `Operations or logistics manager interested in ${SWAP}'s operational features and integrations`,
      typical_questions: ['Integration capabilities', 'Workflow automation', 'Performance metrics', 'SLA guarantees'],
      formality: 'neutral',
    },
    {
      name: 'finance',
      description: 'Finance or accounting professional interested in tax compliance, pricing, and financial aspects',
      typical_questions: ['Tax compliance', 'Financial reporting', 'Audit trails', 'Cost structure'],
      formality: 'formal',
    },
  ],
  systemPrompts: [
    {
      name: 'helpful',
      description: 'Helpful and friendly assistant',
      template: `You are a helpful AI assistant with expertise in ${SWAP}'s e-commerce platform and services. You provide accurate, friendly, and detailed answers to questions about ${SWAP}'s products, features, integrations, and pricing.`,
      verbosity: 'detailed',
      use_case: 'general',
    },
    {
      name: 'concise',
      description: 'Brief and to-the-point responses',
      template: `You are a ${SWAP} expert providing clear, concise answers. Focus on key information without unnecessary detail.`,
      verbosity: 'concise',
      use_case: 'quick_reference',
    },
    {
      name: 'technical',
      description: 'Technical expert for developers',
      template: `You are a technical expert on ${SWAP}'s platform. You provide detailed technical information about APIs, integrations, implementation, and system architecture. You assume the user has technical knowledge.`,
      verbosity: 'detailed',
      use_case: 'developer',
    },
    {
      name: 'detailed',
      description: 'Comprehensive explanations',
      template: `You are a comprehensive ${SWAP} expert who provides thorough, well-explained answers with examples, context, and relevant details. You ensure users fully understand the topic.`,
      verbosity: 'detailed',
      use_case: 'learning',
    },
    {
      name: 'sales',
      description: 'Sales and solutions focused',
      template: `You are a ${SWAP} solutions consultant helping potential customers understand how ${SWAP} can solve their e-commerce challenges. You're knowledgeable about features, benefits, and competitive advantages.`,
      verbosity: 'balanced',
      use_case: 'sales',
    },
  ],
  topics: [
    'pricing',
    'features',
    'integrations',
    'api',
    'compliance',
    'tax',
    'shipping',
    'returns',
    'tracking',
    'inventory',
    'operations',
    'company_info',
    'funding',
    'customers',
    'partnerships',
    'security',
  ],
};

/** The domain file a run uses: the explicit path, else the default path when it exists, else none (SWAP). */
export function domainFilePath(path: string | undefined, defaultPath: string): string | undefined {
  return path ?? (existsSync(defaultPath) ? defaultPath : undefined);
}

export interface LoadOptions {
  /** Where the start-up warning about built-in SWAP text goes (stderr by default). */
  warn?: (line: string) => void;
}

/**
 * Loads the domain: an explicit path must exist; the default path is used only when present.
 * A file replaces each key it names. Keys it leaves out keep SWAP's defaults when the file is SWAP's own; for another
 * company they are generic (src/generic_domain.ts), so no prompt of a foreign run carries SWAP's name or trade.
 */
export function loadDomain(path: string | undefined, defaultPath: string, options: LoadOptions = {}): Domain {
  const file = domainFilePath(path, defaultPath);
  if (!file) return SWAP_DOMAIN;
  const d = readJsonFile(file, DomainFile, { what: 'domain file', ifMissing: 'a JSON file, see README "Domain"' });
  const name = d.name ?? SWAP_DOMAIN.name;
  const swap = name === SWAP;
  if (!swap) warnBuiltInText(file, d, options.warn);
  return {
    name,
    description: d.description ?? (swap ? SWAP_DOMAIN.description : genericDescription(name)),
    personas: d.personas ?? (swap ? SWAP_DOMAIN.personas : genericPersonas(name)),
    systemPrompts: d.system_prompts ?? (swap ? SWAP_DOMAIN.systemPrompts : genericSystemPrompts(name)),
    topics: d.topics ?? (swap ? SWAP_DOMAIN.topics : GENERIC_TOPICS),
  };
}

const warned = new Set<string>();

/** Once per file and process (a trial loads it four times): a foreign domain that still holds SWAP's wording. */
function warnBuiltInText(
  file: string,
  d: DomainFile,
  warn: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
): void {
  const where = builtInTextIn(d);
  if (!where.length || warned.has(file)) return;
  warned.add(file);
  warn(
    `warning: ${file} names ${d.name} but still holds built-in ${SWAP} text (${where.slice(0, 4).join(', ')}${where.length > 4 ? ', …' : ''}); edit it, or write a new one with make domain`,
  );
}

export type DomainFile = z.infer<typeof DomainFile>;

/** The fields of a domain file that hold SWAP's name or a built-in SWAP text (also with the name swapped in). */
export function builtInTextIn(d: DomainFile): string[] {
  const name = d.name ?? SWAP;
  const builtIn = new Set(
    [
      SWAP_DOMAIN.description,
      ...SWAP_DOMAIN.personas.map((p) => p.description),
      ...SWAP_DOMAIN.systemPrompts.map((s) => s.template),
    ].flatMap((t) => [t, t.replaceAll(SWAP, name)]),
  );
  // SWAP in capitals or the full name: "swap the filter" is an ordinary verb.
  const holds = (text: string) => /\bSWAP\b/.test(text) || /swap[ -]commerce/i.test(text) || builtIn.has(text);
  const where: string[] = [];
  if (d.description && holds(d.description)) where.push('description');
  d.personas?.forEach((p, i) => {
    if (holds(p.description) || p.typical_questions.some(holds)) where.push(`personas.${i}`);
  });
  d.system_prompts?.forEach((s, i) => {
    if (holds(s.template) || holds(s.description)) where.push(`system_prompts.${i}`);
  });
  if (d.topics && d.topics.join() === SWAP_DOMAIN.topics.join()) where.push('topics');
  return where;
}

// Defaults for a company that is not SWAP, when its domain file leaves a key out: worded for any business, with no
// industry in them (no e-commerce, no APIs), so nothing of SWAP's trade leaks into another company's conversations.
import type { Persona, SystemPromptTemplate } from './domain.js';

export function genericPersonas(name: string): Persona[] {
  return [
    {
      name: 'prospective_customer',
      description: `Someone considering ${name} for the first time, comparing what it offers with the alternatives`,
      typical_questions: ['What is on offer', 'Prices', 'How it compares', 'How to get started'],
      formality: 'neutral',
    },
    {
      name: 'customer',
      description: `An existing customer of ${name} who wants help with something they already have or use`,
      typical_questions: ['How to do something', 'Fixing a problem', 'Changing an order or plan', 'Where to get help'],
      formality: 'casual',
    },
    {
      name: 'decision_maker',
      description: `A manager or owner deciding whether ${name} fits their organisation, weighing value, cost and risk`,
      typical_questions: ['Value for money', 'Reliability', 'Terms and commitments', 'Who else relies on it'],
      formality: 'formal',
    },
    {
      name: 'specialist',
      description: `A specialist who needs precise details of what ${name} offers: specifications, limits and requirements`,
      typical_questions: ['Exact specifications', 'Limits', 'Requirements', 'Compatibility'],
      formality: 'technical',
    },
    {
      name: 'partner',
      description: `A partner, reseller or supplier working with ${name}`,
      typical_questions: ['Terms of working together', 'Contacts', 'Processes', 'Volumes and prices'],
      formality: 'formal',
    },
    {
      name: 'new_employee',
      description: `A new ${name} employee learning the facts in order to answer other people's questions`,
      typical_questions: ['Company background', 'Policies', 'Common questions', 'Where things are written down'],
      formality: 'neutral',
    },
  ];
}

export function genericSystemPrompts(name: string): SystemPromptTemplate[] {
  return [
    {
      name: 'helpful',
      description: 'Helpful and friendly assistant',
      template: `You are a helpful AI assistant for ${name}. You give accurate, friendly and complete answers about ${name}, what it offers and how it works.`,
      verbosity: 'detailed',
      use_case: 'general',
    },
    {
      name: 'concise',
      description: 'Brief and to-the-point responses',
      template: `You are a ${name} assistant giving clear, concise answers. Focus on the key information without unnecessary detail.`,
      verbosity: 'concise',
      use_case: 'quick_reference',
    },
    {
      name: 'detailed',
      description: 'Comprehensive explanations',
      template: `You are a thorough ${name} expert who explains things fully, with context and examples, so the user understands the topic.`,
      verbosity: 'detailed',
      use_case: 'learning',
    },
    {
      name: 'support',
      description: 'Patient problem solving',
      template: `You are ${name}'s support assistant. You help people solve problems step by step, patiently and precisely.`,
      verbosity: 'balanced',
      use_case: 'support',
    },
    {
      name: 'sales',
      description: 'Advice for potential customers',
      template: `You are a ${name} advisor helping potential customers understand what ${name} offers and whether it fits their needs. You are honest about what it does and does not do.`,
      verbosity: 'balanced',
      use_case: 'sales',
    },
  ];
}

export const GENERIC_TOPICS = [
  'products',
  'services',
  'pricing',
  'getting_started',
  'support',
  'policies',
  'company_info',
  'people',
  'locations',
  'partnerships',
];

export function genericDescription(name: string): string {
  return `${name}, the company the facts describe.`;
}

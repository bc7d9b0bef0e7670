// Proposing a domain file from the facts: the schema the model answers (derived from the domain file's), the one
// prompt, the checks a schema cannot say, and the atomic write of data/domain.json.
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { z } from './zod.js';
import { builtInTextIn, DomainFile, Persona, SWAP_DOMAIN } from './domain.js';
import { namesBuiltInCompany } from './domain_checks.js';
import { InputError } from './errors.js';
import { ensureWritableDir, writeFailureReason } from './io/jsonl.js';

// Every key the file may leave out is required of the model, with the counts the issue asks for: enough personas
// for stage 3's persona × style strata to vary, few enough for the user to read and edit.
export const ProposedDomain = DomainFile.required().extend({
  personas: z
    .array(Persona.extend({ typical_questions: z.array(z.string().min(1)).min(2).max(6) }))
    .min(4)
    .max(8),
  system_prompts: DomainFile.shape.system_prompts.unwrap().min(3).max(6),
  // Stage 1 offers these as the Q&A pairs' categories ("preferably from: …"), so they are the categories too.
  topics: DomainFile.shape.topics.unwrap().min(5).max(16),
});
export type ProposedDomain = z.infer<typeof ProposedDomain>;

export const DOMAIN_SCHEMA_NAME = 'domain_proposal';

/**
 * Facts beyond this are left out of the one request (~50k tokens at four characters a token): enough to see what a
 * company offers and who asks about it, far inside every default model's context, and a bounded cost.
 */
export const PROPOSAL_FACTS_CHARS = 200_000;

/**
 * What a typical answer costs in output tokens, for the dry run: 6 personas of a 150-character description and
 * four 60-character questions, 4 system prompts of ~350 characters with their short fields, 10 topics, as JSON
 * (keys and quotes included), at four characters a token.
 */
export const PROPOSAL_OUTPUT_TOKENS = 1_300;

/** The facts as sent: whole when they fit, else their start, with how much was left out. */
export function factsForProposal(text: string): { facts: string; omitted: number } {
  if (text.length <= PROPOSAL_FACTS_CHARS) return { facts: text, omitted: 0 };
  const cut = text.lastIndexOf('\n', PROPOSAL_FACTS_CHARS);
  const facts = text.slice(0, cut > 0 ? cut : PROPOSAL_FACTS_CHARS);
  return { facts, omitted: text.length - facts.length };
}

export function domainProposalPrompt(facts: string): { system: string; prompt: string } {
  const system =
    "You read a company's own documents and describe, for a synthetic-training-data pipeline, the company, the people who ask it questions and the assistants that answer them. You use only what the documents say or clearly imply.";
  const prompt = `Read the FACTS below and propose the domain of an AI assistant that answers questions about this company.

Write:
- name: the company's name as the facts write it.
- description: one or two sentences saying what the company does and for whom, in the facts' own terms.
- personas: 4 to 8 kinds of people who would ask this company questions, each different in role and needs. name:
  a short snake_case label; description: one sentence naming who they are and what they want from the company;
  typical_questions: 2 to 6 short topics they ask about, grounded in the facts; formality: formal, casual, neutral
  or technical, as that person writes.
- system_prompts: 3 to 6 system prompts for the assistant, each a different way of answering. name: a short
  snake_case label; description: a few words; template: the system prompt itself, in the second person ("You are
  …"), naming the company and saying what the assistant knows and how it answers; verbosity: concise, balanced or
  detailed; use_case: a short label (general, quick_reference, support, learning, sales …). Use the use_case "sales"
  for one that advises potential customers.
- topics: 5 to 16 short snake_case topic names covering what the facts are about; they become the categories of the
  question-answer pairs written from the facts.

Describe this company only: do not add an industry, products or customers the facts do not mention.

FACTS:
${facts}
END OF FACTS`;
  return { system, prompt };
}

/** Rules the schema cannot express, for these facts; the reason is sent back to the model with the retry. */
export function proposalCheck(facts: string): (d: ProposedDomain) => string | undefined {
  // The built-in company's own facts may propose its own domain; anyone else's must not come back with its text.
  const builtInFacts = namesBuiltInCompany(facts);
  return (d) => proposalProblem(d, builtInFacts);
}

function proposalProblem(d: ProposedDomain, builtInFacts: boolean): string | undefined {
  for (const [what, names] of [
    ['persona', d.personas.map((p) => p.name)],
    ['system prompt', d.system_prompts.map((s) => s.name)],
    ['topic', d.topics],
  ] as const) {
    const repeated = names.find((n, i) => names.indexOf(n) !== i);
    if (repeated !== undefined)
      return `the ${what} name ${JSON.stringify(repeated)} appears twice: every ${what} needs its own name`;
  }
  const builtIn = builtInFacts ? [] : builtInTextIn(d);
  if (builtIn.length)
    return `${builtIn.join(', ')} describe ${SWAP_DOMAIN.name}, not ${d.name}: describe the company of the facts`;
  return undefined;
}

/** Refuses, before anything is paid for, to replace a file the user may have edited. */
export function assertMayWrite(output: string, force: boolean | undefined): void {
  if (existsSync(output) && !force)
    throw new InputError(
      `${output} already exists (it may hold your edits): pass --force to replace it, or --output PATH to write another file`,
    );
}

/** Writes the domain file whole or not at all: a temporary file beside it, then a rename. */
export function writeDomainFile(output: string, domain: ProposedDomain): void {
  ensureWritableDir(output);
  const tmp = `${output}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(domain, null, 2)}\n`);
    renameSync(tmp, output);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw new InputError(`${output}: could not write the domain file (${writeFailureReason(error)})`);
  }
}

// Stage 4's prompt and answer schema: a verdict per assistant turn, checked against the source fact lines, plus a three-criterion
// yes/no rubric; `factually_accurate` (every turn supported) and `overall_pass` are computed in code.
import { z } from '../zod.js';
import type { Domain } from '../domain.js';
import { pairFactId } from '../facts.js';
import { Judgment, TurnVerdict, type Conversation, type QAPair } from '../schemas.js';

// The artifact's judgment without what code computes (factually_accurate, overall_pass) and with the turn verdicts
// first, so the model checks each turn against the facts before it gives the overall verdicts. `issues` is required
// here: its default is for rows of the original that left it out, not for the model.
export const JudgmentOutput = z.object({
  assistant_turns: z.array(TurnVerdict),
  ...Judgment.pick({ natural_conversation: true, on_topic: true, adds_value: true, feedback: true }).shape,
  issues: Judgment.shape.issues.unwrap(),
});
export type JudgmentOutput = z.infer<typeof JudgmentOutput>;

export const JUDGMENT_SCHEMA_NAME = 'judgment';

/** How many assistant messages the judge must give a verdict on. */
export function assistantTurns(conversation: Conversation): number {
  return conversation.messages.filter((m) => m.role === 'assistant').length;
}

/** One verdict per assistant turn, numbered 1…n in order: anything else is an answer to ask for again. */
export function checkTurnVerdicts(verdicts: Array<{ turn: number }>, turns: number): string | undefined {
  if (verdicts.length !== turns)
    return `assistant_turns must have one entry per assistant message: the conversation has ${turns}, the answer gave ${verdicts.length}`;
  const wrong = verdicts.findIndex((v, i) => v.turn !== i + 1);
  if (wrong >= 0)
    return `assistant_turns entry ${wrong + 1} must be turn ${wrong + 1}, got turn ${verdicts[wrong]!.turn} (number the assistant messages 1 to ${turns} in order)`;
  return undefined;
}

/** The fact lines behind the pairs, each once, verbatim with their context and the pairs written from them. */
export function sourceFactsText(pairs: QAPair[]): string {
  if (!pairs.length)
    return 'No source facts available: judge every claim as unsupported unless it is general courtesy.';
  const facts = new Map<string, QAPair[]>();
  for (const qa of pairs) facts.set(pairFactId(qa), [...(facts.get(pairFactId(qa)) ?? []), qa]);
  return [...facts.values()]
    .map((group, i) => {
      const { source_text, context_before, context_after } = group[0]!;
      const qas = group.map((qa) => `Q: ${qa.question}\nA: ${qa.answer}`).join('\n');
      return `FACT ${i + 1}:\n${source_text}\nContext before:\n${context_before || '(none)'}\nContext after:\n${context_after || '(none)'}\nQ&A pairs written from it:\n${qas}`;
    })
    .join('\n\n');
}

/** The conversation with every assistant message numbered, so the verdicts can name their turn. */
export function numberedConversation(conversation: Conversation): string {
  let turn = 0;
  return conversation.messages
    .map((m) => `${m.role === 'assistant' ? `ASSISTANT (turn ${++turn})` : m.role.toUpperCase()}: ${m.content}`)
    .join('\n\n');
}

/**
 * The rules come first and the conversation last: the opening of every request is the same text, which providers
 * cache (and bill at the cached rate) when it is long enough.
 */
export function judgePrompt(domain: Domain, conversation: Conversation): { system: string; prompt: string } {
  const system = `You evaluate the quality of training conversations for an AI assistant about ${domain.name}. You are strict and consistent.`;
  const prompt = `Evaluate a training conversation about ${domain.name} against the source facts it was written from.

The SOURCE FACTS below are lines of the company's facts file, verbatim, each with the lines around it and the Q&A
pairs written from it. They are correct by definition. A claim is supported when a fact line, its context or its Q&A
pairs state it.

Answer:

1. assistant_turns — one entry per ASSISTANT message, in order (turn 1 is the first assistant message):
   supported: true when every fact that message states is supported; false on ANY invented, changed or contradicted
   detail (a number, name, date, country, feature). Courtesy, questions back and "I don't know" are supported.
   unsupported_claim: the first unsupported claim, quoted from the message; an empty string when supported.
2. natural_conversation — it reads like a real exchange: smooth flow, natural transitions, believable user. False if
   robotic, awkward or scripted.
3. on_topic — it is about ${domain.name} and would be useful for training its assistant. False if off-topic.
4. adds_value — it covers its topic in a specific, concrete way. False if generic, repetitive or trivially short.

feedback: one or two sentences explaining the judgment.
issues: the specific problems found (empty when there are none).

SOURCE FACTS:
${sourceFactsText(conversation.source_qa_pairs)}

CONVERSATION (assistant turns to judge: ${assistantTurns(conversation)}):
${numberedConversation(conversation)}`;
  return { system, prompt };
}

// Fixture text: conversations built from per-topic vocabularies so families share facts and copies share wording.
import { Rng } from './rng.js';

export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
// Shapes follow src/schemas.ts (EmbeddedConversation), so a fixture file also runs through 6_deduplicate.ts.
export interface Conversation {
  messages: Message[];
  metadata: Record<string, string | number | string[] | number[]>;
  source_qa_pairs: Array<Record<string, string | string[]>>;
}
export interface Judgment {
  factually_accurate: boolean;
  natural_conversation: boolean;
  on_topic: boolean;
  adds_value: boolean;
  overall_pass: boolean;
  feedback: string;
  issues: string[];
}

export const TOPICS = 48;

const GENERAL = (
  'the a to and of for in on with your our this that it is are can will be we you they at from by as ' +
  'customers order shipping returns account team support platform merchants store checkout payment'
).split(' ');
const TOPIC_WORDS = Array.from({ length: TOPICS }, (_, t) =>
  Array.from(
    { length: 24 },
    (_, k) => `${['cross', 'tax', 'duty', 'parcel', 'label', 'carrier', 'refund', 'api'][k % 8]}${t}x${k}`,
  ),
);
const PERSONAS = [
  'small business owner',
  'logistics manager',
  'developer',
  'finance lead',
  'first-time seller',
  'analyst',
];
const STYLES = ['formal', 'casual', 'technical'];
const EMOTIONS = ['professional', 'happy', 'frustrated', 'impatient', 'confused'];
const MODALITIES = ['standard', 'typed_on_phone', 'voice_dictated'];
const DIFFICULTIES = ['basic', 'intermediate', 'advanced'];
const SYSTEMS = [
  'You are a helpful assistant for SWAP Commerce. Answer using only company facts.',
  'You are SWAP support. Be accurate, brief and friendly.',
  'You help merchants understand SWAP Commerce products and policies.',
];

function sentence(rng: Rng, topic: number, factWords: string[], length: number): string {
  const words: string[] = [];
  for (let i = 0; i < length; i++) {
    const r = rng.next();
    words.push(r < 0.35 ? rng.pick(factWords) : r < 0.55 ? rng.pick(TOPIC_WORDS[topic]) : rng.pick(GENERAL));
  }
  // Model-written text is rarely pure ASCII; some sentences get typographic punctuation.
  const r = rng.next();
  const s = words.join(' ') + (r < 0.05 ? ' — that’s it' : r < 0.08 ? ' “as noted”' : '');
  return `${s[0].toUpperCase() + s.slice(1)}.`;
}

export function buildConversation(rng: Rng, index: number, family: number, topic: number): Conversation {
  const factRng = new Rng(0xfac7, family);
  const factWords = Array.from({ length: 10 }, () => factRng.pick(TOPIC_WORDS[topic]) + factRng.pick(['', 's', 'ed']));
  const difficulty = factRng.pick(DIFFICULTIES);
  const qa = {
    question: sentence(factRng, topic, factWords, 10).replace(/\.$/, '?'),
    answer: sentence(factRng, topic, factWords, 16),
    source_text: `${sentence(factRng, topic, factWords, 24)} ${sentence(factRng, topic, factWords, 20)}`,
    context_before: '',
    context_after: '',
    difficulty,
    categories: [`topic-${topic}`],
  };
  const turns = 2 + rng.int(3);
  const system = rng.pick(SYSTEMS);
  const messages: Message[] = [{ role: 'system', content: system }];
  for (let t = 0; t < turns; t++) {
    messages.push({ role: 'user', content: sentence(rng, topic, factWords, 8 + rng.int(12)) });
    const parts = 1 + rng.int(3);
    const answer = Array.from({ length: parts }, () => sentence(rng, topic, factWords, 10 + rng.int(14))).join(' ');
    messages.push({ role: 'assistant', content: answer });
  }
  void index;
  return {
    messages,
    metadata: {
      num_turns: turns,
      style: rng.pick(STYLES),
      user_persona: rng.pick(PERSONAS),
      user_emotion: rng.pick(EMOTIONS),
      input_modality: rng.pick(MODALITIES),
      text_variation: 'standard',
      source_qa_ids: [family],
      difficulty,
      categories: [`topic-${topic}`],
      system_prompt: system,
    },
    source_qa_pairs: [qa],
  };
}

export function perturbConversation(base: Conversation, rng: Rng, index: number, rate: number): Conversation {
  const messages = base.messages.map((m) =>
    m.role === 'system'
      ? m
      : {
          role: m.role,
          content: m.content
            .split(' ')
            .map((w) => (rng.next() < rate ? rng.pick(GENERAL) : w))
            .join(' '),
        },
  );
  void index;
  return { messages, metadata: { ...base.metadata }, source_qa_pairs: base.source_qa_pairs };
}

export function buildJudgment(rng: Rng, pass: boolean): Judgment {
  const flags = {
    factually_accurate: true,
    natural_conversation: true,
    on_topic: true,
    adds_value: true,
  };
  const issues: string[] = [];
  if (!pass) {
    const keys = Object.keys(flags) as (keyof typeof flags)[];
    const failed = rng.pick(keys);
    flags[failed] = false;
    issues.push(`${failed.replace(/_/g, ' ')}: see the second assistant turn`);
  }
  return {
    ...flags,
    overall_pass: pass,
    feedback: pass
      ? 'All assistant turns are grounded in the provided facts and the dialogue reads naturally.'
      : 'At least one check failed; see the issues.',
    issues,
  };
}

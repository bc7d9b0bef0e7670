// The imitation's model catalogue and request rules as the services stand on 2026-12-02 (PROVIDERS.md §8, the
// search-tool findings cited in src/llm/model_rules.ts): which models exist, which aliases resolve to which concrete
// version, what thinking / reasoning parameters each accepts, and implicit prompt caching.
import { TYPICAL_THINKING_TOKENS } from '../../src/stage/output_estimate.js';
import { estimateTokens } from './fake_answers.js';

/**
 * `today`: only what the services offer now (2.0 and 2.5 Gemini answer 404). `old`: today's plus the 2.5 line, for
 * tests of the thinkingBudget path. `any`: every model name is served, as an OpenAI-compatible local server does.
 */
export type CatalogueName = 'today' | 'old' | 'any';

type Level = 'MINIMAL' | 'LOW' | 'MEDIUM' | 'HIGH';

export interface GeminiModel {
  id: string;
  displayName: string;
  methods: string[];
  /** Thinking levels accepted; undefined: a 2.5 model that takes thinkingBudget only. */
  levels?: Level[];
  defaultLevel?: Level;
  /** Least thinking budget on a budget model (2.5 Pro cannot switch thinking off). */
  minBudget?: number;
  /** Implicit caching needs a shared prefix of at least this many tokens (Google's caching page). */
  cacheMin: number;
}

const GENERATE = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];
const EMBED = ['embedContent', 'batchEmbedContents', 'asyncBatchEmbedContent'];
const ALL: Level[] = ['MINIMAL', 'LOW', 'MEDIUM', 'HIGH'];

const GEMINI_TODAY: GeminiModel[] = [
  {
    id: 'gemini-3.8-flash',
    displayName: 'Gemini 3.8 Flash',
    methods: GENERATE,
    levels: ['LOW', 'MEDIUM', 'HIGH'],
    defaultLevel: 'MEDIUM',
    cacheMin: 4096,
  },
  {
    id: 'gemini-3.5-flash-lite',
    displayName: 'Gemini 3.5 Flash-Lite',
    methods: GENERATE,
    levels: ALL,
    defaultLevel: 'MINIMAL',
    cacheMin: 4096,
  },
  {
    id: 'gemini-3.1-flash-lite',
    displayName: 'Gemini 3.1 Flash-Lite',
    methods: GENERATE,
    levels: ALL,
    defaultLevel: 'MINIMAL',
    cacheMin: 4096,
  },
  {
    id: 'gemini-3.1-pro-preview',
    displayName: 'Gemini 3.1 Pro Preview',
    methods: GENERATE,
    levels: ['LOW', 'MEDIUM', 'HIGH'],
    defaultLevel: 'HIGH',
    cacheMin: 4096,
  },
  { id: 'gemini-embedding-001', displayName: 'Gemini Embedding 001', methods: EMBED, cacheMin: Infinity },
  { id: 'gemini-embedding-2', displayName: 'Gemini Embedding 2', methods: EMBED, cacheMin: Infinity },
];

const GEMINI_OLD: GeminiModel[] = [
  { id: 'gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', methods: GENERATE, cacheMin: 2048 },
  { id: 'gemini-2.5-flash-lite', displayName: 'Gemini 2.5 Flash-Lite', methods: GENERATE, cacheMin: 2048 },
  { id: 'gemini-2.5-pro', displayName: 'Gemini 2.5 Pro', methods: GENERATE, minBudget: 128, cacheMin: 2048 },
];

/** Google's documented aliases: they follow the newest release; the response's modelVersion names it. */
export const GEMINI_ALIASES: Record<string, string> = {
  'gemini-flash-latest': 'gemini-3.8-flash',
  'gemini-flash-lite-latest': 'gemini-3.5-flash-lite',
  'gemini-pro-latest': 'gemini-3.1-pro-preview',
};

export interface OpenAIModel {
  id: string;
  /** The dated snapshot the response's `model` names. */
  snapshot: string;
  created: number;
  reasoning: boolean;
  /** reasoning_effort values accepted (reasoning models). */
  efforts?: string[];
  embedding?: boolean;
}

const day = (iso: string) => Math.floor(Date.parse(`${iso}T00:00:00Z`) / 1000);
const GPT5_EFFORTS = ['minimal', 'low', 'medium', 'high'];
const GPT6_EFFORTS = ['none', 'low', 'medium', 'high', 'xhigh', 'max'];

const OPENAI_TODAY: OpenAIModel[] = [
  {
    id: 'gpt-6-luna',
    snapshot: 'gpt-6-luna-2026-09-22',
    created: day('2026-09-22'),
    reasoning: true,
    efforts: GPT6_EFFORTS,
  },
  {
    id: 'gpt-6-sol',
    snapshot: 'gpt-6-sol-2026-09-22',
    created: day('2026-09-22'),
    reasoning: true,
    efforts: GPT6_EFFORTS,
  },
  // Deprecated, shut down on 2026-12-11: still served today.
  {
    id: 'gpt-5-mini',
    snapshot: 'gpt-5-mini-2025-08-07',
    created: day('2025-08-07'),
    reasoning: true,
    efforts: GPT5_EFFORTS,
  },
  {
    id: 'gpt-5-nano',
    snapshot: 'gpt-5-nano-2025-08-07',
    created: day('2025-08-07'),
    reasoning: true,
    efforts: GPT5_EFFORTS,
  },
  // Shut down on 2027-01-14: still served today.
  { id: 'gpt-4o-mini', snapshot: 'gpt-4o-mini-2024-07-18', created: day('2024-07-18'), reasoning: false },
  { id: 'gpt-4.1-mini', snapshot: 'gpt-4.1-mini-2025-04-14', created: day('2025-04-14'), reasoning: false },
  {
    id: 'text-embedding-3-small',
    snapshot: 'text-embedding-3-small',
    created: day('2024-01-25'),
    reasoning: false,
    embedding: true,
  },
  {
    id: 'text-embedding-3-large',
    snapshot: 'text-embedding-3-large',
    created: day('2024-01-25'),
    reasoning: false,
    embedding: true,
  },
];

export interface Catalogue {
  name: CatalogueName;
  /** The concrete Gemini model a requested name (an alias, `models/…`) resolves to; undefined: 404. */
  gemini(model: string): GeminiModel | undefined;
  /** Every Gemini model the list endpoint shows: concrete ones and the aliases. */
  geminiListed(): Array<{ id: string; model: GeminiModel }>;
  openai(model: string): OpenAIModel | undefined;
  openaiListed(): OpenAIModel[];
}

export function catalogue(name: CatalogueName = 'today'): Catalogue {
  const gemini = name === 'old' ? [...GEMINI_TODAY, ...GEMINI_OLD] : GEMINI_TODAY;
  const byId = new Map(gemini.map((m) => [m.id, m]));
  const openaiById = new Map(OPENAI_TODAY.map((m) => [m.id, m]));
  return {
    name,
    gemini(model) {
      const id = model.replace(/^models\//, '');
      const found = byId.get(GEMINI_ALIASES[id] ?? id);
      if (found || name !== 'any') return found;
      return {
        id,
        displayName: id,
        methods: [...GENERATE, ...EMBED],
        levels: ALL,
        defaultLevel: 'MEDIUM',
        cacheMin: 4096,
      };
    },
    geminiListed: () => [
      ...gemini.map((m) => ({ id: m.id, model: m })),
      ...Object.entries(GEMINI_ALIASES).map(([id, target]) => ({ id, model: byId.get(target)! })),
    ],
    openai(model) {
      const found = openaiById.get(model) ?? OPENAI_TODAY.find((m) => m.snapshot === model);
      if (found || name !== 'any') return found;
      return {
        id: model,
        snapshot: model,
        created: day('2026-01-01'),
        reasoning: false,
        embedding: /embed/.test(model),
      };
    },
    openaiListed: () => OPENAI_TODAY,
  };
}

// --- Gemini rules -------------------------------------------------------------------------------------------------

/** Google's own 404 for a model that is gone (or never was). */
export function geminiNotFoundMessage(model: string, method = 'generateContent'): string {
  return `models/${model.replace(/^models\//, '')} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`;
}

/** The model resource `GET /v1beta/models/{id}` answers with. */
export function geminiModelResource(id: string, model: GeminiModel) {
  return {
    name: `models/${id}`,
    version: id === model.id ? '001' : model.id,
    displayName: id === model.id ? model.displayName : `${model.displayName} (latest)`,
    description:
      id === model.id
        ? model.displayName
        : `Latest release of ${model.displayName.replace(/ \d+(\.\d+)? /, ' ')}: currently ${model.id}`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: model.methods,
    ...(model.methods.includes('generateContent')
      ? { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2, thinking: true }
      : {}),
  };
}

/** What a thinkingConfig is wrong about for this model, as Google's 400 message; undefined when it is accepted. */
export function geminiThinkingProblem(model: GeminiModel, config: any): string | undefined {
  if (!config || typeof config !== 'object') return undefined;
  const level = config.thinkingLevel;
  const budget = config.thinkingBudget;
  if (level !== undefined && budget !== undefined)
    return 'You can only set only one of thinking budget and thinking level.';
  if (level !== undefined) {
    if (!model.levels)
      return `Thinking level is not supported for this model (${model.id}); use thinking budget instead.`;
    if (!model.levels.includes(String(level).toUpperCase() as Level)) {
      return `'${String(level).toLowerCase()}' is not a supported thinking level for this model. Allowed values are: ${model.levels.map((l) => l.toLowerCase()).join(', ')}.`;
    }
  }
  if (budget !== undefined && model.minBudget !== undefined && budget >= 0 && budget < model.minBudget) {
    return `Budget ${budget} is invalid. This model only works in thinking mode.`;
  }
  return undefined;
}

// Sized as the dry run assumes (src/stage/output_estimate.ts), so its ±10% check measures the arithmetic.
const LEVEL_TOKENS: Record<Level, number> = {
  MINIMAL: TYPICAL_THINKING_TOKENS.minimal,
  LOW: TYPICAL_THINKING_TOKENS.low,
  MEDIUM: TYPICAL_THINKING_TOKENS.medium,
  HIGH: TYPICAL_THINKING_TOKENS.high,
};

/** Thinking tokens this call bills, deterministically: by level, or the budget (capped), or the model's default. */
export function geminiThoughtTokens(model: GeminiModel, config: any): number {
  if (!model.methods.includes('generateContent')) return 0;
  if (config?.thinkingLevel !== undefined)
    return LEVEL_TOKENS[String(config.thinkingLevel).toUpperCase() as Level] ?? 0;
  if (typeof config?.thinkingBudget === 'number')
    return config.thinkingBudget < 0 ? LEVEL_TOKENS.MEDIUM : Math.min(config.thinkingBudget, LEVEL_TOKENS.MEDIUM);
  // Left to itself a model thinks at its default: MEDIUM on 3.x Flash, dynamic on 2.5.
  return LEVEL_TOKENS[model.defaultLevel ?? 'MEDIUM'];
}

// --- OpenAI rules -------------------------------------------------------------------------------------------------

export function openaiNotFoundMessage(model: string): string {
  return `The model \`${model}\` does not exist or you do not have access to it.`;
}

/** A reasoning-model parameter rule the body breaks: { message, code, param }; undefined when the body is fine. */
export function openaiParamProblem(
  model: OpenAIModel,
  body: any,
): { message: string; code: string; param: string } | undefined {
  if (model.reasoning) {
    if (body.max_tokens !== undefined) {
      return {
        message:
          "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        code: 'unsupported_parameter',
        param: 'max_tokens',
      };
    }
    if (body.temperature !== undefined && body.temperature !== 1) {
      return {
        message: `Unsupported value: 'temperature' does not support ${body.temperature} with this model. Only the default (1) value is supported.`,
        code: 'unsupported_value',
        param: 'temperature',
      };
    }
    if (body.reasoning_effort !== undefined && !model.efforts?.includes(body.reasoning_effort)) {
      return {
        message: `Unsupported value: 'reasoning_effort' does not support '${body.reasoning_effort}' with this model. Supported values are: ${model.efforts?.map((e) => `'${e}'`).join(', ')}.`,
        code: 'unsupported_value',
        param: 'reasoning_effort',
      };
    }
  } else if (body.reasoning_effort !== undefined) {
    return {
      message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
      code: 'unsupported_parameter',
      param: 'reasoning_effort',
    };
  }
  return undefined;
}

const EFFORT_TOKENS: Record<string, number> = {
  none: 0,
  minimal: 0,
  low: 24,
  medium: 96,
  high: 256,
  xhigh: 512,
  max: 1024,
};

/** Reasoning tokens (part of completion_tokens): by effort, medium when none was asked for. */
export function openaiReasoningTokens(model: OpenAIModel, body: any): number {
  return model.reasoning ? (EFFORT_TOKENS[body.reasoning_effort ?? 'medium'] ?? 0) : 0;
}

// --- implicit prompt caching ---------------------------------------------------------------------------------------

const STEP = 32;

/**
 * Remembers the prompts each model has seen, as hashes of their prefixes every 32 characters, and says how many
 * tokens of a new prompt's longest seen prefix the provider would serve from its cache: none below the model's
 * minimum, OpenAI in 128-token steps. Deterministic for a given order of requests.
 */
export class PrefixCache {
  private readonly seen = new Map<string, Set<string>>();

  cachedTokens(model: string, text: string, minTokens: number, step = 1): number {
    const set = this.seen.get(model) ?? new Set<string>();
    this.seen.set(model, set);
    let h1 = 0x811c9dc5;
    let h2 = 7;
    let longest = 0;
    const keys: string[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
      h2 = (Math.imul(h2, 131) + c) >>> 0;
      if ((i + 1) % STEP === 0) {
        const key = `${i + 1}:${h1}:${h2}`;
        if (set.has(key)) longest = i + 1;
        keys.push(key);
      }
    }
    for (const key of keys) set.add(key);
    const tokens = estimateTokens(text.slice(0, longest));
    if (longest === 0 || tokens < minTokens) return 0;
    return Math.floor(tokens / step) * step;
  }
}

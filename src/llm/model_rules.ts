// What each model family accepts: Gemini thinking levels or budgets, and OpenAI reasoning-model parameters.
//
// Looked up on 2026-12-02 with the search tool (stored copies of provider pages, see README "Models"):
// - Gemini thinking levels (Vertex "Thinking" page table; Gemini 3.5 Flash-Lite model page; litellm-docs PR #1505,
//   comet-ml/opik PR #8280, fishjar/kiss-translator #1048): 3.7 and 3.8 Flash take LOW, MEDIUM, HIGH (default MEDIUM)
//   and answer 400 to MINIMAL; 3.5 and 3.6 Flash, 3.1 and 3.5 Flash-Lite take MINIMAL…HIGH (Flash-Lite defaults to
//   MINIMAL); 3.x Pro takes LOW, MEDIUM, HIGH. A request with both thinkingLevel and thinkingBudget is a 400
//   (PROVIDERS.md §8); 2.5 models take thinkingBudget only (0 switches thinking off on Flash and Flash-Lite; 2.5 Pro
//   cannot switch it off, 128 is its least).
// - OpenAI (PROVIDERS.md §8, developers.openai.com model pages): the gpt-5* / gpt-6* and o* families are reasoning
//   models — temperature other than 1 is a 400 `unsupported_value`, max_tokens a 400 `unsupported_parameter`
//   (max_completion_tokens instead); reasoning_effort is minimal…high on gpt-5/-mini/-nano, none…high (and more) on
//   gpt-5.1 and later, low…high on o-series models.
import type { ThinkingLevel } from '../config.js';

export const THINKING_LEVELS = ['minimal', 'low', 'medium', 'high'] as const satisfies readonly ThinkingLevel[];

/** The alias → line it follows; an alias is given the levels every release of its line accepts. */
export const GEMINI_ALIASES: Record<string, string> = {
  'gemini-flash-latest': 'gemini-3.8-flash',
  'gemini-flash-lite-latest': 'gemini-3.5-flash-lite',
  'gemini-pro-latest': 'gemini-3.1-pro',
};

function bare(model: string): string {
  return model.replace(/^models\//, '').toLowerCase();
}

/** Gemini major.minor from a model name, e.g. 3.8 for gemini-3.8-flash; undefined for names without one. */
function geminiVersion(model: string): number | undefined {
  const m = /gemini-(\d+)(?:\.(\d+))?/.exec(model);
  return m ? Number(m[1]) + Number(m[2] ?? 0) / 10 : undefined;
}

export type GeminiThinking = { thinkingLevel: string } | { thinkingBudget: number };

/** Gemini 2.x takes a token budget; 3.x and later (and the -latest aliases, which now follow 3.x) take a level. */
export function usesThinkingBudget(model: string): boolean {
  const name = bare(model);
  const version = geminiVersion(GEMINI_ALIASES[name] ?? name);
  return version !== undefined && version < 3;
}

/** The levels a Gemini 3+ model accepts, lowest first; all four for a model this table does not know. */
export function geminiLevels(model: string): readonly ThinkingLevel[] {
  const name = GEMINI_ALIASES[bare(model)] ?? bare(model);
  const version = geminiVersion(name) ?? 99;
  if (/pro/.test(name)) return ['low', 'medium', 'high'];
  if (/flash-lite/.test(name)) return THINKING_LEVELS;
  // 3.7 Flash and later dropped MINIMAL; the versions before kept it. Unknown flash lines get the 3.8 rule.
  if (/flash/.test(name)) return version >= 3.7 ? ['low', 'medium', 'high'] : THINKING_LEVELS;
  return THINKING_LEVELS;
}

/** Budgets for 2.5 models pinned by a user: 0 is "off" where the model allows it. */
const BUDGETS: Record<ThinkingLevel, number> = { minimal: 0, low: 1024, medium: 8192, high: 24_576 };

/** The thinking config sent to `model` for a level (none: the lowest it accepts): one of thinkingLevel / thinkingBudget. */
export function geminiThinking(model: string, wanted?: ThinkingLevel): GeminiThinking {
  const resolved = resolveGeminiLevel(model, wanted ?? 'lowest');
  // A level the model rejects was refused before any call (openLlmStage); here the lowest it accepts stands in.
  const level = typeof resolved === 'string' ? resolved : (resolveGeminiLevel(model, 'lowest') as ThinkingLevel);
  if (usesThinkingBudget(model)) {
    const budget = BUDGETS[level];
    // 2.5 Pro cannot switch thinking off: its least budget is 128.
    return { thinkingBudget: /pro/.test(bare(model)) ? Math.max(128, budget) : budget };
  }
  return { thinkingLevel: level.toUpperCase() };
}

/** The level a stage asked for ('lowest' = the least the model accepts), or a one-line reason it cannot be sent. */
export function resolveGeminiLevel(model: string, wanted: ThinkingLevel | 'lowest'): ThinkingLevel | { error: string } {
  if (usesThinkingBudget(model)) return wanted === 'lowest' ? 'minimal' : wanted;
  const levels = geminiLevels(model);
  if (wanted === 'lowest') return levels[0]!;
  if (levels.includes(wanted)) return wanted;
  // Never pay for more thinking than asked without saying so: name what the model takes.
  return { error: `Expected --thinking to be one of ${levels.join(', ')} for ${model} (it rejects ${wanted})` };
}

/** OpenAI reasoning models: gpt-5 and later, and the o1/o3/o4 lines. */
export function isReasoningModel(model: string): boolean {
  const name = bare(model).replace(/^openai\//, '');
  const gpt = /^gpt-(\d+)/.exec(name);
  if (gpt) return Number(gpt[1]) >= 5 && !/-chat-latest$/.test(name);
  return /^o\d/.test(name);
}

/** reasoning_effort for a level, or undefined for a model that takes none. */
export function openaiReasoningEffort(model: string, level: ThinkingLevel | undefined): string | undefined {
  if (level === undefined || !isReasoningModel(model)) return undefined;
  const name = bare(model).replace(/^openai\//, '');
  if (level !== 'minimal') return level;
  if (/^o\d/.test(name)) return 'low';
  // gpt-5, gpt-5-mini, gpt-5-nano (and their snapshots) know "minimal"; gpt-5.1 and later replaced it with "none".
  return /^gpt-5(-|$)/.test(name) ? 'minimal' : 'none';
}

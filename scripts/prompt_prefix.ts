/**
 * How much of each LLM stage's requests is the same from call to call: the longest prefix (system instruction, then
 * prompt) that every request of the stage shares, in tokens at four characters a token. Implicit prompt caching
 * bills that prefix at the cached rate only once it reaches the provider's minimum (Gemini 3.x Flash 4,096 tokens,
 * 2.5 Flash 2,048; OpenAI 1,024): README "Models, thinking and caching" quotes what this prints.
 *
 *   npx tsx scripts/prompt_prefix.ts [--dir output] [--prefix trial_]   (after a run, e.g. make demo → --dir output/demo)
 */
import { qaExtractionPrompt } from '../src/prompts/qa_extractor.js';
import { qaValidationPrompt } from '../src/prompts/qa_validator.js';
import { conversationPrompt } from '../src/prompts/conversation_generator.js';
import { judgePrompt } from '../src/prompts/conversation_judge.js';
import { runIfMain } from '../src/cli.js';
import { DEFAULT_DOMAIN, DEFAULT_FACTS, PARAMS } from '../src/config.js';
import { artifactPaths } from '../src/pipeline.js';
import { loadDomain } from '../src/domain.js';
import { readJsonl } from '../src/io/jsonl.js';
import { CHARS_PER_TOKEN } from '../src/token_estimate.js';
import { planConversations } from '../src/sampling.js';
import { Conversation, QAPair } from '../src/schemas.js';
import { readSources } from '../src/sources/read_sources.js';

const FLAGS = {
  dir: { kind: 'string', help: 'folder of the artifacts', default: 'output' },
  prefix: { kind: 'string', help: 'artifact name prefix (trial_ for a trial or the demo)', default: 'trial_' },
  facts: { kind: 'string', help: 'facts file', default: DEFAULT_FACTS },
} as const;

/** Characters every text shares from its start. */
export function sharedPrefixChars(texts: string[]): number {
  if (texts.length < 2) return 0;
  let n = Math.min(...texts.map((t) => t.length));
  const first = texts[0]!;
  for (const t of texts) {
    let i = 0;
    while (i < n && t.charCodeAt(i) === first.charCodeAt(i)) i++;
    n = i;
  }
  return n;
}

const asText = ({ system, prompt }: { system: string; prompt: string }) => `${system}\n${prompt}`;

async function main(flags: { dir: string; prefix: string; facts: string }): Promise<number> {
  const paths = artifactPaths(flags.prefix, flags.dir);
  const domain = loadDomain(undefined, DEFAULT_DOMAIN);
  const stages: Array<[string, string[]]> = [];
  const { chunks } = await readSources([flags.facts]);
  stages.push(['1 extract', chunks.map((c) => asText(qaExtractionPrompt(domain, c)))]);
  const pairs = await readJsonl(paths.qaPairs, QAPair);
  stages.push(['2 validate', pairs.map((p) => asText(qaValidationPrompt(domain, p)))]);
  const passed = await readJsonl(paths.qaPassed, QAPair);
  const plans = planConversations(
    Math.min(PARAMS.numConversations, passed.length * PARAMS.conversationsPerQa),
    passed,
    domain,
    PARAMS.seed,
  );
  stages.push([
    '3 generate',
    plans.map((p) =>
      asText(
        conversationPrompt(
          domain,
          p.config,
          p.qaIds.map((i) => passed[i]!),
        ),
      ),
    ),
  ]);
  const raw = await readJsonl(paths.conversationsRaw, Conversation);
  stages.push(['4 judge', raw.map((c) => asText(judgePrompt(domain, c)))]);
  process.stdout.write('stage        requests  shared prefix  whole request (median)\n');
  for (const [name, texts] of stages) {
    const sorted = texts.map((t) => t.length).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    const tokens = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);
    process.stdout.write(
      `${name.padEnd(12)} ${String(texts.length).padStart(8)}  ${String(tokens(sharedPrefixChars(texts))).padStart(8)} tok  ${String(tokens(median)).padStart(8)} tok\n`,
    );
  }
  return 0;
}

runIfMain(
  import.meta.url,
  'scripts/prompt_prefix.ts',
  'The prefix each LLM stage shares across its requests',
  FLAGS,
  main,
);

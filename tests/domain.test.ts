// The domain file: built-in SWAP defaults, overrides, SWAP rewritten out of a foreign run, and one-line errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conversationPrompt } from '../src/prompts/conversation_generator.js';
import { judgePrompt } from '../src/prompts/conversation_judge.js';
import { qaExtractionPrompt } from '../src/prompts/qa_extractor.js';
import { qaValidationPrompt } from '../src/prompts/qa_validator.js';
import { loadDomain, SWAP_DOMAIN, type Domain } from '../src/domain.js';
import { InputError } from '../src/errors.js';
import { Rng } from '../src/random.js';
import { sampleConfigs } from '../src/sampling.js';
import type { QAPair } from '../src/schemas.js';

const dir = mkdtempSync(join(tmpdir(), 'domain-'));
let n = 0;
function domainFile(content: unknown): string {
  const file = join(dir, `domain-${n++}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}
function loadError(file: string): string {
  try {
    loadDomain(file, join(dir, 'absent.json'));
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`loadDomain(${file}) did not throw`);
}

/** Every prompt the four agents would send for this domain. */
function allPrompts(domain: Domain): string {
  const qa: QAPair = {
    question: 'How do returns work?',
    answer: 'Through the portal.',
    source_text: '* Returns go through the portal.',
    context_before: '',
    context_after: '',
    difficulty: 'basic',
    categories: ['returns'],
  };
  const texts: string[] = [];
  const add = (p: { system: string; prompt: string }) => texts.push(p.system, p.prompt);
  add(qaExtractionPrompt(domain, { line: 1, source_text: qa.source_text, context_before: '', context_after: '' }));
  add(qaValidationPrompt(domain, qa));
  for (const config of sampleConfigs(60, domain, new Rng(1))) {
    add(conversationPrompt(domain, config, [qa]));
    texts.push(config.system_prompt.template, config.persona.description);
  }
  add(
    judgePrompt(domain, {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
      ],
      metadata: {
        num_turns: 1,
        style: 'formal',
        user_persona: 'x',
        user_emotion: 'professional',
        input_modality: 'standard',
        text_variation: 'standard',
        source_qa_ids: [],
        difficulty: 'basic',
        categories: [],
      },
      source_qa_pairs: [qa],
    }),
  );
  return texts.join('\n');
}

describe('loadDomain', () => {
  it('uses the SWAP defaults when no file is given and the default path is absent', () => {
    expect(loadDomain(undefined, join(dir, 'absent.json'))).toBe(SWAP_DOMAIN);
  });

  it('reads the default path when it exists', () => {
    const file = domainFile({ name: 'Acme Widgets' });
    expect(loadDomain(undefined, file).name).toBe('Acme Widgets');
  });

  it('gives a foreign company generic defaults: nothing of SWAP or its trade in any prompt', () => {
    expect(allPrompts(SWAP_DOMAIN)).toContain('SWAP');
    const domain = loadDomain(domainFile({ name: 'Acme Widgets' }), join(dir, 'absent.json'));
    expect(domain.name).toBe('Acme Widgets');
    const text = [
      domain.description,
      ...domain.personas.map((p) => p.description),
      ...domain.systemPrompts.map((s) => s.template),
      allPrompts(domain),
    ].join('\n');
    expect(text).not.toMatch(/swap|e-?commerce|\bAPIs?\b|integration|shipping|developer/i);
    expect(domain.systemPrompts.find((s) => s.name === 'helpful')!.template).toContain('Acme Widgets');
    expect(domain.topics).not.toEqual(SWAP_DOMAIN.topics);
    // Six personas, as SWAP's, so stratification still covers 6 personas × 3 styles.
    expect(domain.personas).toHaveLength(6);
  });

  it('takes personas, system prompts, topics and description from the file', () => {
    const domain = loadDomain(
      domainFile({
        name: 'Acme',
        description: 'Acme sells anvils.',
        personas: [{ name: 'coyote', description: 'A persistent customer' }],
        system_prompts: [{ name: 'plain', template: 'You answer questions about Acme.' }],
        topics: ['anvils', 'rockets'],
      }),
      join(dir, 'absent.json'),
    );
    expect(domain).toEqual({
      name: 'Acme',
      description: 'Acme sells anvils.',
      personas: [{ name: 'coyote', description: 'A persistent customer', typical_questions: [], formality: 'neutral' }],
      systemPrompts: [
        {
          name: 'plain',
          description: '',
          template: 'You answer questions about Acme.',
          verbosity: 'balanced',
          use_case: 'general',
        },
      ],
      topics: ['anvils', 'rockets'],
    });
  });
});

describe('bad domain files', () => {
  it('a missing explicit file names it', () => {
    const file = join(dir, 'missing.json');
    expect(loadError(file)).toBe(`${file}: domain file not found (expected a JSON file, see README "Domain")`);
  });

  it('invalid JSON names the file', () => {
    const file = domainFile('{"name": "Acme",}');
    expect(loadError(file)).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(`));
  });

  it('a wrong field names the file and the field path', () => {
    const file = domainFile({ name: 'Acme', personas: [{ name: 'dev', description: 42 }] });
    expect(loadError(file)).toBe(`${file}: expected string, received number → at personas.0.description`);
    const file2 = domainFile({ system_prompts: [{ name: 'x' }] });
    expect(loadError(file2)).toBe(`${file2}: expected string, received undefined → at system_prompts.0.template`);
    const file3 = domainFile({ personas: [] });
    expect(loadError(file3)).toMatch(/: .*→ at personas$/);
  });

  it('rejects unknown keys at the top level, naming them', () => {
    const file = domainFile({ name: 'Acme', persona: [] });
    expect(loadError(file)).toBe(`${file}: Unrecognized key: "persona"`);
  });

  it('rejects unknown keys inside a persona or system prompt (a typo must not be silently dropped)', () => {
    const file = domainFile({ personas: [{ name: 'dev', description: 'A developer', typical_question: ['x'] }] });
    expect(loadError(file)).toBe(`${file}: Unrecognized key: "typical_question" → at personas.0`);
    const file2 = domainFile({ system_prompts: [{ name: 'x', template: 'y', usecase: 'sales' }] });
    expect(loadError(file2)).toBe(`${file2}: Unrecognized key: "usecase" → at system_prompts.0`);
  });

  it('rejects a bad enum value', () => {
    const file = domainFile({ personas: [{ name: 'dev', description: 'A developer', formality: 'shouty' }] });
    expect(loadError(file)).toMatch(/→ at personas\.0\.formality$/);
  });
});

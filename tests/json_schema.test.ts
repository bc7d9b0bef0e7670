// The JSON Schemas sent to each provider for the four agent output schemas.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConversationOutput, CONVERSATION_SCHEMA_NAME } from '../src/prompts/conversation_generator.js';
import { JudgmentOutput, JUDGMENT_SCHEMA_NAME } from '../src/prompts/conversation_judge.js';
import { QABatchOutput, QA_BATCH_SCHEMA_NAME } from '../src/prompts/qa_extractor.js';
import { QAValidationOutput, QA_VALIDATION_SCHEMA_NAME } from '../src/prompts/qa_validator.js';
import { geminiJsonSchema, openaiJsonSchema } from '../src/llm/json_schema.js';

type Node = Record<string, unknown>;

/** Every schema node below (and including) the root, with its JSON path. */
function nodes(root: unknown, path = '$'): Array<{ node: Node; path: string }> {
  if (!root || typeof root !== 'object') return [];
  if (Array.isArray(root)) return root.flatMap((item, i) => nodes(item, `${path}[${i}]`));
  const node = root as Node;
  const out = [{ node, path }];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' || key === '$defs' || key === 'definitions') {
      for (const [name, child] of Object.entries(value as Node)) out.push(...nodes(child, `${path}.${key}.${name}`));
    } else if (key === 'items' || key === 'anyOf' || key === 'oneOf' || key === 'prefixItems') {
      out.push(...nodes(value, `${path}.${key}`));
    }
  }
  return out;
}

const AGENT_SCHEMAS = [
  ['qa extractor', QABatchOutput, QA_BATCH_SCHEMA_NAME],
  ['qa validator', QAValidationOutput, QA_VALIDATION_SCHEMA_NAME],
  ['conversation generator', ConversationOutput, CONVERSATION_SCHEMA_NAME],
  ['conversation judge', JudgmentOutput, JUDGMENT_SCHEMA_NAME],
] as const;

// Nullable, optional, nested and integer fields: the shapes that need rewriting for each provider.
const TRICKY = z.object({
  note: z.string().nullable(),
  count: z.number().int(),
  extra: z.string().optional(),
  items: z.array(z.object({ ok: z.boolean(), tags: z.array(z.object({ name: z.string() })) })),
});

describe.each(AGENT_SCHEMAS)('%s output schema', (_label, schema, name) => {
  describe('for Gemini', () => {
    const json = geminiJsonSchema(schema, name);

    it('keeps the title and drops $schema', () => {
      expect(json.title).toBe(name);
      expect(json.type).toBe('object');
      for (const { node, path } of nodes(json)) expect(node, path).not.toHaveProperty('$schema');
    });

    it('has no type arrays anywhere', () => {
      for (const { node, path } of nodes(json)) expect(Array.isArray(node.type), path).toBe(false);
    });

    it('still lists every field of the zod schema as required', () => {
      const shape = (schema as unknown as z.ZodObject).shape;
      expect(Object.keys(json.properties as Node)).toEqual(Object.keys(shape));
      expect(json.required).toEqual(Object.keys(shape));
    });
  });

  describe('for OpenAI strict mode', () => {
    const json = openaiJsonSchema(schema);

    it('requires every property and forbids extra ones on every object', () => {
      const objects = nodes(json).filter(({ node }) => node.type === 'object');
      expect(objects.length).toBeGreaterThan(0);
      for (const { node, path } of objects) {
        expect(node.additionalProperties, path).toBe(false);
        expect([...(node.required as string[])].sort(), path).toEqual(Object.keys(node.properties as Node).sort());
      }
    });
  });
});

describe('details the stages rely on', () => {
  it('the extractor schema pins exactly three pairs and the difficulty enum', () => {
    for (const json of [geminiJsonSchema(QABatchOutput, 'qa_batch'), openaiJsonSchema(QABatchOutput)]) {
      const pairs = (json.properties as Node).qa_pairs as Node;
      expect(pairs).toMatchObject({ type: 'array', minItems: 3, maxItems: 3 });
      expect(((pairs.items as Node).properties as Node).difficulty).toMatchObject({
        enum: ['basic', 'intermediate', 'advanced'],
      });
    }
  });

  it('the generator schema allows only user and assistant roles', () => {
    const json = geminiJsonSchema(ConversationOutput, 'conversation');
    const role = ((((json.properties as Node).messages as Node).items as Node).properties as Node).role;
    expect(role).toMatchObject({ type: 'string', enum: ['user', 'assistant'] });
  });
});

describe('rewrites of tricky shapes', () => {
  it('Gemini: nullable becomes anyOf, zod integer bounds are dropped, nested objects kept', () => {
    const json = geminiJsonSchema(TRICKY, 'tricky');
    const props = json.properties as Node;
    expect(props.note).toEqual({ anyOf: [{ type: 'string' }, { type: 'null' }] });
    expect(props.count).toEqual({ type: 'integer' });
    expect(json.required).toEqual(['note', 'count', 'items']);
    for (const { node, path } of nodes(json)) {
      expect(Array.isArray(node.type), path).toBe(false);
      expect(node, path).not.toHaveProperty('$schema');
    }
  });

  it('OpenAI: nested objects at every depth are strict, optional fields become required', () => {
    const json = openaiJsonSchema(TRICKY);
    expect(json.required).toEqual(['note', 'count', 'extra', 'items']);
    const objects = nodes(json).filter(({ node }) => node.type === 'object');
    expect(objects.map((o) => o.path)).toEqual([
      '$',
      '$.properties.items.items',
      '$.properties.items.items.properties.tags.items',
    ]);
    for (const { node, path } of objects) {
      expect(node.additionalProperties, path).toBe(false);
      expect([...(node.required as string[])].sort(), path).toEqual(Object.keys(node.properties as Node).sort());
    }
    expect((json.properties as Node).count).toEqual({ type: 'integer' });
  });
});

describe('built once per schema', () => {
  // A stage sends one schema thousands of times; rebuilding it was a fifth of a call's CPU.
  it('gives the same JSON Schema object for the same zod schema, a new one for another schema', () => {
    expect(openaiJsonSchema(JudgmentOutput)).toBe(openaiJsonSchema(JudgmentOutput));
    expect(openaiJsonSchema(JudgmentOutput)).not.toBe(openaiJsonSchema(QAValidationOutput));
    const gemini = geminiJsonSchema(JudgmentOutput, JUDGMENT_SCHEMA_NAME);
    expect(geminiJsonSchema(JudgmentOutput, JUDGMENT_SCHEMA_NAME).properties).toBe(gemini.properties);
    // The title is the caller's, not the cached body's.
    expect(geminiJsonSchema(JudgmentOutput, 'other').title).toBe('other');
    expect(gemini.title).toBe(JUDGMENT_SCHEMA_NAME);
  });
});

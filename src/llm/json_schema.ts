// Turns a zod output schema into the JSON Schema each provider accepts.
import { z } from '../zod.js';

// Keywords Gemini's responseJsonSchema documents (PROVIDERS.md §2.2); anything else is dropped rather than risked.
const GEMINI_KEYWORDS = new Set([
  '$id',
  '$defs',
  '$ref',
  '$anchor',
  'type',
  'format',
  'title',
  'description',
  'enum',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'anyOf',
  'oneOf',
  'properties',
  'additionalProperties',
  'required',
  'propertyOrdering',
]);
// zod's default integer bounds are noise, not constraints.
const SAFE_INT = 9007199254740991;

// A stage sends one schema thousands of times, and zod rebuilds its JSON Schema on every call (~0.4 ms, a fifth of
// a call's CPU at zero latency): each form is built once per schema object. Zod schemas are immutable (every method
// returns a new one), so an object's JSON Schema never changes; callers must not mutate what these return.
function memo<T>(build: (schema: z.ZodType) => T): (schema: z.ZodType) => T {
  const cache = new WeakMap<z.ZodType, T>();
  return (schema) => {
    let value = cache.get(schema);
    if (value === undefined) {
      value = build(schema);
      cache.set(schema, value);
    }
    return value;
  };
}

/** The schema as zod writes it, as text: part of every resume key. */
export const schemaText = memo((schema) => JSON.stringify(z.toJSONSchema(schema)));

/** schemaText as a JSON string literal, as it appears inside the JSON a resume key hashes (requestKey). */
export const quotedSchemaText = memo((schema) => JSON.stringify(schemaText(schema)));

const geminiBody = memo((schema) => sanitize(z.toJSONSchema(schema)) as Record<string, unknown>);

/** JSON Schema for Gemini: no `$schema`, nullable type arrays as anyOf, only documented keywords. */
export function geminiJsonSchema(schema: z.ZodType, title: string): Record<string, unknown> {
  return { ...geminiBody(schema), title };
}

function sanitize(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(sanitize);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (!GEMINI_KEYWORDS.has(key)) continue;
    if ((key === 'minimum' || key === 'maximum') && Math.abs(value as number) === SAFE_INT) continue;
    if (key === 'properties' || key === '$defs') {
      out[key] = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, sanitize(v)]));
    } else {
      out[key] = sanitize(value);
    }
  }
  if (Array.isArray(out.type)) {
    const types = out.type as string[];
    const { type: _drop, ...rest } = out;
    return { anyOf: types.map((t) => (t === 'null' ? { type: 'null' } : { ...rest, type: t })) };
  }
  return out;
}

/** JSON Schema for OpenAI strict structured output: every property required, no extra properties. */
export const openaiJsonSchema = memo(
  (schema) => strict(z.toJSONSchema(schema, { target: 'draft-7' })) as Record<string, unknown>,
);

function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'minimum' || key === 'maximum') && Math.abs(value as number) === SAFE_INT) continue;
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, strict(v)]))
        : strict(value);
  }
  if (out.type === 'object' && out.properties) {
    out.required = Object.keys(out.properties as object);
    out.additionalProperties = false;
  }
  return out;
}

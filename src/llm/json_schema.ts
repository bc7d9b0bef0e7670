// Turns a zod output schema into the JSON Schema each provider accepts.
import { z } from 'zod';

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

/** JSON Schema for Gemini: no `$schema`, nullable type arrays as anyOf, only documented keywords. */
export function geminiJsonSchema(schema: z.ZodType, title: string): Record<string, unknown> {
  const json = z.toJSONSchema(schema) as Record<string, unknown>;
  return { ...(sanitize(json) as Record<string, unknown>), title };
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
export function openaiJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'draft-7' }) as Record<string, unknown>;
  return strict(json) as Record<string, unknown>;
}

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

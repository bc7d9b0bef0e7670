// Renderings shared by every layer, free of file IO: how a failed zod check reads in a one-line message.
import type { z } from 'zod';

/** Renders a zod issue the way STYLE.md asks: `expected string, received number → at qa_pair.answer`. */
export function formatZodIssue(issue: z.core.$ZodIssue): string {
  const message = issue.message.replace(/^Invalid input: /, '');
  const path = issue.path.map(String).join('.');
  return path ? `${message} → at ${path}` : message;
}

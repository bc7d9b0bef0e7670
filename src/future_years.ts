// Drops Q&A pairs that mention a year after the facts' "As of" date: the model inventing the future.

function yearIn(line: string | undefined): number | undefined {
  const match = line ? /\b(1[89]\d{2}|2\d{3})\b/.exec(line) : null;
  return match ? Number(match[1]) : undefined;
}

/** The year of the facts file's `**As of:**` line, or undefined when it has none. */
export function asOfYear(facts: string): number | undefined {
  return yearIn(facts.split(/\r?\n/).find((l) => l.trim().startsWith('**As of:**')));
}

/** A line like `As of: March 2026` (bold or not), in text whose markup is gone (an HTML page, a PDF). */
export function isAsOfLine(text: string): boolean {
  return /^\s*(\*\*)?As of:?(\*\*)?\s/i.test(text);
}

/** The year of the first such line. */
export function asOfYearOfLines(lines: string[]): number | undefined {
  return yearIn(lines.find(isAsOfLine));
}

/** The last year a pair may mention: the `**As of:**` year, or the current year when the file has none. */
export function cutoffYear(facts: string, now: Date = new Date()): number {
  return asOfYear(facts) ?? now.getFullYear();
}

// Four-digit years 1800–2999 standing alone: digits inside longer numbers ("12025", "2026.5", "1.2025") do not
// count, while a year ending a sentence ("in 2027.") does.
const YEAR = /(?<![\d.,])(1[89]\d{2}|2\d{3})(?![.,]?\d)/g;

export function futureYears(text: string, cutoff: number): number[] {
  return [...text.matchAll(YEAR)].map((m) => Number(m[1])).filter((y) => y > cutoff);
}

export function mentionsFutureYear(pair: { question: string; answer: string }, cutoff: number): boolean {
  return futureYears(`${pair.question}\n${pair.answer}`, cutoff).length > 0;
}

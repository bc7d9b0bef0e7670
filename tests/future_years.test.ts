// The stage 1 filter that drops Q&A pairs mentioning a year after the facts' "As of" date.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { asOfYear, cutoffYear, futureYears, mentionsFutureYear } from '../src/future_years.js';

const FACTS = '# Facts\n\n**As of:** November 2026\n\n* Founded in 2019.\n* Plans for 2030 are secret.\n';

describe('the cutoff year', () => {
  afterEach(() => vi.useRealTimers());

  it('comes from the **As of:** line', () => {
    expect(asOfYear(FACTS)).toBe(2026);
    expect(cutoffYear(FACTS)).toBe(2026);
  });

  it('ignores years on other lines when picking the As-of year', () => {
    expect(asOfYear('* In 2030 we grow.\n**As of:** March 2024\n* 2031 too')).toBe(2024);
  });

  it('is the current year when the file has no **As of:** line', () => {
    expect(asOfYear('* Founded in 2019.\n* Plans for 2030.')).toBeUndefined();
    expect(cutoffYear('* Founded in 2019.', new Date('2031-06-15T12:00:00Z'))).toBe(2031);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2033-03-01T12:00:00Z'));
    expect(cutoffYear('no date here')).toBe(2033);
  });

  it('is the current year when the As-of line carries no year', () => {
    expect(asOfYear('**As of:** recently')).toBeUndefined();
    expect(cutoffYear('**As of:** recently', new Date('2029-01-10T12:00:00Z'))).toBe(2029);
  });
});

describe('futureYears / mentionsFutureYear with cutoff 2026', () => {
  const cutoff = 2026;
  const pair = (answer: string, question = 'When?') => ({ question, answer });

  it('drops 2027 and keeps 2026 and 2025', () => {
    expect(mentionsFutureYear(pair('It launches in 2027.'), cutoff)).toBe(true);
    expect(mentionsFutureYear(pair('It launched in 2026.'), cutoff)).toBe(false);
    expect(mentionsFutureYear(pair('It launched in 2025, then grew.'), cutoff)).toBe(false);
  });

  it('looks at the question as well as the answer', () => {
    expect(mentionsFutureYear(pair('Soon.', 'What happens in 2028?'), cutoff)).toBe(true);
  });

  it('catches years the original missed (2029 and later) and in common punctuation', () => {
    expect(futureYears('by 2029', cutoff)).toEqual([2029]);
    expect(futureYears('(2031) and 2040-41 and FY2035, also "2027".', cutoff)).toEqual([2031, 2040, 2035, 2027]);
  });

  it('does not read digits inside longer numbers as years', () => {
    expect(futureYears('order 12025 shipped', cutoff)).toEqual([]);
    expect(futureYears('version 2026.5 of the API', 2025)).toEqual([]);
    expect(futureYears('a fee of 1.2030 per unit, 20271 units, 3,2028 items', cutoff)).toEqual([]);
    expect(mentionsFutureYear(pair('Part number 12027 and build 2027.1.'), cutoff)).toBe(false);
  });

  it('lists every future year, in order', () => {
    expect(futureYears('2024, 2027 and 2030; 2026', cutoff)).toEqual([2027, 2030]);
  });
});

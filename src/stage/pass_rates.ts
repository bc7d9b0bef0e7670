// Pass rate of every boolean criterion, safe on empty input (the original divided by zero there).

export function passRates<T extends object>(
  rows: T[],
  criteria: readonly (keyof T & string)[],
): { rates: Record<string, { passed: number; total: number; rate: number }>; table: string } {
  const rates: Record<string, { passed: number; total: number; rate: number }> = {};
  for (const c of criteria) {
    const passed = rows.filter((r) => r[c] === true).length;
    rates[c] = { passed, total: rows.length, rate: rows.length ? passed / rows.length : 0 };
  }
  const width = Math.max(...criteria.map((c) => c.length));
  const table = criteria
    .map(
      (c) =>
        `  ${c.padEnd(width)}  ${String(rates[c]!.passed).padStart(5)}/${rows.length}  ${(100 * rates[c]!.rate).toFixed(1).padStart(5)}%`,
    )
    .join('\n');
  return { rates, table: `pass rates:\n${table}` };
}

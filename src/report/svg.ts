// Inline SVG charts for the report (horizontal bars with an optional target, and a histogram): no library, no
// network, fixed pixel sizes so they render the same in any browser.
import { escapeHtml } from './escape.js';

export interface Bar {
  label: string;
  /** Bar length, on the chart's scale. */
  value: number;
  /** What is written after the bar. */
  text: string;
  /** Configured target on the same scale, drawn as a second, grey bar under the actual one. */
  target?: number;
  targetText?: string;
}

export interface BarChartOptions {
  title: string;
  /** Scale maximum; defaults to the largest value or target. */
  max?: number;
}

const WIDTH = 600;
const LABEL_WIDTH = 160;
const TEXT_WIDTH = 130;
const BAR_AREA = WIDTH - LABEL_WIDTH - TEXT_WIDTH - 10;
const ACTUAL = '#2563eb';
const TARGET = '#f59e0b';

export function barChart(bars: Bar[], options: BarChartOptions): string {
  const withTarget = bars.some((b) => b.target !== undefined);
  const rowHeight = withTarget ? 34 : 24;
  const top = withTarget ? 26 : 6;
  const height = top + bars.length * rowHeight + 6;
  const max = options.max ?? Math.max(1e-9, ...bars.map((b) => Math.max(b.value, b.target ?? 0)));
  const length = (v: number) => Math.max(0, Math.min(1, v / max)) * BAR_AREA;
  const parts: string[] = [];
  if (withTarget) {
    parts.push(
      `<rect x="${LABEL_WIDTH}" y="6" width="12" height="10" fill="${ACTUAL}"/><text x="${LABEL_WIDTH + 16}" y="15">actual</text>`,
      `<rect x="${LABEL_WIDTH + 80}" y="8" width="12" height="6" fill="${TARGET}"/><text x="${LABEL_WIDTH + 96}" y="15">target</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const label = escapeHtml(shorten(bar.label, 24));
    parts.push(
      `<g class="bar"><title>${escapeHtml(`${bar.label}: ${bar.text}${bar.targetText ? `, ${bar.targetText}` : ''}`)}</title>`,
    );
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 14}" text-anchor="end">${label}</text>`);
    parts.push(
      `<rect class="actual" x="${LABEL_WIDTH}" y="${y + 3}" width="${length(bar.value).toFixed(1)}" height="14" rx="2" fill="${ACTUAL}"/>`,
    );
    parts.push(`<text x="${LABEL_WIDTH + BAR_AREA + 8}" y="${y + 14}">${escapeHtml(bar.text)}</text>`);
    if (bar.target !== undefined) {
      parts.push(
        `<rect class="target" x="${LABEL_WIDTH}" y="${y + 20}" width="${length(bar.target).toFixed(1)}" height="7" rx="2" fill="${TARGET}"/>`,
      );
      if (bar.targetText)
        parts.push(
          `<text class="muted" x="${LABEL_WIDTH + BAR_AREA + 8}" y="${y + 28}">${escapeHtml(bar.targetText)}</text>`,
        );
    }
    parts.push('</g>');
  });
  return svg(options.title, height, parts);
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/**
 * Bins values in [lo, 1] with a step chosen so there are at most 30 bins; values above 1 (float error) go last.
 * `from` (the dedup threshold) starts the range there, so the chart shows where the cut was.
 */
export function histogramBins(values: number[], from?: number): HistogramBin[] {
  if (!values.length) return [];
  const min = values.reduce((a, b) => Math.min(a, b), from ?? Infinity);
  // The epsilon keeps 0.95 / 0.005 from landing a bin low through float error.
  const floor = (s: number) => Math.floor(min / s + 1e-9) * s;
  const step = [0.005, 0.01, 0.02, 0.05, 0.1].find((s) => (1 - floor(s)) / s <= 30) ?? 0.1;
  const lo = floor(step);
  const n = Math.max(1, Math.round((1 - lo) / step));
  const bins = Array.from({ length: n }, (_, i) => ({ from: lo + i * step, to: lo + (i + 1) * step, count: 0 }));
  for (const v of values) bins[Math.min(n - 1, Math.max(0, Math.floor((v - lo) / step + 1e-9)))]!.count++;
  return bins;
}

export function histogramChart(
  bins: HistogramBin[],
  options: { title: string; threshold?: number; xLabel: string },
): string {
  const height = 240;
  const left = 50;
  const bottom = 200;
  const plotWidth = WIDTH - left - 20;
  const plotHeight = 170;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const w = plotWidth / Math.max(1, bins.length);
  const digits = bins.length && bins[0]!.to - bins[0]!.from < 0.01 ? 3 : 2;
  const parts: string[] = [
    `<line x1="${left}" y1="${bottom}" x2="${left + plotWidth}" y2="${bottom}" stroke="#64748b"/>`,
    `<text x="${left - 6}" y="${bottom - plotHeight + 4}" text-anchor="end">${max}</text>`,
    `<text x="${left - 6}" y="${bottom}" text-anchor="end">0</text>`,
    `<text x="${left + plotWidth / 2}" y="${height - 4}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`,
  ];
  const labelEvery = Math.ceil(bins.length / 8);
  bins.forEach((bin, i) => {
    const h = (bin.count / max) * plotHeight;
    const x = left + i * w;
    parts.push(
      `<rect class="bin" x="${(x + 1).toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${Math.max(1, w - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${ACTUAL}"><title>${bin.from.toFixed(digits)}–${bin.to.toFixed(digits)}: ${bin.count}</title></rect>`,
    );
    if (i % labelEvery === 0)
      parts.push(
        `<text x="${x.toFixed(1)}" y="${bottom + 16}" text-anchor="middle">${bin.from.toFixed(digits)}</text>`,
      );
  });
  if (bins.length)
    parts.push(
      `<text x="${left + plotWidth}" y="${bottom + 16}" text-anchor="middle">${bins[bins.length - 1]!.to.toFixed(digits)}</text>`,
    );
  if (options.threshold !== undefined && bins.length) {
    const lo = bins[0]!.from;
    const hi = bins[bins.length - 1]!.to;
    if (options.threshold >= lo - 1e-9 && options.threshold <= hi + 1e-9) {
      const x = left + ((options.threshold - lo) / (hi - lo)) * plotWidth;
      parts.push(
        `<line x1="${x.toFixed(1)}" y1="${bottom}" x2="${x.toFixed(1)}" y2="${bottom - plotHeight - 10}" stroke="${TARGET}" stroke-width="2" stroke-dasharray="4 3"/>`,
        `<text x="${(x + 4).toFixed(1)}" y="${bottom - plotHeight - 2}">threshold ${options.threshold}</text>`,
      );
    }
  }
  return svg(options.title, height, parts);
}

function svg(title: string, height: number, parts: string[]): string {
  return (
    `<svg class="chart" role="img" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" aria-label="${escapeHtml(title)}">` +
    `<title>${escapeHtml(title)}</title>${parts.join('')}</svg>`
  );
}

function shorten(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

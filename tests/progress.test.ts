// Progress: plain lines at an interval off a terminal, a redrawn bar on one, nothing with --quiet.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { extractQa, FLAGS as EXTRACT_FLAGS } from '../1_extract_qa.js';
import { parseFlags } from '../src/cli.js';
import { Progress, waitText } from '../src/progress.js';
import type { WaitState } from '../src/limiter.js';
import { UsageMeter } from '../src/usage_meter.js';
import { startImitation } from './support/imitation_server.js';
import { setEnv } from './support/run_stages.js';

function collector() {
  const writes: string[] = [];
  return { writes, write: (text: string) => void writes.push(text) };
}

describe('Progress (fake clock)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('says when it waits for a rate window or a backoff and for how long, and keeps the ETA within --rpm', () => {
    const out = collector();
    let state: WaitState | undefined;
    const progress = new Progress({
      label: 'validate',
      total: 30,
      tty: false,
      intervalMs: 1000,
      write: out.write,
      waiting: () => state,
      maxRate: 10 / 60,
    });
    // The first window's burst: 10 done in 1 s would predict 2 s for the other 20; --rpm 10 allows no less than 2 min.
    for (let i = 0; i < 10; i++) progress.tick();
    state = { reason: 'rpm', until: Date.now() + 59_000 };
    vi.advanceTimersByTime(1000);
    expect(out.writes.at(-1)).toContain('ETA 2m00s · waiting 58s for the --rpm window · failed 0');
    state = { reason: 'backoff', until: Date.now() + 9_000, items: 3 };
    vi.advanceTimersByTime(1000);
    expect(out.writes.at(-1)).toContain('waiting 8s backing off after errors (3 requests)');
    state = undefined;
    vi.advanceTimersByTime(1000);
    expect(out.writes.at(-1)).not.toContain('waiting');
    progress.stop();
    expect(waitText({ reason: 'server pause', until: 61_500 }, 0)).toBe('waiting 1m02s as the server asked (429)');
  });

  it('off a terminal, prints one plain line per interval with done/total, rate, ETA, failures, retries, tokens and cost', () => {
    const out = collector();
    const meter = new UsageMeter();
    let retries = 0;
    const progress = new Progress({
      label: 'extract',
      total: 10,
      tty: false,
      intervalMs: 1000,
      write: out.write,
      meter,
      retries: () => retries,
    });
    vi.advanceTimersByTime(1000);
    expect(out.writes).toEqual(['extract 0/10 (0%) · 0.0/s · ETA ? · failed 0 · retries 0 · tokens 0 · $0.00\n']);

    // Finishing items prints nothing by itself: the line waits for its interval.
    progress.tick();
    progress.tick();
    progress.tick();
    progress.tick('failed');
    retries = 2;
    meter.add('gemini-2.5-flash', { inputTokens: 10_000, outputTokens: 2_000 });
    expect(out.writes).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    // 4 done in 2 s: 2.0/s, 6 left → 3 s. 10k in × $0.30/M + 2k out × $2.50/M = $0.008.
    expect(out.writes[1]).toBe('extract 4/10 (40%) · 2.0/s · ETA 3s · failed 1 · retries 2 · tokens 12.0k · $0.0080\n');

    vi.advanceTimersByTime(3000);
    expect(out.writes).toHaveLength(5);
    progress.stop();
    expect(out.writes).toHaveLength(6);
    vi.advanceTimersByTime(10_000);
    expect(out.writes).toHaveLength(6);
    for (const w of out.writes) {
      expect(w.endsWith('\n')).toBe(true);
      expect(w).not.toMatch(/[\r\x1b█░]/);
    }
  });

  it('on a terminal, redraws one line in place with a bar, and ends it with a newline when stopped', () => {
    const out = collector();
    const progress = new Progress({ label: 'judge', total: 4, tty: true, write: out.write, meter: new UsageMeter() });
    progress.tick();
    vi.advanceTimersByTime(1000);
    progress.tick();
    progress.stop();
    expect(out.writes.length).toBeGreaterThanOrEqual(4);
    const [last, ...before] = [...out.writes].reverse();
    for (const w of before)
      expect(w).toMatch(
        /^\r\x1b\[2Kjudge \[[█░]{24}\] \d\/4 \(\d+%\) · [\d.]+\/s · ETA [^·]+ · failed 0 · retries 0 · tokens 0 · \$0\.00$/,
      );
    expect(last).toMatch(/^\r\x1b\[2Kjudge \[█{12}░{12}\] 2\/4 \(50%\) .*\n$/);
  });

  it('with quiet, writes nothing at all', () => {
    const out = collector();
    for (const tty of [false, true]) {
      const progress = new Progress({ label: 'x', total: 3, quiet: true, tty, intervalMs: 10, write: out.write });
      progress.tick();
      vi.advanceTimersByTime(5000);
      progress.tick('failed');
      progress.stop();
    }
    expect(out.writes).toEqual([]);
  });

  it('counts items reused from a checkpoint as done but not in the rate or ETA', () => {
    const out = collector();
    const progress = new Progress({ label: 'validate', total: 100, tty: false, intervalMs: 2000, write: out.write });
    progress.done += 50; // what StageRun does for reused items
    progress.tick();
    progress.tick();
    vi.advanceTimersByTime(2000);
    // 2 new items in 2 s: 1.0/s, 48 left → 48 s (counting the 50 reused would claim 26/s and 2 s).
    expect(out.writes[0]).toBe('validate 52/100 (52%) · 1.0/s · ETA 48s · failed 0 · retries 0\n');
  });

  it('rejects a PROGRESS_INTERVAL_MS that is not a whole number of milliseconds, naming it', () => {
    vi.stubEnv('PROGRESS_INTERVAL_MS', 'soon');
    expect(() => new Progress({ label: 'x', total: 1, tty: false })).toThrow(/PROGRESS_INTERVAL_MS.*soon/);
    vi.unstubAllEnvs();
  });
});

describe('a stage', () => {
  it('shows progress on stderr unless --quiet', async () => {
    const imitation = await startImitation({ seed: 2 });
    setEnv({ GOOGLE_API_KEY: 'k', GOOGLE_GEMINI_BASE_URL: imitation.geminiBaseUrl, LLM_PROVIDER: 'gemini' });
    const run = async (quiet: boolean) => {
      const stderr: string[] = [];
      const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        stderr.push(String(chunk));
        return true;
      });
      const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
      const dir = mkdtempSync(join(tmpdir(), 'progress-'));
      const code = await extractQa(
        parseFlags(
          ['--limit', '4', '--output', join(dir, 'qa.jsonl'), ...(quiet ? ['--quiet'] : [])],
          EXTRACT_FLAGS,
          '',
        )!,
      );
      spy.mockRestore();
      out.mockRestore();
      expect(code).toBe(0);
      return stderr.join('');
    };
    try {
      expect(await run(false)).toMatch(
        /extract .*4\/4 \(100%\) · [\d.]+\/s · ETA \S+ · failed 0 · retries 0 · tokens \d+ · \$0\.\d+/,
      );
      expect(await run(true)).toBe('');
    } finally {
      await imitation.close();
    }
  });
});

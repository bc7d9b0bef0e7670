// The stage runner's own promises: identical requests are asked once, answers survive a smaller run, counts balance.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRun } from '../src/stage/dry_run.js';
import { StageRun, type Task } from '../src/stage/stage_run.js';
import { callsWithOneSaved } from './support/dry_run_calls.js';

function stage(dir: string, fresh = false) {
  return new StageRun({
    stage: 'test',
    artifact: join(dir, 'out.jsonl'),
    inputs: [],
    settings: {},
    concurrency: 4,
    quiet: true,
    fresh,
  });
}

function tasks(keys: string[], calls: string[]): Task<string>[] {
  return keys.map((key, i) => ({ id: `item-${i}`, key, run: async () => (calls.push(key), `answer-${key}`) }));
}

describe('StageRun.runTasks', () => {
  it('asks an identical request once and gives its answer to every item that made it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stage-run-'));
    const calls: string[] = [];
    const results = await stage(dir).runTasks('t', tasks(['a', 'b', 'a', 'c', 'a'], calls));
    expect(calls.sort()).toEqual(['a', 'b', 'c']);
    expect(results).toEqual(['answer-a', 'answer-b', 'answer-a', 'answer-c', 'answer-a']);
  });

  it('keeps answers a smaller run did not use, so the next full run pays only for new items', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stage-run-'));
    const first: string[] = [];
    const full = stage(dir);
    await full.runTasks('t', tasks(['a', 'b', 'c', 'd'], first));
    await full.finish();
    const small = stage(dir);
    const second: string[] = [];
    await small.runTasks('t', tasks(['a'], second));
    await small.finish();
    const again = stage(dir);
    const third: string[] = [];
    const results = await again.runTasks('t', tasks(['a', 'b', 'c', 'd', 'e'], third));
    expect(first).toHaveLength(4);
    expect(second).toEqual([]);
    expect(third).toEqual(['e']);
    expect(again.counts.reused).toBe(4);
    expect(results).toEqual(['answer-a', 'answer-b', 'answer-c', 'answer-d', 'answer-e']);
  });

  it('counts reused items in the same unit as read when a task stands for several', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stage-run-'));
    const calls: string[] = [];
    await stage(dir).runTasks(
      't',
      tasks(['a', 'b'], calls).map((t) => ({ ...t, units: 3 })),
    );
    const next = stage(dir);
    await next.runTasks(
      't',
      tasks(['a', 'b'], calls).map((t) => ({ ...t, units: 3 })),
    );
    expect(next.counts.reused).toBe(6);
  });
});

describe('StageRun counts', () => {
  it('change only through its methods, and a failed task counts its units and lands in the ledger', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stage-run-'));
    const run = stage(dir);
    const snapshot = run.counts;
    run.setRead(7);
    run.addRetries(2);
    run.filter('too_long', 2);
    const failing: Task<string> = {
      id: 'bad',
      key: 'k-bad',
      units: 3,
      run: async () => Promise.reject(new Error('boom')),
    };
    await run.runTasks('t', [...tasks(['a'], []), failing]);
    run.setWritten(2);
    expect(snapshot.read, 'the view handed out earlier is a copy').toBe(0);
    expect(run.counts).toMatchObject({ read: 7, written: 2, retries: 2, filtered: { too_long: 2 } });
    expect(run.failed).toBe(3);
    expect(run.failures.map((f) => [f.item_id, f.error_class])).toEqual([['bad', 'internal']]);
    const log = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(await run.finish(), 'any failure fails the run by default').toBe(1);
    } finally {
      process.stdout.write = log;
    }
  });
});

describe('dryRun', () => {
  it('leaves out saved items, unless --fresh says the real run will redo them', () => {
    const { artifact, calls } = callsWithOneSaved('dry-', ['one', 'two'], 0);
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      expect(dryRun('s', 'gemini', 'gemini-2.5-flash', artifact, calls, 10).calls).toBe(1);
      expect(dryRun('s', 'gemini', 'gemini-2.5-flash', artifact, calls, 10, { fresh: true }).calls).toBe(2);
    } finally {
      process.stdout.write = write;
    }
  });
});

describe('StageRun start-up', () => {
  it('listens for Ctrl-C before its lock appears, so a Ctrl-C the moment the lock shows is a Ctrl-C, not a kill', async () => {
    const { ArtifactLock } = await import('../src/io/artifact_lock.js');
    const { vi } = await import('vitest');
    const dir = mkdtempSync(join(tmpdir(), 'stage-run-'));
    const before = process.listenerCount('SIGINT');
    let listenersAtLock = -1;
    const acquire = ArtifactLock.acquire.bind(ArtifactLock);
    const spy = vi.spyOn(ArtifactLock, 'acquire').mockImplementation((artifact: string) => {
      listenersAtLock = process.listenerCount('SIGINT');
      return acquire(artifact);
    });
    try {
      const run = stage(dir);
      expect(listenersAtLock).toBeGreaterThan(before);
      await run.finish();
    } finally {
      spy.mockRestore();
    }
  });

  it('stops listening when it cannot start (a refused checkpoint path leaves no handler and no lock behind)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stage-run-'));
    mkdirSync(join(dir, 'out.jsonl.checkpoint.jsonl'));
    const before = process.listenerCount('SIGINT');
    expect(() => stage(dir)).toThrow(/checkpoint/);
    expect(process.listenerCount('SIGINT')).toBe(before);
    expect(existsSync(join(dir, 'out.jsonl.lock'))).toBe(false);
  });
});

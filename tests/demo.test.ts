// `make demo` from a clean checkout: no key, no network, a report at the end and no process left behind, also when
// interrupted; and make targets pass ARGS through (`make trial ARGS=--dry-run` sends nothing).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startImitation } from './support/imitation_server.js';
import { removeTempDirs, stageEnv, tempDir, waitFor, writeFacts } from './support/run_stage.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
// Only what a fresh shell has: no key, no base URL.
const CLEAN_ENV = { PATH: process.env.PATH!, HOME: process.env.HOME! };

/** Processes whose command line names this folder: the demo and anything it started. */
function processesUsing(dir: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((line) => line.includes(dir) && !line.includes('ps -eo'));
}

afterAll(() => removeTempDirs());

describe('make demo', () => {
  it('runs the trial offline, prints where the artifacts, stats and report are, and leaves nothing running', () => {
    const dir = tempDir('demo-');
    const result = spawnSync('make', ['-s', 'demo', `ARGS=--output-dir ${dir} --quiet`], {
      cwd: ROOT,
      env: CLEAN_ENV,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`report:       ${dir}/trial_report.html`);
    expect(result.stdout).toContain(`training set: ${dir}/trial_conversations_final.jsonl`);
    expect(result.stdout).toMatch(/✓ demo finished: \d+ requests to the local imitation/);
    // The stats table was printed, and its files exist.
    expect(result.stdout).toMatch(/7 select_top\s+done/);
    expect(readFileSync(join(dir, 'trial_report.html'), 'utf8')).toContain('<html');
    expect(
      readFileSync(join(dir, 'trial_conversations_final.jsonl'), 'utf8').trim().split('\n').length,
    ).toBeGreaterThan(0);
    // Nothing of the demo landed where a real trial keeps its checkpoints.
    expect(existsSync(join(dir, '..', 'trial_qa_pairs.jsonl'))).toBe(false);
    expect(processesUsing(dir)).toEqual([]);
  }, 150_000);

  it('stops on Ctrl-C with nothing left running', async () => {
    const dir = tempDir('demo-int-');
    // Its own process group, as a terminal's foreground job: Ctrl-C reaches make and the script alike.
    const child = spawn('make', ['-s', 'demo', `ARGS=--output-dir ${dir} --num-conversations 2000 --chunks 40`], {
      cwd: ROOT,
      env: CLEAN_ENV,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    await waitFor(() => out.includes('STAGE 3'), 60_000, 'stage 3 to start');
    process.kill(-child.pid!, 'SIGINT');
    const code = await exited;
    expect(code).not.toBe(0);
    await waitFor(() => processesUsing(dir).length === 0, 5_000, 'every demo process to end');
    expect(processesUsing(dir)).toEqual([]);
  }, 120_000);
});

describe('make passes ARGS through', () => {
  it('make trial ARGS=--dry-run estimates and sends no request', async () => {
    const imitation = await startImitation();
    try {
      const dir = tempDir('make-');
      writeFacts(join(dir, 'facts.md'), 4);
      const env = stageEnv(imitation);
      const result = spawnSync('make', ['-s', 'trial', `ARGS=--dry-run --input ${dir}/facts.md --output-dir ${dir}`], {
        cwd: ROOT,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('DRY RUN — no API call');
      expect(imitation.requests.length).toBe(0);
    } finally {
      await imitation.close();
    }
  }, 90_000);

  it('a stage target takes its flags too, and an unknown one names the nearest', () => {
    const result = spawnSync('make', ['-s', 'stage1', 'ARGS=--limt 3'], {
      cwd: ROOT,
      env: CLEAN_ENV,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('error: Unknown flag --limt: did you mean --limit? (see --help)');
  }, 90_000);
});

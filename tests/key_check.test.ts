// A key that cannot be real is refused before any request, with one line naming the variable; any value still works
// for a server the user pointed the SDK at.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { keyProblem } from '../src/key_check.js';
import type { Imitation } from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import { imitationPerFile, runStage, stageEnv, tempDir, writeFacts } from './support/run_stage.js';

const official = (_name: string): string | undefined => undefined;
const local = (name: string) =>
  name === 'OPENAI_BASE_URL'
    ? 'http://localhost:11434/v1'
    : name === 'GOOGLE_GEMINI_BASE_URL'
      ? 'http://127.0.0.1:8787'
      : undefined;

describe('keyProblem', () => {
  it('refuses the .env.example placeholders, blanks and pasted spaces on any endpoint', () => {
    for (const env of [official, local]) {
      expect(keyProblem('GOOGLE_API_KEY', 'your_gemini_key', env)).toMatch(/^GOOGLE_API_KEY is still a placeholder/);
      expect(keyProblem('OPENAI_API_KEY', 'your_openai_key', env)).toMatch(
        /^OPENAI_API_KEY is still a placeholder.*OPENAI_API_KEY=ollama/,
      );
      expect(keyProblem('OPENAI_API_KEY', '   ', env)).toMatch(/^OPENAI_API_KEY is blank/);
      expect(keyProblem('GOOGLE_API_KEY', ' AIzaSyA1234567890abcdefghijklmnopqrstu', env)).toMatch(
        /starts or ends with a space/,
      );
      expect(keyProblem('GOOGLE_API_KEY', 'AIzaSyA12345\n67890abcdefghijklmnopqrstu', env)).toMatch(
        /cannot be sent in a header/,
      );
    }
  });

  it('checks the shape only against the providers own endpoints', () => {
    expect(keyProblem('OPENAI_API_KEY', 'ollama', official)).toMatch(/too short/);
    expect(keyProblem('OPENAI_API_KEY', 'abcdefghijklmnopqrstuvwxyz0123', official)).toMatch(
      /does not start with "sk-"/,
    );
    expect(keyProblem('GOOGLE_API_KEY', 'AIzaSy A1234567890abcdefghijklmnopqrstu', official)).toMatch(
      /space or a quote/,
    );
    expect(keyProblem('OPENAI_API_KEY', 'ollama', local)).toBeNull();
    expect(keyProblem('OPENAI_API_KEY', 'none', local)).toBeNull();
    expect(keyProblem('GOOGLE_API_KEY', 'offline', local)).toBeNull();
  });

  it('accepts keys shaped like real ones, and never repeats a malformed key in its message', () => {
    expect(keyProblem('OPENAI_API_KEY', `sk-proj-${'a'.repeat(40)}`, official)).toBeNull();
    expect(keyProblem('GOOGLE_API_KEY', `AIzaSy${'b'.repeat(33)}`, official)).toBeNull();
    expect(keyProblem('GOOGLE_API_KEY', `AQ.Ab${'c'.repeat(40)}`, official)).toBeNull();
    const secret = 'sk-proj-SECRETSECRET SECRET';
    expect(keyProblem('OPENAI_API_KEY', secret, official)).not.toContain('SECRET');
  });
});

describe('a stage given a placeholder key', () => {
  let imitation: Imitation;
  imitationPerFile({ seed: 3 }, (started) => (imitation = started));

  /** Runs `script` on three chunks of facts with `key` swapped in; it must exit 1 with `stderr` and send nothing. */
  async function refusedWith(
    run: typeof runStageInProcess | typeof runStage,
    script: string,
    key: Record<string, string>,
    stderr: RegExp,
  ) {
    const dir = tempDir('key-');
    writeFacts(join(dir, 'facts.md'), 3);
    const result = await run(script, ['--facts', 'facts.md', '--quiet'], { env: stageEnv(imitation, key), cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(stderr);
    expect(imitation.requests.length).toBe(0);
  }

  it('stops with one line naming the variable and sends no request', async () => {
    await refusedWith(
      runStageInProcess,
      '1_extract_qa.ts',
      { GOOGLE_API_KEY: 'your_gemini_key' },
      /^error: GOOGLE_API_KEY is still a placeholder[^\n]*\n$/,
    );
  });

  it('trial_run checks the embedding key too, before stage 1 spends anything', async () => {
    await refusedWith(
      runStage,
      'trial_run.ts',
      { OPENAI_API_KEY: 'your_openai_key' },
      /error: OPENAI_API_KEY is still a placeholder/,
    );
  });
});

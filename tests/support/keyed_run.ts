// Stages run one after another under real-looking API keys, each result kept, so a test can look for a leaked key.
import { join } from 'node:path';
import type { Imitation } from './imitation_server.js';
import { runStage, stageEnv, tempDir, type StageResult } from './run_stage.js';

export interface KeyedRun {
  /** The run's folder (a fresh temporary one). */
  readonly dir: string;
  /** Every stage's result, in the order they ran. */
  readonly outputs: StageResult[];
  /** `name` inside the run's folder. */
  out(name: string): string;
  /** Runs `script` in the folder with the keys (and `extra`) in its environment and keeps its result. */
  stage(script: string, args: string[], extra?: Record<string, string>): Promise<StageResult>;
}

/** A run in a fresh folder named for `prefix`; `imitation` is read at each stage (it is started in a beforeAll). */
export function keyedRun(
  prefix: string,
  imitation: () => Imitation,
  keys: { GOOGLE_API_KEY: string; OPENAI_API_KEY: string },
): KeyedRun {
  const dir = tempDir(prefix);
  const outputs: StageResult[] = [];
  return {
    dir,
    outputs,
    out: (name) => join(dir, name),
    async stage(script, args, extra = {}) {
      const result = await runStage(script, args, { env: stageEnv(imitation(), { ...keys, ...extra }), cwd: dir });
      outputs.push(result);
      return result;
    },
  };
}

// scripts/push_to_hub.ts through the official @huggingface/hub client against a local imitation of the Hub's
// upload endpoints: the card, the parquet (through LFS) and the JSONL arrive byte for byte; the token stays secret.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPaths } from '../src/pipeline.js';
import { hubFiles } from '../src/export/dataset_card.js';
import { startHubImitation, type HubImitation } from './support/hub_imitation.js';
import { writeFixtureRun } from './support/report_fixtures.js';
import { removeTempDirs, runStage, stageEnv, tempDir } from './support/run_stage.js';
import { selectQuietly } from './support/run_stages.js';

const TOKEN = 'hf_testTokenThatMustNeverBePrinted42';

describe('scripts/push_to_hub.ts', () => {
  const dir = tempDir('push-to-hub');
  const output = join(dir, 'conversations_final.jsonl');
  let hub: HubImitation;
  const push = (args: string[], env: Record<string, string | undefined> = {}) =>
    runStage('scripts/push_to_hub.ts', ['--input', output, ...args], {
      env: stageEnv(undefined, { HF_TOKEN: TOKEN, HF_ENDPOINT: hub.url, ...env }),
      cwd: dir,
    });

  beforeAll(async () => {
    hub = await startHubImitation({ token: TOKEN });
    await writeFixtureRun({ dir, stages: 6, conversations: 40 });
    expect(
      await selectQuietly([
        '--input',
        artifactPaths('', dir).conversationsDeduplicated,
        '--output',
        output,
        '--top-k',
        '12',
        '--parquet',
        '--quiet',
      ]),
    ).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await hub.close();
    removeTempDirs();
  });

  it('creates the dataset repo and commits the card as README.md, the parquet under data/ and the JSONL', async () => {
    const result = await push(['--repo', 'acme/swap-chat']);
    expect(result.code, result.stderr).toBe(0);
    const files = hub.repos.get('datasets/acme/swap-chat')!;
    expect([...files.keys()].sort()).toEqual([
      'README.md',
      'conversations_final.jsonl',
      'data/train-00000-of-00001.parquet',
    ]);
    expect(files.get('README.md')!.equals(readFileSync(hubFiles(output).card))).toBe(true);
    expect(files.get('data/train-00000-of-00001.parquet')!.equals(readFileSync(hubFiles(output).parquet))).toBe(true);
    expect(files.get('conversations_final.jsonl')!.equals(readFileSync(output))).toBe(true);
    // The parquet went through the LFS basic transfer, the text files inline in the commit.
    expect(hub.lfsObjects.size).toBe(1);
    expect(hub.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{64}/, 'OID')}`)).toEqual([
      'POST /api/repos/create',
      'POST /api/datasets/acme/swap-chat/preupload/main',
      'POST /datasets/acme/swap-chat.git/info/lfs/objects/batch',
      'PUT /lfs-upload/OID',
      'POST /api/datasets/acme/swap-chat/commit/main',
    ]);
    expect(result.stdout).toContain(`uploaded to ${hub.url}/datasets/acme/swap-chat`);
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
    expect(result.stdout + result.stderr).not.toContain(TOKEN.slice(3, 15));
  }, 60_000);

  it('pushes again to the existing repo (409 on create) and updates it', async () => {
    const before = hub.requests.length;
    const result = await push(['--repo', 'acme/swap-chat']);
    expect(result.code, result.stderr).toBe(0);
    const create = hub.requests.slice(before).filter((r) => r.path === '/api/repos/create');
    expect(create).toHaveLength(1);
    expect(result.stdout).not.toContain('created');
    expect(hub.repos.get('datasets/acme/swap-chat')!.size).toBe(3);
  }, 60_000);

  it('--dry-run lists the three uploads and sends nothing, with no token', async () => {
    const before = hub.requests.length;
    const result = await push(['--repo', 'acme/other', '--dry-run'], { HF_TOKEN: undefined });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/dry run: would upload to .*\/datasets\/acme\/other:/);
    expect(result.stdout).toContain('conversations_final.README.md → README.md');
    expect(result.stdout).toContain('conversations_final.parquet → data/train-00000-of-00001.parquet');
    expect(result.stdout).toContain('conversations_final.jsonl → conversations_final.jsonl');
    expect(hub.requests.length).toBe(before);
  }, 60_000);

  it.each([
    [
      'HF_TOKEN missing',
      ['--repo', 'acme/x'],
      { HF_TOKEN: undefined },
      2,
      /^error: HF_TOKEN is not set: create a write token at https:\/\/huggingface\.co\/settings\/tokens/,
    ],
    [
      'a token of the wrong shape',
      ['--repo', 'acme/x'],
      { HF_TOKEN: 'sk-not-a-hub-token' },
      2,
      /^error: HF_TOKEN does not look like a Hugging Face access token \(they start with hf_\)$/,
    ],
    ['a repo without an org', ['--repo', 'swap-chat'], {}, 2, /^error: Expected `--repo` to be ORG\/NAME/],
    ['no --repo', [], {}, 2, /^error: Expected `--repo` ORG\/NAME/],
    [
      'a token the Hub refuses',
      ['--repo', 'acme/x'],
      { HF_TOKEN: 'hf_wrongButWellFormed' },
      1,
      /^error: the Hub refused the upload to acme\/x \(401\): .*check that HF_TOKEN is a write token/,
    ],
  ])(
    '%s: one line, no upload',
    async (_name, args, env, code, message) => {
      const before = hub.repos.get('datasets/acme/x');
      const result = await push(args, env);
      const lines = result.stderr.split('\n').filter(Boolean);
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(result.code).toBe(code);
      expect(hub.repos.get('datasets/acme/x')).toBe(before);
      expect(result.stderr).not.toContain('wrongButWellFormed');
      expect(result.stderr).not.toContain('not-a-hub-token');
    },
    60_000,
  );

  it('names the missing card and how to write it', async () => {
    const result = await runStage(
      'scripts/push_to_hub.ts',
      ['--repo', 'acme/x', '--input', join(dir, 'nothing.jsonl')],
      { env: stageEnv(undefined, { HF_TOKEN: TOKEN, HF_ENDPOINT: hub.url }), cwd: dir },
    );
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^error: .*nothing\.README\.md: not found — write it with stage 7's --parquet first: npx tsx 7_select_top\.ts --parquet$/,
    );
  }, 60_000);
});

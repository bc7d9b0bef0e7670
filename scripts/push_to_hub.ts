/**
 * Publish the training set to the Hugging Face Hub as a dataset repository: the dataset card as README.md, the
 * parquet file under data/ (where the card's `configs` points) and the JSONL as stage 7 wrote it.
 *
 * Reads what `7_select_top.ts --parquet` wrote: output/conversations_final.jsonl, its .parquet and its .README.md.
 * Uses the official client (@huggingface/hub): createRepo, then one commit with uploadFiles. The token comes from
 * HF_TOKEN in the environment only; it is never written anywhere or printed. HF_ENDPOINT points the client at
 * another Hub (the variable huggingface_hub itself reads; the tests use a local imitation).
 *
 *   HF_TOKEN=hf_… npx tsx scripts/push_to_hub.ts --repo ORG/NAME [--input output/conversations_final.jsonl] [--private] [--dry-run]
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { createRepo, HubApiError, uploadFiles } from '@huggingface/hub';
import { isMain, parseFlags, runCli, usageText, type Flags } from '../src/cli.js';
import { PATHS } from '../src/pipeline.js';
import { InputError, UsageError } from '../src/errors.js';
import { HUB_PATHS, hubFiles } from '../src/export/dataset_card.js';

export const FLAGS = {
  repo: { kind: 'string', help: 'dataset repository to create or update', value: 'ORG/NAME' },
  input: {
    kind: 'string',
    help: "stage 7's JSONL; its .parquet and .README.md are found beside it",
    default: PATHS.conversationsFinal,
  },
  private: { kind: 'boolean', help: 'create the repository as private (an existing one keeps its visibility)' },
  'dry-run': { kind: 'boolean', help: 'list what would be uploaded, and where; no token needed, nothing sent' },
} as const;

const SUMMARY =
  'Push: upload the dataset card, the parquet and the JSONL of stage 7 to a Hugging Face dataset repository';
const HUB_URL = 'https://huggingface.co';
// The Hub's own rule for repo names is stricter in places; this catches the usual slips (no org, a URL, spaces).
const REPO_NAME = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

interface Upload {
  local: string;
  path: string;
  bytes: number;
}

/** The three files, checked before any request so a missing one costs nothing. */
function plannedUploads(input: string): Upload[] {
  const files = hubFiles(input);
  const planned = [
    { local: files.card, path: HUB_PATHS.card },
    { local: files.parquet, path: HUB_PATHS.parquet },
    { local: input, path: basename(input) },
  ];
  for (const { local } of planned) {
    if (!existsSync(local))
      throw new InputError(
        `${local}: not found — write it with stage 7's --parquet first: npx tsx 7_select_top.ts --parquet`,
      );
  }
  return planned.map((p) => ({ ...p, bytes: statSync(p.local).size }));
}

/** HF_TOKEN from the environment, checked for shape; the message never contains the value. */
function hubToken(): string {
  const token = process.env.HF_TOKEN?.trim();
  if (!token)
    throw new UsageError(
      'HF_TOKEN is not set: create a write token at https://huggingface.co/settings/tokens and run with HF_TOKEN=hf_… in the environment (it is read from there only, never saved)',
    );
  // @huggingface/hub's checkCredentials refuses anything else with a TypeError; say it here, in one line.
  if (!token.startsWith('hf_'))
    throw new UsageError('HF_TOKEN does not look like a Hugging Face access token (they start with hf_)');
  return token;
}

export async function pushToHub(flags: Flags<typeof FLAGS>): Promise<number> {
  const name = flags.repo;
  if (!name) throw new UsageError('Expected `--repo` ORG/NAME, the dataset repository to upload to');
  if (!REPO_NAME.test(name))
    throw new UsageError(
      `Expected \`--repo\` to be ORG/NAME (letters, digits, "-", "_", "."), got ${JSON.stringify(name)}`,
    );
  const uploads = plannedUploads(flags.input);
  const hubUrl = (process.env.HF_ENDPOINT ?? HUB_URL).replace(/\/+$/, '');
  const where = `${hubUrl}/datasets/${name}`;
  const listing = uploads.map((u) => `  ${u.local} → ${u.path} (${u.bytes} bytes)`).join('\n');

  if (flags['dry-run']) {
    process.stdout.write(`dry run: would upload to ${where}${flags.private ? ' (private)' : ''}:\n${listing}\n`);
    return 0;
  }
  const accessToken = hubToken();
  const repo = { type: 'dataset' as const, name };
  try {
    try {
      await createRepo({ repo, accessToken, hubUrl, ...(flags.private ? { visibility: 'private' as const } : {}) });
      process.stdout.write(`created ${where}\n`);
    } catch (error) {
      // 409: the repository exists (ours from an earlier push, or the user's own); the commit below updates it.
      if (!(error instanceof HubApiError && error.statusCode === 409)) throw error;
    }
    const result = await uploadFiles({
      repo,
      accessToken,
      hubUrl,
      files: uploads.map((u) => ({ path: u.path, content: new Blob([readFileSync(u.local)]) })),
      commitTitle: `Upload ${basename(flags.input)}, its parquet and dataset card (synth-chat-pipeline)`,
      // The Git LFS path: "uploads from legacy / non-Xet-aware clients still follow the standard Git LFS path, even if
      // the repo is already Xet-backed" (huggingface.co/docs/hub/xet/legacy-git-lfs). It is the path the offline test
      // runs; the client's Xet upload needs a Xet storage service the imitation does not have.
      useXet: false,
    });
    process.stdout.write(
      `uploaded to ${where}:\n${listing}\n${result?.commit.url ? `commit: ${result.commit.url}\n` : ''}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof HubApiError) {
      const hint =
        error.statusCode === 401 || error.statusCode === 403
          ? ' — check that HF_TOKEN is a write token for that organisation'
          : '';
      throw new Error(
        `the Hub refused the upload to ${name} (${error.statusCode}): ${error.message.split('\n')[0]}${hint}`,
      );
    }
    throw error;
  }
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const flags = parseFlags(process.argv.slice(2), FLAGS, usageText('scripts/push_to_hub.ts', SUMMARY, FLAGS));
    return flags ? pushToHub(flags) : 0;
  });
}

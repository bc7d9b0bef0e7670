// A stage refuses, before any call, an input that an earlier stage made for another company (a forgotten --domain).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDomain, SWAP_DOMAIN } from '../src/domain.js';
import { assertSameDomain } from '../src/domain_checks.js';
import { InputError } from '../src/errors.js';
import { paidRequests, type Imitation } from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import { imitationPerFile, removeTempDirs, stageEnv, tempDir, writeQaPairs } from './support/run_stage.js';

const manifest = (file: string, domain: string, outputs: string[] = []) =>
  writeFileSync(file, JSON.stringify({ stage: 'x', outputs, settings: { domain } }));
const lumora = { ...SWAP_DOMAIN, name: 'Lumora Kettle Works' };

describe('assertSameDomain', () => {
  const dir = tempDir('same-domain');
  afterAll(removeTempDirs);

  it('stops on an input whose manifest names another company, in one line naming both and the fix', () => {
    const input = join(dir, 'qa_pairs.jsonl');
    manifest(join(dir, 'qa_pairs.meta.json'), 'Lumora Kettle Works');
    expect(() => assertSameDomain(input, SWAP_DOMAIN, undefined)).toThrow(InputError);
    expect(() => assertSameDomain(input, SWAP_DOMAIN, undefined)).toThrow(
      `${input}: made for Lumora Kettle Works (${join(dir, 'qa_pairs.meta.json')}), but this stage's domain is SWAP Commerce (built in: no --domain and no data/domain.json) — pass the --domain the earlier stage used, or run that stage again with this one`,
    );
    expect(() => assertSameDomain(input, lumora, 'data/domain.json')).not.toThrow();
  });

  it('finds the manifest of a file written beside an artifact (stage 2 passed pairs)', () => {
    const passed = join(dir, 'qa_pairs_validated_passed.jsonl');
    manifest(join(dir, 'qa_pairs_validated.meta.json'), 'Lumora Kettle Works', [
      join(dir, 'qa_pairs_validated.jsonl'),
      passed,
    ]);
    expect(() => assertSameDomain(passed, SWAP_DOMAIN, undefined)).toThrow(
      `${passed}: made for Lumora Kettle Works (${join(dir, 'qa_pairs_validated.meta.json')}), but`,
    );
    expect(() => assertSameDomain(passed, lumora, 'd.json')).not.toThrow();
  });

  it('lets an input with no manifest, or an unreadable one, through', () => {
    expect(() => assertSameDomain(join(dir, 'elsewhere', 'x.jsonl'), SWAP_DOMAIN, undefined)).not.toThrow();
    writeFileSync(join(dir, 'broken.meta.json'), '{not json');
    expect(() => assertSameDomain(join(dir, 'broken.jsonl'), SWAP_DOMAIN, undefined)).not.toThrow();
  });
});

describe('stage 2 on pairs made for another company', () => {
  let im: Imitation;
  imitationPerFile({ seed: 2 }, (started) => (im = started));

  it('stops with that line and pays for nothing; with the same domain it runs', async () => {
    const cwd = tempDir('stage2-domain');
    writeQaPairs(join(cwd, 'qa_pairs.jsonl'), 3);
    manifest(join(cwd, 'qa_pairs.meta.json'), 'Lumora Kettle Works');
    const args = ['--input', 'qa_pairs.jsonl', '--output', 'validated.jsonl', '--quiet'];
    const refused = await runStageInProcess('2_validate_qa.ts', args, { env: stageEnv(im), cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error: qa_pairs\.jsonl: made for Lumora Kettle Works \(qa_pairs\.meta\.json\), but this stage's domain is SWAP Commerce .*\n$/,
    );
    expect(paidRequests(im)).toHaveLength(0);

    writeFileSync(join(cwd, 'lumora.json'), JSON.stringify({ name: 'Lumora Kettle Works' }));
    expect(loadDomain(join(cwd, 'lumora.json'), 'absent').name).toBe('Lumora Kettle Works');
    const ran = await runStageInProcess('2_validate_qa.ts', [...args, '--domain', 'lumora.json'], {
      env: stageEnv(im),
      cwd,
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(paidRequests(im)).toHaveLength(3);
  }, 60_000);
});

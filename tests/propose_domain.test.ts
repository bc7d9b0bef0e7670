// Another company from its own facts: the trial stops without a domain, make domain proposes one in a single call,
// and the trial with it sends nothing of SWAP or e-commerce. The scripts' real command lines, in process; the
// --force refusal also through a child, for its real exit status.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainFile, loadDomain, SWAP_DOMAIN } from '../src/domain.js';
import {
  domainProposalPrompt,
  factsForProposal,
  PROPOSAL_FACTS_CHARS,
  proposalCheck,
  ProposedDomain,
} from '../src/domain_proposal.js';
import { geminiJsonSchema } from '../src/llm/json_schema.js';
import { defaultAnswer } from './support/fake_answers.js';
import {
  paidRequests,
  startImitation,
  type GenerateCall,
  type Imitation,
  type RecordedRequest,
} from './support/imitation_server.js';
import { runStageInProcess } from './support/run_in_process.js';
import { removeTempDirs, runStage, stageEnv, tempDir } from './support/run_stage.js';

const FACTS = resolve('tests/fixtures/lumora_facts.md');
let im: Imitation;
let env: Record<string, string>;

beforeAll(async () => {
  im = await startImitation({ seed: 13 });
  env = stageEnv(im);
});
afterAll(async () => {
  await im.close();
  removeTempDirs();
});

/** The requests `run` made, and its result. */
async function recorded<T>(run: () => Promise<T>): Promise<{ result: T; sent: RecordedRequest[]; paid: number }> {
  const before = im.requests.length;
  const paidBefore = paidRequests(im).length;
  const result = await run();
  return { result, sent: im.requests.slice(before), paid: paidRequests(im).length - paidBefore };
}

const propose = (cwd: string, args: string[] = []) =>
  runStageInProcess('scripts/propose_domain.ts', ['--input', FACTS, '--quiet', ...args], { env, cwd });
const trial = (cwd: string) =>
  runStageInProcess('trial_run.ts', ['--facts', FACTS, '--chunks', '4', '--num-conversations', '12', '--quiet'], {
    env,
    cwd,
  });

describe('a kettle maker with no domain file', () => {
  it('the trial stops before paying and suggests make domain', async () => {
    const cwd = tempDir('lumora-none');
    const { result, paid } = await recorded(() => trial(cwd));
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/never name SWAP Commerce.*make domain/)]);
    expect(paid).toBe(0);
    expect(existsSync(join(cwd, 'output'))).toBe(false);
  });
});

describe('make domain, then make trial', () => {
  const cwd = tempDir('lumora-domain');
  const file = join(cwd, 'data', 'domain.json');
  let proposal: Awaited<ReturnType<typeof recorded<Awaited<ReturnType<typeof propose>>>>>;

  beforeAll(async () => {
    proposal = await recorded(() => propose(cwd));
  }, 60_000);

  it('asks the model once, with the facts, and writes a domain file that passes the schema', () => {
    expect(proposal.result.code, proposal.result.stderr).toBe(0);
    expect(proposal.paid).toBe(1);
    const [request] = paidRequests({ ...im, requests: proposal.sent });
    expect(JSON.stringify(request!.body)).toContain('The Brisa electric kettle boils one litre');
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    expect(DomainFile.safeParse(raw).success).toBe(true);
    const domain = ProposedDomain.parse(raw);
    expect(domain.name).toBe('Lumora Kettle Works');
    expect(domain.personas.length).toBeGreaterThanOrEqual(4);
    expect(domain.system_prompts.length).toBeGreaterThanOrEqual(3);
    expect(loadDomain(undefined, file).topics).toEqual(domain.topics);
    expect(readFileSync(file, 'utf8')).not.toMatch(/swap|e-commerce/i);
  });

  it('a trial with it sends no request mentioning SWAP or e-commerce, and uses its personas and topics', async () => {
    const { result, sent } = await recorded(() => trial(cwd));
    expect(result.code, result.stderr).toBe(0);
    const bodies = sent.filter((r) => r.method === 'POST').map((r) => JSON.stringify(r.body));
    expect(bodies.length).toBeGreaterThan(12);
    for (const body of bodies) expect(body).not.toMatch(/swap|e-commerce/i);
    const domain = ProposedDomain.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(bodies.some((b) => b.includes(`preferably from: ${domain.topics.join(', ')}`))).toBe(true);
    expect(bodies.some((b) => domain.personas.some((p) => b.includes(p.description)))).toBe(true);
  }, 120_000);
});

describe('an existing domain file', () => {
  it('is not replaced without --force: one line, no call, the file as it was', async () => {
    const cwd = tempDir('lumora-force');
    mkdirSync(join(cwd, 'data'));
    const file = join(cwd, 'data', 'domain.json');
    writeFileSync(file, '{"name": "Lumora Kettle Works", "topics": ["my_edit"]}\n');
    const { result, sent } = await recorded(() =>
      runStage('scripts/propose_domain.ts', ['--input', FACTS, '--quiet'], { env, cwd }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: data/domain.json already exists (it may hold your edits): pass --force to replace it, or --output PATH to write another file\n',
    );
    expect(sent).toHaveLength(0);
    expect(readFileSync(file, 'utf8')).toContain('my_edit');

    const forced = await recorded(() => propose(cwd, ['--force']));
    expect(forced.result.code, forced.result.stderr).toBe(0);
    expect(forced.paid).toBe(1);
    expect(readFileSync(file, 'utf8')).not.toContain('my_edit');
  }, 60_000);
});

describe('propose_domain checks what the stages check', () => {
  it('a placeholder key stops it before any request, a retired model at its unbilled 404, writing nothing', async () => {
    const cwd = tempDir('lumora-checks');
    const key = await recorded(() =>
      runStageInProcess('scripts/propose_domain.ts', ['--input', FACTS], {
        env: stageEnv(im, { GOOGLE_API_KEY: 'your_gemini_key' }),
        cwd,
      }),
    );
    expect(key.result.code).toBe(1);
    expect(key.result.stderr).toMatch(/^error: GOOGLE_API_KEY is still a placeholder/);
    expect(key.sent).toHaveLength(0);
    const retired = await recorded(() => propose(cwd, ['--model', 'gemini-2.0-flash']));
    expect(retired.result.code).toBe(1);
    expect(retired.result.stderr).toMatch(/gemini-2\.0-flash is not offered/);
    // The look-up goes beside the one call, which the retired model answers with a 404: nothing is billed.
    const calls = retired.sent.filter((r) => r.path.includes(':generateContent'));
    expect(calls.length).toBeLessThanOrEqual(1);
    for (const call of calls) expect(call.status).toBe(404);
    expect(existsSync(join(cwd, 'data', 'domain.json'))).toBe(false);
  }, 60_000);
});

describe('propose_domain --dry-run', () => {
  it('sends nothing, writes nothing, and prints the request size and a cost line', async () => {
    const cwd = tempDir('lumora-dry');
    copyFileSync(FACTS, join(cwd, 'facts.md'));
    const { result, sent } = await recorded(() =>
      runStageInProcess('scripts/propose_domain.ts', ['--input', 'facts.md', '--dry-run'], { env, cwd }),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(sent).toHaveLength(0);
    expect(result.stdout).toMatch(/propose_domain: would send \d+ characters of facts from facts\.md/);
    expect(result.stdout).toMatch(
      /propose_domain \(dry run, no API call\): 1 calls to gemini \S+ · ~[\d.,k]+ input \+ ~[\d.,k]+ output tokens · ~\$\d/,
    );
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });
});

describe('an answer the domain checks refuse', () => {
  const swapText = (call: GenerateCall) => ({
    name: 'Lumora Kettle Works',
    description: 'Kettles from Porto.',
    personas: SWAP_DOMAIN.personas
      .slice(0, 4)
      .map((p) => ({ ...p, description: p.description.replaceAll('SWAP Commerce', 'Lumora Kettle Works') })),
    system_prompts: SWAP_DOMAIN.systemPrompts.slice(0, 3),
    topics: call.prompt.includes('REJECTED') ? ['a', 'b', 'c', 'd', 'e'] : SWAP_DOMAIN.topics.slice(0, 8),
  });

  it('is asked again with the reason; one that never passes writes nothing and exits 1', async () => {
    const other = await startImitation({
      seed: 1,
      respond: (call) =>
        call.schemaName !== 'domain_proposal'
          ? undefined
          : call.prompt.includes('REJECTED')
            ? undefined
            : swapText(call),
    });
    try {
      const cwd = tempDir('lumora-retry');
      const result = await runStageInProcess('scripts/propose_domain.ts', ['--input', FACTS, '--quiet'], {
        env: stageEnv(other),
        cwd,
      });
      expect(result.code, result.stderr).toBe(0);
      const paid = paidRequests(other);
      expect(paid).toHaveLength(2);
      expect(JSON.stringify(paid[1]!.body)).toContain(
        'personas.0, personas.1, personas.2, personas.3, system_prompts.0, system_prompts.1, system_prompts.2 describe SWAP Commerce, not Lumora Kettle Works',
      );
      expect(readFileSync(join(cwd, 'data', 'domain.json'), 'utf8')).not.toMatch(/swap|e-commerce/i);
    } finally {
      await other.close();
    }
    const stubborn = await startImitation({
      seed: 1,
      respond: (call) => (call.schemaName === 'domain_proposal' ? swapText({ ...call, prompt: '' }) : undefined),
    });
    try {
      const cwd = tempDir('lumora-stubborn');
      const result = await runStageInProcess('scripts/propose_domain.ts', ['--input', FACTS, '--quiet'], {
        env: stageEnv(stubborn, { LLM_MAX_ATTEMPTS: '2' }),
        cwd,
      });
      expect(result.code).toBe(1);
      expect(paidRequests(stubborn)).toHaveLength(2);
      expect(existsSync(join(cwd, 'data', 'domain.json'))).toBe(false);
      expect(readFileSync(join(cwd, 'data', 'domain.json.errors.jsonl'), 'utf8')).toContain('describe SWAP Commerce');
    } finally {
      await stubborn.close();
    }
  }, 60_000);
});

describe("the imitation's domain proposal", () => {
  const answer = (facts: string) => {
    const { system, prompt } = domainProposalPrompt(facts);
    const call = {
      provider: 'gemini' as const,
      model: 'm',
      system,
      prompt,
      schemaName: 'domain_proposal',
      schema: geminiJsonSchema(ProposedDomain, 'domain_proposal'),
    };
    return ProposedDomain.parse(defaultAnswer(call, true, 1));
  };

  it("is any company's, from its facts alone, and passes the checks a real answer must", () => {
    for (const [file, name] of [
      ['tests/fixtures/acme_facts.md', 'Acme Robotics'],
      ['tests/fixtures/lumora_facts.md', 'Lumora Kettle Works'],
    ]) {
      const facts = readFileSync(file, 'utf8');
      const domain = answer(facts);
      expect(domain.name).toBe(name);
      expect(proposalCheck(facts)(domain)).toBeUndefined();
      expect(JSON.stringify(domain)).not.toMatch(/swap|e-commerce/i);
    }
    // No title: the most frequent capitalised name.
    const plain =
      'Harbor Lane sells ferry tickets between the two islands every morning.\nHarbor Lane ferries carry bicycles for free on weekdays only.\n';
    expect(answer(plain).name).toBe('Harbor Lane');
  });
});

describe('facts larger than one request should carry', () => {
  it('are cut at a line end within the budget, and the rest is counted', () => {
    const line = '* Lumora kettles are pressure-tested and signed by the person who assembled them.\n';
    const text = line.repeat(Math.ceil((PROPOSAL_FACTS_CHARS * 1.3) / line.length));
    const { facts, omitted } = factsForProposal(text);
    expect(facts.length).toBeLessThanOrEqual(PROPOSAL_FACTS_CHARS);
    expect(facts.length).toBeGreaterThan(PROPOSAL_FACTS_CHARS - line.length);
    expect(facts.endsWith('them.')).toBe(true);
    expect(facts.length + omitted).toBe(text.length);
    expect(factsForProposal(line)).toEqual({ facts: line, omitted: 0 });
  });
});

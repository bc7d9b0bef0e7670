// Checks before a stage pays for anything: facts that are not SWAP's need a domain file, and a stage must use the
// domain the stage before it used — else SWAP's prompts would be written about another company.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_DOMAIN } from './config.js';
import { manifestPath } from './io/sidecars.js';
import { SWAP_DOMAIN, type Domain } from './domain.js';
import { InputError } from './errors.js';

/** True when the facts name the built-in company (its name, or its web address). */
export function namesBuiltInCompany(facts: string): boolean {
  return /swap[ -]commerce/i.test(facts);
}

/**
 * With no domain file the prompts are SWAP's: stop before any call when the facts are about someone else, and say
 * how to describe that company.
 */
export function assertFactsFitDomain(domainFile: string | undefined, facts: string, inputs: string[]): void {
  if (domainFile || namesBuiltInCompany(facts)) return;
  throw new InputError(
    `${inputs.join(', ')}: these facts never name ${SWAP_DOMAIN.name}, and there is no domain file (${DEFAULT_DOMAIN}), so every prompt would be about ${SWAP_DOMAIN.name} — run \`make domain\` (npx tsx scripts/propose_domain.ts --input ${inputs.join(',')}) to propose one from the facts, check it, then run again (or pass --domain PATH)`,
  );
}

/**
 * The domain the stage that wrote `input` recorded in its manifest, if it has one: the input's own manifest, else
 * the one beside it that lists it among its outputs (stage 2's passed pairs are recorded in qa_pairs_validated's).
 */
function recordedDomain(input: string): { domain: string; manifest: string } | undefined {
  const own = manifestPath(input);
  const dir = dirname(input);
  const candidates = existsSync(own)
    ? [own]
    : existsSync(dir)
      ? readdirSync(dir)
          .filter((n) => n.endsWith('.meta.json'))
          .map((n) => join(dir, n))
      : [];
  for (const file of candidates) {
    const manifest = readManifest(file);
    if (file !== own && !manifest?.outputs?.some((o) => resolve(o) === resolve(input))) continue;
    return typeof manifest?.settings?.domain === 'string'
      ? { domain: manifest.settings.domain, manifest: file }
      : undefined;
  }
  return undefined;
}

/** A manifest's two fields this check reads; anything unreadable is no record (the stage then runs unchecked). */
function readManifest(file: string): { outputs?: string[]; settings?: { domain?: unknown } } | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8'));
    return value && typeof value === 'object'
      ? {
          outputs: Array.isArray(value.outputs)
            ? value.outputs.filter((o: unknown) => typeof o === 'string')
            : undefined,
          settings: value.settings,
        }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Stops when the input was made for another company than this stage's domain (a forgotten --domain). */
export function assertSameDomain(input: string, domain: Domain, domainFile: string | undefined): void {
  const theirs = recordedDomain(input);
  if (theirs === undefined || theirs.domain === domain.name) return;
  const ours = domainFile
    ? `${domain.name} (${domainFile})`
    : `${domain.name} (built in: no --domain and no ${DEFAULT_DOMAIN})`;
  throw new InputError(
    `${input}: made for ${theirs.domain} (${theirs.manifest}), but this stage's domain is ${ours} — pass the --domain the earlier stage used, or run that stage again with this one`,
  );
}

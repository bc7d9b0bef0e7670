// The provider SDKs, loaded on first use: a run on one provider does not pay the other's start-up (~0.35 s under
// tsx for openai, ~0.25 s for @google/genai, measured), and a stage that makes no call (a dry run, --help) pays none.
// Both SDKs ship a CommonJS build; require() of it also loads faster under tsx than the ESM build (235 vs 346 ms for
// openai). Errors are recognised by name and status, never by instanceof, so the copy loaded here is the only one
// that matters.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const geminiSdk = (): typeof import('@google/genai') => require('@google/genai');
export const openaiSdk = (): typeof import('openai') => require('openai');

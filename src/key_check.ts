// Refuses an API key that cannot be real (blank, the .env.example placeholder, pasted with spaces) before any call.
//
// Why before any call: the placeholder `your_gemini_key` used to cost 50 retried requests and 32 s before
// "connection failed". Shape rules apply only to the providers' own endpoints. A key for an OpenAI-compatible server
// (OPENAI_BASE_URL elsewhere: Ollama takes "ollama", llama.cpp "none") or a Gemini proxy may be any value.
//
// Shapes, checked 2026-12-02 with the search tool (pages corpus): OpenAI keys all start with `sk-` (`sk-proj-`,
// `sk-svcacct-`, `sk-admin-`, legacy `sk-`); Gemini keys started with `AIza` but new ones start `AQ.Ab`, so no prefix
// is required for Gemini, only a plausible length and no whitespace or quotes. The messages never echo the key.

export type KeyName = 'GOOGLE_API_KEY' | 'OPENAI_API_KEY';

/** The placeholders `.env.example` ships, and the usual ones people leave in place. */
const PLACEHOLDER = /^(your[_-].*|<.*>|\.{3}|x{3,}|changeme|replace[_-]?me|todo|api[_-]?key|sk-\.{3}|sk-x+)$/i;
/** The shortest real key of either provider is far longer; this catches `abc` and truncated pastes. */
const MIN_LENGTH = 20;

/** Whether the SDK will talk to the provider itself rather than a server the user pointed it at. */
function officialEndpoint(name: KeyName, env: (name: string) => string | undefined): boolean {
  const base = env(name === 'OPENAI_API_KEY' ? 'OPENAI_BASE_URL' : 'GOOGLE_GEMINI_BASE_URL');
  if (base === undefined) return true;
  return name === 'OPENAI_API_KEY'
    ? /^https:\/\/api\.openai\.com(\/|$)/.test(base)
    : /^https:\/\/generativelanguage\.googleapis\.com(\/|$)/.test(base);
}

/** null when the key may be real, else one line naming the variable and what is wrong (never the key itself). */
export function keyProblem(name: KeyName, value: string, env: (name: string) => string | undefined): string | null {
  const fix = 'put your real key in .env (see .env.example) or export it in your shell';
  if (value.trim() === '') return `${name} is blank: ${fix}`;
  if (PLACEHOLDER.test(value.trim()))
    return `${name} is still a placeholder (${JSON.stringify(value.trim().slice(0, 24))}), not a key: ${fix}${name === 'OPENAI_API_KEY' ? '; for a local OpenAI-compatible server set OPENAI_BASE_URL and any other value, e.g. OPENAI_API_KEY=ollama' : ''}`;
  // HTTP headers carry printable ASCII only; the SDK would fail on every request with an unhelpful message.
  if (/[^\x21-\x7e ]/.test(value))
    return `${name} contains a character that cannot be sent in a header (a line break, tab or non-ASCII character): copy the key again`;
  if (value !== value.trim()) return `${name} starts or ends with a space: copy the key again without it`;
  if (!officialEndpoint(name, env)) return null;
  if (/[\s"'`]/.test(value)) return `${name} contains a space or a quote: copy the key again`;
  if (value.length < MIN_LENGTH) return `${name} is ${value.length} characters long, too short for a real key: ${fix}`;
  if (name === 'OPENAI_API_KEY' && !value.startsWith('sk-'))
    return `OPENAI_API_KEY does not start with "sk-" as OpenAI keys do: ${fix} (for another OpenAI-compatible server, set OPENAI_BASE_URL)`;
  return null;
}

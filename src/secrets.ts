// Keeps API keys out of everything the pipeline prints or writes, including SDK messages that echo request details.

const SECRET_VARIABLES = ['GOOGLE_API_KEY', 'GEMINI_API_KEY', 'OPENAI_API_KEY', 'LOGFIRE_TOKEN'];
// Any other credential a user or a proxy setup puts in the environment, by the usual naming.
const SECRET_NAME = /(?:_API_KEY|_TOKEN|_SECRET)$/;

function secretValues(): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(process.env)) {
    // Other variables need a longer value: `FEATURE_TOKEN=true` must not blank every "true" in a message.
    const known = SECRET_VARIABLES.includes(name);
    if (!value || value.length < (known ? 4 : 8) || !(known || SECRET_NAME.test(name))) continue;
    values.add(value);
    // An SDK may echo the key as it appeared in a URL (`?key=…`) or inside a JSON string.
    values.add(encodeURIComponent(value));
    values.add(JSON.stringify(value).slice(1, -1));
  }
  // Longest first, so a key that contains another is replaced whole.
  return [...values].sort((a, b) => b.length - a.length);
}

/** Replaces any configured key, and anything shaped like a bearer token or key parameter, with [redacted]. */
export function redact(text: string): string {
  let out = text;
  for (const value of secretValues()) out = out.split(value).join('[redacted]');
  return out
    .replace(/(Bearer\s+)[\w.\-~+/]+=*/gi, '$1[redacted]')
    .replace(/([?&](?:key|api_key)=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/("?(?:x-goog-api-key|authorization|api[_-]?key)"?\s*[:=]\s*"?)[^"\s,}]+/gi, '$1[redacted]');
}

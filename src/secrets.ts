// Keeps API keys out of everything the pipeline prints or writes, including SDK messages that echo request details.

const SECRET_VARIABLES = ['GOOGLE_API_KEY', 'GEMINI_API_KEY', 'OPENAI_API_KEY', 'LOGFIRE_TOKEN'];

/** Replaces any configured key, and anything shaped like a bearer token or key parameter, with [redacted]. */
export function redact(text: string): string {
  let out = text;
  for (const name of SECRET_VARIABLES) {
    const value = process.env[name];
    if (value && value.length >= 4) out = out.split(value).join('[redacted]');
  }
  return out
    .replace(/(Bearer\s+)[\w.\-~+/]+=*/gi, '$1[redacted]')
    .replace(/([?&](?:key|api_key)=)[^&\s"']+/gi, '$1[redacted]')
    .replace(/("?(?:x-goog-api-key|authorization|api[_-]?key)"?\s*[:=]\s*"?)[^"\s,}]+/gi, '$1[redacted]');
}

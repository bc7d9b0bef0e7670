// A conversation as plain text: `ROLE: content` blocks joined by blank lines, as the judge and the embedder see it.

export function conversationText(messages: Array<{ role: string; content: string }>): string {
  return messages.map((m) => `${m.role.toUpperCase()}: ${m.content}`).join('\n\n');
}

/** The text embedded for dedup, cut where the embedding model's input limit is comfortably out of reach. */
export function embeddingText(messages: Array<{ role: string; content: string }>, maxChars: number): string {
  return conversationText(messages).slice(0, maxChars);
}

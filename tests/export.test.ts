// Export formats checked against the rules of the loaders that will read them, plus token estimates.

import { describe, expect, it } from 'vitest';
import { countTokens as countBpe } from 'gpt-tokenizer/encoding/cl100k_base';
import { toExportRow, type Message } from '../src/export/formats.js';
import { checkExportRow } from '../src/export/loader_rules.js';
import { countTokens, tokenStats, NANOCHAT_MAX_TOKENS } from '../src/export/tokens.js';

const SYSTEM = 'You are the SWAP Commerce assistant. Be brief.';
const conversation: Message[] = [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: 'Do you ship to Canada?' },
  { role: 'assistant', content: 'Yes, we ship to Canada within 5 business days.' },
  { role: 'user', content: 'And returns?' },
  { role: 'assistant', content: 'Returns are free for 30 days.' },
];

describe('messages format', () => {
  it('writes {"messages": [...]} with the system message kept first', () => {
    const row = toExportRow(conversation, 'messages');
    expect(row).toEqual({ messages: conversation });
    expect(checkExportRow(row, 'messages')).toBeNull();
  });

  it('is the default shape and copies only role and content', () => {
    const withExtra = conversation.map((m) => ({ ...m, id: 'x' }));
    expect(toExportRow(withExtra, 'messages')).toEqual({ messages: conversation });
  });

  it('accepts a conversation without a system message', () => {
    expect(checkExportRow(toExportRow(conversation.slice(1), 'messages'), 'messages')).toBeNull();
  });

  it.each([
    [
      'a system message after the first',
      [conversation[1], conversation[0], conversation[2]],
      /system is allowed only as the first turn/,
    ],
    [
      'two user turns in a row',
      [conversation[0], conversation[1], conversation[3], conversation[2]],
      /messages\[2\]\.role is user but should be assistant/,
    ],
    [
      'a trailing user turn',
      conversation.slice(0, 4),
      /messages ends with a user turn; the last turn must be assistant/,
    ],
    [
      'an unknown role',
      [conversation[1], { role: 'tool', content: 'x' }],
      /messages\[1\]\.role is "tool"; expected one of system, user, assistant/,
    ],
    ['only a system message', [conversation[0]], /no user\/assistant turns/],
    [
      'non-string content',
      [conversation[1], { role: 'assistant', content: 42 }],
      /messages\[1\]\.content must be a string/,
    ],
  ])('rejects %s', (_name, messages, reason) => {
    expect(checkExportRow({ messages }, 'messages')).toMatch(reason);
  });

  it('rejects a bare array', () => {
    expect(checkExportRow(conversation, 'messages')).toBe('Expected an object with a "messages" array, got array');
  });
});

describe('nanochat format (CustomJSON)', () => {
  it('merges the system prompt into the first user message the way render_conversation does', () => {
    const row = toExportRow(conversation, 'nanochat') as Message[];
    expect(row).toEqual([{ role: 'user', content: `${SYSTEM}\n\nDo you ship to Canada?` }, ...conversation.slice(2)]);
    expect(row[0].content).toBe('You are the SWAP Commerce assistant. Be brief.\n\nDo you ship to Canada?');
    expect(checkExportRow(row, 'nanochat')).toBeNull();
  });

  it('drops the system prompt when asked', () => {
    const row = toExportRow(conversation, 'nanochat', { system: 'drop' }) as Message[];
    expect(row).toEqual(conversation.slice(1));
    expect(JSON.stringify(row)).not.toContain(SYSTEM);
    expect(checkExportRow(row, 'nanochat')).toBeNull();
  });

  it('does not mutate the input conversation', () => {
    const before = structuredClone(conversation);
    toExportRow(conversation, 'nanochat');
    expect(conversation).toEqual(before);
  });

  it('survives a JSONL round trip on a single line', () => {
    const line = JSON.stringify(toExportRow(conversation, 'nanochat'));
    expect(line).not.toContain('\n');
    expect(checkExportRow(JSON.parse(line), 'nanochat')).toBeNull();
  });

  it('rejects a row that still leads with the system message', () => {
    expect(checkExportRow(conversation, 'nanochat')).toBe('Message 0 has role system but should be user');
  });

  it('leaves a system message that no user turn follows, so the check reports it', () => {
    const odd: Message[] = [conversation[0], conversation[2], conversation[1], conversation[2]];
    const row = toExportRow(odd, 'nanochat');
    expect(row).toEqual(odd);
    expect(checkExportRow(row, 'nanochat')).toBe('Message 0 has role system but should be user');
  });

  it.each([
    ['the {"messages"} object', { messages: conversation.slice(1) }, 'Expected list of messages, got object'],
    ['a single message', [conversation[1]], 'Conversation must have at least 2 messages, got 1'],
    ['a missing content field', [conversation[1], { role: 'assistant' }], "Message 1 missing 'content' field"],
    ['a missing role field', [{ content: 'hi' }, conversation[2]], "Message 0 missing 'role' field"],
    [
      'non-string content',
      [conversation[1], { role: 'assistant', content: ['x'] }],
      'Message 1 content must be a string',
    ],
    ['blank content', [conversation[1], { role: 'assistant', content: '  \n' }], 'Message 1 content is empty'],
    ['a trailing user turn', conversation.slice(1, 4), 'Conversation must end with an assistant message, got user'],
    [
      'two assistants in a row',
      [conversation[1], conversation[2], conversation[4]],
      'Message 2 has role assistant but should be user',
    ],
  ])('rejects %s', (_name, row, reason) => {
    expect(checkExportRow(row, 'nanochat')).toBe(reason);
  });
});

describe('sharegpt format', () => {
  it('maps system/user/assistant to system/human/gpt', () => {
    const row = toExportRow(conversation, 'sharegpt');
    expect(row).toEqual({
      conversations: [
        { from: 'system', value: SYSTEM },
        { from: 'human', value: 'Do you ship to Canada?' },
        { from: 'gpt', value: 'Yes, we ship to Canada within 5 business days.' },
        { from: 'human', value: 'And returns?' },
        { from: 'gpt', value: 'Returns are free for 30 days.' },
      ],
    });
    expect(checkExportRow(row, 'sharegpt')).toBeNull();
  });

  it.each([
    [
      'OpenAI role names',
      {
        conversations: [
          { from: 'user', value: 'hi' },
          { from: 'gpt', value: 'yo' },
        ],
      },
      /conversations\[0\]\.from is "user"; expected one of system, human, gpt/,
    ],
    [
      'a system turn after the first',
      {
        conversations: [
          { from: 'human', value: 'hi' },
          { from: 'system', value: 's' },
        ],
      },
      /system is allowed only as the first turn/,
    ],
    [
      'a trailing human turn',
      { conversations: [{ from: 'human', value: 'hi' }] },
      /conversations ends with a human turn; the last turn must be gpt/,
    ],
    [
      'gpt speaking first',
      {
        conversations: [
          { from: 'gpt', value: 'yo' },
          { from: 'human', value: 'hi' },
        ],
      },
      /conversations\[0\]\.from is gpt but should be human/,
    ],
    [
      'a missing value',
      { conversations: [{ from: 'human' }, { from: 'gpt', value: 'yo' }] },
      /conversations\[0\]\.value must be a string, got undefined/,
    ],
    ['the messages shape', { messages: conversation }, /Expected an object with a "conversations" array/],
  ])('rejects %s', (_name, row, reason) => {
    expect(checkExportRow(row, 'sharegpt')).toMatch(reason);
  });
});

describe('openai format (fine-tuning JSONL)', () => {
  it('writes {"messages": [...]} with the system message kept and passes the cookbook checks', () => {
    const row = toExportRow(conversation, 'openai');
    expect(row).toEqual({ messages: conversation });
    expect(checkExportRow(row, 'openai')).toBeNull();
  });

  it.each([
    [
      'an extra key',
      { messages: [conversation[1], { ...conversation[2], id: 7 }] },
      'messages[1] has the key "id"; OpenAI accepts only role, content, name and weight',
    ],
    [
      'empty content',
      { messages: [conversation[1], { role: 'assistant', content: '' }] },
      'messages[1].content must be a non-empty string',
    ],
    [
      'a missing role',
      { messages: [{ content: 'hi' }, conversation[2]] },
      'messages[0] needs both "role" and "content"',
    ],
    ['no assistant message', { messages: [conversation[0], conversation[1]] }, 'messages has no assistant message'],
    [
      'two user turns in a row (the messages rules)',
      { messages: [conversation[1], conversation[3], conversation[2]] },
      'messages[1].role is user but should be assistant',
    ],
  ])('rejects %s', (_name, row, reason) => {
    expect(checkExportRow(row, 'openai')).toBe(reason);
  });

  it('accepts an extra key that TRL ignores only under messages, not openai', () => {
    const row = { messages: [conversation[1], { ...conversation[2], id: 7 }] };
    expect(checkExportRow(row, 'messages')).toBeNull();
    expect(checkExportRow(row, 'openai')).not.toBeNull();
  });
});

describe('axolotl format (type: chat_template)', () => {
  it('writes the default field_messages shape and applies the turn rules', () => {
    expect(toExportRow(conversation, 'axolotl')).toEqual({ messages: conversation });
    expect(checkExportRow(toExportRow(conversation, 'axolotl'), 'axolotl')).toBeNull();
    expect(checkExportRow({ messages: conversation.slice(0, 4) }, 'axolotl')).toMatch(/last turn must be assistant/);
    expect(checkExportRow({ conversations: [] }, 'axolotl')).toMatch(/Expected an object with a "messages" array/);
  });
});

describe('countTokens', () => {
  const ordinary = { disallowedSpecial: new Set<string>() };

  it('counts <|bos|>, two special tokens per message and the content tokens', () => {
    const pair: Message[] = [
      { role: 'user', content: 'hello there' },
      { role: 'assistant', content: 'general kenobi' },
    ];
    expect(countTokens(pair)).toBe(
      1 + 2 * 2 + countBpe('hello there', ordinary) + countBpe('general kenobi', ordinary),
    );
  });

  it('is positive and grows with the text', () => {
    const short = countTokens(conversation);
    const longer = countTokens([
      ...conversation.slice(0, 4),
      { role: 'assistant', content: 'Returns are free for 30 days. '.repeat(20) },
    ]);
    expect(short).toBeGreaterThan(0);
    expect(longer).toBeGreaterThan(short);
  });

  it('counts the merged system prompt by default and less when it is dropped', () => {
    const merged = countTokens(conversation);
    const dropped = countTokens(conversation, { system: 'drop' });
    expect(merged).toBe(countTokens(toExportRow(conversation, 'nanochat') as Message[]));
    expect(dropped).toBeLessThan(merged);
  });

  it('treats special-token look-alikes as plain text, as encode_ordinary does', () => {
    expect(
      countTokens([
        { role: 'user', content: 'what is <|endoftext|>?' },
        { role: 'assistant', content: 'a token' },
      ]),
    ).toBeGreaterThan(5);
  });

  it('flags a conversation longer than nanochat keeps', () => {
    const long: Message[] = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'the fee is 2.9% plus 30 cents. '.repeat(300) },
    ];
    expect(countTokens(long)).toBeGreaterThan(NANOCHAT_MAX_TOKENS);
    expect(countTokens(conversation)).toBeLessThan(NANOCHAT_MAX_TOKENS);
  });
});

describe('tokenStats', () => {
  it('gives nearest-rank percentiles and the mean of unsorted input', () => {
    const counts = [7, 3, 10, 1, 9, 2, 8, 5, 4, 6];
    expect(tokenStats(counts)).toEqual({ min: 1, p50: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
    expect(counts).toEqual([7, 3, 10, 1, 9, 2, 8, 5, 4, 6]);
  });

  it('handles 200 values where p99 differs from the max', () => {
    const counts = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(tokenStats(counts)).toEqual({ min: 1, p50: 100, p90: 180, p99: 198, max: 200, mean: 100.5 });
  });

  it('returns the value itself for one count and zeros for none', () => {
    expect(tokenStats([42])).toEqual({ min: 42, p50: 42, p90: 42, p99: 42, max: 42, mean: 42 });
    expect(tokenStats([])).toEqual({ min: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 });
  });
});

describe('format guard', () => {
  it('throws on an unknown format instead of writing nothing useful', () => {
    expect(() => toExportRow(conversation, 'alpaca' as never)).toThrow(
      'Expected format to be one of messages, nanochat, sharegpt, openai, axolotl, got "alpaca"',
    );
    expect(() => checkExportRow({}, 'alpaca' as never)).toThrow(TypeError);
  });
});

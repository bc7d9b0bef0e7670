// Kept rows written from the text stage 6 already holds: the same bytes JSON.stringify would write, or a fallback.
import { describe, expect, it } from 'vitest';
import { onlyMembers, stringifiedShape, stringifyEscapes } from '../src/io/json_text.js';
import { Rng } from '../bench/rng.js';

/** What the stage-6 reader keeps: every non-ASCII character as a lower-case \u escape. */
const asciiEscaped = (text: string) =>
  text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const TRICKY = [
  'naïve — “quoted” 😀 ok',
  'back\\slash "quote" /slash\n\t\r\b\f',
  '\u0000\u0001\u001f\u007f\u0080\u00ff',
  '\ud800 lone high, lone low \udc00, reversed \udc00\ud800',
  '\u2028\u2029 line separators',
  '\\u0041 is not an escape here',
];

describe('stringifyEscapes', () => {
  it('gives back what JSON.stringify wrote, from its ASCII-escaped form', () => {
    for (const s of TRICKY) {
      const canonical = JSON.stringify({ s, n: [1.5, -0, 1e21] });
      expect(stringifyEscapes(asciiEscaped(canonical))).toBe(canonical);
    }
  });

  it('on random strings of any code units, too', () => {
    const rng = new Rng(7);
    const units = [0x00, 0x0a, 0x1f, 0x22, 0x2f, 0x5c, 0x41, 0x75, 0xe9, 0x2014, 0xd83d, 0xde00, 0xdbff, 0xffff];
    for (let k = 0; k < 500; k++) {
      const s = String.fromCharCode(...Array.from({ length: 12 }, () => units[Math.floor(rng.next() * units.length)]!));
      const canonical = JSON.stringify([s]);
      expect(stringifyEscapes(asciiEscaped(canonical))).toBe(canonical);
    }
  });

  it('writes other escapes (upper-case hex, \\/, escaped ASCII) as JSON.stringify would', () => {
    const text = '{"s":"caf\\u00E9 \\uD83D\\uDE00 \\/ \\u0041 \\u005C"}';
    expect(stringifyEscapes(text)).toBe(JSON.stringify(JSON.parse(text)));
  });
});

describe('onlyMembers', () => {
  const keep = ['conversation', 'judgment'];
  const row = { conversation: { m: 'a', text_preview: 'nested' }, judgment: { p: true } };
  const expected = JSON.stringify(row);

  it('returns the text itself when it holds exactly the kept members', () => {
    const text = JSON.stringify(row);
    expect(onlyMembers(text, JSON.parse(text), keep)).toBe(text);
  });

  it('cuts one trailing string member (the preview) off the text', () => {
    const text = JSON.stringify({ ...row, text_preview: 'he said "hi" \\ ,"text_preview":"x' });
    expect(onlyMembers(text, JSON.parse(text), keep)).toBe(expected);
  });

  it('serialises again when the text is not what JSON.stringify writes: keys twice, numbers spelt otherwise, spaces', () => {
    const cases = [
      // The text would keep both; JSON.parse keeps the last (and a first-wins reader would see the other).
      '{"conversation":{"m":"a"},"judgment":{"p":true},"text_preview":"first","text_preview":"second"}',
      '{"conversation":{"m":"a"},"judgment":{"p":false},"judgment":{"p":true}}',
      '{"conversation":{"m":"a","m":"b"},"judgment":{"p":true}}',
      // 1e400 parses to Infinity (JSON.stringify writes null); -0 is written 0; 1.0 and 1e2 are written 1 and 100.
      '{"conversation":{"m":"a"},"judgment":{"p":true,"s":1e400}}',
      '{"conversation":{"m":"a"},"judgment":{"p":true,"s":-0}}',
      '{"conversation":{"m":"a"},"judgment":{"p":true,"s":[1.0,1e2]}}',
      '{"conversation":{"m":"a"},"judgment":{ "p" : true }}',
    ];
    for (const text of cases) {
      const obj = JSON.parse(text);
      expect(onlyMembers(text, obj, keep)).toBe(
        JSON.stringify({ conversation: obj.conversation, judgment: obj.judgment }),
      );
    }
    // An escaped backslash, then an escaped quote: the string ends at the third quote, not the second.
    const shaped = String.raw`{"a":[1,0.5,-2,true,null,"x\\\"y"],"b":{}}`;
    expect(stringifiedShape(shaped, JSON.parse(shaped))).toBe(true);
  });

  it('serialises again when the text cannot be cut safely', () => {
    const cases = [
      // The top-level key written with an escape: the last plain match is the nested one.
      `{"conversation":{"m":"a","text_preview":"nested"},"judgment":{"p":true},"text\\u005fpreview":"p"}`,
      // Spaces after the comma; a member that is not a string; another order; an extra member in the middle.
      `{"conversation":{"m":"a","text_preview":"nested"},"judgment":{"p":true}, "text_preview":"p"}`,
      `{"conversation":{"m":"a","text_preview":"nested"},"judgment":{"p":true},"text_preview":5}`,
      `{"judgment":{"p":true},"conversation":{"m":"a","text_preview":"nested"}}`,
      `{"conversation":{"m":"a","text_preview":"nested"},"extra":1,"judgment":{"p":true}}`,
    ];
    for (const text of cases) expect(onlyMembers(text, JSON.parse(text), keep)).toBe(expected);
  });
});

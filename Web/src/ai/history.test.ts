import { describe, expect, it } from 'vitest';
import { contextPercent, estimatedMaxMessages, messagesToSend } from './history';

describe('the message window', () => {
  it('sends everything until usage is known', () => {
    expect(estimatedMaxMessages(6, null, 128000)).toBeUndefined();
    const messages = [1, 2, 3].map((i) => ({ id: String(i), parts: [{ type: 'text' }] }));
    expect(messagesToSend(messages, undefined)).toHaveLength(3);
  });

  it('keeps as many recent messages as fit in the context window', () => {
    // 10 messages filled 50% of the window: 20 fit.
    expect(estimatedMaxMessages(10, { totalTokens: 64000 }, 128000)).toBe(20);
    // 10 messages filled 250%: only the last 4 fit.
    expect(estimatedMaxMessages(10, { totalTokens: 320000 }, 128000)).toBe(4);
    expect(contextPercent({ totalTokens: 32000 }, 128000)).toBe(25);
  });

  it('never drops below the last message', () => {
    expect(estimatedMaxMessages(1, { totalTokens: 10_000_000 }, 1000)).toBe(1);
  });

  it('sends the last N messages and blanks data: and blob: file URLs', () => {
    const messages: { id: string; parts: { type: string; url?: string }[] }[] = [
      { id: 'a', parts: [{ type: 'text' }] },
      { id: 'b', parts: [{ type: 'file', url: 'data:image/png;base64,AAAA' }, { type: 'file', url: 'https://example.com/x.png' }] },
      { id: 'c', parts: [{ type: 'file', url: 'blob:http://x/1' }] },
    ];
    const sent = messagesToSend(messages, 2);
    expect(sent.map((m) => m.id)).toEqual(['b', 'c']);
    expect(sent[0].parts[0].url).toBe('');
    expect(sent[0].parts[1].url).toBe('https://example.com/x.png');
    expect(sent[1].parts[0].url).toBe('');
    expect(messages[1].parts[0].url).toMatch(/^data:/); // the kept conversation is not changed
  });
});

import { chatErrorMessage } from './errors';

describe('chat errors', () => {
  it('shows the error envelope message', () => {
    const body = JSON.stringify({ errors: [{ message: 'Model not allowed for this provider', extensions: { code: 'FORBIDDEN' } }] });
    expect(chatErrorMessage(new Error(body))).toBe('Model not allowed for this provider');
  });

  it('says when the connection was lost', () => {
    expect(chatErrorMessage(new TypeError('Failed to fetch'))).toMatch(/connection was lost/);
  });
});

import { describe, expect, it } from 'vitest';
import { attachmentOf, messagesOf, render, variablesOf, type Prompt } from './prompts';

const prompt: Prompt = {
  id: 1,
  name: 'translate',
  system_prompt: 'You translate into {{ language: the target language }}.',
  messages: [
    { role: 'user', text: 'Translate {{text}} into {{language}}, {{ not a variable }}.' },
    { role: 'assistant', text: 'Here is {{text}} in {{ language }}.' },
  ],
};

describe('prompts', () => {
  it('finds each variable once, in order, with the first description given', () => {
    expect(variablesOf(prompt)).toEqual([{ name: 'language', description: 'the target language' }, { name: 'text', description: undefined }]);
  });

  it('fills the placeholders it has values for and leaves the others as written', () => {
    expect(render('{{a}} and {{ b }} and {{c}}', { a: '1', b: '2' })).toBe('1 and 2 and {{c}}');
  });

  it('makes the context attachment the chat request carries', () => {
    const attachment = attachmentOf(prompt, { language: 'French', text: '"hello"' });
    expect(attachment.type).toBe('prompt');
    expect(attachment.display).toBe('translate');
    expect(attachment.snapshot.text).toBe('You translate into French.');
    expect(attachment.snapshot.messages).toEqual([
      { role: 'user', text: 'Translate "hello" into French, {{ not a variable }}.' },
      { role: 'assistant', text: 'Here is "hello" in French.' },
    ]);
    expect(attachment.data.values).toEqual({ language: 'French', text: '"hello"' });
  });

  it('reads stored messages as a list or its JSON text, keeping only {role, text}', () => {
    expect(messagesOf([{ role: 'assistant', text: 'a' }, { role: 'x', text: 'b' }, { text: 3 }, null])).toEqual([
      { role: 'assistant', text: 'a' }, { role: 'user', text: 'b' },
    ]);
    expect(messagesOf('[{"role":"user","text":"c"}]')).toEqual([{ role: 'user', text: 'c' }]);
    expect(messagesOf('not json')).toEqual([]);
  });
});

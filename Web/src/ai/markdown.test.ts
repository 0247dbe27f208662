// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown';

describe('markdown from a model', () => {
  it('renders formatting', () => {
    expect(renderMarkdown('**bold** and `code`')).toContain('<strong>bold</strong>');
  });

  it('renders script, event handlers and javascript: links inert', () => {
    const html = renderMarkdown('<script>alert(1)</script><img src="x" onerror="alert(2)">\n\n[click](javascript:alert(3)) <a href="javascript:alert(4)">x</a>');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/onerror/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).toContain('>click</a>'); // the link's text stays, without its href
  });

  it('opens links in a new tab without an opener', () => {
    expect(renderMarkdown('[docs](https://example.com)')).toContain('rel="noopener noreferrer"');
  });
});

import { describe, expect, it } from 'vitest';
import { canAttach, filePart, refusal } from './attachments';

describe('attachments', () => {
  it('are offered for models of providers with a file API that accept them', () => {
    expect(canAttach({ provider: 'openai', attachment: true })).toBe(true);
    expect(canAttach({ provider: 'google', attachment: true })).toBe(true);
    expect(canAttach({ provider: 'openai', attachment: false })).toBe(false);
    expect(canAttach({ provider: 'openai-compatible', attachment: true })).toBe(false);
    expect(canAttach({ provider: 'openai-compatible:lm', attachment: true })).toBe(false);
    expect(canAttach(undefined)).toBe(false);
  });

  it('refuse what the server refuses: other types and files over 50 MB', () => {
    expect(refusal({ name: 'a.pdf', type: 'application/pdf', size: 10 })).toBeNull();
    expect(refusal({ name: 'a.zip', type: 'application/zip', size: 10 })).toContain('application/zip');
    expect(refusal({ name: 'big.mp4', type: 'video/mp4', size: 50 * 1024 * 1024 + 1 })).toContain('50MB');
  });

  it('carry the provider file id where the server reads it', () => {
    expect(filePart({ provider: 'anthropic', fileId: 'file_1', filename: 'a.png', mimeType: 'image/png', sizeBytes: 3, expiresAt: null })).toEqual({
      type: 'file', mediaType: 'image/png', filename: 'a.png', url: 'file_1', providerMetadata: { directus: { fileId: 'file_1', provider: 'anthropic' } },
    });
  });
});

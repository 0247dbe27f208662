import { describe, expect, it } from 'vitest';
import { readModes, requestTools, toolOfPart } from './tool-modes';

const storage = (value: string | null) => ({ getItem: () => value });

describe('tool modes', () => {
  it('asks for every system tool by default', () => {
    const { tools, toolApprovals } = requestTools(readModes(storage(null)));
    expect(tools).toEqual(['items', 'files', 'folders', 'collections', 'fields', 'relations']);
    expect(Object.values(toolApprovals).every((m) => m === 'ask')).toBe(true);
  });

  it('leaves disabled tools out and sends always for always', () => {
    const modes = readModes(storage(JSON.stringify({ items: 'always', files: 'disabled', fields: 'nonsense' })));
    const { tools, toolApprovals } = requestTools(modes);
    expect(tools).not.toContain('files');
    expect(toolApprovals.items).toBe('always');
    expect(toolApprovals.fields).toBe('ask');
    expect('files' in toolApprovals).toBe(false);
  });

  it('survives a corrupt entry', () => {
    expect(readModes(storage('{not json'))).toEqual({});
  });

  it('names the tool an execute call runs', () => {
    expect(toolOfPart({ type: 'tool-execute', input: { name: 'items', input: {} } })).toBe('items');
    expect(toolOfPart({ type: 'tool-schema', input: {} })).toBe('schema');
    expect(toolOfPart({ type: 'dynamic-tool', toolName: 'ask_user' })).toBe('ask_user');
  });
});

// The tools the panel asks for and each one's approval mode, kept in the browser as the reference does
// (localStorage "ai-tool-approvals"). The server enforces the mode: "ask" means it issues a signed approval request.
export type ToolMode = 'always' | 'ask' | 'disabled';

/** The reference app's system tools (assets and system-prompt are not requested by it). */
export const systemTools = ['items', 'files', 'folders', 'collections', 'fields', 'relations'] as const;

/** Tools the panel never lists for approval: the root tools the server always gives the model. */
export const rootTools = ['search', 'execute', 'schema'] as const;

export const storageKey = 'ai-tool-approvals';

export function readModes(storage: Pick<Storage, 'getItem'>): Record<string, ToolMode> {
  try {
    const parsed = JSON.parse(storage.getItem(storageKey) ?? '{}');
    const modes: Record<string, ToolMode> = {};
    for (const [tool, mode] of Object.entries(parsed ?? {}))
      if (mode === 'always' || mode === 'ask' || mode === 'disabled') modes[tool] = mode;
    return modes;
  } catch {
    return {};
  }
}

export function modeOf(modes: Record<string, ToolMode>, tool: string): ToolMode {
  return modes[tool] ?? 'ask';
}

/** The request's `tools` (disabled ones left out) and `toolApprovals` (only entries for tools present). */
export function requestTools(modes: Record<string, ToolMode>): { tools: string[]; toolApprovals: Record<string, 'always' | 'ask'> } {
  const tools = systemTools.filter((t) => modeOf(modes, t) !== 'disabled');
  const toolApprovals: Record<string, 'always' | 'ask'> = {};
  for (const t of tools) toolApprovals[t] = modeOf(modes, t) as 'always' | 'ask';
  return { tools, toolApprovals };
}

/** The tool a tool part is about: for execute, the tool it runs (input.name), as the reference's UI shows it. */
export function toolOfPart(part: { type: string; toolName?: string; input?: unknown }): string {
  const name = part.type === 'dynamic-tool' ? part.toolName ?? '' : part.type.replace(/^tool-/, '');
  if (name === 'execute' && part.input && typeof part.input === 'object' && typeof (part.input as { name?: unknown }).name === 'string')
    return (part.input as { name: string }).name;
  return name;
}

// What part of the conversation is sent: the reference's message window. After each data-usage the window is
// recomputed as floor(messages / contextUsage% * 100), contextUsage% = totalTokens / context window * 100, so a
// conversation that grows past the model's context keeps only its most recent messages.
export interface Usage { inputTokens?: number; outputTokens?: number; totalTokens?: number; cacheReadTokens?: number; cacheCreationTokens?: number }

export function contextPercent(usage: Usage | null, contextWindow: number): number {
  if (!usage?.totalTokens || contextWindow <= 0) return 0;
  return (usage.totalTokens / contextWindow) * 100;
}

/** The number of most recent messages that fit, given how full the context was with `messageCount` messages. */
export function estimatedMaxMessages(messageCount: number, usage: Usage | null, contextWindow: number): number | undefined {
  const percent = contextPercent(usage, contextWindow);
  if (percent <= 0 || messageCount <= 0) return undefined;
  return Math.max(1, Math.floor((messageCount / percent) * 100));
}

interface FilePart { type: string; url?: string }
interface Message { parts: FilePart[] }

/** The messages to send: the last `max` (all when undefined), with data: and blob: file URLs blanked as the reference does. */
export function messagesToSend<M extends Message>(messages: M[], max: number | undefined): M[] {
  const window = max === undefined ? messages : messages.slice(-max);
  return window.map((m) => ({
    ...m,
    parts: m.parts.map((p) => (p.type === 'file' && p.url && /^(data|blob):/.test(p.url) ? { ...p, url: '' } : p)),
  }));
}

// Prompts from the prompts collection (Settings → AI → MCP), as the reference's app uses them (use-prompts.ts): the
// published ones, read under the user's own permissions; a dialog collects their {{variables}}; the rendered prompt is
// sent as a `prompt` context attachment. The placeholder rules are those of Services.Tools/Mcp/PromptTemplates.cs.
import { api } from '../api/client';

export interface PromptMessage { role: 'user' | 'assistant'; text: string }
export interface Prompt { id: string | number; name: string; description?: string | null; system_prompt?: string | null; messages: PromptMessage[] }
export interface PromptVariable { name: string; description?: string }
export interface PromptAttachment {
  type: 'prompt';
  display: string;
  data: { text: string; prompt: Prompt; values: Record<string, string> };
  snapshot: { text: string; messages: PromptMessage[] };
}

const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(?::([^{}]*))?\}\}/g;

/** Every variable of the prompt's system prompt and messages, each once, in the order they first appear. */
export function variablesOf(prompt: Prompt): PromptVariable[] {
  const found: PromptVariable[] = [];
  for (const text of [prompt.system_prompt ?? '', ...prompt.messages.map((m) => m.text)]) {
    for (const m of text.matchAll(placeholder)) {
      const description = m[2]?.trim() || undefined;
      const known = found.find((v) => v.name === m[1]);
      if (!known) found.push({ name: m[1], description });
      else if (!known.description && description) known.description = description;
    }
  }
  return found;
}

/** The text with each placeholder replaced by its value; one without a value stays as written. */
export function render(text: string, values: Record<string, string>): string {
  return text.replace(placeholder, (whole, name: string) => (name in values ? values[name] : whole));
}

/** The context attachment of a prompt filled in with `values`. */
export function attachmentOf(prompt: Prompt, values: Record<string, string>): PromptAttachment {
  const text = render(prompt.system_prompt ?? '', values);
  const messages = prompt.messages.map((m) => ({ role: m.role, text: render(m.text, values) }));
  return { type: 'prompt', display: prompt.name, data: { text, prompt, values }, snapshot: { text, messages } };
}

/** A `messages` value as stored (a list, or its JSON text), keeping only `{role, text}` entries. */
export function messagesOf(value: unknown): PromptMessage[] {
  let list = value;
  if (typeof list === 'string') {
    try { list = JSON.parse(list); } catch { return []; }
  }
  if (!Array.isArray(list)) return [];
  return list
    .filter((m): m is { role?: unknown; text: string } => typeof m === 'object' && m !== null && typeof (m as { text?: unknown }).text === 'string')
    .map((m) => ({ role: m.role === 'assistant' ? 'assistant' : 'user', text: m.text }));
}

/** The published prompts the user may read; none when no collection is set or it cannot be read. */
export async function loadPrompts(): Promise<Prompt[]> {
  try {
    const settings = await api<{ data: { mcp_prompts_collection?: string | null } }>('/settings?fields=mcp_prompts_collection');
    const collection = settings.data.mcp_prompts_collection;
    if (!collection) return [];
    const query = 'fields=id,name,description,status,system_prompt,messages&filter[status][_eq]=published&sort=name&limit=-1';
    const items = await api<{ data: Array<Record<string, unknown>> }>(`/items/${encodeURIComponent(collection)}?${query}`);
    return items.data
      .filter((i) => typeof i.name === 'string' && i.name.length > 0)
      .map((i) => ({
        id: i.id as string | number, name: i.name as string, description: (i.description as string | null) ?? null,
        system_prompt: (i.system_prompt as string | null) ?? null, messages: messagesOf(i.messages),
      }));
  } catch {
    return []; // no access to the collection, or no such collection: the panel offers no prompts
  }
}

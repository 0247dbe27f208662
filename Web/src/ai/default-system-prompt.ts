// The default system prompt, shown for reference in Settings → AI: the very file Chat embeds.
import text from '../../../Services.Chat/Chat/system-prompt.md?raw';

export const defaultSystemPrompt = text;

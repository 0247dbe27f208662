/** The message a person can act on, from an error the chat transport raised (its text is the response body). */
export function chatErrorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error ?? '');
  try {
    const body = JSON.parse(text);
    const message = body?.errors?.[0]?.message;
    if (typeof message === 'string' && message) return message;
  } catch {
    // not the error envelope
  }
  if (/failed to fetch|network|load failed|terminated|aborted/i.test(text)) return 'The connection was lost before the answer finished.';
  return text || 'Something went wrong.';
}

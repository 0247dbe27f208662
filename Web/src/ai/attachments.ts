// Attachments for the assistant panel, as the reference's app: each file is uploaded to the chosen provider's file
// store through POST /ai/files, and the message carries a file part with the id it answered
// (providerMetadata.directus.fileId), which the server turns into that provider's file reference.
import type { FileUIPart } from 'ai';
import { api } from '../api/client';
import type { ModelOption } from '../api/server';

/** The providers with a file API (OpenAI-compatible ones have none). */
export const attachmentProviders = ['openai', 'anthropic', 'google'];
/** The reference's AI_ALLOWED_MIME_TYPES, the server's list too. */
export const allowedTypes = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'application/pdf', 'text/plain', 'audio/mpeg', 'audio/wav', 'video/mp4'];
export const maxBytes = 50 * 1024 * 1024;

export interface ProviderFileRef { provider: string; fileId: string; filename: string; mimeType: string; sizeBytes: number; expiresAt: string | null }

/** Whether the model takes attachments: its provider has a file API and the model accepts them. */
export function canAttach(model: Pick<ModelOption, 'provider' | 'attachment'> | undefined): boolean {
  return !!model && model.attachment && attachmentProviders.includes(model.provider);
}

/** Why a file cannot be attached (null when it can): the server would refuse it the same way. */
export function refusal(file: Pick<File, 'name' | 'type' | 'size'>): string | null {
  if (!allowedTypes.includes(file.type)) return `${file.name}: files of type ${file.type || 'unknown'} cannot be attached`;
  if (file.size > maxBytes) return `${file.name}: File exceeds maximum size of 50MB`;
  return null;
}

/** The message's file part for an uploaded file: its id stands in the url, as the reference's transform puts it. */
export function filePart(ref: ProviderFileRef): FileUIPart {
  return {
    type: 'file',
    mediaType: ref.mimeType,
    filename: ref.filename,
    url: ref.fileId,
    providerMetadata: { directus: { fileId: ref.fileId, provider: ref.provider } },
  };
}

/** Uploads one file to the provider's file store; an ApiError carries the server's message. */
export async function upload(file: File, provider: string): Promise<FileUIPart> {
  const form = new FormData();
  form.append('provider', provider);
  form.append('file', file, file.name);
  return filePart(await api<ProviderFileRef>('/ai/files', { method: 'POST', body: form }));
}

import { ref } from 'vue';
import { api, ApiError } from './client';

export interface ServerInfo { ai_enabled: boolean; ai_providers: string[]; mcp_enabled: boolean }

export interface ModelOption {
  provider: string;
  model: string;
  name: string;
  limit: { context: number; output: number };
  attachment: boolean;
  reasoning: boolean;
}

export const serverInfo = ref<ServerInfo | null>(null);
/** The models the user may pick; empty when AI is off, no provider is configured, or /ai is not routed (404). */
export const models = ref<ModelOption[]>([]);
export const modelsError = ref('');

/** What decides whether the assistant panel exists: /server/info, then /ai/models. */
export async function loadAi(): Promise<void> {
  modelsError.value = '';
  try {
    serverInfo.value = (await api<{ data: ServerInfo }>('/server/info')).data;
  } catch {
    serverInfo.value = null;
  }
  if (!serverInfo.value?.ai_enabled || serverInfo.value.ai_providers.length === 0) {
    models.value = [];
    return;
  }
  try {
    models.value = (await api<{ data: ModelOption[] }>('/ai/models')).data;
  } catch (e) {
    models.value = [];
    // A gateway started with AI_ENABLED=false answers /ai/* 404: no assistant, and nothing to report.
    if (!(e instanceof ApiError && e.status === 404)) modelsError.value = e instanceof Error ? e.message : String(e);
  }
}

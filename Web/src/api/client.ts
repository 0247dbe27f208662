// The one place that talks to the API: tokens (JSON mode of /auth/login and /auth/refresh), the Directus error
// envelope turned into ApiError, and a refresh shortly before the access token expires.
import { reactive } from 'vue';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly field: string | undefined,
    readonly retryAfter: number | undefined,
  ) {
    super(message);
  }
}

interface Tokens { access: string; refresh: string; expiresAt: number }

const storageKey = 'aiassistant-auth';
const refreshMargin = 30_000;

export const session = reactive<{ tokens: Tokens | null; user: Me | null }>({ tokens: load(), user: null });

export interface Me {
  id: string;
  email: string;
  first_name?: string | null;
  /** From /policies/me/globals. */
  admin_access: boolean;
  app_access: boolean;
}

function load(): Tokens | null {
  try {
    const raw = localStorage.getItem(storageKey);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

function store(tokens: Tokens | null) {
  session.tokens = tokens;
  if (tokens) localStorage.setItem(storageKey, JSON.stringify(tokens));
  else localStorage.removeItem(storageKey);
  schedule();
}

let timer: ReturnType<typeof setTimeout> | undefined;
function schedule() {
  clearTimeout(timer);
  if (!session.tokens) return;
  const wait = Math.max(0, session.tokens.expiresAt - Date.now() - refreshMargin);
  timer = setTimeout(() => void refresh().catch(() => undefined), wait);
}
schedule();

/** Reads the Directus error envelope ({errors:[{message, extensions:{code, field}}]}) of a failed response. */
export async function toApiError(response: Response): Promise<ApiError> {
  let message = `${response.status} ${response.statusText}`.trim();
  let code: string | undefined;
  let field: string | undefined;
  try {
    const body = await response.json();
    const first = body?.errors?.[0];
    if (first?.message) message = first.message;
    code = first?.extensions?.code;
    field = first?.extensions?.field ?? undefined;
  } catch {
    // not JSON: keep the status line
  }
  const retry = Number(response.headers.get('retry-after'));
  return new ApiError(message, response.status, code, field, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

function received(data: { access_token: string; refresh_token: string; expires: number }) {
  store({ access: data.access_token, refresh: data.refresh_token, expiresAt: Date.now() + data.expires });
}

export async function login(email: string, password: string) {
  const response = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, mode: 'json' }),
  });
  if (!response.ok) throw await toApiError(response);
  received((await response.json()).data);
  session.user = null;
  const user = await me();
  // An API-only user (no App access) has tokens for the API but no place in the app, as in Directus.
  if (!user?.app_access) {
    await logout();
    throw new ApiError('This account has no access to the app.', 403, 'FORBIDDEN', undefined, undefined);
  }
}

let refreshing: Promise<void> | null = null;
export function refresh(): Promise<void> {
  refreshing ??= (async () => {
    try {
      const tokens = session.tokens;
      if (!tokens) throw new ApiError('Not signed in', 401, 'INVALID_CREDENTIALS', undefined, undefined);
      const response = await fetch('/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: tokens.refresh, mode: 'json' }),
      });
      if (!response.ok) {
        store(null);
        throw await toApiError(response);
      }
      received((await response.json()).data);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export async function logout() {
  const tokens = session.tokens;
  store(null);
  session.user = null;
  if (tokens)
    await fetch('/auth/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: tokens.refresh, mode: 'json' }),
    }).catch(() => undefined);
}

/** The Authorization header of the signed-in user, refreshed first when the access token is about to expire. */
export async function authHeaders(): Promise<Record<string, string>> {
  if (session.tokens && session.tokens.expiresAt - Date.now() < refreshMargin) await refresh();
  return session.tokens ? { Authorization: `Bearer ${session.tokens.access}` } : {};
}

/** fetch against the API with the user's token; a 401 refreshes once and retries. Throws ApiError on a 4xx/5xx. */
export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const send = async () => {
    const headers: Record<string, string> = { ...(init.headers as Record<string, string>), ...(await authHeaders()) };
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    return fetch(path, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  };
  let response = await send();
  if (response.status === 401 && session.tokens) {
    await refresh();
    response = await send();
  }
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export async function me(): Promise<Me | null> {
  if (!session.tokens) return null;
  if (session.user) return session.user;
  const [user, globals] = await Promise.all([
    api<{ data: { id: string; email: string; first_name?: string | null } }>('/users/me?fields=id,email,first_name'),
    api<{ data: { app_access: boolean; admin_access: boolean } }>('/policies/me/globals'),
  ]);
  session.user = { ...user.data, ...globals.data };
  return session.user;
}

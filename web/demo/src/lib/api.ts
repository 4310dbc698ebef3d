import type { DemoUser } from './types.ts';

/** An error answer of the server: `{"error":{"code","message"}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

async function call<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers['Authorization'] = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : {};
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string } }).error;
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `${method} ${path}: ${res.status}`);
  }
  return json as T;
}

export interface Login {
  token: string;
  expiresAt: string;
  user: DemoUser;
}

export function listUsers(): Promise<{ users: DemoUser[] }> {
  return call('GET', '/api/demo/users');
}

export function login(user: string): Promise<Login> {
  return call('POST', '/api/demo/login', { user });
}

// The app's user and the dashboard's admin are kept apart, so one tab can
// visit both pages.
const storageKey = (admin: boolean) => (admin ? 'ssehub-demo-admin' : 'ssehub-demo-session');

/**
 * Session is a signed-in demo user: the token for the stream and for the
 * demo's endpoints, renewed by signing in again when the server says it
 * expired. It lives in sessionStorage, so each tab can be someone else.
 */
export class Session {
  readonly user: DemoUser;
  #token: string;

  constructor(l: Login) {
    this.user = l.user;
    this.#token = l.token;
  }

  static async start(user: string): Promise<Session> {
    const s = new Session(await login(user));
    s.#save();
    return s;
  }

  /** The session of this tab, if it signed in before a reload. */
  static restore(admin = false): Session | null {
    try {
      const raw = sessionStorage.getItem(storageKey(admin));
      return raw ? new Session(JSON.parse(raw) as Login) : null;
    } catch {
      return null;
    }
  }

  static forget(admin = false): void {
    sessionStorage.removeItem(storageKey(admin));
  }

  /** For the SSE client's getToken: the current token first, then a fresh one each time it is asked again. */
  readonly getToken = (() => {
    let first = true;
    return async (): Promise<string> => {
      if (first) {
        first = false;
        return this.#token;
      }
      await this.#renew();
      return this.#token;
    };
  })();

  get token(): string {
    return this.#token;
  }

  /** Calls a demo or admin endpoint as this user, signing in again once on 401. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await call<T>(method, path, body, this.#token);
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      await this.#renew();
      return call<T>(method, path, body, this.#token);
    }
  }

  async #renew(): Promise<void> {
    const l = await login(this.user.id);
    this.#token = l.token;
    this.#save();
  }

  #save(): void {
    sessionStorage.setItem(storageKey(this.user.admin === true), JSON.stringify({ token: this.#token, expiresAt: '', user: this.user }));
  }
}

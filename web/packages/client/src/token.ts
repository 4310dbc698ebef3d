import { httpErrorFrom, UnauthenticatedError } from './errors.js';

/**
 * Caches the token from the app's `getToken` and asks again only when the
 * server has said it expired ({@link TokenSource.invalidate}). Concurrent
 * callers share one pending `getToken` call.
 */
export class TokenSource {
  readonly #getToken: (() => string | Promise<string>) | undefined;
  readonly #onToken: ((token: string) => void) | undefined;
  #token: string | undefined;
  #stale = true;
  #pending: Promise<string> | undefined;

  /** `onToken` runs with each token `getToken` gives, before the callers of {@link get} see it. */
  constructor(getToken?: () => string | Promise<string>, onToken?: (token: string) => void) {
    this.#getToken = getToken;
    this.#onToken = onToken;
  }

  /** Whether a new token can be asked for; false means cookie or no auth. */
  get refreshable(): boolean {
    return this.#getToken !== undefined;
  }

  /** The current token, calling `getToken` first when there is none or it was invalidated. */
  async get(): Promise<string | undefined> {
    const getToken = this.#getToken;
    if (!getToken) return undefined;
    if (!this.#stale && this.#token !== undefined) return this.#token;
    if (!this.#pending) {
      const p = Promise.resolve().then(getToken);
      this.#pending = p;
      p.then(
        (t) => {
          if (this.#pending !== p) return;
          this.#token = t;
          this.#stale = false;
          this.#pending = undefined;
          this.#onToken?.(t);
        },
        () => {
          if (this.#pending === p) this.#pending = undefined;
        },
      );
    }
    return this.#pending;
  }

  /** Marks the token as expired: the next {@link get} calls `getToken`. */
  invalidate(): void {
    this.#stale = true;
    this.#pending = undefined;
  }
}

/**
 * Fetches a token from the app's token route (e.g. `/api/sse/token`), for
 * use as `getToken: () => fetchToken('/api/sse/token')`. The body is the
 * token, or JSON `{"token": "…"}`. A `401` or `403` (signed out) rejects
 * with {@link UnauthenticatedError}, which stops the client instead of
 * retrying; other statuses reject with an {@link HttpError} and are retried.
 */
export async function fetchToken(url: string, opts: { fetch?: typeof fetch; init?: RequestInit } = {}): Promise<string> {
  const f = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const res = await f(url, { credentials: 'same-origin', cache: 'no-store', ...opts.init });
  if (res.status === 401 || res.status === 403) {
    throw new UnauthenticatedError(`ssehub: the token route answered ${res.status}: not signed in`);
  }
  if (!res.ok) throw await httpErrorFrom(res);
  const body = (await res.text()).trim();
  if (!body.startsWith('{')) return body;
  const token = (JSON.parse(body) as { token?: unknown }).token;
  if (typeof token !== 'string') throw new TypeError('ssehub: the token route answered JSON without a "token" string');
  return token;
}

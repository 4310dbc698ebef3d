/**
 * Caches the token from the app's `getToken` and asks again only when the
 * server has said it expired ({@link TokenSource.invalidate}). Concurrent
 * callers share one pending `getToken` call.
 */
export class TokenSource {
  readonly #getToken: (() => string | Promise<string>) | undefined;
  #token: string | undefined;
  #stale = true;
  #pending: Promise<string> | undefined;

  constructor(getToken?: () => string | Promise<string>) {
    this.#getToken = getToken;
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

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

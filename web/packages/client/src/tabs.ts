import type { WireError } from './errors.js';
import type { ConnectionState } from './types.js';

/** The browser APIs tab sharing needs; tests pass fakes. */
export interface TabDeps {
  locks: LockManager;
  BroadcastChannel: typeof BroadcastChannel;
}

/** The state as it travels between tabs. */
export type WireState = Omit<ConnectionState, 'error'> & { error: WireError | null };

/**
 * Messages between the tabs of one key. Followers tell the leader what they
 * need (`interest`) and ask it to `reconnect`; the leader relays what its
 * connection sees (`state`, `event`, `id`) and answers `interest` with `ack`.
 */
export type TabMessage =
  | { type: 'interest'; channels: string[]; names: string[]; req?: number }
  | { type: 'bye' }
  | { type: 'reconnect' }
  | { type: 'leader' }
  | { type: 'state'; state: WireState }
  | { type: 'event'; event: string; data: string; id: string }
  | { type: 'id'; id: string }
  | { type: 'ack'; to: string; req: number; error?: WireError };

/** A {@link TabMessage} with the id of the tab that sent it. */
export type TabEnvelope = TabMessage & { from: string };

/** Reports whether this runtime has what tab sharing needs. */
export function tabDepsFromGlobals(): TabDeps | undefined {
  const locks = (globalThis as { navigator?: Navigator }).navigator?.locks;
  const BC = globalThis.BroadcastChannel;
  if (!locks || typeof locks.request !== 'function' || typeof BC !== 'function') return undefined;
  return { locks, BroadcastChannel: BC };
}

/**
 * TabLink joins the tabs that share one key: all of them talk on a
 * BroadcastChannel, and the one holding the Web Lock is the leader. When the
 * leader stops or its tab closes, the browser grants the lock to the next
 * waiting tab, whose `onLeader` runs.
 *
 * stop() releases the lock (or withdraws the request), says `bye` and closes
 * the channel; a stopped TabLink cannot be started again.
 */
export class TabLink {
  /** This tab's id, unique per TabLink. */
  readonly id: string = randomId();
  readonly #name: string;
  readonly #deps: TabDeps;
  readonly #onLeader: () => void;
  readonly #onMessage: (msg: TabEnvelope) => void;
  #bc: BroadcastChannel | undefined;
  #lockRequest: AbortController | undefined;
  #release: (() => void) | undefined;
  #leader = false;

  constructor(key: string, deps: TabDeps, onLeader: () => void, onMessage: (msg: TabEnvelope) => void) {
    this.#name = `ssehub:${key}`;
    this.#deps = deps;
    this.#onLeader = onLeader;
    this.#onMessage = onMessage;
  }

  /** Whether this tab holds the lock. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** Opens the channel and queues for the lock. */
  start(): void {
    const bc = new this.#deps.BroadcastChannel(this.#name);
    bc.onmessage = (ev: MessageEvent<TabEnvelope>) => {
      if (ev.data && typeof ev.data === 'object' && ev.data.from !== this.id) this.#onMessage(ev.data);
    };
    this.#bc = bc;
    const request = new AbortController();
    this.#lockRequest = request;
    this.#deps.locks
      .request(this.#name, { signal: request.signal }, () => {
        if (request.signal.aborted) return undefined; // stopped while the grant was on its way
        this.#leader = true;
        const held = new Promise<void>((resolve) => {
          this.#release = resolve;
        });
        this.#onLeader();
        return held;
      })
      .catch(() => {
        // AbortError: stop() withdrew the request.
      });
  }

  /** Sends `msg` to the other tabs. */
  post(msg: TabMessage): void {
    this.#bc?.postMessage({ ...msg, from: this.id });
  }

  /** Leaves: releases or withdraws the lock, says bye, closes the channel. */
  stop(): void {
    this.#lockRequest?.abort();
    this.#lockRequest = undefined;
    this.#release?.();
    this.#release = undefined;
    this.#leader = false;
    if (this.#bc) {
      this.post({ type: 'bye' });
      this.#bc.onmessage = null;
      this.#bc.close();
      this.#bc = undefined;
    }
  }
}

/**
 * The part of a token that says whom it is for, used to key tab sharing: a
 * JWT's claims without those that change when the same identity gets a fresh
 * token (`exp`, `iat`, `nbf`, `jti`), keys sorted; the whole token when it is
 * not a JWT. Two tokens with the same key are for the same user of the same
 * tenant with the same channels and roles. The key only names this origin's
 * BroadcastChannel and Web Lock; it is never sent anywhere.
 */
export function identityKey(token: string): string {
  const parts = token.split('.');
  if (parts.length === 3 && parts[1]) {
    try {
      const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      const claims: unknown = JSON.parse(atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), '=')));
      if (claims && typeof claims === 'object' && !Array.isArray(claims)) {
        const stable = Object.entries(claims as Record<string, unknown>)
          .filter(([k]) => !VOLATILE_CLAIMS.has(k))
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `jwt:${JSON.stringify(stable)}`;
      }
    } catch {
      // Not a JWT after all: key by the token itself.
    }
  }
  return `token:${token}`;
}

const VOLATILE_CLAIMS = new Set(['exp', 'iat', 'nbf', 'jti']);

function randomId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}

import type { ConnectionState } from './types.js';

/** Not connected and not trying to. */
export const IDLE: ConnectionState = Object.freeze({ connected: false, connecting: false, error: null, reconnectAttempts: 0 });

/** Reports whether two states have the same fields (so no change event is due). */
export function sameState(a: ConnectionState, b: ConnectionState): boolean {
  return (
    a.connected === b.connected &&
    a.connecting === b.connecting &&
    a.error === b.error &&
    a.reconnectAttempts === b.reconnectAttempts
  );
}

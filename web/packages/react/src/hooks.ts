'use client';
import type {
  ConnectionState,
  DefaultEvents,
  EventHandler,
  EventMap,
  EventMeta,
  EventName,
  SSEClient,
  Subscribe,
  Unsubscribe,
} from '@ssehub/client';
import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { useSSEClient } from './context.js';
import { report, useIsomorphicLayoutEffect } from './internal.js';

/** What {@link useSSE} returns: the connection state plus `subscribe`. */
export interface SSEValue<E extends EventMap = DefaultEvents> extends ConnectionState {
  /** The client's `subscribe`: `subscribe(name, handler)` returns an unsubscribe function. */
  subscribe: Subscribe<E>;
  /** The client itself, for channels and `reconnect()`. */
  client: SSEClient<E>;
}

/**
 * Returns the connection state and `subscribe` of the nearest
 * {@link SSEProvider}; re-renders when the state changes. The value keeps its
 * identity until then, so it can be an effect dependency.
 *
 * @example
 * const sse = useSSE();
 * useEffect(() => sse.subscribe('notification:new', (d) => toast(d.message)), [sse.subscribe]);
 */
export function useSSE<E extends EventMap = DefaultEvents>(): SSEValue<E> {
  const client = useSSEClient<E>('useSSE');
  const state = useSyncExternalStore(client.subscribe, client.getState, client.getState);
  return useMemo(() => ({ ...state, subscribe: client.subscribe, client }), [state, client]);
}

type AnyHandler = (data: unknown, meta: EventMeta) => void;
type Entry = { refs: Set<{ current: AnyHandler }>; off: Unsubscribe };

// Per client and event name, one subscription shared by every hook that
// listens for that name: the first hook subscribes, the last one leaves.
const registry = new WeakMap<object, Map<string, Entry>>();

function listen(client: SSEClient<EventMap>, name: string, ref: { current: AnyHandler }): Unsubscribe {
  let byName = registry.get(client);
  if (!byName) registry.set(client, (byName = new Map()));
  let entry = byName.get(name);
  if (!entry) {
    const refs = new Set<{ current: AnyHandler }>();
    const off = (client.subscribe as (n: string, h: AnyHandler) => Unsubscribe)(name, (data, meta) => {
      for (const r of [...refs]) {
        try {
          r.current(data, meta);
        } catch (e) {
          report(e);
        }
      }
    });
    entry = { refs, off };
    byName.set(name, entry);
  }
  const e = entry;
  const map = byName;
  e.refs.add(ref);
  return () => {
    if (!e.refs.delete(ref) || e.refs.size > 0) return;
    e.off();
    if (map.get(name) === e) map.delete(name);
  };
}

/**
 * Calls `handler` for each `name` event while the component is mounted.
 * The latest `handler` is always used, so it need not be memoized; changing
 * `name` resubscribes.
 *
 * @example
 * useSSEEvent('chat:message', (msg) => setMessages((m) => [...m, msg]));
 */
export function useSSEEvent<E extends EventMap = DefaultEvents, K extends EventName<E> = EventName<E>>(
  name: K,
  handler: EventHandler<E, K>,
): void {
  const client = useSSEClient<E>('useSSEEvent');
  const ref = useRef(handler as unknown as AnyHandler);
  useIsomorphicLayoutEffect(() => {
    ref.current = handler as unknown as AnyHandler;
  });
  useEffect(() => listen(client as unknown as SSEClient<EventMap>, name, ref), [client, name]);
}

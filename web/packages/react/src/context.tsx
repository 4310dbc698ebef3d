'use client';
import { createClient, type ClientOptions, type DefaultEvents, type EventMap, type SSEClient } from '@ssehub/client';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

// Holds an SSEClient of whatever event map the provider was given; the hooks
// cast it back to the map they are asked for.
const SSEContext = createContext<object | null>(null);

/** Props of {@link SSEProvider}: a client you made, or options to make one. */
export type SSEProviderProps<E extends EventMap = DefaultEvents> =
  | { client: SSEClient<E>; options?: undefined; children?: ReactNode }
  | { options: ClientOptions; client?: undefined; children?: ReactNode };

/**
 * SSEProvider gives its subtree one {@link SSEClient} and holds its
 * connection while mounted. With `options`, the client is created once, on
 * first render; later changes to `options` are ignored (remount with a `key`
 * to change them). The effect only subscribes and unsubscribes, so React
 * StrictMode's second mount does not open a second connection.
 *
 * @example
 * <SSEProvider options={{ url: '/api/sse', getToken }}>
 *   <App />
 * </SSEProvider>
 */
export function SSEProvider<E extends EventMap = DefaultEvents>(props: SSEProviderProps<E>): ReactNode {
  const [client] = useState(() => props.client ?? createClient<E>(props.options as ClientOptions));
  useEffect(() => client.subscribe(() => {}), [client]);
  return <SSEContext.Provider value={client}>{props.children}</SSEContext.Provider>;
}

/**
 * Returns the client of the nearest {@link SSEProvider}.
 * Throws when there is none, naming the hook that was called outside it.
 */
export function useSSEClient<E extends EventMap = DefaultEvents>(hook = 'useSSEClient'): SSEClient<E> {
  const client = useContext(SSEContext) as SSEClient<E> | null;
  if (!client) {
    throw new Error(`@ssehub/react: ${hook}() must be used inside <SSEProvider>; none was found above this component.`);
  }
  return client;
}

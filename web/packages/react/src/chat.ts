'use client';
import type { DefaultEvents, EventMap, Unsubscribe } from '@ssehub/client';
import { useEffect, useMemo, useRef } from 'react';
import { useSSEClient } from './context.js';
import { subscribeToConversation, type ConversationHandlers } from './conversation.js';
import { useIsomorphicLayoutEffect } from './internal.js';

/** What {@link useChatSSE} returns. */
export interface ChatSSE<E extends EventMap = DefaultEvents> {
  /** See {@link subscribeToConversation}; return its result from an effect. */
  subscribeToConversation: (id: string | number, handlers: ConversationHandlers<E>) => Unsubscribe;
}

/**
 * The chat hook of the seed design: `subscribeToConversation(id, {onMessage, onTyping})`
 * for use in an effect. Stable across renders.
 *
 * @example
 * const chat = useChatSSE();
 * useEffect(() => chat.subscribeToConversation(id, { onMessage, onTyping }), [chat, id]);
 */
export function useChatSSE<E extends EventMap = DefaultEvents>(): ChatSSE<E> {
  const client = useSSEClient<E>('useChatSSE');
  return useMemo(
    () => ({ subscribeToConversation: (id, handlers) => subscribeToConversation(client, id, handlers) }),
    [client],
  );
}

/**
 * Subscribes to a conversation while mounted (or while `id` is not null),
 * always calling the latest handlers.
 *
 * @example
 * useConversation(id, { onMessage: (m) => setMessages((all) => [...all, m]) });
 */
export function useConversation<E extends EventMap = DefaultEvents>(
  id: string | number | null | undefined,
  handlers: ConversationHandlers<E>,
): void {
  const client = useSSEClient<E>('useConversation');
  const ref = useRef(handlers);
  useIsomorphicLayoutEffect(() => {
    ref.current = handlers;
  });
  const hasMessage = handlers.onMessage !== undefined;
  const hasTyping = handlers.onTyping !== undefined;
  useEffect(() => {
    if (id === null || id === undefined) return undefined;
    return subscribeToConversation(client, id, {
      onMessage: hasMessage ? (d) => ref.current.onMessage?.(d) : undefined,
      onTyping: hasTyping ? (d) => ref.current.onTyping?.(d) : undefined,
    });
  }, [client, id, hasMessage, hasTyping]);
}

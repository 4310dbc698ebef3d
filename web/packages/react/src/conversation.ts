// Plain module, no 'use client' and no React: route handlers and server
// actions can call conversationChannel() too.
import type { DefaultEvents, EventMap, SSEClient, Unsubscribe } from '@ssehub/client';
import { report } from './report.js';

/** The least a chat payload carries. */
export interface ChatPayload {
  conversationId: string | number;
}

/** The payload of chat event `K` in map `E`, or {@link ChatPayload} when `E` does not define it. */
export type ChatData<E extends EventMap, K extends 'chat:message' | 'chat:typing'> = K extends keyof E
  ? unknown extends E[K]
    ? ChatPayload & Record<string, unknown>
    : E[K]
  : ChatPayload & Record<string, unknown>;

/** Handlers of {@link subscribeToConversation}; both are optional. */
export interface ConversationHandlers<E extends EventMap = DefaultEvents> {
  onMessage?: (data: ChatData<E, 'chat:message'>) => void;
  onTyping?: (data: ChatData<E, 'chat:typing'>) => void;
}

/** The channel of a conversation: `conversation:<id>`. */
export function conversationChannel(id: string | number): string {
  return `conversation:${id}`;
}

/**
 * Joins channel `conversation:<id>` and calls the handlers for `chat:message`
 * and `chat:typing` events whose `conversationId` is `id`. Returns a function
 * that undoes all of it. Framework-free; {@link useChatSSE} wraps it.
 */
export function subscribeToConversation<E extends EventMap = DefaultEvents>(
  client: SSEClient<E>,
  id: string | number,
  handlers: ConversationHandlers<E>,
): Unsubscribe {
  const channel = conversationChannel(id);
  const key = String(id);
  const on = client.subscribe as unknown as (name: string, h: (d: unknown) => void) => Unsubscribe;
  const forThis = (d: unknown) => String((d as Partial<ChatPayload> | null)?.conversationId) === key;
  const offs: Unsubscribe[] = [];
  const { onMessage, onTyping } = handlers;
  if (onMessage) offs.push(on('chat:message', (d) => forThis(d) && onMessage(d as ChatData<E, 'chat:message'>)));
  if (onTyping) offs.push(on('chat:typing', (d) => forThis(d) && onTyping(d as ChatData<E, 'chat:typing'>)));
  client.subscribeChannels([channel]).catch(report);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    for (const off of offs) off();
    client.unsubscribeChannels([channel]).catch(report);
  };
}

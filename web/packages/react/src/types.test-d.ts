// Type tests: checked by `tsc` (npm run typecheck), never executed.
import type { ConnectionState, Subscribe } from '@ssehub/client';
import { expectTypeOf } from 'vitest';
import type { ChatMessage, ChatTyping, EventMap as CatalogEvents } from '../../../../examples/catalog/events.gen.js';
import { useChatSSE, useConversation, useSSE, useSSEEvent } from './index.js';

interface AppEvents {
  'chat:message': { conversationId: string; text: string };
  'chat:typing': { conversationId: string; userId: string };
  'invoice:paid': { invoiceId: number };
}

// Registering the map once types every hook without type arguments.
declare module '@ssehub/client' {
  interface Register {
    events: AppEvents;
  }
}

useSSEEvent('invoice:paid', (d, meta) => {
  expectTypeOf(d).toEqualTypeOf<{ invoiceId: number }>();
  expectTypeOf(meta.id).toBeString();
});

// @ts-expect-error: not a registered event
useSSEEvent('invoice:lost', () => {});

// @ts-expect-error: wrong payload for the name
useSSEEvent('invoice:paid', (d: { invoiceId: string }) => void d);

const sse = useSSE();
expectTypeOf(sse).toMatchTypeOf<ConnectionState>();
expectTypeOf(sse.subscribe).toEqualTypeOf<Subscribe<AppEvents>>();
sse.subscribe('chat:message', (d) => expectTypeOf(d.text).toBeString());

const chat = useChatSSE();
chat.subscribeToConversation('1', {
  onMessage: (m) => expectTypeOf(m).toEqualTypeOf<AppEvents['chat:message']>(),
  onTyping: (t) => expectTypeOf(t.userId).toBeString(),
});

useConversation(1, {
  // @ts-expect-error: chat:message has no userId
  onMessage: (m) => void m.userId,
});

// An explicit map still wins over the registered one.
type Other = { 'x:y': { n: number } };
useSSEEvent<Other, 'x:y'>('x:y', (d) => expectTypeOf(d.n).toBeNumber());

// The map `ssehub gen ts` generates from the example catalog fits the chat hook.
useChatSSE<CatalogEvents>().subscribeToConversation('c1', {
  onMessage: (m) => expectTypeOf(m).toEqualTypeOf<ChatMessage>(),
  onTyping: (t) => expectTypeOf(t).toEqualTypeOf<ChatTyping>(),
});

// Type tests: checked by `tsc` (npm run typecheck), never executed.
import { expectTypeOf } from 'vitest';
import { createClient, type ConnectionState, type EventMeta, type ReadyInfo, type Unsubscribe } from './index.js';

interface ChatMessage {
  conversationId: string;
  text: string;
}
// An interface works as the event map, not only a type alias.
interface MyEvents {
  'chat:message': ChatMessage;
  'chat:typing': { conversationId: string; userId: string };
}

const client = createClient<MyEvents>({ url: '/api/sse' });

// Payloads are typed by name.
const off = client.subscribe('chat:message', (d, meta) => {
  expectTypeOf(d).toEqualTypeOf<ChatMessage>();
  expectTypeOf(d.conversationId).toBeString();
  expectTypeOf(meta).toEqualTypeOf<EventMeta<'chat:message'>>();
});
expectTypeOf(off).toEqualTypeOf<Unsubscribe>();

// Control events are typed too.
client.subscribe('sse:ready', (info) => {
  expectTypeOf(info).toEqualTypeOf<ReadyInfo>();
});

// The state-listener form, as useSyncExternalStore calls it.
const storeSubscribe: (onChange: () => void) => () => void = client.subscribe;
void storeSubscribe;
expectTypeOf(client.getState()).toEqualTypeOf<ConnectionState>();

// @ts-expect-error: not an event of MyEvents
client.subscribe('chat:unknown', () => {});

// @ts-expect-error: wrong payload type for the name
client.subscribe('chat:message', (d: { title: string }) => void d);

client.subscribe('chat:typing', (d) => {
  // @ts-expect-error: chat:typing has no text
  void d.text;
});

// Without a map, any name is accepted and payloads are unknown.
const loose = createClient({ url: '/api/sse' });
loose.subscribe('anything:goes', (d) => {
  expectTypeOf(d).toBeUnknown();
});

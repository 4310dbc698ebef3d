// Type test: the map that `ssehub gen ts` generates from the example catalog
// types this client. Checked by `tsc` (npm run typecheck), never executed.
import { expectTypeOf } from 'vitest';
import type { ChatMessage, EventMap } from '../../../../examples/catalog/events.gen.js';
import { createClient } from './index.js';

const client = createClient<EventMap>({ url: '/api/sse' });

client.subscribe('chat:message', (msg) => {
  expectTypeOf(msg).toEqualTypeOf<ChatMessage>();
  expectTypeOf(msg.conversationId).toBeString();
});

// @ts-expect-error: not in the catalog
client.subscribe('chat:unknown', () => {});

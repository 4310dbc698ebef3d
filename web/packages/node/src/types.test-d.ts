// Type tests: checked by `tsc --noEmit` (npm test runs it first). A line
// under @ts-expect-error must fail to compile, or tsc reports the directive.
import { expectTypeOf } from 'vitest';
import { createPublisher, type BatchEvent, type TargetFor } from './index.js';

type Events = {
  'chat:message': { conversationId: string; text: string };
  'system:announcement': { message: string; type: 'info' | 'warning' };
};
type Targets = {
  'chat:message': 'user' | 'users' | 'channel';
  'system:announcement': 'broadcast';
};

const pub = createPublisher<Events, Targets>({ url: 'http://hub', token: 't' });

export async function typed(): Promise<void> {
  expectTypeOf(await pub.emit('chat:message', { conversationId: 'c', text: 'hi' }, { channel: 'c' })).toEqualTypeOf<string>();
  await pub.emit('system:announcement', { message: 'm', type: 'warning' }, { broadcast: true });

  // @ts-expect-error an unknown event
  await pub.emit('chat:mesage', { conversationId: 'c', text: 'hi' }, { userId: 'u' });
  // @ts-expect-error a missing field
  await pub.emit('chat:message', { conversationId: 'c' }, { userId: 'u' });
  // @ts-expect-error a field of the wrong type
  await pub.emit('chat:message', { conversationId: 'c', text: 42 }, { userId: 'u' });
  // @ts-expect-error an unknown field
  await pub.emit('chat:message', { conversationId: 'c', text: 'hi', txt: 'x' }, { userId: 'u' });
  // @ts-expect-error a value outside the enum
  await pub.emit('system:announcement', { message: 'm', type: 'critical' }, { broadcast: true });
  // @ts-expect-error a broadcast-only event sent to a user
  await pub.emit('system:announcement', { message: 'm', type: 'info' }, { userId: 'u' });
  // @ts-expect-error a target kind the event may not use
  await pub.emit('chat:message', { conversationId: 'c', text: 'hi' }, { tenantId: 't1' });
  // @ts-expect-error broadcast must be true
  await pub.emit('system:announcement', { message: 'm', type: 'info' }, { broadcast: false });

  await pub.emitBatch([
    { event: 'chat:message', data: { conversationId: 'c', text: 'a' }, target: { userIds: ['u1', 'u2'] } },
    { event: 'system:announcement', data: { message: 'm', type: 'info' }, target: { broadcast: true } },
  ]);
  await pub.emitBatch([
    // @ts-expect-error the data of another event
    { event: 'chat:message', data: { message: 'm', type: 'info' }, target: { userId: 'u' } },
  ]);
}

export async function untyped(): Promise<void> {
  // Without type arguments, any event, payload and target goes.
  const any = createPublisher({ url: 'http://hub', token: 't' });
  await any.emit('whatever', { free: ['form'] }, { tenantId: 't1' }, { excludeConnectionId: 'n1-1' });
  // @ts-expect-error still a valid target shape
  await any.emit('whatever', {}, { room: 'r' });
}

expectTypeOf<TargetFor<Targets, 'system:announcement'>>().toEqualTypeOf<{ broadcast: true }>();
expectTypeOf<BatchEvent<Events, Targets>['event']>().toEqualTypeOf<'chat:message' | 'system:announcement'>();

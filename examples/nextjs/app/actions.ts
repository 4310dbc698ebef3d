'use server';
import { conversationChannel } from '@ssehub/react'; // a pure helper: callable on the server
import { CONVERSATION, parseUser } from '../lib/users';
import { sse } from '../lib/sse';

function who(user: string) {
  const u = parseUser(user);
  if (!u) throw new Error('not signed in');
  return u;
}

/** Sends a chat message to the tenant's conversation. */
export async function sendMessage(user: string, text: string, excludeConnectionId?: string): Promise<string> {
  const { userId, tenantId } = who(user);
  const message = { id: crypto.randomUUID(), text, sender: { id: userId, name: userId }, sentAt: new Date().toISOString() };
  await sse.emit(
    'chat:message',
    { conversationId: CONVERSATION, message },
    { channel: conversationChannel(CONVERSATION) },
    { tenantId, excludeConnectionId },
  );
  return message.id;
}

/** Says whether the user is typing; coalesced per sender by the catalog. */
export async function setTyping(user: string, isTyping: boolean): Promise<void> {
  const { userId, tenantId } = who(user);
  await sse.emit(
    'chat:typing',
    { conversationId: CONVERSATION, userId, isTyping },
    { channel: conversationChannel(CONVERSATION) },
    { tenantId },
  );
}

/** The seed's invoice list: a new invoice goes to the whole tenant as data:update. */
export async function createInvoice(user: string, number: string): Promise<void> {
  const { tenantId } = who(user);
  await sse.emit('data:update', { entity: 'invoice', action: 'create', id: number, data: { number } }, { tenantId });
}

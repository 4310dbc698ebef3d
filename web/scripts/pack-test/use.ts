// Type-checked against the installed tarballs (ESM side).
import { createClient, HttpError, type ConnectionState } from '@ssehub/client';
import { conversationChannel, SSEProvider } from '@ssehub/react';
import { createPublisher, SSEHubError } from '@ssehub/node';

type Events = { 'chat:message': { conversationId: string; text: string } };
const client = createClient<Events>({ url: '/api/sse' });
client.subscribe('chat:message', (m) => m.text.toUpperCase());
const s: ConnectionState = client.getState();
const pub = createPublisher<Events>({ url: 'http://127.0.0.1:8080', token: 't' });
void pub.emit('chat:message', { conversationId: '1', text: 'hi' }, { channel: conversationChannel('1') });
export const used = [s, HttpError, SSEHubError, SSEProvider];

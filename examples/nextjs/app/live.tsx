'use client';
import { fetchToken, UnauthenticatedError } from '@ssehub/client';
import { SSEProvider, useConversation, useSSE, useSSEEvent } from '@ssehub/react';
import { useState } from 'react';
import type { EventMap } from '../lib/events.gen';
import { CONVERSATION } from '../lib/users';
import { createInvoice, sendMessage, setTyping } from './actions';

declare module '@ssehub/client' {
  interface Register {
    events: EventMap;
  }
}

export function Live({ user }: { user: string }) {
  const [resets, setResets] = useState(0);
  // One client per signed-in user: a new user is a new provider (key), and
  // tab sharing is keyed by the token's identity anyway.
  return (
    <SSEProvider
      key={user}
      options={{
        url: '/api/sse',
        getToken: () => fetchToken(`/api/sse/token?user=${encodeURIComponent(user)}`),
        // ssehub could not resume (history gone, e.g. a restart on the memory broker): refetch state here.
        onReset: () => setResets((n) => n + 1),
      }}
    >
      <main>
        <h1 data-testid="me">{user}</h1>
        <Status />
        <p data-testid="resets">{resets}</p>
        <a href="/" data-testid="sign-out">Sign out</a>
        <Notifications />
        <Chat user={user} />
        <Invoices user={user} />
      </main>
    </SSEProvider>
  );
}

function Status() {
  const { connected, reconnectAttempts, error } = useSSE();
  const text = connected
    ? 'live'
    : error instanceof UnauthenticatedError
      ? 'signed out'
      : reconnectAttempts > 0
        ? `reconnecting (${reconnectAttempts})`
        : 'connecting…';
  return <p data-testid="status">{text}</p>;
}

function Notifications() {
  const [items, setItems] = useState<string[]>([]);
  useSSEEvent('notification:new', (n) => setItems((all) => [...all, n.title]));
  return (
    <ul data-testid="notifications">
      {items.map((t, i) => (
        <li key={i}>{t}</li>
      ))}
    </ul>
  );
}

function Chat({ user }: { user: string }) {
  const { client } = useSSE();
  const [messages, setMessages] = useState<{ id: string; text: string; from: string }[]>([]);
  const [typing, setTypingState] = useState<Record<string, boolean>>({});
  const [draft, setDraft] = useState('');
  const add = (m: { id: string; text: string; from: string }) =>
    setMessages((all) => (all.some((x) => x.id === m.id) ? all : [...all, m])); // the sender's tab gets its own message too
  useConversation(CONVERSATION, {
    onMessage: (m) => add({ id: m.message.id, text: m.message.text, from: m.message.sender.id }),
    onTyping: (t) => setTypingState((all) => ({ ...all, [t.userId]: t.isTyping })),
  });
  const me = user.split('@')[0]!;
  const who = Object.keys(typing).filter((u) => typing[u] && u !== me);
  return (
    <section>
      <ul data-testid="messages">
        {messages.map((m) => (
          <li key={m.id}>
            {m.from}: {m.text}
          </li>
        ))}
      </ul>
      <p data-testid="typing">{who.length ? `${who.sort().join(', ')} typing` : ''}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const text = draft;
          setDraft('');
          void sendMessage(user, text, client.excludeConnectionId).then((id) => add({ id, text, from: me }));
        }}
      >
        <input data-testid="draft" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <button type="submit" data-testid="send">Send</button>
      </form>
      <button type="button" data-testid="typing-on" onClick={() => void setTyping(user, true)}>
        typing
      </button>
      <button type="button" data-testid="typing-off" onClick={() => void setTyping(user, false)}>
        stopped typing
      </button>
    </section>
  );
}

function Invoices({ user }: { user: string }) {
  const [invoices, setInvoices] = useState<string[]>([]);
  useSSEEvent('data:update', (u) => {
    if (u.entity === 'invoice' && u.action === 'create') setInvoices((all) => [...all, String(u.id)]);
  });
  return (
    <section>
      <button type="button" data-testid="new-invoice" onClick={() => void createInvoice(user, `INV-${Date.now()}`)}>
        New invoice
      </button>
      <ul data-testid="invoices">
        {invoices.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
    </section>
  );
}

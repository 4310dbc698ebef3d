// The React test page: the hooks render events into the DOM, under StrictMode.
import { SSEProvider, useConversation, useSSE, useSSEEvent } from '@ssehub/react';
import { StrictMode, useState, version } from 'react';
import { createRoot } from 'react-dom/client';
import { readConfig, tokenGetter, type TestEvents } from './events.js';

const cfg = readConfig();

function Status() {
  const { connected, connecting, reconnectAttempts } = useSSE<TestEvents>();
  return (
    <p id="status" data-attempts={reconnectAttempts}>
      {connected ? 'connected' : connecting ? 'connecting' : 'idle'}
    </p>
  );
}

function News() {
  const [items, setItems] = useState<string[]>([]);
  useSSEEvent<TestEvents, 'news:item'>('news:item', (d) => setItems((all) => [...all, d.title]));
  return (
    <ul id="news">
      {items.map((t, i) => (
        <li key={i}>{t}</li>
      ))}
    </ul>
  );
}

function Chat({ id }: { id: string }) {
  const [messages, setMessages] = useState<string[]>([]);
  const [typing, setTyping] = useState('');
  useConversation<TestEvents>(id, {
    onMessage: (m) => setMessages((all) => [...all, m.text]),
    onTyping: (t) => setTyping(t.userId),
  });
  return (
    <section id={`chat-${id}`}>
      <ol className="messages">
        {messages.map((m, i) => (
          <li key={i}>{m}</li>
        ))}
      </ol>
      <p className="typing">{typing && `${typing} is typing`}</p>
    </section>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <SSEProvider options={{ url: '/api/sse', getToken: tokenGetter(cfg, () => {}), shareAcrossTabs: cfg.share ?? true }}>
      <h1 id="version">{version}</h1>
      <Status />
      <News />
      <Chat id="1" />
    </SSEProvider>
  </StrictMode>,
);

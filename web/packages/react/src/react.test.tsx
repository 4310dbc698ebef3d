import { createClient, type SSEClient } from '@ssehub/client';
import { StrictMode, act, useEffect, useState, version, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeServer } from '../../client/src/test/fake-server.js';
import { SSEProvider, useChatSSE, useConversation, useSSE, useSSEEvent } from './index.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

type Events = {
  'chat:message': { conversationId: string; text: string };
  'chat:typing': { conversationId: string; userId: string };
  'news:item': { title: string };
};

let server: FakeServer;
let client: SSEClient<Events>;
let cleanup: (() => Promise<void>)[] = [];

beforeEach(() => {
  server = new FakeServer();
  client = createClient<Events>({ url: 'http://hub.test/api/sse', fetch: server.fetch, shareAcrossTabs: false });
});

afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
  client.close();
});

async function render(node: ReactNode) {
  const div = document.createElement('div');
  const root = createRoot(div);
  await act(async () => root.render(node));
  const unmount = async () => act(async () => root.unmount());
  cleanup.push(unmount);
  return { div, root, unmount };
}

/** Lets stream reads and effects settle inside act. */
const settle = () => act(async () => new Promise<void>((r) => setTimeout(r, 10)));

describe(`@ssehub/react on React ${version}`, () => {
  it('throws a clear error when useSSE is used outside <SSEProvider>', async () => {
    let caught: unknown;
    function Probe() {
      try {
        useSSE();
      } catch (e) {
        caught = e;
      }
      return null;
    }
    await render(<Probe />);
    expect(String(caught)).toMatch(/useSSE\(\) must be used inside <SSEProvider>/);
  });

  it('opens one connection under StrictMode and renders the state', async () => {
    function Status() {
      const { connected, connecting } = useSSE<Events>();
      return <p>{connected ? 'connected' : connecting ? 'connecting' : 'idle'}</p>;
    }
    const { div } = await render(
      <StrictMode>
        <SSEProvider options={{ url: 'http://hub.test/api/sse', fetch: server.fetch, shareAcrossTabs: false }}>
          <Status />
        </SSEProvider>
      </StrictMode>,
    );
    await settle();
    expect(server.streams).toHaveLength(1);
    expect(div.textContent).toBe('connecting');
    server.last.stream().ready();
    await settle();
    expect(div.textContent).toBe('connected');
    expect(server.streams).toHaveLength(1);
  });

  it('delivers events to useSSEEvent with the latest handler, one subscription per name', async () => {
    const spy = vi.spyOn(client, 'subscribe');
    function Feed({ prefix }: { prefix: string }) {
      const [items, setItems] = useState<string[]>([]);
      useSSEEvent<Events, 'news:item'>('news:item', (d) => setItems((all) => [...all, `${prefix}${d.title}`]));
      return <li>{items.join(',')}</li>;
    }
    function App({ prefix }: { prefix: string }) {
      return (
        <StrictMode>
          <SSEProvider client={client}>
            <Feed prefix={prefix} />
            <Feed prefix="b:" />
          </SSEProvider>
        </StrictMode>
      );
    }
    const { div, root } = await render(<App prefix="a:" />);
    await settle();
    const subscribed = () => spy.mock.calls.filter((c) => c[0] === 'news:item').length;
    // Two components share one subscription; React 18's StrictMode remount
    // unmounts both first, so it subscribes a second time.
    const first = subscribed();
    expect(first).toBeLessThanOrEqual(2);
    const s = server.last.stream();
    s.ready();
    s.event('news:item', { title: '1' }, '1');
    await settle();
    expect(div.textContent).toBe('a:1b:1');

    await act(async () => root.render(<App prefix="A:" />));
    s.event('news:item', { title: '2' }, '2');
    await settle();
    expect(div.textContent).toBe('a:1,A:2b:1,b:2');
    expect(subscribed()).toBe(first); // a new handler does not resubscribe
    expect(server.streams).toHaveLength(1);
  });

  it('subscribes to a conversation: channel, filtered messages and typing', async () => {
    function Chat({ id }: { id: string }) {
      const chat = useChatSSE<Events>();
      const [log, setLog] = useState<string[]>([]);
      useEffect(
        () =>
          chat.subscribeToConversation(id, {
            onMessage: (m) => setLog((l) => [...l, `msg:${m.text}`]),
            onTyping: (t) => setLog((l) => [...l, `typing:${t.userId}`]),
          }),
        [chat, id],
      );
      return <p>{log.join(' ')}</p>;
    }
    const { div, root } = await render(
      <SSEProvider client={client}>
        <Chat id="1" />
      </SSEProvider>,
    );
    await settle();
    expect(server.last.url.searchParams.get('channels')).toBe('conversation:1');
    const s = server.last.stream();
    s.ready({ connectionId: 'c1', channels: ['conversation:1'] });
    server.channels.set('c1', new Set(['conversation:1']));
    s.event('chat:message', { conversationId: '1', text: 'hi' });
    s.event('chat:message', { conversationId: '2', text: 'other' });
    s.event('chat:typing', { conversationId: '1', userId: 'u2' });
    await settle();
    expect(div.textContent).toBe('msg:hi typing:u2');

    await act(async () =>
      root.render(
        <SSEProvider client={client}>
          <Chat id="2" />
        </SSEProvider>,
      ),
    );
    await settle();
    expect(server.posts.at(-1)).toMatchObject({ connectionId: 'c1', subscribe: ['conversation:2'], unsubscribe: ['conversation:1'] });
  });

  it('useConversation follows the id and the latest handlers', async () => {
    const seen: string[] = [];
    function Chat({ id, tag }: { id: string | null; tag: string }) {
      useConversation<Events>(id, { onMessage: (m) => seen.push(`${tag}${m.text}`) });
      return null;
    }
    const { root } = await render(
      <SSEProvider client={client}>
        <Chat id="1" tag="x" />
      </SSEProvider>,
    );
    await settle();
    const s = server.last.stream();
    s.ready();
    s.event('chat:message', { conversationId: '1', text: 'a' });
    await settle();
    await act(async () =>
      root.render(
        <SSEProvider client={client}>
          <Chat id="1" tag="y" />
        </SSEProvider>,
      ),
    );
    s.event('chat:message', { conversationId: '1', text: 'b' });
    await settle();
    await act(async () =>
      root.render(
        <SSEProvider client={client}>
          <Chat id={null} tag="z" />
        </SSEProvider>,
      ),
    );
    s.event('chat:message', { conversationId: '1', text: 'c' });
    await settle();
    expect(seen).toEqual(['xa', 'yb']);
    expect(client.channels).toEqual([]);
  });

  it('lets the connection go when the provider unmounts', async () => {
    const { unmount } = await render(
      <SSEProvider client={client}>
        <p />
      </SSEProvider>,
    );
    await settle();
    expect(server.streams).toHaveLength(1);
    await unmount();
    await settle();
    expect(server.last.signal.aborted).toBe(true);
    expect(client.role).toBe('idle');
  });
});

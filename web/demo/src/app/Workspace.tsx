import type { DataUpdate, NotificationNew } from '../../../../examples/catalog/events.gen.ts';
import { useSSE, useSSEEvent } from '@ssehub/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Session } from '../lib/api.ts';
import type { DemoState, Invoice, Message } from '../lib/types.ts';
import { Avatar, Logo, StatusPill } from '../lib/ui.tsx';
import { Banner, type Announcement } from './Banner.tsx';
import { Chat } from './Chat.tsx';
import { EventLog } from './EventLog.tsx';
import { Invoices } from './Invoices.tsx';
import { Team } from './Team.tsx';
import { Toaster, type Toast } from './Toaster.tsx';

/** Adds messages to a list, once each, in the order they were sent. */
export function mergeMessages(list: Message[], add: Message[]): Message[] {
  const seen = new Set(list.map((m) => m.id));
  const fresh = add.filter((m) => !seen.has(m.id));
  if (fresh.length === 0) return list;
  return [...list, ...fresh].sort((a, b) => a.sentAt.localeCompare(b.sentAt));
}

/** The signed-in user's page: chat, invoices, team, live events. */
export function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const sse = useSSE();
  const { client } = sse;
  const [state, setState] = useState<DemoState | null>(null);
  const [loadError, setLoadError] = useState('');
  const [messages, setMessages] = useState<Record<string, Message[]>>({});
  const [invoices, setInvoices] = useState<Invoice[]>([]);
  const [fresh, setFresh] = useState<Set<string>>(new Set());
  const [presence, setPresence] = useState<Record<string, boolean>>({});
  const heardPresence = useRef(new Set<string>());
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [announcement, setAnnouncement] = useState<Announcement | null>(null);
  const me = session.user;

  const toast = useCallback((t: Omit<Toast, 'key'>) => {
    setToasts((all) => [...all.slice(-3), { ...t, key: `${Date.now()}-${Math.random()}` }]);
  }, []);

  // The state comes from the demo's endpoint; events patch it. Loading it
  // again (after sse:reset) merges, so nothing shows twice.
  const load = useCallback(async () => {
    try {
      const s = await session.call<DemoState>('GET', '/api/demo/state');
      setState(s);
      setLoadError('');
      setMessages((prev) => {
        const next = { ...prev };
        for (const c of s.conversations) next[c.id] = mergeMessages(prev[c.id] ?? [], c.messages);
        return next;
      });
      setInvoices((prev) => {
        const ids = new Set(prev.map((i) => i.id));
        return [...prev, ...s.invoices.filter((i) => !ids.has(i.id))].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      });
      setPresence((prev) => {
        const next = { ...prev };
        // An event heard already is newer than this snapshot.
        for (const m of s.members) if (!heardPresence.current.has(m.id)) next[m.id] = m.online;
        return next;
      });
    } catch (e) {
      setLoadError((e as Error).message);
    }
  }, [session]);

  useEffect(() => {
    void load();
  }, [load]);
  useSSEEvent('sse:reset', () => void load());

  // Teammates' presence arrives on presence:<id>, one channel each.
  const teammates = state?.members.filter((m) => m.id !== me.id).map((m) => m.id).join(',') ?? '';
  useEffect(() => {
    if (!teammates) return undefined;
    const channels = teammates.split(',').map((id) => `presence:${id}`);
    client.subscribeChannels(channels).catch(() => {});
    return () => void client.unsubscribeChannels(channels).catch(() => {});
  }, [client, teammates]);

  useSSEEvent('presence:update', (p) => {
    heardPresence.current.add(p.userId);
    setPresence((prev) => ({ ...prev, [p.userId]: p.status === 'online' }));
  });

  // The seed's complete example: an invoice list patched by data:update.
  useSSEEvent('data:update', (u: DataUpdate) => {
    if (u.entity !== 'invoice' || u.action !== 'create' || !u.data) return;
    const inv = u.data as unknown as Invoice;
    setInvoices((prev) => (prev.some((i) => i.id === inv.id) ? prev : [inv, ...prev]));
    setFresh((prev) => new Set(prev).add(inv.id));
    setTimeout(() => setFresh((prev) => {
      const next = new Set(prev);
      next.delete(inv.id);
      return next;
    }), 4000);
  });

  useSSEEvent('notification:new', (n: NotificationNew) => {
    toast({ title: n.title, message: n.message, tone: n.type ?? 'info', from: n.from ?? undefined });
  });

  useSSEEvent('system:announcement', (a) => setAnnouncement({ message: a.message, type: a.type, at: Date.now() }));

  const onMessage = useCallback((conversationId: string, m: Message) => {
    setMessages((prev) => ({ ...prev, [conversationId]: mergeMessages(prev[conversationId] ?? [], [m]) }));
  }, []);

  const online = { ...presence, [me.id]: sse.connected };

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-left">
          <Logo suffix="demo" />
          <span className="tenant-badge" title="Your tenant">
            {me.tenantName}
          </span>
        </div>
        <div className="topbar-right">
          <StatusPill state={sse} onReconnect={() => client.reconnect()} />
          <span className="me">
            <Avatar id={me.id} name={me.name} size={32} />
            <span className="me-name">
              <strong>{me.name}</strong>
              <span className="muted">{me.title}</span>
            </span>
          </span>
          <button type="button" className="btn btn-ghost" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      {announcement ? <Banner announcement={announcement} onDismiss={() => setAnnouncement(null)} /> : null}
      <main id="main" className="workspace" tabIndex={-1}>
        {loadError ? (
          <p className="form-error" role="alert">
            Could not load the workspace: {loadError}{' '}
            <button type="button" className="btn btn-small" onClick={() => void load()}>
              Retry
            </button>
          </p>
        ) : null}
        {state ? (
          <>
            <Chat session={session} conversations={state.conversations} messages={messages} members={state.members} onMessage={onMessage} onError={(m) => toast({ title: 'Not sent', message: m, tone: 'error' })} />
            <div className="side">
              <Invoices session={session} tenant={state.tenant} invoices={invoices} fresh={fresh} onError={(m) => toast({ title: 'Invoice not created', message: m, tone: 'error' })} />
              <Team session={session} members={state.members} online={online} onNudged={(name) => toast({ title: `Nudge sent to ${name}`, tone: 'success' })} onError={(m) => toast({ title: 'Nudge not sent', message: m, tone: 'error' })} />
              <EventLog />
            </div>
          </>
        ) : loadError ? null : (
          <p className="muted loading">Loading your workspace…</p>
        )}
      </main>
      <Toaster toasts={toasts} onDismiss={(key) => setToasts((all) => all.filter((t) => t.key !== key))} />
    </div>
  );
}

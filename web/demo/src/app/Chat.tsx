import { useChatSSE, useSSE } from '@ssehub/react';
import { useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Session } from '../lib/api.ts';
import { firstName, formatTime } from '../lib/format.ts';
import type { Conversation, Member, Message } from '../lib/types.ts';
import { Avatar, Card } from '../lib/ui.tsx';

/** How long "is typing" shows after the last chat:typing event. */
const typingShowMs = 3000;
/** How often the composer tells the server the user is typing. */
const typingEveryMs = 900;

type Typers = Record<string, Record<string, number>>; // conversation → user → until

/** "Carol is typing…", "Carol and Dave are typing…" */
export function typingText(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are typing…`;
}

export function Chat({ session, conversations, messages, members, onMessage, onError }: {
  session: Session;
  conversations: Conversation[];
  messages: Record<string, Message[]>;
  members: Member[];
  onMessage: (conversationId: string, m: Message) => void;
  onError: (message: string) => void;
}) {
  const chat = useChatSSE();
  const { client } = useSSE();
  const me = session.user.id;
  const [active, setActive] = useState(conversations[0]?.id ?? '');
  const [unread, setUnread] = useState<Record<string, number>>({});
  const [typers, setTypers] = useState<Typers>({});
  const [, setTick] = useState(0);
  const activeRef = useRef(active);
  activeRef.current = active;

  // The seed's chat hook: join every conversation's channel, with handlers
  // for its messages and typing.
  const ids = conversations.map((c) => c.id).join(',');
  useEffect(() => {
    const offs = ids.split(',').map((id) =>
      chat.subscribeToConversation(id, {
        onMessage: (d) => {
          const m = d.message as Message;
          onMessage(id, m);
          setTypers((t) => withoutTyper(t, id, m.sender.id));
          if (id !== activeRef.current && m.sender.id !== me) setUnread((u) => ({ ...u, [id]: (u[id] ?? 0) + 1 }));
        },
        onTyping: (d) => {
          if (d.userId === me) return;
          setTypers((t) => (d.isTyping ? { ...t, [id]: { ...t[id], [d.userId]: Date.now() + typingShowMs } } : withoutTyper(t, id, d.userId)));
        },
      }),
    );
    return () => offs.forEach((off) => off());
  }, [chat, ids, me, onMessage]);

  // Typing indicators expire on their own.
  const anyTyping = Object.values(typers).some((u) => Object.keys(u).length > 0);
  useEffect(() => {
    if (!anyTyping) return undefined;
    const timer = setInterval(() => {
      const now = Date.now();
      setTypers((t) => {
        let changed = false;
        const next: Typers = {};
        for (const [c, users] of Object.entries(t)) {
          next[c] = {};
          for (const [u, until] of Object.entries(users)) {
            if (until > now) next[c][u] = until;
            else changed = true;
          }
        }
        return changed ? next : t;
      });
      setTick((n) => n + 1);
    }, 250);
    return () => clearInterval(timer);
  }, [anyTyping]);

  const select = (id: string) => {
    setActive(id);
    setUnread((u) => ({ ...u, [id]: 0 }));
  };

  const onTabKey = (e: KeyboardEvent<HTMLButtonElement>, i: number) => {
    const delta = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!delta) return;
    e.preventDefault();
    const next = conversations[(i + delta + conversations.length) % conversations.length];
    if (!next) return;
    select(next.id);
    document.getElementById(`tab-${next.id}`)?.focus();
  };

  const conv = conversations.find((c) => c.id === active);
  const names = Object.keys(typers[active] ?? {}).map((id) => firstName(members.find((m) => m.id === id)?.name ?? id));

  return (
    <Card labelId="chat-title" title="Chat" subtitle="chat:message and chat:typing on channel conversation:<id>" className="chat-card">
      <div role="tablist" aria-label="Conversations" className="tabs">
        {conversations.map((c, i) => (
          <button
            key={c.id}
            id={`tab-${c.id}`}
            type="button"
            role="tab"
            aria-selected={c.id === active}
            aria-controls={`panel-${c.id}`}
            tabIndex={c.id === active ? 0 : -1}
            className="tab"
            onClick={() => select(c.id)}
            onKeyDown={(e) => onTabKey(e, i)}
          >
            <span aria-hidden="true">#</span> {c.title}
            {unread[c.id] ? (
              <span className="badge" aria-label={`${unread[c.id]} unread`}>
                {unread[c.id]}
              </span>
            ) : null}
          </button>
        ))}
      </div>
      {conv ? (
        <div role="tabpanel" id={`panel-${conv.id}`} aria-labelledby={`tab-${conv.id}`} className="chat-panel">
          <MessageList title={conv.title} messages={messages[conv.id] ?? []} me={me} />
          <p className="typing" aria-live="polite" data-testid="typing">
            {names.length ? (
              <>
                <span className="typing-dots" aria-hidden="true">
                  <i />
                  <i />
                  <i />
                </span>
                {typingText(names)}
              </>
            ) : null}
          </p>
          <Composer key={conv.id} session={session} conversation={conv} connectionId={() => client.connectionId} onSent={(m) => onMessage(conv.id, m)} onError={onError} />
        </div>
      ) : null}
    </Card>
  );
}

function withoutTyper(t: Typers, conv: string, user: string): Typers {
  if (!t[conv]?.[user]) return t;
  const { [user]: _, ...rest } = t[conv];
  return { ...t, [conv]: rest };
}

function MessageList({ title, messages, me }: { title: string; messages: Message[]; me: string }) {
  const ref = useRef<HTMLOListElement>(null);
  const last = messages[messages.length - 1]?.id;
  useLayoutEffect(() => {
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [last]);
  return (
    <ol ref={ref} className="messages" role="log" aria-live="polite" aria-label={`Messages in ${title}`} tabIndex={0} data-testid="messages">
      {messages.length === 0 ? <li className="empty">No messages yet. Say hello!</li> : null}
      {messages.map((m) => (
        <li key={m.id} className={m.sender.id === me ? 'msg mine' : 'msg'}>
          <Avatar id={m.sender.id} name={m.sender.name} size={34} />
          <div className="msg-body">
            <p className="msg-meta">
              <strong>{m.sender.id === me ? 'You' : m.sender.name}</strong>
              <time dateTime={m.sentAt}>{formatTime(m.sentAt)}</time>
            </p>
            <p className="msg-text">{m.text}</p>
          </div>
        </li>
      ))}
    </ol>
  );
}

function Composer({ session, conversation, connectionId, onSent, onError }: {
  session: Session;
  conversation: Conversation;
  connectionId: () => string | undefined;
  onSent: (m: Message) => void;
  onError: (message: string) => void;
}) {
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);
  const lastTyping = useRef(0);
  const inputId = useId();

  const typing = (isTyping: boolean) =>
    session
      .call('POST', '/api/demo/typing', { conversationId: conversation.id, isTyping, connectionId: connectionId() ?? '' })
      .catch(() => {});

  const change = (v: string) => {
    setText(v);
    const now = Date.now();
    if (v.trim() && now - lastTyping.current > typingEveryMs) {
      lastTyping.current = now;
      void typing(true);
    } else if (!v.trim() && lastTyping.current) {
      lastTyping.current = 0;
      void typing(false);
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = text.trim();
    if (!body || sending) return;
    setSending(true);
    try {
      const r = await session.call<{ message: Message }>('POST', '/api/demo/messages', { conversationId: conversation.id, text: body });
      onSent(r.message);
      setText('');
      if (lastTyping.current) {
        lastTyping.current = 0;
        void typing(false); // replaces a held "typing" in the coalescing window
      }
    } catch (err) {
      onError((err as Error).message);
    } finally {
      setSending(false);
    }
  };

  return (
    <form className="composer" onSubmit={(e) => void submit(e)}>
      <label htmlFor={inputId} className="sr-only">
        Message #{conversation.title}
      </label>
      <input
        id={inputId}
        value={text}
        onChange={(e) => change(e.target.value)}
        placeholder={`Message #${conversation.title}`}
        maxLength={2000}
        autoComplete="off"
      />
      <button type="submit" className="btn btn-primary" disabled={!text.trim() || sending}>
        Send
      </button>
    </form>
  );
}

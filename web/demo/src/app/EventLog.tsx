import { useSSEEvent } from '@ssehub/react';
import { useState } from 'react';
import { Card } from '../lib/ui.tsx';

interface Entry {
  key: number;
  id: string;
  event: string;
  at: string;
}

let seq = 0;
const clock = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** The last events this page received on its stream, with their ids. */
export function EventLog() {
  const [entries, setEntries] = useState<Entry[]>([]);
  const add = (_: unknown, meta: { id: string; event: string }) =>
    setEntries((all) => [{ key: ++seq, id: meta.id, event: meta.event, at: clock.format(new Date()) }, ...all].slice(0, 8));
  useSSEEvent('sse:ready', add);
  useSSEEvent('chat:message', add);
  useSSEEvent('chat:typing', add);
  useSSEEvent('data:update', add);
  useSSEEvent('notification:new', add);
  useSSEEvent('presence:update', add);
  useSSEEvent('system:announcement', add);
  return (
    <Card labelId="log-title" title="Live events" subtitle="What arrived on this page's stream, newest first" className="log-card">
      {entries.length === 0 ? (
        <p className="empty">Waiting for the first event…</p>
      ) : (
        <ol className="event-log">
          {entries.map((e) => (
            <li key={e.key}>
              <time>{e.at}</time>
              <code className={`ev ev-${e.event.split(':')[0]}`}>{e.event}</code>
              <span className="ev-id" title="Event id (Last-Event-ID on reconnect)">
                {e.id || '—'}
              </span>
            </li>
          ))}
        </ol>
      )}
    </Card>
  );
}

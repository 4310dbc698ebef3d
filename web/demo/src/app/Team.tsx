import { useState } from 'react';
import type { Session } from '../lib/api.ts';
import { firstName } from '../lib/format.ts';
import type { Member } from '../lib/types.ts';
import { Avatar, Card } from '../lib/ui.tsx';

/** The tenant's members with their presence; nudging sends a notification. */
export function Team({ session, members, online, onNudged, onError }: {
  session: Session;
  members: Member[];
  online: Record<string, boolean>;
  onNudged: (name: string) => void;
  onError: (message: string) => void;
}) {
  const [busy, setBusy] = useState('');
  const nudge = async (m: Member) => {
    setBusy(m.id);
    try {
      await session.call('POST', '/api/demo/nudges', { userId: m.id });
      onNudged(firstName(m.name));
    } catch (e) {
      onError((e as Error).message);
    } finally {
      setBusy('');
    }
  };
  return (
    <Card labelId="team-title" title="Team" subtitle="Presence arrives as presence:update">
      <ul className="team">
        {members.map((m) => {
          const on = online[m.id] ?? false;
          return (
            <li key={m.id}>
              <Avatar id={m.id} name={m.name} online={on} />
              <span className="team-who">
                <strong>
                  {m.name}
                  {m.id === session.user.id ? <span className="muted"> (you)</span> : null}
                </strong>
                <span className={on ? 'online' : 'muted'} data-testid={`presence-${m.id}`}>
                  {on ? 'Online' : 'Offline'}
                </span>
              </span>
              {m.id === session.user.id ? null : (
                <button type="button" className="btn btn-small" onClick={() => void nudge(m)} disabled={busy === m.id}>
                  Nudge<span className="sr-only"> {m.name}</span>
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </Card>
  );
}

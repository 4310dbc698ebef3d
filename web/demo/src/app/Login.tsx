import { useEffect, useState } from 'react';
import { listUsers, Session } from '../lib/api.ts';
import type { DemoUser } from '../lib/types.ts';
import { Avatar, Logo } from '../lib/ui.tsx';

/** The sign-in page: pick a demo user of one of the two tenants. */
export function Login({ onLogin }: { onLogin: (s: Session) => void }) {
  const [users, setUsers] = useState<DemoUser[] | null>(null);
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');

  useEffect(() => {
    listUsers()
      .then((r) => setUsers(r.users))
      .catch((e: Error) => setError(`Cannot reach the server: ${e.message}`));
  }, []);

  const signIn = async (id: string) => {
    setBusy(id);
    setError('');
    try {
      onLogin(await Session.start(id));
    } catch (e) {
      setError((e as Error).message);
      setBusy('');
    }
  };

  const groups = new Map<string, DemoUser[]>();
  for (const u of users ?? []) {
    if (u.admin) continue;
    groups.set(u.tenantName, [...(groups.get(u.tenantName) ?? []), u]);
  }

  return (
    <div className="login-page">
      <main className="login" aria-labelledby="login-title">
        <Logo suffix="demo" />
        <h1 id="login-title">Real-time events, live in your browser</h1>
        <p className="lead">
          Sign in as a demo user. Chat, typing, notifications and invoices all reach the page over one Server-Sent Events
          stream from ssehub.
        </p>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        {users === null && !error ? <p className="muted">Loading users…</p> : null}
        <div className="tenants">
          {[...groups].map(([tenant, list]) => (
            <section key={tenant} className="tenant-group" aria-label={`Tenant ${tenant}`}>
              <h2>
                <span className="tenant-badge">{tenant}</span>
              </h2>
              <ul>
                {list.map((u) => (
                  <li key={u.id}>
                    <button type="button" className="user-choice" onClick={() => void signIn(u.id)} disabled={busy !== ''} aria-label={`Sign in as ${u.name}, ${tenant}`}>
                      <Avatar id={u.id} name={u.name} size={40} />
                      <span>
                        <strong>{u.name}</strong>
                        <span className="muted">{u.title}</span>
                      </span>
                      <span className="chevron" aria-hidden="true">
                        {busy === u.id ? '…' : '→'}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
        <p className="tip">
          <strong>Try isolation:</strong> open a second window (a private one works) and sign in as someone from the other
          tenant. Both have a <em>General</em> conversation; neither ever sees the other&apos;s events.
        </p>
        <p className="login-foot">
          <a href="/dashboard">Operations dashboard</a>
          <span aria-hidden="true"> · </span>
          <span className="muted">live charts of the server, for the admin</span>
        </p>
      </main>
    </div>
  );
}

import { EvictedError, ServiceDisabledError, type ConnectionState } from '@ssehub/client';
import type { ReactNode } from 'react';
import { hue, initials } from './format.ts';

export function Logo({ suffix }: { suffix?: string }) {
  return (
    <span className="logo">
      <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="currentColor" />
        <path d="M9 20a7 7 0 0 1 14 0" stroke="white" strokeWidth="3" fill="none" strokeLinecap="round" />
        <path d="M5 20a11 11 0 0 1 22 0" stroke="white" strokeOpacity=".55" strokeWidth="2.4" fill="none" strokeLinecap="round" />
        <circle cx="16" cy="20" r="2.5" fill="white" />
      </svg>
      <span className="logo-text">
        ssehub{suffix ? <span className="logo-suffix"> {suffix}</span> : null}
      </span>
    </span>
  );
}

export function Avatar({ id, name, online, size = 36 }: { id: string; name: string; online?: boolean; size?: number }) {
  return (
    <span className="avatar" style={{ width: size, height: size, background: `hsl(${hue(id)} 55% 42%)` }} aria-hidden="true">
      {initials(name)}
      {online === undefined ? null : <span className={online ? 'presence on' : 'presence'} />}
    </span>
  );
}

/** What the connection state means to a person. */
export function describeState(s: ConnectionState): { tone: 'ok' | 'wait' | 'bad'; label: string; stopped: boolean } {
  if (s.connected) return { tone: 'ok', label: 'Live', stopped: false };
  if (s.error instanceof ServiceDisabledError) return { tone: 'bad', label: 'Streaming disabled by an admin', stopped: true };
  if (s.error instanceof EvictedError) return { tone: 'bad', label: 'Closed: opened in too many places', stopped: true };
  if (s.connecting) return { tone: 'wait', label: s.reconnectAttempts > 0 ? `Reconnecting (attempt ${s.reconnectAttempts + 1})` : 'Connecting', stopped: false };
  if (s.error) return { tone: 'bad', label: 'Offline', stopped: true };
  return { tone: 'wait', label: 'Idle', stopped: false };
}

export function StatusPill({ state, onReconnect }: { state: ConnectionState; onReconnect: () => void }) {
  const d = describeState(state);
  return (
    <span className="status-wrap">
      <span className={`pill pill-${d.tone}`} role="status" aria-live="polite" data-testid="connection-status">
        <span className="dot" aria-hidden="true" />
        {d.label}
      </span>
      {d.stopped ? (
        <button type="button" className="btn btn-small" onClick={onReconnect}>
          Reconnect
        </button>
      ) : null}
    </span>
  );
}

export function Card({ title, subtitle, actions, children, className, labelId }: {
  title: ReactNode;
  subtitle?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  labelId: string;
}) {
  return (
    <section className={`card ${className ?? ''}`} aria-labelledby={labelId}>
      <header className="card-head">
        <div>
          <h2 id={labelId}>{title}</h2>
          {subtitle ? <p className="card-sub">{subtitle}</p> : null}
        </div>
        {actions}
      </header>
      {children}
    </section>
  );
}

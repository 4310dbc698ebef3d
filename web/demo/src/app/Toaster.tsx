import { useEffect } from 'react';
import type { Person } from '../lib/types.ts';
import { Avatar } from '../lib/ui.tsx';

export interface Toast {
  key: string;
  title: string;
  message?: string | undefined;
  tone: 'info' | 'success' | 'warning' | 'error';
  from?: Person | undefined;
}

const lifetimeMs = 7000;

/** Notifications as toasts, announced to screen readers. */
export function Toaster({ toasts, onDismiss }: { toasts: Toast[]; onDismiss: (key: string) => void }) {
  return (
    <section className="toaster" aria-label="Notifications">
      <ol aria-live="polite" aria-relevant="additions">
        {toasts.map((t) => (
          <ToastItem key={t.key} toast={t} onDismiss={onDismiss} />
        ))}
      </ol>
    </section>
  );
}

function ToastItem({ toast, onDismiss }: { toast: Toast; onDismiss: (key: string) => void }) {
  useEffect(() => {
    const timer = setTimeout(() => onDismiss(toast.key), lifetimeMs);
    return () => clearTimeout(timer);
  }, [toast.key, onDismiss]);
  return (
    <li className={`toast toast-${toast.tone}`} data-testid="toast">
      {toast.from ? <Avatar id={toast.from.id} name={toast.from.name} size={32} /> : <span className="toast-icon" aria-hidden="true" />}
      <div className="toast-body">
        <p className="toast-title">{toast.title}</p>
        {toast.message ? <p className="toast-msg">{toast.message}</p> : null}
      </div>
      <button type="button" className="icon-btn" onClick={() => onDismiss(toast.key)} aria-label={`Dismiss notification: ${toast.title}`}>
        <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
          <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
        </svg>
      </button>
    </li>
  );
}

export interface Announcement {
  message: string;
  type: 'info' | 'warning' | 'critical';
  at: number;
}

const labels = { info: 'Announcement', warning: 'Warning', critical: 'Critical' } as const;

/** A system announcement (a broadcast to every tenant), until dismissed. */
export function Banner({ announcement, onDismiss }: { announcement: Announcement; onDismiss: () => void }) {
  const { type, message } = announcement;
  return (
    <div className={`banner banner-${type}`} role={type === 'critical' ? 'alert' : 'status'} data-testid="announcement">
      <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true">
        <path fill="currentColor" d="M10 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16Zm0 4a1 1 0 0 1 1 1v4a1 1 0 1 1-2 0V7a1 1 0 0 1 1-1Zm0 7a1.1 1.1 0 1 1 0 2.2A1.1 1.1 0 0 1 10 13Z" />
      </svg>
      <p>
        <strong>{labels[type]}:</strong> {message}
      </p>
      <button type="button" className="btn btn-small btn-ghost" onClick={onDismiss} aria-label="Dismiss announcement">
        Dismiss
      </button>
    </div>
  );
}

import { useId, useState, type FormEvent } from 'react';
import type { Session } from '../lib/api.ts';

/** Broadcasts a system:announcement to every tenant (admin only). */
export function Announce({ session }: { session: Session }) {
  const [message, setMessage] = useState('Scheduled maintenance tonight at 22:00 UTC. Expect a short reconnect.');
  const [type, setType] = useState<'info' | 'warning' | 'critical'>('warning');
  const [result, setResult] = useState('');
  const [busy, setBusy] = useState(false);
  const msgId = useId();
  const typeId = useId();
  const send = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setResult('');
    try {
      const r = await session.call<{ eventId: string }>('POST', '/api/demo/announcements', { message, type });
      setResult(`Broadcast to every tenant as event ${r.eventId}.`);
    } catch (err) {
      setResult(`Not sent: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-labelledby="announce-title">
      <header className="card-head">
        <div>
          <h2 id="announce-title">System announcement</h2>
          <p className="card-sub">A broadcast: every connection of every tenant gets system:announcement</p>
        </div>
      </header>
      <form className="announce-form" onSubmit={(e) => void send(e)}>
        <div className="field field-grow">
          <label htmlFor={msgId}>Message</label>
          <input id={msgId} value={message} onChange={(e) => setMessage(e.target.value)} maxLength={280} required />
        </div>
        <div className="field">
          <label htmlFor={typeId}>Type</label>
          <select id={typeId} value={type} onChange={(e) => setType(e.target.value as typeof type)}>
            <option value="info">Info</option>
            <option value="warning">Warning</option>
            <option value="critical">Critical</option>
          </select>
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy || !message.trim()}>
          Broadcast
        </button>
      </form>
      <p className="form-result" role="status">
        {result}
      </p>
    </section>
  );
}

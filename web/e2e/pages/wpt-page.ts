// The WPT page: runs one stream URL through Chromium's own EventSource (the
// reference) or through @ssehub/client (fetch or EventSource transport) and
// records what each reports in window.wpt.log.
import { createClient } from '@ssehub/client';

export interface WptEntry {
  kind: 'open' | 'message' | 'error' | 'state';
  at: number;
  data?: string;
  id?: string;
  /** EventSource.readyState in onerror. */
  readyState?: number;
  connected?: boolean;
  connecting?: boolean;
  /** The client's state error, `Name: message`. */
  error?: string | null;
}

const log: WptEntry[] = [];
let stop: () => void = () => {};

function native(url: string): void {
  const es = new EventSource(url);
  es.onopen = () => log.push({ kind: 'open', at: Date.now() });
  es.onmessage = (e) => log.push({ kind: 'message', at: Date.now(), data: e.data as string, id: e.lastEventId });
  es.onerror = () => log.push({ kind: 'error', at: Date.now(), readyState: es.readyState });
  stop = () => es.close();
}

function client(url: string, transport: 'fetch' | 'eventsource'): void {
  const c = createClient({ url, transport, shareAcrossTabs: false, heartbeatTimeoutFactor: 0 });
  c.subscribe(() => {
    const s = c.getState();
    log.push({ kind: 'state', at: Date.now(), connected: s.connected, connecting: s.connecting, error: s.error ? `${s.error.name}: ${s.error.message}` : null });
  });
  // The payloads here are not JSON objects: keep them as the wire had them.
  c.subscribe('message', (d, meta) => log.push({ kind: 'message', at: Date.now(), data: typeof d === 'string' ? d : JSON.stringify(d), id: meta.id }));
  stop = () => c.close();
}

Object.assign(window, {
  wpt: {
    log,
    run: (who: 'native' | 'fetch' | 'eventsource', url: string) => (who === 'native' ? native(url) : client(url, who)),
    stop: () => stop(),
  },
});

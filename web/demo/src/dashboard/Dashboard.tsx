import { ServiceDisabledError } from '@ssehub/client';
import { SSEProvider, useSSE, useSSEEvent } from '@ssehub/react';
import { useEffect, useRef, useState } from 'react';
import { Session } from '../lib/api.ts';
import { formatBytes, formatRate, formatUptime } from '../lib/format.ts';
import '../lib/register.ts';
import type { OpsStats } from '../lib/types.ts';
import { Logo, StatusPill } from '../lib/ui.tsx';
import { Announce } from './Announce.tsx';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { LineChart } from './LineChart.tsx';
import { toSample, topTenants, WINDOW, type Sample } from './series.ts';

const palette = ['#4338ca', '#0f766e', '#c2410c', '#be185d', '#0369a1', '#4d7c0f', '#7c3aed'];
const colors = { total: '#1e293b', published: '#4338ca', delivered: '#0f766e', dropped: '#dc2626', rateLimited: '#c2410c', coalesced: '#7c3aed' };

/** The operations dashboard: signs in as the demo admin, then charts the ops:stats feed. */
export function Dashboard() {
  const [session, setSession] = useState(() => Session.restore(true));
  const [error, setError] = useState('');
  useEffect(() => {
    if (session) return;
    Session.start('admin')
      .then(setSession)
      .catch((e: Error) => setError(e.message));
  }, [session]);
  if (!session) {
    return (
      <div className="login-page">
        <main className="login">
          <Logo suffix="operations" />
          {error ? (
            <p className="form-error" role="alert">
              Cannot sign in as the admin: {error}
            </p>
          ) : (
            <p className="muted">Signing in as the admin…</p>
          )}
        </main>
      </div>
    );
  }
  return (
    // The admin's identity lives in tenant _ops, where the server publishes
    // ops:stats every second: the dashboard is fed by ssehub's own stream.
    <SSEProvider options={{ url: '/api/sse', getToken: session.getToken, channels: ['ops:stats'], shareAcrossTabs: false }}>
      <Board session={session} />
    </SSEProvider>
  );
}

type Queue = OpsStats['queue'];

function Board({ session }: { session: Session }) {
  const sse = useSSE();
  const { client } = sse;
  const [samples, setSamples] = useState<Sample[]>([]);
  const last = useRef<{ source: string; stats: OpsStats; seen: number } | null>(null);
  const queues = useRef(new Map<string, Queue>());
  const [confirming, setConfirming] = useState(false);
  const [switching, setSwitching] = useState(false);
  const [switchError, setSwitchError] = useState('');
  const [disabledHere, setDisabledHere] = useState<boolean | null>(null);

  useSSEEvent('ops:stats', (st) => {
    queues.current.set(st.queue.nodeId, st.queue);
    const prev = last.current;
    const now = Date.now();
    // With several nodes in dev mode each publishes the cluster's stats:
    // follow one source, and another only when it goes quiet.
    if (prev && prev.source !== st.source && now - prev.seen < 5000) return;
    const sample = toSample(st, prev && prev.source === st.source ? prev.stats : null, queues.current);
    last.current = { source: st.source, stats: st, seen: now };
    setSamples((all) => [...all.slice(-(WINDOW - 1)), sample]);
    setDisabledHere(null);
  });

  const latest = samples[samples.length - 1];
  const disabled = sse.error instanceof ServiceDisabledError || (disabledHere ?? latest?.disabled ?? false);

  const setStreaming = async (enable: boolean) => {
    setSwitching(true);
    setSwitchError('');
    try {
      await session.call('POST', enable ? '/api/admin/sse/enable' : '/api/admin/sse/disable');
      setDisabledHere(!enable);
      if (enable) client.reconnect(); // the feed stopped with sse:disabled
    } catch (e) {
      setSwitchError((e as Error).message);
    } finally {
      setSwitching(false);
      setConfirming(false);
    }
  };

  const tenants = topTenants(samples, 6);
  const col = (f: (s: Sample) => number) => samples.map(f);

  return (
    <div className="shell dash">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-left">
          <Logo suffix="operations" />
          <span className="muted hide-sm">
            {latest ? `${latest.nodes.length} node${latest.nodes.length === 1 ? '' : 's'} · node ${latest.source} up ${formatUptime(latest.uptime)}` : 'waiting for stats'}
          </span>
        </div>
        <div className="topbar-right">
          <StatusPill state={sse} onReconnect={() => client.reconnect()} />
          <div className="switch-wrap">
            <span id="switch-label">Streaming</span>
            <button
              type="button"
              role="switch"
              aria-checked={!disabled}
              aria-labelledby="switch-label"
              aria-describedby="switch-state"
              className="switch"
              disabled={switching}
              onClick={() => (disabled ? void setStreaming(true) : setConfirming(true))}
              data-testid="streaming-switch"
            >
              <span className="switch-thumb" aria-hidden="true" />
            </button>
            <span id="switch-state" className={disabled ? 'switch-state off' : 'switch-state'}>
              {disabled ? 'Disabled' : 'Enabled'}
            </span>
          </div>
        </div>
      </header>
      {disabled ? (
        <div className="banner banner-critical" role="status">
          <p>
            <strong>Streaming is disabled.</strong> Every stream was closed with <code>sse:disabled</code>; new ones get{' '}
            <code>503 sse_disabled</code> and clients do not retry. This feed is paused until you enable streaming.
          </p>
        </div>
      ) : null}
      {switchError ? (
        <p className="form-error" role="alert">
          {switchError}
        </p>
      ) : null}
      <main id="main" className="dash-main" tabIndex={-1}>
        <ul className="kpis" aria-label="Now">
          <Kpi label="Connections" value={latest ? String(latest.total) : '–'} />
          <Kpi label="Delivered / s" value={latest ? formatRate(latest.delivered) : '–'} />
          <Kpi label="Published / s" value={latest ? formatRate(latest.published) : '–'} />
          <Kpi label="Dropped / s" value={latest ? formatRate(latest.dropped) : '–'} tone={latest && latest.dropped > 0 ? 'bad' : undefined} />
          <Kpi label="Rate-limited / s" value={latest ? formatRate(latest.rateLimited) : '–'} />
          <Kpi label="Queued events" value={latest ? String(latest.queued) : '–'} />
          <Kpi label="Heap" value={latest ? formatBytes(latest.heapAlloc) : '–'} />
        </ul>
        <div className="charts">
          <LineChart
            testId="chart-connections"
            title="Connections"
            format={(n) => String(Math.round(n))}
            min={4}
            series={[
              { name: 'total', color: colors.total, values: col((s) => s.total) },
              ...tenants.map((t, i) => ({ name: t, color: palette[i % palette.length] ?? '#333', values: col((s) => s.byTenant[t] ?? 0) })),
            ]}
          />
          <LineChart
            testId="chart-events"
            title="Events per second"
            format={formatRate}
            min={2}
            series={[
              { name: 'delivered', color: colors.delivered, values: col((s) => s.delivered) },
              { name: 'published', color: colors.published, values: col((s) => s.published) },
              { name: 'dropped', color: colors.dropped, values: col((s) => s.dropped) },
              { name: 'rate-limited', color: colors.rateLimited, values: col((s) => s.rateLimited) },
              { name: 'coalesced', color: colors.coalesced, values: col((s) => s.coalesced) },
            ]}
          />
          <LineChart
            testId="chart-queue"
            title={`Queue depth: events waiting to be written${latest?.queueCap ? ` (at most ${latest.queueCap} per connection)` : ''}`}
            format={(n) => String(Math.round(n))}
            min={4}
            series={[
              { name: 'all queues', color: '#0369a1', values: col((s) => s.queued) },
              { name: 'fullest queue', color: '#be185d', values: col((s) => s.queueMax) },
            ]}
          />
          <LineChart
            testId="chart-memory"
            title={latest && latest.nodes.length > 1 ? `Memory of node ${latest.source}` : 'Memory'}
            format={formatBytes}
            min={4 << 20}
            unit={1 << 20}
            series={[
              { name: 'heap in use', color: '#4338ca', values: col((s) => s.heapInuse) },
              { name: 'heap allocated', color: '#0f766e', values: col((s) => s.heapAlloc) },
              { name: 'from the OS', color: '#64748b', values: col((s) => s.sys), dashed: true },
            ]}
          />
        </div>
        <section className="card" aria-labelledby="nodes-title">
          <header className="card-head">
            <div>
              <h2 id="nodes-title">Nodes</h2>
              <p className="card-sub">Each node of the cluster, as it answered the last stats round</p>
            </div>
          </header>
          <div className="table-wrap">
            <table className="nodes" data-testid="nodes">
              <thead>
                <tr>
                  <th scope="col">Node</th>
                  <th scope="col" className="num">Connections</th>
                  <th scope="col" className="num">Published/s</th>
                  <th scope="col" className="num">Delivered/s</th>
                  <th scope="col" className="num">Dropped/s</th>
                  <th scope="col" className="num">Queued</th>
                  <th scope="col" className="num">Heap</th>
                  <th scope="col" className="num">Goroutines</th>
                  <th scope="col" className="num">Uptime</th>
                </tr>
              </thead>
              <tbody>
                {(latest?.nodes ?? []).map((n) => (
                  <tr key={n.nodeId}>
                    <th scope="row">
                      <code>{n.nodeId}</code>
                      {n.disabled ? <span className="status status-off">disabled</span> : null}
                    </th>
                    <td className="num">{n.clients}</td>
                    <td className="num">{formatRate(n.published)}</td>
                    <td className="num">{formatRate(n.delivered)}</td>
                    <td className="num">{formatRate(n.dropped)}</td>
                    <td className="num">{n.queued === null ? '–' : n.queued}</td>
                    <td className="num">{formatBytes(n.heap)}</td>
                    <td className="num">{n.goroutines}</td>
                    <td className="num">{formatUptime(n.uptime)}</td>
                  </tr>
                ))}
                {latest ? null : (
                  <tr>
                    <td colSpan={9} className="empty">
                      Waiting for the first ops:stats event…
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        </section>
        <Announce session={session} />
        <p className="footnote">
          Fed by ssehub&apos;s own stream: the server publishes <code>ops:stats</code> every second on channel{' '}
          <code>ops:stats</code> of tenant <code>_ops</code>, and this page charts the differences. The feed itself is one
          published event and one delivery per dashboard per second.
        </p>
      </main>
      <ConfirmDialog
        open={confirming}
        title="Disable streaming?"
        confirmLabel="Disable streaming"
        busy={switching}
        onCancel={() => setConfirming(false)}
        onConfirm={() => void setStreaming(false)}
      >
        <p>
          All {latest?.total ?? 'open'} streams on every node are closed with <code>sse:disabled</code>, and their clients stop
          reconnecting. New streams are refused with <code>503 sse_disabled</code> until you enable streaming again.
        </p>
        <p>This dashboard&apos;s own feed stops too.</p>
      </ConfirmDialog>
    </div>
  );
}

function Kpi({ label, value, tone }: { label: string; value: string; tone?: 'bad' | undefined }) {
  return (
    <li className={tone === 'bad' ? 'kpi kpi-bad' : 'kpi'}>
      <span className="kpi-label">{label}</span>
      <span className="kpi-value">{value}</span>
    </li>
  );
}

import type { NodeStats, OpsStats } from '../lib/types.ts';

/** How many samples (seconds) the charts show. */
export const WINDOW = 60;

/** One node's rates over the last interval. */
export interface NodeRow {
  nodeId: string;
  clients: number;
  published: number;
  delivered: number;
  dropped: number;
  rateLimited: number;
  heap: number;
  goroutines: number;
  uptime: number;
  disabled: boolean;
  queued: number | null;
  queueMax: number | null;
}

/** One point of every chart: counts as they were, counters as rates per second. */
export interface Sample {
  at: number;
  /** The node that published the stats; memory and uptime are its own. */
  source: string;
  total: number;
  byTenant: Record<string, number>;
  published: number;
  delivered: number;
  dropped: number;
  rateLimited: number;
  coalesced: number;
  queued: number;
  queueMax: number;
  queueCap: number;
  heapAlloc: number;
  heapInuse: number;
  sys: number;
  goroutines: number;
  disabled: boolean;
  uptime: number;
  nodes: NodeRow[];
}

type Queue = OpsStats['queue'];

/** Per second: the counter's growth from prev to cur; a node that restarted (its counter went down) counts from zero. */
export function rate(cur: number, prev: number | undefined, seconds: number): number {
  if (prev === undefined || seconds <= 0) return 0;
  return (cur >= prev ? cur - prev : cur) / seconds;
}

function nodeRow(n: NodeStats, prev: NodeStats | undefined, seconds: number, q: Queue | undefined): NodeRow {
  return {
    nodeId: n.nodeId,
    clients: n.totalClients,
    published: rate(n.eventsPublished, prev?.eventsPublished, seconds),
    delivered: rate(n.eventsDelivered, prev?.eventsDelivered, seconds),
    dropped: rate(n.eventsDropped, prev?.eventsDropped, seconds),
    rateLimited: rate(n.eventsRateLimited, prev?.eventsRateLimited, seconds),
    heap: n.memory.heapAlloc,
    goroutines: n.memory.goroutines,
    uptime: n.uptimeSeconds,
    disabled: n.disabled,
    queued: q ? q.queued : null,
    queueMax: q ? q.max : null,
  };
}

/**
 * Turns two consecutive ops:stats of one source into a sample. queues holds
 * the latest queue figures of each node (every node in dev mode publishes
 * its own).
 */
export function toSample(cur: OpsStats, prev: OpsStats | null, queues: Map<string, Queue>): Sample {
  const s = cur.stats;
  const p = prev?.stats;
  const seconds = prev ? (Date.parse(cur.at) - Date.parse(prev.at)) / 1000 : 0;
  const prevNodes = new Map((p?.nodes ?? []).map((n) => [n.nodeId, n]));
  const nodes = (s.nodes?.length ? s.nodes : [s]).map((n) => nodeRow(n, prevNodes.get(n.nodeId) ?? (s.nodes?.length ? undefined : p), seconds, queues.get(n.nodeId)));
  let queued = 0;
  let queueMax = 0;
  let queueCap = 0;
  for (const q of queues.values()) {
    queued += q.queued;
    queueMax = Math.max(queueMax, q.max);
    queueCap = Math.max(queueCap, q.cap);
  }
  return {
    at: Date.parse(cur.at),
    source: cur.source,
    total: s.totalClients,
    byTenant: { ...(s.clientsByTenant ?? {}) },
    published: rate(s.eventsPublished, p?.eventsPublished, seconds),
    delivered: rate(s.eventsDelivered, p?.eventsDelivered, seconds),
    dropped: rate(s.eventsDropped, p?.eventsDropped, seconds),
    rateLimited: rate(s.eventsRateLimited, p?.eventsRateLimited, seconds),
    coalesced: rate(s.eventsCoalesced, p?.eventsCoalesced, seconds),
    queued,
    queueMax,
    queueCap,
    heapAlloc: s.memory.heapAlloc,
    heapInuse: s.memory.heapInuse,
    sys: s.memory.sys,
    goroutines: s.memory.goroutines,
    disabled: s.disabled,
    uptime: s.uptimeSeconds,
    nodes,
  };
}

/** The tenants with the most connections over the window, at most n. */
export function topTenants(samples: Sample[], n: number): string[] {
  const peak = new Map<string, number>();
  for (const s of samples) for (const [t, c] of Object.entries(s.byTenant)) peak.set(t, Math.max(peak.get(t) ?? 0, c));
  return [...peak]
    .filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([t]) => t);
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at least n (and at least min). */
export function niceCeil(n: number, min = 1): number {
  const v = Math.max(n, min);
  const k = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * k >= v) return m * k;
  return 10 * k;
}

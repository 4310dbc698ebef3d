import { describe, expect, it } from 'vitest';
import type { NodeStats, OpsStats } from '../lib/types.ts';
import { axis } from './LineChart.tsx';
import { niceCeil, rate, toSample, topTenants } from './series.ts';

const node = (id: string, n: Partial<NodeStats> = {}): NodeStats => ({
  nodeId: id, totalClients: 0, clientsByTenant: {}, disabled: false,
  eventsPublished: 0, eventsDispatched: 0, eventsDelivered: 0, eventsDropped: 0, eventsRateLimited: 0,
  eventsCoalesced: 0, eventsReplayed: 0, eventsDeduplicated: 0, connects: 0, disconnects: 0, rejected: 0, evicted: 0,
  uptimeSeconds: 1, memory: { heapAlloc: 1, heapInuse: 1, sys: 1, numGC: 0, goroutines: 1 }, ...n,
});
const ops = (at: string, stats: NodeStats): OpsStats => ({
  source: 'a', at, intervalMs: 1000, stats, queue: { nodeId: 'a', conns: 0, queued: 0, max: 0, cap: 1024 },
});

describe('series', () => {
  it('turns counters into rates per second', () => {
    expect(rate(30, 10, 2)).toBe(10);
    expect(rate(5, 100, 1)).toBe(5); // the node restarted
    expect(rate(5, undefined, 1)).toBe(0);
  });

  it('makes one sample of two stats, per node too', () => {
    const a = node('a', { eventsDelivered: 10 });
    const b = node('b', { eventsDelivered: 5 });
    const prev = ops('2026-01-01T00:00:00Z', { ...node('cluster', { eventsDelivered: 15 }), nodes: [a, b] });
    const cur = ops('2026-01-01T00:00:02Z', {
      ...node('cluster', { eventsDelivered: 35, totalClients: 3, clientsByTenant: { acme: 2, _ops: 1 } }),
      nodes: [{ ...a, eventsDelivered: 30 }, { ...b, eventsDelivered: 5 }],
    });
    const s = toSample(cur, prev, new Map([['a', { nodeId: 'a', conns: 2, queued: 3, max: 2, cap: 1024 }]]));
    expect(s.delivered).toBe(10);
    expect(s.total).toBe(3);
    expect(s.nodes.map((n) => [n.nodeId, n.delivered, n.queued])).toEqual([['a', 10, 3], ['b', 0, null]]);
    expect(s.queued).toBe(3);
    expect(topTenants([s], 1)).toEqual(['acme']);
  });

  it('draws round axes', () => {
    expect(niceCeil(7)).toBe(10);
    expect(niceCeil(0.3, 0.01)).toBe(0.5);
    expect(axis(7, 1, 1).ticks).toEqual([0, 2, 4, 6, 8, 10]);
    expect(axis(3, 4, 1).ticks).toEqual([0, 1, 2, 3, 4, 5]);
    expect(axis(17.2 * 2 ** 20, 4 * 2 ** 20, 2 ** 20).top).toBe(20 * 2 ** 20);
  });
});

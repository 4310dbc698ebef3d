import type { EventMap } from '../../../../examples/catalog/events.gen.ts';

/** A demo user, as GET /api/demo/users lists them. */
export interface DemoUser {
  id: string;
  name: string;
  title: string;
  tenantId: string;
  tenantName: string;
  admin?: boolean;
}

export interface Person {
  id: string;
  name: string;
}

export interface Message {
  id: string;
  text: string;
  sender: Person;
  sentAt: string;
}

export interface Money {
  amount: number;
  currency: string;
}

export interface Customer {
  id: string;
  name: string;
}

export interface Invoice {
  id: string;
  number: string;
  customer: Customer;
  total: Money;
  status: 'open' | 'paid';
  createdBy: Person;
  createdAt: string;
}

export interface Member extends DemoUser {
  online: boolean;
}

export interface Conversation {
  id: string;
  title: string;
  messages: Message[];
}

/** GET /api/demo/state for a user of a tenant. */
export interface DemoState {
  user: DemoUser;
  tenant: { id: string; name: string; currency: string; customers: Customer[] };
  members: Member[];
  conversations: Conversation[];
  invoices: Invoice[];
}

/** One node's (or the cluster's) stats, as hub.Stats encodes them. */
export interface NodeStats {
  nodeId: string;
  totalClients: number;
  clientsByTenant: Record<string, number> | null;
  disabled: boolean;
  eventsPublished: number;
  eventsDispatched: number;
  eventsDelivered: number;
  eventsDropped: number;
  eventsRateLimited: number;
  eventsCoalesced: number;
  eventsReplayed: number;
  eventsDeduplicated: number;
  connects: number;
  disconnects: number;
  rejected: number;
  evicted: number;
  uptimeSeconds: number;
  memory: { heapAlloc: number; heapInuse: number; sys: number; numGC: number; goroutines: number };
  nodes?: NodeStats[];
}

/** The payload of ops:stats, which the server publishes every second to tenant _ops. */
export interface OpsStats {
  source: string;
  at: string;
  intervalMs: number;
  stats: NodeStats;
  queue: { nodeId: string; conns: number; queued: number; max: number; cap: number };
}

/** Every event the demo receives: the example catalog's plus ops:stats. */
export type DemoEvents = EventMap & { 'ops:stats': OpsStats };

package hub

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

type counters struct {
	published, dispatched, fannedOut, delivered atomic.Uint64
	dropped, rateLimited, coalesced             atomic.Uint64
	connects, disconnects, rejected, evicted    atomic.Uint64
	replayed, resets                            atomic.Uint64
	shed                                        atomic.Uint64
}

// Stats is a snapshot of a node's state and counters.
type Stats struct {
	NodeID       string `json:"nodeId"`
	TotalClients int    `json:"totalClients"`
	// ClientsByUser counts connections per "tenant/user".
	ClientsByUser   map[string]int `json:"clientsByUser"`
	ClientsByTenant map[string]int `json:"clientsByTenant"`
	Disabled        bool           `json:"disabled"`

	// EventsPublished counts events this node handed to the broker and
	// the broker accepted. A repeat of an idempotency key is counted too:
	// the broker answers it with the first id without appending, and the
	// node cannot tell the two apart.
	EventsPublished uint64 `json:"eventsPublished"`
	// EventsDispatched counts events this node fanned out (from any node).
	EventsDispatched uint64 `json:"eventsDispatched"`
	// EventsDelivered counts event copies handed to connections' queues.
	EventsDelivered uint64 `json:"eventsDelivered"`
	// EventsDropped counts event copies lost to a full queue (the
	// connection is closed and its client resumes from history).
	EventsDropped     uint64 `json:"eventsDropped"`
	EventsRateLimited uint64 `json:"eventsRateLimited"`
	EventsCoalesced   uint64 `json:"eventsCoalesced"`
	EventsReplayed    uint64 `json:"eventsReplayed"`
	Resets            uint64 `json:"resets"`

	Connects    uint64 `json:"connects"`
	Disconnects uint64 `json:"disconnects"`
	Rejected    uint64 `json:"rejected"`
	Evicted     uint64 `json:"evicted"`
	// Shed counts connections closed as slow consumers because the node's
	// queues passed NodeQueueBytes (the ones furthest behind).
	Shed uint64 `json:"shed"`
	// QueuedBytes is what waits in this node's connection queues now, in
	// bytes (a frame queued for n connections counts n times).
	QueuedBytes int64 `json:"queuedBytes"`

	UptimeSeconds float64     `json:"uptimeSeconds"`
	Memory        MemoryStats `json:"memory"`

	// Nodes holds each node's own stats when these are a cluster's.
	Nodes []Stats `json:"nodes,omitempty"`
}

// ClusterStats returns the stats of every node that answered within a
// second, summed, with each node's own in Nodes. Without a cluster it is
// Stats with this node in Nodes. Memory and uptime are this node's.
func (h *Hub) ClusterStats(ctx context.Context) Stats {
	local := h.Stats()
	if h.cl == nil {
		local.Nodes = []Stats{local}
		return local
	}
	nodes := h.cl.gatherStats(ctx)
	sum := local
	sum.ClientsByUser, sum.ClientsByTenant = map[string]int{}, map[string]int{}
	sum.TotalClients, sum.QueuedBytes = 0, 0
	for _, f := range []*uint64{&sum.EventsPublished, &sum.EventsDispatched, &sum.EventsDelivered, &sum.EventsDropped,
		&sum.EventsRateLimited, &sum.EventsCoalesced, &sum.EventsReplayed, &sum.Resets,
		&sum.Connects, &sum.Disconnects, &sum.Rejected, &sum.Evicted, &sum.Shed} {
		*f = 0
	}
	slices.SortFunc(nodes, func(a, b Stats) int { return strings.Compare(a.NodeID, b.NodeID) })
	for _, n := range nodes {
		sum.TotalClients += n.TotalClients
		for k, v := range n.ClientsByUser {
			sum.ClientsByUser[k] += v
		}
		for k, v := range n.ClientsByTenant {
			sum.ClientsByTenant[k] += v
		}
		sum.EventsPublished += n.EventsPublished
		sum.EventsDispatched += n.EventsDispatched
		sum.EventsDelivered += n.EventsDelivered
		sum.EventsDropped += n.EventsDropped
		sum.EventsRateLimited += n.EventsRateLimited
		sum.EventsCoalesced += n.EventsCoalesced
		sum.EventsReplayed += n.EventsReplayed
		sum.Resets += n.Resets
		sum.Connects += n.Connects
		sum.Disconnects += n.Disconnects
		sum.Rejected += n.Rejected
		sum.Evicted += n.Evicted
		sum.Shed += n.Shed
		sum.QueuedBytes += n.QueuedBytes
		sum.Disabled = sum.Disabled || n.Disabled
	}
	sum.Nodes = nodes
	return sum
}

// MemoryStats is the part of runtime.MemStats operators look at.
type MemoryStats struct {
	HeapAlloc  uint64 `json:"heapAlloc"`
	HeapInuse  uint64 `json:"heapInuse"`
	Sys        uint64 `json:"sys"`
	NumGC      uint32 `json:"numGC"`
	Goroutines int    `json:"goroutines"`
}

// Stats returns a snapshot. It reads runtime memory statistics, which
// briefly stops the world: call it for operators, not per event.
func (h *Hub) Stats() Stats {
	s := Stats{
		NodeID:          h.nodeID,
		ClientsByUser:   map[string]int{},
		ClientsByTenant: map[string]int{},
	}
	h.mu.RLock()
	s.TotalClients = len(h.reg.conns)
	s.Disabled = h.disabled
	for k, list := range h.reg.byUser {
		s.ClientsByUser[k.tenant+"/"+k.user] = len(list)
	}
	for t, set := range h.reg.byTenant {
		s.ClientsByTenant[t] = len(set)
	}
	h.mu.RUnlock()
	c := &h.stats
	s.EventsPublished = c.published.Load()
	s.EventsDispatched = c.dispatched.Load()
	s.EventsDelivered = c.fannedOut.Load()
	s.EventsDropped = c.dropped.Load()
	s.EventsRateLimited = c.rateLimited.Load()
	s.EventsCoalesced = c.coalesced.Load()
	s.EventsReplayed = c.replayed.Load()
	s.Resets = c.resets.Load()
	s.Connects = c.connects.Load()
	s.Disconnects = c.disconnects.Load()
	s.Rejected = c.rejected.Load()
	s.Evicted = c.evicted.Load()
	s.Shed = c.shed.Load()
	s.QueuedBytes = max(0, h.queued.Load()) // a write may settle bytes a fan-out under way has not counted yet
	s.UptimeSeconds = time.Since(h.started).Seconds()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.Memory = MemoryStats{ms.HeapAlloc, ms.HeapInuse, ms.Sys, ms.NumGC, runtime.NumGoroutine()}
	return s
}

package hub

import (
	"cmp"
	"slices"
)

// shed enforces NodeQueueBytes, the node's budget for bytes waiting in
// the connections' queues (Hub.queued, where a frame queued for n
// connections counts n times, so the bound is conservative). When the
// budget is passed it closes the connections furthest behind, the largest
// backlogs first, as slow consumers (their clients resume from history),
// until what the others hold is back under three quarters of the budget.
// A connection already ending counts as gone: its backlog goes when a
// writer releases it.
//
// It runs on the dispatch goroutine after a fan-out, and reads every
// connection's backlog: O(connections), only while the budget is passed.
func (h *Hub) shed() {
	type behind struct {
		c *Conn
		n int
	}
	var list []behind
	total := 0
	h.mu.RLock()
	for _, c := range h.reg.conns {
		n := c.behind()
		if n == 0 {
			continue
		}
		if c.stopping() != "" {
			continue
		}
		total += n
		list = append(list, behind{c, n})
	}
	h.mu.RUnlock()
	if int64(total) <= h.cfg.NodeQueueBytes {
		return // what is over is held by connections on their way out
	}
	slices.SortFunc(list, func(a, b behind) int { return cmp.Compare(b.n, a.n) })
	target := h.cfg.NodeQueueBytes / 4 * 3
	closed := 0
	for _, b := range list {
		if int64(total) <= target {
			break
		}
		total -= b.n
		closed++
		h.stats.shed.Add(1)
		b.c.end(ReasonSlowConsumer)
	}
	h.cfg.Logger.Warn("node queue budget passed, closed the connections furthest behind",
		"node_queue_bytes", h.cfg.NodeQueueBytes, "closed", closed)
}

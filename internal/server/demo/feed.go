package demo

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/ssehub/ssehub"
	"github.com/ssehub/ssehub/hub"
)

// maxTenants is how many tenants the stats name; the rest are summed as
// otherTenants, so that the payload stays small with many tenants.
const (
	maxTenants   = 12
	otherTenants = "(other)"
)

// Run publishes, every Config.Interval until ctx is done, the presence of
// the demo users that came or went, and the cluster's stats as ops:stats
// on channel ops:stats of tenant _ops while a dashboard listens there. It
// returns when ctx is done.
func (d *Demo) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	for {
		d.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Demo) tick(ctx context.Context) {
	st := d.hub.ClusterStats(ctx)
	if ctx.Err() != nil {
		return
	}
	d.presence(ctx, st.ClientsByUser)
	if st.ClientsByTenant[OpsTenant] == 0 {
		return // nobody is watching
	}
	_, err := ssehub.Emit(ctx, d.hub, opsStats, OpsStats{
		Source: d.hub.NodeID(), At: time.Now().UTC(), IntervalMs: d.cfg.Interval.Milliseconds(),
		Stats: trim(st), Queue: d.queues(),
	}, ssehub.ToChannel(OpsTenant, OpsChannel))
	if err != nil && ctx.Err() == nil {
		d.log.Warn("demo stats not published", "err", err)
	}
}

// presenceRefresh is every how many ticks Run publishes every demo user's
// presence, changed or not.
const presenceRefresh = 5

// presence publishes presence:update on channel presence:<user> of the
// user's tenant for each demo user whose being online changed, and every
// presenceRefresh ticks for every demo user: a page that loaded the state
// just before a change and subscribed just after it would otherwise show
// the old presence until the next change. A channel per user gives each
// user their own coalescing window (5 s by default), so one user's change
// never replaces another's.
func (d *Demo) presence(ctx context.Context, byUser map[string]int) {
	now := time.Now().UTC()
	d.mu.Lock()
	refresh := d.ticks%presenceRefresh == 0
	d.ticks++
	d.mu.Unlock()
	for _, u := range users {
		if u.Admin {
			continue
		}
		key := u.TenantID + "/" + u.ID
		online := byUser[key] > 0
		d.mu.Lock()
		changed := d.online[key] != online
		d.online[key] = online
		if changed && !online {
			d.lastSeen[key] = now
		}
		seen, known := d.lastSeen[key]
		d.mu.Unlock()
		if !changed && !refresh {
			continue
		}
		p := Presence{UserID: u.ID, Status: "online"}
		if !online {
			if !known {
				continue // never seen online: nothing to tell
			}
			p.Status, p.LastSeen = "offline", &seen
		}
		if _, err := ssehub.Emit(ctx, d.hub, presence, p, ssehub.ToChannel(u.TenantID, "presence:"+u.ID)); err != nil && ctx.Err() == nil {
			d.log.Warn("demo presence not published", "err", err)
		}
	}
}

// queues sums this node's connection queues.
func (d *Demo) queues() QueueStats {
	q := QueueStats{NodeID: d.hub.NodeID()}
	for _, c := range d.hub.Connections("", "") {
		q.Conns++
		q.Queued += c.Queued
		q.Max = max(q.Max, c.Queued)
		q.Cap = c.QueueCap
	}
	return q
}

// trim drops the stats' per-user counts and folds all but the busiest
// tenants into otherTenants, in the cluster's stats and each node's.
func trim(st hub.Stats) hub.Stats {
	st.ClientsByUser = nil
	st.ClientsByTenant = topTenants(st.ClientsByTenant)
	nodes := make([]hub.Stats, len(st.Nodes))
	for i, n := range st.Nodes {
		n.Nodes = nil
		nodes[i] = trim(n)
	}
	st.Nodes = nodes
	return st
}

func topTenants(m map[string]int) map[string]int {
	if len(m) <= maxTenants {
		return m
	}
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	out := make(map[string]int, maxTenants)
	for i, k := range keys {
		if i < maxTenants-1 {
			out[k] = m[k]
		} else {
			out[otherTenants] += m[k]
		}
	}
	return out
}

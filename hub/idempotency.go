package hub

import (
	"sync"
	"time"
)

// The idempotency keys themselves live in the broker, which claims a key
// in the same atomic step as the append (see broker.Message.IdempotencyKey):
// no node keeps a table of them and no lock is held across the engine's
// round trip. What the hub keeps is a budget, so that one tenant cannot
// fill the engine with keys: at most Config.MaxIdempotencyKeys keyed
// events per tenant per IdempotencyWindow on each node, counted in fixed
// windows (so up to twice that in any sliding window, and that times the
// number of nodes cluster-wide). Its memory is one entry per tenant that
// published keyed events in the current window.
type keyBudget struct {
	max    int // <= 0: no limit
	window time.Duration

	mu      sync.Mutex
	tenants map[string]*tenantKeys
}

type tenantKeys struct {
	start time.Time
	n     int
}

// take counts n keyed events of tenant at now, and reports false (counting
// nothing) when they would go over the budget.
func (b *keyBudget) take(tenant string, n int, now time.Time) bool {
	if b.max <= 0 || n == 0 {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	tk := b.tenants[tenant]
	if tk == nil || now.Sub(tk.start) >= b.window {
		if b.tenants == nil {
			b.tenants = map[string]*tenantKeys{}
		}
		tk = &tenantKeys{start: now}
		b.tenants[tenant] = tk
	}
	if tk.n+n > b.max {
		return false
	}
	tk.n += n
	return true
}

// gc forgets the tenants whose window has ended.
func (b *keyBudget) gc(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for t, tk := range b.tenants {
		if now.Sub(tk.start) >= b.window {
			delete(b.tenants, t)
		}
	}
}

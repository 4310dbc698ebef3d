package hub

import (
	"sync"
	"time"
)

// idempotency remembers the ids given to idempotency keys for a window.
// Its mutex is held across a publish that carries keys, so two concurrent
// publishes with one key cannot both go through.
type idempotency struct {
	mu     sync.Mutex
	window time.Duration
	seen   map[string]idemEntry
}

type idemEntry struct {
	id string
	at time.Time
}

func idemKey(tenant, key string) string { return tenant + "\x00" + key }

// lookup returns the id recorded for k, if still within the window.
// i.mu is held.
func (i *idempotency) lookup(k string, now time.Time) (string, bool) {
	e, ok := i.seen[k]
	if !ok || now.Sub(e.at) > i.window {
		return "", false
	}
	return e.id, true
}

// gc forgets keys older than the window.
func (i *idempotency) gc(now time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for k, e := range i.seen {
		if now.Sub(e.at) > i.window {
			delete(i.seen, k)
		}
	}
}

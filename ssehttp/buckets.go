package ssehttp

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// buckets holds one token bucket per publisher. Buckets that have refilled
// are forgotten, so the map stays as small as the set of busy publishers.
type buckets struct {
	limit rate.Limit
	burst int

	mu    sync.Mutex
	m     map[string]*rate.Limiter
	calls int
}

func newBuckets(perSecond float64, burst int) *buckets {
	if perSecond < 0 {
		return nil
	}
	return &buckets{limit: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// allow takes a token from key's bucket. A nil *buckets allows everything.
func (b *buckets) allow(key string) bool {
	if b == nil {
		return true
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.calls%4096 == 0 {
		for k, l := range b.m {
			if l.TokensAt(now) >= float64(b.burst) {
				delete(b.m, k)
			}
		}
	}
	l := b.m[key]
	if l == nil {
		l = rate.NewLimiter(b.limit, b.burst)
		b.m[key] = l
	}
	return l.AllowN(now, 1)
}

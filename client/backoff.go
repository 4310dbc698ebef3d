package client

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultBackoff is the wait before reconnect attempt attempt (0 for the
// first retry) when [Config.Backoff] is nil: min(1000·2^attempt, 30000) ms,
// scaled by a random factor in [0.9, 1.1]. A negative attempt counts as 0.
// It is safe for concurrent use.
func DefaultBackoff(attempt int) time.Duration {
	const base, limit = time.Second, 30 * time.Second
	d := limit
	if attempt < 5 { // 2^5 s > 30 s
		d = base << max(attempt, 0)
	}
	return jitter(d)
}

// jitter scales d by a random factor in [0.9, 1.1].
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

// parseRetryAfter reads a Retry-After header, delay-seconds or an HTTP date,
// as a wait from now. It returns 0 when the header is absent or malformed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

package client

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultBackoff is the wait before reconnect attempt attempt (0 for the
// first retry) when [Config.Backoff] is nil and the server has sent no
// retry field: min(1000·2^attempt, 30000) ms, scaled by a random factor in
// [0.9, 1.1]. A negative attempt counts as 0. After a retry field, the
// client uses its value instead of the 1000 ms (see [Config.Backoff]). It
// is safe for concurrent use.
func DefaultBackoff(attempt int) time.Duration {
	return backoff(time.Second, attempt)
}

// minRetryBase is the least base a retry field can set, so that a stream
// sending "retry: 0" cannot make the client reconnect in a tight loop.
const minRetryBase = 100 * time.Millisecond

// backoff is min(base·2^attempt, 30 s), scaled by a random factor in
// [0.9, 1.1]; a negative attempt counts as 0.
func backoff(base time.Duration, attempt int) time.Duration {
	const limit = 30 * time.Second
	d := base
	for range max(attempt, 0) {
		if d >= limit {
			break
		}
		d *= 2
	}
	return jitter(min(d, limit))
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

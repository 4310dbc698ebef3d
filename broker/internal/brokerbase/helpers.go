package brokerbase

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// NewEpoch returns 8 random base32 characters, for an epoch or a node id.
func NewEpoch() string {
	var r [5]byte
	_, _ = rand.Read(r[:])
	return strings.ToLower(base32.StdEncoding.EncodeToString(r[:]))
}

// ParseAfter returns the epoch and the seq of an id given to Replay. It
// fails with [broker.ErrUnknownEpoch] when after is not an id.
func ParseAfter(after string) (epoch string, seq uint64, err error) {
	epoch, _, _ = strings.Cut(after, "-")
	if epoch == "" {
		return "", 0, fmt.Errorf("%w: %q", broker.ErrUnknownEpoch, Truncate(after))
	}
	seq, err = broker.ParseID(epoch, after)
	if err != nil {
		return "", 0, err
	}
	return epoch, seq, nil
}

// CheckAfter reports whether Replay can serve what follows seq, the seq of
// the id after, in a log whose last seq is last and whose first retained
// seq is first (last+1 when the log is empty). It fails with
// [broker.ErrUnknownEpoch] when seq is ahead of the log and with
// [broker.ErrTooOld] when what follows it is gone or beyond historySize.
func CheckAfter(after string, seq, first, last uint64, historySize int) error {
	if seq > last {
		return fmt.Errorf("%w: %q is ahead of the log", broker.ErrUnknownEpoch, Truncate(after))
	}
	if seq+1 < oldest(historySize, first, last) {
		return fmt.Errorf("%w: %q", broker.ErrTooOld, Truncate(after))
	}
	return nil
}

// oldest returns the first seq Replay may serve, given the first retained
// and the last seq of the log. HistorySize is enforced here exactly, as
// the engines keep at least a minimum number of entries (so that a lagging
// subscriber misses none) and may trim only roughly.
func oldest(historySize int, first, last uint64) uint64 {
	if n := uint64(historySize); last >= n && last-n+1 > first {
		return last - n + 1
	}
	return first
}

// Truncate shortens s, an id from a client, for an error message.
func Truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// maxBackoff caps the wait between attempts to reach the server again.
const maxBackoff = 2 * time.Second

// Backoff returns how long to wait after the n-th failure in a row.
func Backoff(n int) time.Duration {
	return min(50*time.Millisecond<<min(n, 10), maxBackoff)
}

// Sleep waits for d or until ctx is done, and reports whether ctx is not.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
